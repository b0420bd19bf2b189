// Package drivertest is the contract suite every latchkey.DeviceDriver must pass: the
// twins' driver, Z-Wave JS and Zigbee2MQTT alike. Each driver's tests call Run with a
// function that sets up a fresh driver and a test lock behind it (a Harness), and the
// suite checks what Latchkey relies on: listing devices and matching them to catalog
// models, setting, reading back and clearing codes, locking and unlocking, events
// normalised to the domain's kinds, surviving the hub going away, and a deadline on
// every call.
package drivertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// Hook makes the test lock (or its hub) do something a person or the world would do to
// it. It returns once the thing is done at the lock; what the lock reports follows.
type Hook func(ctx context.Context) error

// Harness is a driver under test and a lock behind it, with hooks to make the lock do
// what a person would. A hook the driver's world cannot support is nil, and the suite
// skips what needs it, saying why (Unsupported).
type Harness struct {
	// Driver is the driver under test. It must implement latchkey.DeviceLister and
	// latchkey.CodeReader too.
	Driver latchkey.DeviceDriver
	// Start runs the driver, once the suite has subscribed to its events; nil when the
	// driver runs already and takes subscribers at any time. The harness stops the
	// driver in a t.Cleanup.
	Start func() error
	// Address is the test lock's address: paired, reachable, its bolt thrown, its slots
	// empty, a model that takes PIN codes over the radio.
	Address string
	// Model is the catalog model id the lock's radio ids must match.
	Model string
	// Timeout bounds each wait for the lock or its events (default 30 s): the driver's
	// world may run slower than real locks.
	Timeout time.Duration

	// KeypadUnlock has a person type the PIN held in slot at the keypad.
	KeypadUnlock func(ctx context.Context, slot int, pin string) error
	// WrongCode has a person type a code the lock does not hold.
	WrongCode Hook
	// KeypadLockout has a person type wrong codes until the keypad locks them out.
	KeypadLockout Hook
	// Jam makes the bolt jam while it moves.
	Jam Hook
	// LowBattery drains the battery below the lock's low-battery warning.
	LowBattery Hook
	// Tamper pulls the exterior assembly off the door.
	Tamper Hook
	// ResetLocally factory-resets the lock at the door, as a person would.
	ResetLocally Hook
	// DeleteAllCodes has a person delete every code at the keypad.
	DeleteAllCodes Hook
	// GoOffline takes the lock off the network (out of range, no power) and ComeBack
	// brings it back.
	GoOffline, ComeBack Hook
	// HubDown takes the hub away (its process stops, its connection drops) and HubUp
	// brings it back.
	HubDown, HubUp Hook
	// Silence makes a lock that never answers from now on and returns its address (it
	// may be Address).
	Silence func(ctx context.Context) (address string, err error)

	// Unsupported says, by hook name, why a nil hook is nil.
	Unsupported map[string]string
}

// NewHarness sets up a fresh driver and test lock for one test; it cleans up with
// t.Cleanup. Each subtest gets its own: some leave the lock reset or offline.
type NewHarness func(t *testing.T) *Harness

// PINs the suite writes: six digits, different from the first digit on, as every
// Kwikset keypad takes them.
const (
	pinA    = "482913"
	pinB    = "739164"
	pinZero = "039217"
)

// Run runs the contract suite.
func Run(t *testing.T, newHarness NewHarness) {
	t.Run("Devices", func(t *testing.T) { testDevices(t, newHarness) })
	t.Run("Codes", func(t *testing.T) { testCodes(t, newHarness) })
	t.Run("LockUnlock", func(t *testing.T) { testLockUnlock(t, newHarness) })
	t.Run("Events", func(t *testing.T) { testEvents(t, newHarness) })
	t.Run("Offline", func(t *testing.T) { testOffline(t, newHarness) })
	t.Run("HubRestart", func(t *testing.T) { testHubRestart(t, newHarness) })
	t.Run("Deadline", func(t *testing.T) { testDeadline(t, newHarness) })
}

// rig is a harness started, with its events collected.
type rig struct {
	*Harness
	events *collector
}

// setup makes a harness, subscribes to its driver and starts it.
func setup(t *testing.T, newHarness NewHarness) *rig {
	t.Helper()
	h := newHarness(t)
	if h.Driver == nil || h.Address == "" {
		t.Fatal("the harness has no driver or no test lock address")
	}
	if h.Timeout == 0 {
		h.Timeout = 30 * time.Second
	}
	r := &rig{Harness: h, events: &collector{wake: make(chan struct{}, 1)}}
	h.Driver.Subscribe(r.events.add)
	if h.Start != nil {
		if err := h.Start(); err != nil {
			t.Fatalf("start the driver: %v", err)
		}
	}
	return r
}

// ctx returns a context bounded by the harness's timeout.
func (r *rig) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// need skips the test unless the hook is there, saying why it is not.
func (r *rig) need(t *testing.T, name string, present bool) {
	t.Helper()
	if present {
		return
	}
	why := r.Unsupported[name]
	if why == "" {
		why = "the harness does not provide it"
	}
	t.Skipf("no %s hook: %s", name, why)
}

// do runs a hook and fails the test on error.
func (r *rig) do(t *testing.T, name string, h Hook) {
	t.Helper()
	if err := h(r.ctx(t)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// must runs a driver call and fails the test on error, checking that no PIN leaks
// into it.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		noPIN(t, err)
		t.Fatalf("%s: %v", what, err)
	}
}

// noPIN fails the test if an error's text holds one of the suite's PINs.
func noPIN(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, pin := range []string{pinA, pinB, pinZero} {
		if strings.Contains(err.Error(), pin) {
			t.Errorf("the error %q shows a PIN", err)
		}
	}
}

// retry runs f until it succeeds or the harness's timeout passes (a driver reconnecting
// to its hub may refuse for a while), returning the last error.
func (r *rig) retry(t *testing.T, f func(ctx context.Context) error) error {
	t.Helper()
	deadline := time.Now().Add(r.Timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), r.Timeout/3)
		err := f(ctx)
		cancel()
		noPIN(t, err)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// collector keeps every event the driver delivered.
type collector struct {
	mu     sync.Mutex
	events []latchkey.DeviceEvent
	wake   chan struct{}
}

func (c *collector) add(ev latchkey.DeviceEvent) {
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// mark returns how many events have arrived, to wait for ones after it.
func (c *collector) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// wait returns the first event from index from on that matches, or fails the test
// after timeout with what did arrive.
func (c *collector) wait(t *testing.T, from int, timeout time.Duration, what string, match func(latchkey.DeviceEvent) bool) latchkey.DeviceEvent {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for _, ev := range c.events[min(from, len(c.events)):] {
			if match(ev) {
				c.mu.Unlock()
				return ev
			}
		}
		seen := fmt.Sprint(c.events[min(from, len(c.events)):])
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-deadline.C:
			t.Fatalf("no %s event within %s; got %s", what, timeout, seen)
		}
	}
}

// waitKind waits for an event of a kind from the test lock.
func (r *rig) waitKind(t *testing.T, from int, kind latchkey.EventKind) latchkey.DeviceEvent {
	t.Helper()
	ev := r.events.wait(t, from, r.Timeout, string(kind), func(ev latchkey.DeviceEvent) bool {
		return ev.Address == r.Address && ev.Kind == kind
	})
	if ev.Driver != r.Driver.Name() {
		t.Errorf("%s event names driver %q, want %q", kind, ev.Driver, r.Driver.Name())
	}
	return ev
}

// testDevices lists the hub's devices and matches the test lock to its catalog model by
// its radio ids.
func testDevices(t *testing.T, newHarness NewHarness) {
	r := setup(t, newHarness)
	lister, ok := r.Driver.(latchkey.DeviceLister)
	if !ok {
		t.Fatalf("%T does not list devices (latchkey.DeviceLister)", r.Driver)
	}
	var devices []latchkey.DeviceInfo
	must(t, "list devices", r.retry(t, func(ctx context.Context) (err error) {
		devices, err = lister.Devices(ctx)
		if err == nil && !hasAddress(devices, r.Address) {
			err = fmt.Errorf("%s is not listed yet", r.Address)
		}
		return err
	}))
	cat := catalog.Default()
	for _, d := range devices {
		if d.Driver != r.Driver.Name() {
			t.Errorf("device %s names driver %q, want %q", d.Address, d.Driver, r.Driver.Name())
		}
		if d.Address != r.Address {
			continue
		}
		if !d.Online {
			t.Errorf("%s is listed offline", d.Address)
		}
		if d.BatteryPercent < 0 || d.BatteryPercent > 100 {
			t.Errorf("%s battery %d %%, want 0 (unknown) to 100", d.Address, d.BatteryPercent)
		}
		var models []string
		switch {
		case d.IsZWave():
			for _, m := range cat.ByZWave(d.ZWaveManufacturer, d.ZWaveProductType, d.ZWaveProductID) {
				models = append(models, m.ID)
			}
		case d.IsZigbee():
			if m, _, ok := cat.ByZigbee(d.ZigbeeModel); ok {
				models = append(models, m.ID)
			}
		default:
			t.Fatalf("%s is listed without Z-Wave or Zigbee ids: %+v", d.Address, d)
		}
		for _, m := range models {
			if m == r.Model {
				return
			}
		}
		t.Fatalf("%s (%+v) matches catalog models %v, want %s", d.Address, d, models, r.Model)
	}
}

func hasAddress(devices []latchkey.DeviceInfo, addr string) bool {
	for _, d := range devices {
		if d.Address == addr {
			return true
		}
	}
	return false
}

// reader returns the driver's CodeReader, failing the test without one.
func (r *rig) reader(t *testing.T) latchkey.CodeReader {
	t.Helper()
	cr, ok := r.Driver.(latchkey.CodeReader)
	if !ok {
		t.Fatalf("%T cannot read a slot back (latchkey.CodeReader)", r.Driver)
	}
	return cr
}

// readBack reads a slot and checks whether it holds want ("" for empty). A lock that
// does not tell the PIN back must still tell whether the slot holds one.
func (r *rig) readBack(t *testing.T, slot int, want string) {
	t.Helper()
	pin, present, err := r.reader(t).ReadCode(r.ctx(t), r.Address, slot)
	must(t, fmt.Sprintf("read slot %d", slot), err)
	switch {
	case want == "" && present:
		t.Fatalf("slot %d holds a code, want it empty", slot)
	case want != "" && !present:
		t.Fatalf("slot %d is empty, want it to hold the code set", slot)
	case want != "" && pin != "" && pin != want:
		t.Fatalf("slot %d holds another code than the one set", slot)
	}
}

// testCodes sets, reads back, replaces and clears codes, and checks that bad slots are
// refused as invalid without showing the PIN.
func testCodes(t *testing.T, newHarness NewHarness) {
	r := setup(t, newHarness)
	ctx := r.ctx(t)
	r.readBack(t, 2, "")
	must(t, "set slot 2", r.Driver.SetCode(ctx, r.Address, 2, pinA))
	r.readBack(t, 2, pinA)
	must(t, "set slot 3", r.Driver.SetCode(ctx, r.Address, 3, pinB))
	r.readBack(t, 3, pinB)
	r.readBack(t, 2, pinA)
	must(t, "clear slot 2", r.Driver.ClearCode(ctx, r.Address, 2))
	r.readBack(t, 2, "")
	r.readBack(t, 3, pinB)
	must(t, "clear slot 3", r.Driver.ClearCode(ctx, r.Address, 3))
	r.readBack(t, 3, "")

	t.Run("LeadingZero", func(t *testing.T) {
		// A PIN is digits, not a number: its leading zero goes to the lock and comes back.
		must(t, "set slot 4", r.Driver.SetCode(ctx, r.Address, 4, pinZero))
		r.readBack(t, 4, pinZero)
		must(t, "clear slot 4", r.Driver.ClearCode(ctx, r.Address, 4))
	})
	t.Run("ErrBadSlot", func(t *testing.T) {
		for _, slot := range []int{0, -1, 1 << 20} {
			err := r.Driver.SetCode(ctx, r.Address, slot, pinA)
			if latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Errorf("set slot %d: got %v, want an %s error", slot, err, latchkey.EINVALID)
			}
			noPIN(t, err)
		}
	})
	t.Run("ErrUnknownLock", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
		defer cancel()
		err := r.Driver.SetCode(ctx, "no-such-lock-"+r.Address, 2, pinA)
		if err == nil {
			t.Fatal("set a code on a lock the hub does not know: no error")
		}
		if c := latchkey.ErrorCode(err); c != latchkey.ENOTFOUND && c != latchkey.EUNAVAILABLE {
			t.Errorf("got %v, want a %s or %s error", err, latchkey.ENOTFOUND, latchkey.EUNAVAILABLE)
		}
		noPIN(t, err)
	})
}

// testLockUnlock unlocks and locks the bolt from the hub and sees the lock report it.
func testLockUnlock(t *testing.T, newHarness NewHarness) {
	r := setup(t, newHarness)
	from := r.events.mark()
	must(t, "unlock", r.Driver.Unlock(r.ctx(t), r.Address))
	r.waitKind(t, from, latchkey.EventUnlocked)
	from = r.events.mark()
	must(t, "lock", r.Driver.Lock(r.ctx(t), r.Address))
	r.waitKind(t, from, latchkey.EventLocked)
}

// testEvents makes the lock do what people and the world do to it, and checks each
// report arrives as the domain's event.
func testEvents(t *testing.T, newHarness NewHarness) {
	t.Run("KeypadUnlockBySlot", func(t *testing.T) {
		r := setup(t, newHarness)
		r.need(t, "KeypadUnlock", r.KeypadUnlock != nil)
		must(t, "set slot 4", r.Driver.SetCode(r.ctx(t), r.Address, 4, pinA))
		from := r.events.mark()
		if err := r.KeypadUnlock(r.ctx(t), 4, pinA); err != nil {
			t.Fatalf("keypad unlock: %v", err)
		}
		ev := r.waitKind(t, from, latchkey.EventUnlocked)
		if ev.Source != latchkey.SourceKeypad || ev.Slot != 4 {
			t.Errorf("unlock reported from %q slot %d, want the keypad, slot 4", ev.Source, ev.Slot)
		}
		if strings.Contains(ev.Detail, pinA) {
			t.Errorf("the unlock's detail %q shows the PIN", ev.Detail)
		}
	})
	for _, c := range []struct {
		name string
		hook func(*Harness) Hook
		kind latchkey.EventKind
		// check looks further at the event.
		check func(t *testing.T, ev latchkey.DeviceEvent)
	}{
		{"WrongCode", func(h *Harness) Hook { return h.WrongCode }, latchkey.EventWrongCode, nil},
		{"KeypadLockout", func(h *Harness) Hook { return h.KeypadLockout }, latchkey.EventKeypadLockout, nil},
		{"Jam", func(h *Harness) Hook { return h.Jam }, latchkey.EventJammed, nil},
		{"LowBattery", func(h *Harness) Hook { return h.LowBattery }, latchkey.EventLowBattery, func(t *testing.T, ev latchkey.DeviceEvent) {
			if ev.BatteryMV != 0 && !(latchkey.LockState{BatteryMV: ev.BatteryMV}).LowBattery() {
				t.Errorf("low battery reported at %d mV, above the low mark", ev.BatteryMV)
			}
		}},
		{"Tamper", func(h *Harness) Hook { return h.Tamper }, latchkey.EventTamper, nil},
		{"ResetLocally", func(h *Harness) Hook { return h.ResetLocally }, latchkey.EventResetLocally, nil},
		{"DeleteAllCodes", func(h *Harness) Hook { return h.DeleteAllCodes }, latchkey.EventAllCodesDeleted, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := setup(t, newHarness)
			hook := c.hook(r.Harness)
			r.need(t, c.name, hook != nil)
			if c.kind == latchkey.EventAllCodesDeleted {
				must(t, "set slot 5", r.Driver.SetCode(r.ctx(t), r.Address, 5, pinB))
			}
			from := r.events.mark()
			r.do(t, c.name, hook)
			ev := r.waitKind(t, from, c.kind)
			if c.check != nil {
				c.check(t, ev)
			}
			if c.kind == latchkey.EventAllCodesDeleted {
				r.readBack(t, 5, "")
			}
		})
	}
}

// testOffline takes the lock off the network and back: the driver reports it offline,
// its commands fail as unavailable rather than hang, and it is online again after.
func testOffline(t *testing.T, newHarness NewHarness) {
	r := setup(t, newHarness)
	r.need(t, "GoOffline", r.GoOffline != nil && r.ComeBack != nil)
	from := r.events.mark()
	r.do(t, "go offline", r.GoOffline)
	// Some hubs notice only when a command goes unanswered: send one.
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout/3)
	err := r.Driver.Unlock(ctx, r.Address)
	cancel()
	if err == nil {
		t.Errorf("unlock on a lock gone offline: no error")
	} else if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Errorf("unlock on a lock gone offline: got %v, want an %s error", err, latchkey.EUNAVAILABLE)
	}
	r.waitKind(t, from, latchkey.EventOffline)
	from = r.events.mark()
	r.do(t, "come back", r.ComeBack)
	must(t, "unlock once back", r.retry(t, func(ctx context.Context) error { return r.Driver.Unlock(ctx, r.Address) }))
	r.waitKind(t, from, latchkey.EventOnline)
	r.waitKind(t, from, latchkey.EventUnlocked)
}

// testHubRestart takes the hub away: commands meanwhile fail as unavailable, and once it
// is back the driver reconnects by itself, commands work and events flow again.
func testHubRestart(t *testing.T, newHarness NewHarness) {
	r := setup(t, newHarness)
	r.need(t, "HubDown", r.HubDown != nil && r.HubUp != nil)
	r.do(t, "hub down", r.HubDown)
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout/3)
	err := r.Driver.SetCode(ctx, r.Address, 6, pinA)
	cancel()
	if err == nil {
		t.Errorf("set a code with the hub away: no error")
	} else if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Errorf("set a code with the hub away: got %v, want an %s error", err, latchkey.EUNAVAILABLE)
	}
	noPIN(t, err)
	r.do(t, "hub up", r.HubUp)
	must(t, "set a code once the hub is back", r.retry(t, func(ctx context.Context) error {
		return r.Driver.SetCode(ctx, r.Address, 6, pinA)
	}))
	r.readBack(t, 6, pinA)
	from := r.events.mark()
	must(t, "unlock", r.Driver.Unlock(r.ctx(t), r.Address))
	r.waitKind(t, from, latchkey.EventUnlocked)
	if r.KeypadUnlock != nil {
		// An event the lock sends by itself, not as the answer to a command.
		from = r.events.mark()
		must(t, "lock", r.Driver.Lock(r.ctx(t), r.Address))
		r.waitKind(t, from, latchkey.EventLocked) // the bolt has stopped: the keypad can move it
		from = r.events.mark()
		if err := r.KeypadUnlock(r.ctx(t), 6, pinA); err != nil {
			t.Fatalf("keypad unlock: %v", err)
		}
		ev := r.waitKind(t, from, latchkey.EventUnlocked)
		if ev.Slot != 6 {
			t.Errorf("keypad unlock reported slot %d, want 6", ev.Slot)
		}
	}
}

// testDeadline sends every call to a lock that never answers: each returns an
// unavailable error once its context ends (or sooner, when the hub gives up first),
// never hangs, and never shows the PIN.
func testDeadline(t *testing.T, newHarness NewHarness) {
	r := setup(t, newHarness)
	r.need(t, "Silence", r.Silence != nil)
	addr, err := r.Silence(r.ctx(t))
	if err != nil {
		t.Fatalf("silence the lock: %v", err)
	}
	calls := map[string]func(ctx context.Context) error{
		"SetCode":   func(ctx context.Context) error { return r.Driver.SetCode(ctx, addr, 7, pinB) },
		"ClearCode": func(ctx context.Context) error { return r.Driver.ClearCode(ctx, addr, 7) },
		"Lock":      func(ctx context.Context) error { return r.Driver.Lock(ctx, addr) },
		"Unlock":    func(ctx context.Context) error { return r.Driver.Unlock(ctx, addr) },
		"ReadCode": func(ctx context.Context) error {
			_, _, err := r.reader(t).ReadCode(ctx, addr, 7)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- call(ctx) }()
			select {
			case err := <-done:
				switch {
				case err == nil:
					t.Fatal("a lock that never answers: no error")
				case latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE:
					t.Errorf("got %v, want an %s error", err, latchkey.EUNAVAILABLE)
				}
				noPIN(t, err)
			case <-time.After(2*time.Second + r.Timeout):
				t.Fatalf("%s still waiting %s after its context ended", name, r.Timeout)
			}
		})
	}
}
