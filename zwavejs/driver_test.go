package zwavejs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/zwavejs"
	"github.com/latchkey/latchkey/zwavejs/zwavejstest"
)

// recorder keeps the events a driver delivers.
type recorder struct {
	mu  sync.Mutex
	evs []latchkey.DeviceEvent
	ch  chan struct{}
}

func newRecorder(d *zwavejs.Driver) *recorder {
	r := &recorder{ch: make(chan struct{}, 1)}
	d.Subscribe(func(ev latchkey.DeviceEvent) {
		r.mu.Lock()
		r.evs = append(r.evs, ev)
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
	})
	return r
}

// wait returns the first event matching, waiting up to 10 s for it.
func (r *recorder) wait(t *testing.T, what string, match func(latchkey.DeviceEvent) bool) latchkey.DeviceEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, ev := range r.all() {
			if match(ev) {
				return ev
			}
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("no %s event; got %+v", what, r.all())
		}
	}
}

func (r *recorder) all() []latchkey.DeviceEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]latchkey.DeviceEvent{}, r.evs...)
}

func (r *recorder) count(match func(latchkey.DeviceEvent) bool) int {
	n := 0
	for _, ev := range r.all() {
		if match(ev) {
			n++
		}
	}
	return n
}

func kind(k latchkey.EventKind) func(latchkey.DeviceEvent) bool {
	return func(ev latchkey.DeviceEvent) bool { return ev.Kind == k }
}

// open starts a driver on the URL, closed when the test ends.
func open(t *testing.T, url string) *zwavejs.Driver {
	t.Helper()
	d := &zwavejs.Driver{URL: url, DialTimeout: 5 * time.Second}
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestDriver_Codes(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	ctx := ctxFor(t, 30*time.Second)

	t.Run("OK", func(t *testing.T) {
		if err := d.SetCode(ctx, h.Address, 5, "135791"); err != nil {
			t.Fatal(err)
		}
		if st, code := h.Slot(t, 5); st != 1 || code != "135791" {
			t.Fatalf("the lock holds status %d code %q in slot 5, want 1 and the code", st, code)
		}
		// Read back twice: the first answered from SetCode's read-back, the second from the lock.
		for i := 0; i < 2; i++ {
			pin, present, err := d.ReadCode(ctx, h.Address, 5)
			if err != nil || !present || pin != "" && pin != "135791" {
				t.Fatalf("read %d: pin %q present %v err %v", i, pin, present, err)
			}
		}
		sum1, err := d.CodeChecksum(ctx, h.Address)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.ClearCode(ctx, h.Address, 5); err != nil {
			t.Fatal(err)
		}
		if _, present, err := d.ReadCode(ctx, h.Address, 5); err != nil || present {
			t.Fatalf("after clear: present %v err %v", present, err)
		}
		if st, _ := h.Slot(t, 5); st != 0 {
			t.Fatalf("the lock still holds slot 5 (status %d)", st)
		}
		sum2, err := d.CodeChecksum(ctx, h.Address)
		if err != nil {
			t.Fatal(err)
		}
		if sum1 == sum2 {
			t.Fatalf("checksum %d did not change when the slot was cleared", sum1)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		if err := d.SetCode(ctx, h.Address, 7, "246802"); err != nil {
			t.Fatal(err)
		}
		err := d.SetCode(ctx, h.Address, 8, "246802")
		if latchkey.ErrorCode(err) != latchkey.ECONFLICT || !strings.Contains(latchkey.ErrorMessage(err), "duplicate") {
			t.Fatalf("got %v, want a conflict naming the duplicate", err)
		}
		if strings.Contains(err.Error(), "246802") {
			t.Fatalf("the error shows the PIN: %v", err)
		}
		if st, _ := h.Slot(t, 8); st != 0 {
			t.Fatal("the lock took the duplicate")
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, c := range []struct {
			addr string
			slot int
			pin  string
		}{{h.Address, 0, "1234"}, {h.Address, h.NumUsers + 1, "1234"}, {h.Address, 3, "12"}, {h.Address, 3, "12a4"}} {
			err := d.SetCode(ctx, c.addr, c.slot, c.pin)
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Errorf("SetCode(%q, %d): got %v, want invalid", c.addr, c.slot, err)
			}
			if err != nil && strings.Contains(err.Error(), c.pin) {
				t.Errorf("the error shows the PIN: %v", err)
			}
		}
		for _, addr := range []string{"77", "2x", "0", "02"} {
			if err := d.SetCode(ctx, addr, 3, "1234"); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
				t.Errorf("SetCode(%q): got %v, want not found", addr, err)
			}
		}
	})
}

func TestDriver_LockUnlock(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	ctx := ctxFor(t, 30*time.Second)
	for i := 0; i < 2; i++ {
		if err := d.Lock(ctx, h.Address); err != nil {
			t.Fatal(err)
		}
		if err := d.Unlock(ctx, h.Address); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Lock(ctx, h.Address); err != nil {
		t.Fatal(err)
	}
	// Already locked: done at once.
	if err := d.Lock(ctx, h.Address); err != nil {
		t.Fatal(err)
	}
}

func TestDriver_Events(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	r := newRecorder(d)
	ctx := ctxFor(t, 30*time.Second)
	if err := d.SetCode(ctx, h.Address, 3, "4321"); err != nil { // connected once this returns
		t.Fatal(err)
	}

	h.Do(t, "keypad-unlock", map[string]any{"slot": 3})
	ev := r.wait(t, "keypad unlock", kind(latchkey.EventUnlocked))
	if ev.Source != latchkey.SourceKeypad || ev.Slot != 3 || ev.Address != h.Address || ev.Driver != latchkey.DriverZWaveJS {
		t.Fatalf("unlock event %+v, want by the keypad with slot 3 on node %s", ev, h.Address)
	}
	h.Do(t, "manual-lock", nil)
	if ev := r.wait(t, "manual lock", kind(latchkey.EventLocked)); ev.Source != latchkey.SourceManual {
		t.Fatalf("lock event %+v, want manual", ev)
	}
	if n := r.count(kind(latchkey.EventUnlocked)); n != 1 {
		t.Fatalf("%d unlock events for one keypad unlock", n)
	}
	for _, c := range []struct {
		action string
		kind   latchkey.EventKind
	}{
		{"wrong-code", latchkey.EventWrongCode},
		{"lockout", latchkey.EventKeypadLockout},
		{"jam", latchkey.EventJammed},
		{"tamper", latchkey.EventTamper},
		{"low-battery", latchkey.EventLowBattery},
		{"all-codes-deleted", latchkey.EventAllCodesDeleted},
	} {
		h.Do(t, c.action, nil)
		r.wait(t, c.action, kind(c.kind))
	}
	h.Do(t, "code-deleted", map[string]any{"slot": 9})
	if ev := r.wait(t, "code deleted", kind(latchkey.EventCodeDeleted)); ev.Slot != 9 || ev.Source != latchkey.SourceKeypad {
		t.Fatalf("code deleted event %+v, want slot 9 at the keypad", ev)
	}
	h.Do(t, "battery", map[string]any{"level": 15})
	r.wait(t, "battery level", func(ev latchkey.DeviceEvent) bool {
		return ev.Kind == latchkey.EventLowBattery && ev.BatteryMV == 4200+15*20
	})

	h.Do(t, "dead", nil)
	r.wait(t, "offline", kind(latchkey.EventOffline))
	// A dead lock's commands fail as unreachable, within their deadline.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	err := d.SetCode(short, h.Address, 4, "9876")
	cancel()
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("setting a code on a dead lock: got %v, want unavailable", err)
	}
	// Back: zwave-js tries a dead node again once it hears from it; the engine retries
	// an unreachable lock the same way.
	h.Do(t, "alive", nil)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		err := d.SetCode(ctx, h.Address, 4, "9876")
		if err == nil {
			break
		}
		if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || time.Now().After(deadline) {
			t.Fatalf("the lock came back, but: %v", err)
		}
	}
	// Secrets: no PIN in any event.
	for _, ev := range r.all() {
		for _, pin := range []string{"4321", "9876"} {
			if strings.Contains(ev.Detail, pin) {
				t.Fatalf("event %+v shows a PIN", ev)
			}
		}
	}
}

func TestDriver_ResetLocally(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	r := newRecorder(d)
	ctx := ctxFor(t, 30*time.Second)
	if err := d.SetCode(ctx, h.Address, 2, "5555"); err != nil {
		t.Fatal(err)
	}
	h.Do(t, "reset-locally", nil)
	ev := r.wait(t, "reset locally", kind(latchkey.EventResetLocally))
	if ev.Address != h.Address {
		t.Fatalf("reset event %+v, want node %s", ev, h.Address)
	}
	if err := d.SetCode(ctx, h.Address, 2, "5555"); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("a lock that left the network: got %v, want not found", err)
	}
}

func TestDriver_InclusionExclusion(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	ctx := ctxFor(t, 60*time.Second)

	t.Run("ErrNothingLeaves", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := d.Exclude(short); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
			t.Fatalf("got %v, want unavailable (no lock left)", err)
		}
	})
	t.Run("Exclude", func(t *testing.T) {
		h.Do(t, "exclude-ready", nil)
		addr, err := d.Exclude(ctx)
		if err != nil || addr != h.Address {
			t.Fatalf("Exclude: %q, %v; want %s", addr, err, h.Address)
		}
	})
	t.Run("Include", func(t *testing.T) {
		h.Do(t, "include", nil)
		addr, err := d.Include(ctx, false)
		if err != nil || addr != "3" {
			t.Fatalf("Include: %q, %v; want node 3", addr, err)
		}
		// The new lock is interviewed before it takes codes; the driver waits for it.
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := d.SetCode(ctx, addr, 1, "8642")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the included lock takes no code: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
