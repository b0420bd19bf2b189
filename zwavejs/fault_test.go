package zwavejs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/zwavejs"
	"github.com/latchkey/latchkey/zwavejs/zwavejstest"
)

// pinFor is the code a fault test puts in a slot: distinct per slot, as the lock wants.
func pinFor(slot int) string { return fmt.Sprintf("%d%04d", 7, slot*37) }

// untilDone runs f as the sync engine would: again while it fails as unavailable, up to
// 30 s. Any other error fails the test.
func untilDone(t *testing.T, what string, f func(ctx context.Context) error) (failures int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := f(ctx)
		cancel()
		switch {
		case err == nil:
			return failures
		case latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE:
			t.Fatalf("%s: %v (want success, or unavailable while the hub is away)", what, err)
		case time.Now().After(deadline):
			t.Fatalf("%s: still failing after 30 s: %v", what, err)
		}
		failures++
		time.Sleep(100 * time.Millisecond)
	}
}

// checkSlots checks what the lock itself holds (past zwave-js) and what the driver
// reads back: each slot in want holds its code, each other slot up to n is empty. A
// slot the driver reads back empty must be empty at the lock: nothing revoked is taken
// for gone while it is still there.
func checkSlots(t *testing.T, h *zwavejstest.Harness, d *zwavejs.Driver, n int, want map[int]string) {
	t.Helper()
	for slot := 1; slot <= n; slot++ {
		// The driver first: a lock can lose a code between the two reads (a removal
		// still on its way), never gain one.
		var held string
		var present bool
		untilDone(t, fmt.Sprintf("read slot %d", slot), func(ctx context.Context) (err error) {
			held, present, err = d.ReadCode(ctx, h.Address, slot)
			return err
		})
		st, code := h.Slot(t, slot)
		switch pin, ok := want[slot]; {
		case ok && (st != 1 || code != pin):
			t.Errorf("slot %d at the lock: status %d, wrong code; want its code", slot, st)
		case !ok && st != 0:
			t.Errorf("slot %d at the lock holds a code, want it empty", slot)
		}
		if !present && st != 0 {
			t.Errorf("slot %d read back empty while the lock holds a code", slot)
		}
		if present && held != "" && held != code {
			t.Errorf("slot %d read back another code than the lock holds", slot)
		}
	}
}

// The hub restarts in the middle of a batch of writes, and again in the middle of
// their removal: every write and every removal gets done, retried as the engine would.
// (A command given while the hub is away waits for it within its deadline, or fails as
// unavailable: either way it gets done.)
func TestFault_HubRestartsMidBatch(t *testing.T) {
	h := zwavejstest.Start(t)
	p := newProxy(t, h.URL) // counts the driver's connections
	d := open(t, p.URL)
	const n = 10
	want := map[int]string{}
	for slot := 1; slot <= n; slot++ {
		if slot == 4 {
			h.Do(t, "restart-server", map[string]any{"downMs": 800})
		}
		untilDone(t, fmt.Sprintf("set slot %d", slot), func(ctx context.Context) error {
			return d.SetCode(ctx, h.Address, slot, pinFor(slot))
		})
		want[slot] = pinFor(slot)
	}
	if c := p.connections(); c < 2 {
		t.Fatalf("%d connection(s): the restart was not seen", c)
	}
	checkSlots(t, h, d, n, want)

	for slot := 1; slot <= n; slot += 2 {
		if slot == 5 {
			h.Do(t, "restart-server", map[string]any{"downMs": 6000}) // longer than a command's deadline
		}
		untilDone(t, fmt.Sprintf("clear slot %d", slot), func(ctx context.Context) error {
			return d.ClearCode(ctx, h.Address, slot)
		})
		delete(want, slot)
	}
	if c := p.connections(); c < 3 {
		t.Fatalf("%d connections: the second restart was not seen", c)
	}
	checkSlots(t, h, d, n, want)
}

// The connection drops after a command has left and before its answer: the command
// fails as unavailable (never as done), whatever became of it at the lock; the driver
// reconnects, and reading back tells the truth.
func TestFault_ConnectionDrops(t *testing.T) {
	h := zwavejstest.Start(t)
	p := newProxy(t, h.URL)
	d := open(t, p.URL)
	ctx := ctxFor(t, 60*time.Second)
	untilDone(t, "set slot 1", func(ctx context.Context) error { return d.SetCode(ctx, h.Address, 1, pinFor(1)) })

	p.set(func(p *proxy) { p.dropOn = `"methodName":"set"` })
	err := d.SetCode(ctx, h.Address, 2, pinFor(2))
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a write whose answer was lost: got %v, want unavailable", err)
	}
	awaitDrop(t, p)
	p.set(func(p *proxy) { p.dropOn = `"methodName":"clear"` })
	err = d.ClearCode(ctx, h.Address, 1)
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a removal whose answer was lost: got %v, want unavailable", err)
	}
	awaitDrop(t, p)
	p.set(func(p *proxy) { p.dropOn = "" })
	time.Sleep(1500 * time.Millisecond) // the commands that left finish at the lock
	// Whatever reached the lock, reading back says what it holds.
	_, code2 := h.Slot(t, 2)
	st1, _ := h.Slot(t, 1)
	want := map[int]string{}
	if code2 != "" {
		want[2] = code2
	}
	if st1 != 0 {
		want[1] = pinFor(1)
	}
	checkSlots(t, h, d, 3, want)
	// And the engine's retries finish the job.
	untilDone(t, "set slot 2", func(ctx context.Context) error { return d.SetCode(ctx, h.Address, 2, pinFor(2)) })
	untilDone(t, "clear slot 1", func(ctx context.Context) error { return d.ClearCode(ctx, h.Address, 1) })
	checkSlots(t, h, d, 3, map[int]string{2: pinFor(2)})
}

// awaitDrop waits for the proxy to cut the connection on the command just sent. On a
// slow machine the command may have failed before it left (the connection was still
// coming back from the last cut): then there is nothing to wait for, and the read-backs
// that follow say what the lock holds either way.
func awaitDrop(t *testing.T, p *proxy) {
	t.Helper()
	select {
	case <-p.dropped:
	case <-time.After(15 * time.Second):
		t.Log("the command failed before it reached the proxy; nothing was cut")
	}
}

// Every frame from the server twice, then frames out of order: answers still go to
// their own commands, and one keypad unlock is one event.
func TestFault_DuplicatedAndReordered(t *testing.T) {
	h := zwavejstest.Start(t)
	p := newProxy(t, h.URL)
	d := open(t, p.URL)
	r := newRecorder(d)
	for _, mode := range []string{"duplicate", "reorder", "both"} {
		t.Run(mode, func(t *testing.T) {
			p.set(func(p *proxy) {
				p.duplicate = mode != "reorder"
				p.reorder = mode != "duplicate"
			})
			defer p.set(func(p *proxy) { p.duplicate, p.reorder = false, false })
			want := map[int]string{}
			var wg sync.WaitGroup
			var mu sync.Mutex
			for slot := 1; slot <= 6; slot++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					untilDone(t, fmt.Sprintf("set slot %d", slot), func(ctx context.Context) error {
						return d.SetCode(ctx, h.Address, slot, pinFor(slot))
					})
					mu.Lock()
					want[slot] = pinFor(slot)
					mu.Unlock()
				}()
			}
			wg.Wait()
			// Reads of different slots at once: each gets its own slot's answer.
			for slot := 1; slot <= 6; slot++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					for range 2 { // the second read asks the lock (the first may be SetCode's)
						pin, present, err := d.ReadCode(ctx, h.Address, slot)
						if err != nil || !present || pin != "" && pin != pinFor(slot) {
							t.Errorf("slot %d read back %v, present %v, matching %v", slot, err, present, pin == pinFor(slot))
						}
					}
				}()
			}
			wg.Wait()
			unlocks := r.count(kind(latchkey.EventUnlocked))
			h.Do(t, "keypad-unlock", map[string]any{"slot": 3})
			r.wait(t, "keypad unlock", func(ev latchkey.DeviceEvent) bool {
				return ev.Kind == latchkey.EventUnlocked && ev.Slot == 3 && r.count(kind(latchkey.EventUnlocked)) > unlocks
			})
			time.Sleep(time.Second) // room for a second report, were it to come
			if got := r.count(kind(latchkey.EventUnlocked)) - unlocks; got != 1 {
				t.Errorf("%d unlock events for one keypad unlock", got)
			}
			locks := r.count(kind(latchkey.EventLocked))
			h.Do(t, "manual-lock", nil)
			r.wait(t, "lock", func(ev latchkey.DeviceEvent) bool {
				return ev.Kind == latchkey.EventLocked && r.count(kind(latchkey.EventLocked)) > locks
			})
			for slot := 1; slot <= 6; slot++ {
				untilDone(t, fmt.Sprintf("clear slot %d", slot), func(ctx context.Context) error { return d.ClearCode(ctx, h.Address, slot) })
			}
			checkSlots(t, h, d, 6, nil)
		})
	}
}

// A lock that never answers: removals fail as unavailable, within their deadlines, and
// the slot is never read back as empty while the lock still holds the code.
func TestFault_LockNeverAnswers(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	untilDone(t, "set slot 5", func(ctx context.Context) error { return d.SetCode(ctx, h.Address, 5, pinFor(5)) })
	h.Do(t, "dead", nil)
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := d.ClearCode(ctx, h.Address, 5)
		cancel()
		if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
			t.Fatalf("clearing on a lock that does not answer: got %v, want unavailable", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
		_, present, err := d.ReadCode(ctx, h.Address, 5)
		cancel()
		if err == nil && !present {
			t.Fatal("a lock that does not answer was read back empty")
		}
	}
	if st, _ := h.Slot(t, 5); st != 1 {
		t.Fatal("the dead lock lost its code")
	}
	h.Do(t, "alive", nil)
	untilDone(t, "clear slot 5", func(ctx context.Context) error { return d.ClearCode(ctx, h.Address, 5) })
	checkSlots(t, h, d, 5, nil)
}

// The driver says whether it reaches the server: connected once listening, not while the
// server is away, connected again once it is back.
func TestFault_ConnectedFollowsTheServer(t *testing.T) {
	h := zwavejstest.Start(t)
	d := open(t, h.URL)
	until(t, "connected", d.Connected)
	h.Do(t, "restart-server", map[string]any{"downMs": 3000})
	until(t, "not connected while the server is away", func() bool { return !d.Connected() })
	until(t, "connected again", d.Connected)
}

// until polls cond every 10 ms for up to 30 s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after 30 s", what)
		}
	}
}
