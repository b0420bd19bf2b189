package codesync_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// addPositionLock adds a SmartCode 910 twin ("side", on Zigbee), whose codes are set at
// the keypad by position (facts §3.4 A), and records it as a connected lock.
func (f *fixture) addPositionLock(t *testing.T) *latchkey.Lock {
	t.Helper()
	f.driver.Do(func(w *sim.World) {
		l, err := w.AddLock("side", sim.LockOptions{Model: "910", Radio: "zigbee", Locked: true})
		must(t, err)
		must(t, l.JoinHub())
	})
	l := &latchkey.Lock{DoorID: f.locks["front"].DoorID, Name: "side", ModelID: "910", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: "side"}}
	must(t, f.svc.CreateLock(f.ctx, l))
	f.locks["side"] = l
	return l
}

// programAt sets a code at a position of a twin's keypad: Program pressed position
// times, the digits, then Lock.
func (f *fixture) programAt(t *testing.T, lock string, position int, pin string) {
	t.Helper()
	f.driver.Do(func(w *sim.World) {
		tw, err := w.Twin(lock)
		must(t, err)
		l := tw.(*sim.Lock)
		for range position {
			must(t, l.PressProgram())
		}
		for _, k := range pin {
			must(t, l.Press(string(k)))
		}
		must(t, l.Press(sim.KeyLock))
	})
}

// slotHolds reads a twin's slot through its driver.
func (f *fixture) slotHolds(t *testing.T, lock string, slot int) (string, bool) {
	t.Helper()
	pin, present, err := f.driver.ReadCode(f.ctx, lock, slot)
	must(t, err)
	return pin, present
}

// waitFor polls until ok or the test's time runs out.
func (f *fixture) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-f.ctx.Done():
			t.Fatalf("never: %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// A code changed at the keypad is a conflicting change, modified at the lock: failed, with
// what happened, and the warning that the lock's change is in effect; the engine does not
// write over it; "try again" puts Latchkey's code back. The digits set at the keypad are
// never recorded.
func TestCodeChangedAtTheKeypadIsAConflict(t *testing.T) {
	f := newFixture(t)
	side := f.addPositionLock(t)
	f.run(t)
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "13579", LockIDs: []int64{side.ID}})
	must(t, err)
	g := f.waitGrant(t, c.ID, "side", latchkey.GrantSet)
	if pin, _ := f.slotHolds(t, "side", g.Slot); pin != "13579" {
		t.Fatalf("slot %d holds %q", g.Slot, pin)
	}
	f.programAt(t, "side", g.Slot, "97531")
	g = f.waitGrant(t, c.ID, "side", latchkey.GrantFailed)
	if g.Problem != latchkey.ProblemModifiedAtLock || !strings.Contains(g.Reason, "changed at the keypad") || g.NextAttempt != nil {
		t.Fatalf("the conflicting change: %s, %q, next %v", g.Problem, g.Reason, g.NextAttempt)
	}
	if len(g.Warnings) != 1 || g.Warnings[0] != latchkey.WarningChangeAtLockInEffect {
		t.Fatalf("warnings: %v", g.Warnings)
	}
	time.Sleep(300 * time.Millisecond) // the engine's passes leave it alone
	if pin, _ := f.slotHolds(t, "side", g.Slot); pin != "97531" {
		t.Fatalf("the engine wrote over the code set at the keypad: slot holds %q", pin)
	}
	events, err := f.svc.FindEvents(f.ctx, side.ID, 100)
	must(t, err)
	changed := false
	for _, e := range events {
		changed = changed || e.Kind == latchkey.EventCodeChanged
		if strings.Contains(e.Detail, "97531") {
			t.Fatalf("an event shows the digits set at the keypad: %+v", e)
		}
	}
	if !changed {
		t.Fatal("no code_changed event recorded")
	}
	_, err = f.svc.RetrySync(f.ctx, c.ID, side.ID)
	must(t, err)
	f.waitGrant(t, c.ID, "side", latchkey.GrantSet)
	if pin, _ := f.slotHolds(t, "side", g.Slot); pin != "13579" {
		t.Fatalf("after trying again the slot holds %q", pin)
	}
}

// A code set at the keypad in a slot Latchkey does not own is listed for adoption and
// never written over (a new code goes in another slot); adopted, it is a person's code
// with the PIN read from the lock; one cleared is emptied by the engine.
func TestUnownedCodesAdoptedOrCleared(t *testing.T) {
	f := newFixture(t)
	side := f.addPositionLock(t)
	f.svc.Readers = map[latchkey.Driver]latchkey.CodeReader{latchkey.DriverSim: f.driver}
	f.run(t)
	foreign := func() []*latchkey.ForeignCode {
		fs, err := f.svc.FindForeignCodes(f.ctx, side.ID)
		must(t, err)
		return fs
	}
	f.programAt(t, "side", 1, "11335")
	f.waitFor(t, "slot 1 listed for adoption", func() bool { fs := foreign(); return len(fs) == 1 && fs[0].Slot == 1 })

	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "55779", LockIDs: []int64{side.ID}})
	must(t, err)
	g := f.waitGrant(t, c.ID, "side", latchkey.GrantSet)
	if g.Slot == 1 {
		t.Fatal("a new code was given the slot of a code Latchkey does not own")
	}
	if pin, _ := f.slotHolds(t, "side", 1); pin != "11335" {
		t.Fatalf("the unowned code was written over: slot 1 holds %q", pin)
	}

	// Adopted: a code of a person, in that slot, its PIN read from the lock into the vault.
	adopted, err := f.svc.AdoptForeignCode(f.ctx, latchkey.Adoption{LockID: side.ID, Slot: 1, PersonID: f.person.ID, Label: "Set at the keypad"})
	must(t, err)
	if adopted.PIN != "" || adopted.SealedPIN != nil {
		t.Fatal("the adopted code came back with its PIN")
	}
	ag := f.waitGrant(t, adopted.ID, "side", latchkey.GrantSet)
	if ag.Slot != 1 || len(foreign()) != 0 {
		t.Fatalf("adopted into slot %d; still listed: %v", ag.Slot, foreign())
	}
	reveal := latchkey.NewContextWithPrincipal(f.ctx, latchkey.Principal{Name: "ana", Role: latchkey.UserOwner})
	if pin, err := f.svc.RevealCode(reveal, adopted.ID); err != nil || pin != "11335" {
		t.Fatalf("the adopted code's PIN: %v", err)
	}

	// Cleared: the engine empties the slot, and the listing ends.
	f.programAt(t, "side", 4, "77991")
	f.waitFor(t, "slot 4 listed", func() bool { fs := foreign(); return len(fs) == 1 && fs[0].Slot == 4 })
	_, err = f.svc.ClearForeignSlot(f.ctx, side.ID, 4)
	must(t, err)
	f.waitFor(t, "slot 4 cleared", func() bool { return len(foreign()) == 0 })
	if _, present := f.slotHolds(t, "side", 4); present {
		t.Fatal("slot 4 still holds a code after it was cleared")
	}
	if _, err := f.svc.ClearForeignSlot(f.ctx, side.ID, 4); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("clearing a slot no longer listed: %v", err)
	}
}
