package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// connectedLock makes a person and a 916 on its own door, connected to the twins' driver
// at addr.
func connectedLock(t *testing.T, s *latchkey.Service, name, addr string) (*latchkey.Lock, *latchkey.Person) {
	t.Helper()
	l, p := newLock(t, s, name)
	conn := latchkey.Connection{Driver: latchkey.DriverSim, Address: addr}
	l, err := s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	return l, p
}

// grantOn reads where a code stands on a lock, with its derived warnings.
func grantOn(t *testing.T, s *latchkey.Service, codeID, lockID int64) *latchkey.Grant {
	t.Helper()
	gs, err := s.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &codeID, LockID: &lockID})
	must(t, err)
	if len(gs) != 1 {
		t.Fatalf("code %d on lock %d: %d grants", codeID, lockID, len(gs))
	}
	return gs[0]
}

// taskFor finds the engine's task for a code on a lock, or nil.
func taskFor(t *testing.T, s *latchkey.Service, codeID, lockID int64) *latchkey.SyncTask {
	t.Helper()
	tasks, err := s.SyncTasks(ctx())
	must(t, err)
	for _, task := range tasks {
		if task.CodeID == codeID && task.LockID == lockID {
			return &task
		}
	}
	return nil
}

func device(t *testing.T, s *latchkey.Service, addr string, kind latchkey.EventKind, slot int) *latchkey.Event {
	t.Helper()
	e, err := s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: addr, Kind: kind, Source: latchkey.SourceKeypad, Slot: slot})
	must(t, err)
	return e
}

// The new columns of a grant, and the foreign codes' table, keep what is written.
func testSyncColumns(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, LockIDs: []int64{l.ID}})
	must(t, err)
	next := time.Date(2026, 5, 1, 12, 5, 0, 123000, time.UTC)
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		gs, err := tx.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &c.ID})
		if err != nil {
			return err
		}
		g := gs[0]
		g.Status, g.Problem, g.ProblemSlot, g.Reason, g.Alert, g.NextAttempt, g.Uses =
			latchkey.GrantFailed, latchkey.ProblemDuplicateOnDevice, 3, "duplicate", "used after revoke", &next, 4
		return tx.UpdateGrant(ctx(), g)
	}))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		gs, err := tx.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &c.ID})
		if err != nil {
			return err
		}
		g := gs[0]
		if g.Problem != latchkey.ProblemDuplicateOnDevice || g.ProblemSlot != 3 || g.Alert != "used after revoke" || g.Uses != 4 ||
			g.NextAttempt == nil || !g.NextAttempt.Equal(next) {
			t.Fatalf("grant read back as %+v", g)
		}
		return nil
	}))
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		gs, _ := tx.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &c.ID})
		gs[0].NextAttempt = nil
		return tx.UpdateGrant(ctx(), gs[0])
	}))
	if g := grantOn(t, s, c.ID, l.ID); g.NextAttempt != nil {
		t.Fatalf("next attempt not cleared: %v", g.NextAttempt)
	}

	other, _ := newLock(t, s, "Back")
	seen := time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC)
	var first *latchkey.ForeignCode
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		for _, f := range []*latchkey.ForeignCode{{LockID: l.ID, Slot: 3, Source: latchkey.SourceKeypad, SeenAt: seen},
			{LockID: l.ID, Slot: 2, SeenAt: seen}, {LockID: other.ID, Slot: 1, SeenAt: seen}} {
			if err := tx.CreateForeignCode(ctx(), f); err != nil {
				return err
			}
			if first == nil {
				first = f
			}
		}
		return nil
	}))
	err = store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreateForeignCode(ctx(), &latchkey.ForeignCode{LockID: l.ID, Slot: 3, SeenAt: seen})
	})
	wantCode(t, err, latchkey.ECONFLICT)
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		first.Clearing, first.Reason = true, "did not answer"
		return tx.UpdateForeignCode(ctx(), first)
	}))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		fs, err := tx.FindForeignCodes(ctx(), l.ID)
		if err != nil {
			return err
		}
		if len(fs) != 2 || fs[0].Slot != 2 || fs[1].Slot != 3 || !fs[1].Clearing || fs[1].Reason != "did not answer" ||
			fs[1].Source != latchkey.SourceKeypad || !fs[1].SeenAt.Equal(seen) {
			t.Fatalf("foreign codes of the lock: %+v", fs)
		}
		all, err := tx.FindForeignCodes(ctx(), 0)
		if len(all) != 3 {
			t.Fatalf("every lock's foreign codes: %d", len(all))
		}
		return err
	}))
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error { return tx.DeleteForeignCode(ctx(), first.ID) }))
	wantCode(t, store.Update(ctx(), func(tx latchkey.Tx) error { return tx.DeleteForeignCode(ctx(), first.ID) }), latchkey.ENOTFOUND)
	must(t, s.DeleteLock(ctx(), other.ID, true))
	if fs, err := s.FindForeignCodes(ctx(), 0); err != nil || len(fs) != 1 {
		t.Fatalf("after deleting a lock, its foreign codes remain: %v %v", fs, err)
	}
}

// The engine's outcomes: put, unconfirmed, each failure's problem and whether it is tried
// again, and a removal seen through.
func testSyncStatuses(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	clock := s.Clock.(*fixedClock)
	l, p := connectedLock(t, s, "Front", "front")
	newCode := func(label string) *latchkey.Code {
		c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: label}, LockIDs: []int64{l.ID}})
		must(t, err)
		return c
	}
	c := newCode("Ana")
	task := taskFor(t, s, c.ID, l.ID)
	if task == nil || task.Action != latchkey.SyncPut {
		t.Fatalf("no put for a pending code: %+v", task)
	}
	// The PIN given out is recorded first: the code is "setting" until the outcome.
	_, err := s.PINForSync(ctx(), c.ID, l.ID)
	must(t, err)
	if g := grantOn(t, s, c.ID, l.ID); g.Status != latchkey.GrantSetting {
		t.Fatalf("after its PIN was given out the code is %s", g.Status)
	}
	if task := taskFor(t, s, c.ID, l.ID); task == nil || task.Action != latchkey.SyncPut {
		t.Fatal("a code left setting (a crash mid-write) is not written again")
	}
	g, err := s.RecordSync(ctx(), latchkey.SyncOutcome{Task: *task, Unconfirmed: true})
	must(t, err)
	if g.Status != latchkey.GrantUnconfirmed || g.Reason == "" {
		t.Fatalf("acknowledged, not read back: %s %q", g.Status, g.Reason)
	}
	if g, err = s.ConfirmCode(ctx(), c.ID, l.ID); err != nil || g.Status != latchkey.GrantSet {
		t.Fatalf("confirming an unconfirmed code: %v %v", g, err)
	}

	// Each failure of a put: its problem, and whether the engine tries it again.
	for _, tc := range []struct {
		reason  string
		problem latchkey.Problem
		retried bool
	}{
		{"failed to set: Lock front did not answer", latchkey.ProblemLockUnreachable, true},
		{"failed to set: busy", latchkey.ProblemFailedToSet, true},
		{latchkey.ReasonRefusedByLock + "duplicate PIN code (alarm 113)", latchkey.ProblemDuplicateOnDevice, false},
		{latchkey.ReasonRefusedByLock + "code refused: all 3 slots are full", latchkey.ProblemNoSpace, false},
		{latchkey.ReasonRefusedByLock + "a user code cannot equal the programming code", latchkey.ProblemConstraintsViolated, false},
	} {
		c := newCode("Try " + string(tc.problem))
		_, err := s.PINForSync(ctx(), c.ID, l.ID)
		must(t, err)
		next := clock.t.Add(time.Minute)
		o := latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: l.ID, CodeID: c.ID, Action: latchkey.SyncPut}, Reason: tc.reason, NextAttempt: &next}
		if tc.problem == latchkey.ProblemLockUnreachable {
			o.Problem = tc.problem // as the engine says it
		}
		g, err := s.RecordSync(ctx(), o)
		must(t, err)
		if g.Status != latchkey.GrantFailed || g.Problem != tc.problem || g.Reason != tc.reason {
			t.Fatalf("%q: %s %s %q", tc.reason, g.Status, g.Problem, g.Reason)
		}
		if tc.problem.WaitsForAPerson() == tc.retried {
			t.Fatalf("%s: waits for a person %v", tc.problem, tc.problem.WaitsForAPerson())
		}
		if (g.NextAttempt != nil) != tc.retried {
			t.Fatalf("%s: next attempt %v", tc.problem, g.NextAttempt)
		}
		if task := taskFor(t, s, c.ID, l.ID); task != nil {
			t.Fatalf("%s: listed again before its next attempt: %+v", tc.problem, task)
		}
		if !tc.retried {
			if _, err := s.PINForSync(ctx(), c.ID, l.ID); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
				t.Fatalf("%s: the PIN of a code waiting for a person was given out: %v", tc.problem, err)
			}
		}
		clock.t = clock.t.Add(2 * time.Minute)
		if task := taskFor(t, s, c.ID, l.ID); (task != nil) != tc.retried {
			t.Fatalf("%s: after its next attempt is due, listed %v", tc.problem, task != nil)
		}
		g, err = s.RetrySync(ctx(), c.ID, l.ID)
		must(t, err)
		if g.Status != latchkey.GrantPending || g.Problem != "" || g.NextAttempt != nil {
			t.Fatalf("%s: retried: %+v", tc.problem, g)
		}
		_, err = s.RevokeCode(ctx(), c.ID)
		must(t, err)
		_, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: l.ID, CodeID: c.ID, Action: latchkey.SyncClear}, Done: true})
		must(t, err)
	}

	// A removal that fails keeps the code removing, with its problem; done, it is removed.
	gone := newCode("Gone")
	_, err = s.ConfirmCode(ctx(), gone.ID, l.ID)
	must(t, err)
	_, err = s.RevokeCode(ctx(), gone.ID)
	must(t, err)
	clear := latchkey.SyncTask{LockID: l.ID, CodeID: gone.ID, Action: latchkey.SyncClear}
	g, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: clear, Reason: "failed to remove: busy"})
	must(t, err)
	if g.Status != latchkey.GrantRemoving || g.Problem != latchkey.ProblemFailedToRemove {
		t.Fatalf("a failed removal: %s %s", g.Status, g.Problem)
	}
	clock.t = clock.t.Add(latchkey.SyncDelay + time.Minute)
	if g := grantOn(t, s, gone.ID, l.ID); len(g.Warnings) != 1 || g.Warnings[0] != latchkey.WarningDelayRemoving {
		t.Fatalf("a removal late by more than %s warns %v", latchkey.SyncDelay, g.Warnings)
	}
	g, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: clear, Done: true})
	must(t, err)
	if g.Status != latchkey.GrantRemoved || g.Problem != "" || g.Reason != "" {
		t.Fatalf("a removal seen through: %+v", g)
	}

	// A code on its way for longer than the delay warns.
	late := newCode("Late")
	if g := grantOn(t, s, late.ID, l.ID); len(g.Warnings) != 0 {
		t.Fatalf("a new code warns %v", g.Warnings)
	}
	clock.t = clock.t.Add(latchkey.SyncDelay + time.Minute)
	if g := grantOn(t, s, late.ID, l.ID); len(g.Warnings) != 1 || g.Warnings[0] != latchkey.WarningDelaySetting {
		t.Fatalf("a code pending for more than %s warns %v", latchkey.SyncDelay, g.Warnings)
	}
	// On a lock with no hub a person programs the keypad in their own time: no delay.
	byHand, p2 := newLock(t, s, "Shed")
	c2, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p2.ID, Label: "Shed"}, LockIDs: []int64{byHand.ID}})
	must(t, err)
	clock.t = clock.t.Add(latchkey.SyncDelay + time.Minute)
	if g := grantOn(t, s, c2.ID, byHand.ID); len(g.Warnings) != 0 {
		t.Fatalf("a code to program by hand warns %v", g.Warnings)
	}
}

// What a lock reports of its codes: a code deleted or changed at the keypad is a
// conflicting change; a code set at the keypad in a slot Latchkey does not own is listed
// for adoption, and a code not yet written moves out of its way; a revoked code used at
// the door carries the alert until it is seen gone; uses are counted on the grant; a
// reset marks every code quarantined until re-provisioned.
func testSyncDeviceReports(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := connectedLock(t, s, "Front", "front")
	set := func(label string) (*latchkey.Code, *latchkey.Grant) {
		c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: label}, LockIDs: []int64{l.ID}, Confirmed: true})
		must(t, err)
		return c, grantOn(t, s, c.ID, l.ID)
	}
	deleted, dg := set("Deleted")
	changed, cg := set("Changed")
	device(t, s, "front", latchkey.EventCodeDeleted, dg.Slot)
	if g := grantOn(t, s, deleted.ID, l.ID); g.Status != latchkey.GrantFailed || g.Problem != latchkey.ProblemRemovedAtLock ||
		len(g.Warnings) != 1 || g.Warnings[0] != latchkey.WarningChangeAtLockInEffect {
		t.Fatalf("deleted at the keypad: %+v", g)
	}
	e := device(t, s, "front", latchkey.EventCodeChanged, cg.Slot)
	g := grantOn(t, s, changed.ID, l.ID)
	if g.Status != latchkey.GrantFailed || g.Problem != latchkey.ProblemModifiedAtLock || !strings.Contains(g.Reason, "changed at the keypad") {
		t.Fatalf("changed at the keypad: %+v", g)
	}
	if e.PersonID != 0 {
		t.Fatal("a code changed at the keypad is still put down to its person")
	}
	if task := taskFor(t, s, changed.ID, l.ID); task != nil {
		t.Fatalf("the engine would write over a change made at the lock: %+v", task)
	}
	// Deleted, then a new code set in its slot: changed.
	device(t, s, "front", latchkey.EventCodeAdded, dg.Slot)
	if g := grantOn(t, s, deleted.ID, l.ID); g.Problem != latchkey.ProblemModifiedAtLock {
		t.Fatalf("deleted then set again at the keypad: %s", g.Problem)
	}
	fs, err := s.FindForeignCodes(ctx(), l.ID)
	must(t, err)
	if len(fs) != 0 {
		t.Fatalf("a slot Latchkey owns was listed for adoption: %+v", fs)
	}

	// A code set at the keypad in the third, free slot is listed; the slot is not given out.
	device(t, s, "front", latchkey.EventCodeAdded, 3)
	if fs, _ = s.FindForeignCodes(ctx(), l.ID); len(fs) != 1 || fs[0].Slot != 3 || fs[0].Source != latchkey.SourceKeypad {
		t.Fatalf("foreign codes: %+v", fs)
	}
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "No room"}, LockIDs: []int64{l.ID}})
	wantCode(t, err, latchkey.ECONFLICT)
	_, err = s.AdoptForeignCode(ctx(), latchkey.Adoption{LockID: l.ID, Slot: 3, PersonID: p.ID, Label: "Keypad"})
	wantCode(t, err, latchkey.EINVALID) // no reader for the twins' driver here, and no PIN given
	_, err = s.AdoptForeignCode(ctx(), latchkey.Adoption{LockID: l.ID, Slot: 3, PersonID: p.ID, Label: "Keypad", PIN: "12"})
	wantCode(t, err, latchkey.EINVALID) // not a PIN the lock could hold
	adopted, err := s.AdoptForeignCode(ctx(), latchkey.Adoption{LockID: l.ID, Slot: 3, PersonID: p.ID, Label: "Keypad", PIN: "246810"})
	must(t, err)
	if g := grantOn(t, s, adopted.ID, l.ID); g.Slot != 3 || g.Status != latchkey.GrantUnconfirmed {
		t.Fatalf("adopted with a PIN given: %+v", g)
	}
	if fs, _ = s.FindForeignCodes(ctx(), l.ID); len(fs) != 0 {
		t.Fatalf("still listed after adoption: %+v", fs)
	}
	_, err = s.AdoptForeignCode(ctx(), latchkey.Adoption{LockID: l.ID, Slot: 3, PersonID: p.ID, Label: "Again", PIN: "246810"})
	wantCode(t, err, latchkey.ENOTFOUND)

	// A code set at the keypad in the slot of a code not yet written: the code moves.
	other, p2 := connectedLock(t, s, "Back", "back")
	waiting, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p2.ID, Label: "Waiting"}, LockIDs: []int64{other.ID}})
	must(t, err)
	before := grantOn(t, s, waiting.ID, other.ID)
	device(t, s, "back", latchkey.EventCodeAdded, before.Slot)
	if after := grantOn(t, s, waiting.ID, other.ID); after.Slot == before.Slot || after.Status != latchkey.GrantPending {
		t.Fatalf("a pending code in a slot taken at the keypad: %+v", after)
	}
	// Set at the keypad in a third slot, then deleted there: no longer listed.
	device(t, s, "back", latchkey.EventCodeAdded, 3)
	device(t, s, "back", latchkey.EventCodeDeleted, 3)
	if fs, _ = s.FindForeignCodes(ctx(), other.ID); len(fs) != 1 || fs[0].Slot != before.Slot {
		t.Fatalf("after a keypad delete: %+v", fs)
	}
	_, err = s.ClearForeignSlot(ctx(), other.ID, before.Slot)
	must(t, err)
	tasks, err := s.SyncTasks(ctx())
	must(t, err)
	found := false
	for _, task := range tasks {
		found = found || task.LockID == other.ID && task.CodeID == 0 && task.Slot == before.Slot && task.Action == latchkey.SyncClear
	}
	if !found {
		t.Fatalf("no task to clear the slot: %+v", tasks)
	}
	_, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: other.ID, Slot: before.Slot, Action: latchkey.SyncClear}, Done: true})
	must(t, err)
	if fs, _ = s.FindForeignCodes(ctx(), other.ID); len(fs) != 0 {
		t.Fatalf("still listed after the slot was cleared: %+v", fs)
	}

	// A revoked code used at the door: the alert, on its own field, until seen gone.
	_, err = s.RevokeCode(ctx(), adopted.ID)
	must(t, err)
	ag := grantOn(t, s, adopted.ID, l.ID)
	device(t, s, "front", latchkey.EventUnlocked, ag.Slot)
	ag = grantOn(t, s, adopted.ID, l.ID)
	if ag.Status != latchkey.GrantRemoving || !strings.Contains(ag.Alert, "after it was revoked") {
		t.Fatalf("a revoked code used: %+v", ag)
	}
	_, err = s.ConfirmCode(ctx(), adopted.ID, l.ID)
	wantCode(t, err, latchkey.EUNSAFE)
	ag, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: l.ID, CodeID: adopted.ID, Action: latchkey.SyncClear}, Done: true})
	must(t, err)
	if ag.Status != latchkey.GrantRemoved || ag.Alert != "" {
		t.Fatalf("seen gone, the alert stays: %+v", ag)
	}

	// Uses are counted on the grant.
	limited, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p2.ID, Label: "Twice", UseLimit: 2}, LockIDs: []int64{other.ID}, Confirmed: true})
	must(t, err)
	lg := grantOn(t, s, limited.ID, other.ID)
	device(t, s, "back", latchkey.EventUnlocked, lg.Slot)
	if lg = grantOn(t, s, limited.ID, other.ID); lg.Uses != 1 || lg.Status != latchkey.GrantSet {
		t.Fatalf("after one use: %+v", lg)
	}
	device(t, s, "back", latchkey.EventUnlocked, lg.Slot)
	if lg = grantOn(t, s, limited.ID, other.ID); lg.Uses != 2 || lg.Status != latchkey.GrantRemoving {
		t.Fatalf("used up: %+v", lg)
	}

	// A reset: every code on the lock is quarantined, until re-provisioned.
	device(t, s, "back", latchkey.EventResetLocally, 0)
	if g := grantOn(t, s, waiting.ID, other.ID); g.Problem != latchkey.ProblemLockQuarantined {
		t.Fatalf("after a reset: %+v", g)
	}
	_, err = s.Reprovision(ctx(), other.ID)
	must(t, err)
	if g := grantOn(t, s, waiting.ID, other.ID); g.Problem != "" || g.Status != latchkey.GrantPending {
		t.Fatalf("after re-provisioning: %+v", g)
	}
}

// Filters by a list of locks (what the sync engine reads a batch by): only the locks
// listed, an empty list finds nothing, and a list too long is refused.
func testListFilters(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	a, p := newLock(t, s, "A")
	b, _ := newLock(t, s, "B")
	c, _ := newLock(t, s, "C")
	code, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, LockIDs: []int64{a.ID, b.ID, c.ID}})
	must(t, err)
	other, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Bo"}, LockIDs: []int64{a.ID}})
	must(t, err)
	seen := time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC)
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		for _, f := range []*latchkey.ForeignCode{{LockID: a.ID, Slot: 20, SeenAt: seen}, {LockID: c.ID, Slot: 21, SeenAt: seen}} {
			if err := tx.CreateForeignCode(ctx(), f); err != nil {
				return err
			}
		}
		return nil
	}))
	lockIDs := func(ids ...int64) []int64 { return ids }
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		gs, err := tx.FindGrants(ctx(), latchkey.GrantFilter{LockIDs: lockIDs(a.ID, c.ID)})
		if err != nil {
			return err
		}
		if len(gs) != 3 {
			t.Errorf("grants on A and C: %d, want 3 (two codes on A, one on C)", len(gs))
		}
		gs, err = tx.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &code.ID, LockIDs: lockIDs(a.ID, b.ID)})
		if err != nil {
			return err
		}
		if len(gs) != 2 || gs[0].LockID != a.ID || gs[1].LockID != b.ID {
			t.Errorf("the code's grants on A and B: %+v", gs)
		}
		if gs, err = tx.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &other.ID, LockIDs: []int64{}}); err != nil || len(gs) != 0 {
			t.Errorf("an empty list of locks found %d grants (%v), want none", len(gs), err)
		}
		locks, total, err := tx.FindLocks(ctx(), latchkey.LockFilter{IDs: lockIDs(c.ID, a.ID)}, latchkey.Page{})
		if err != nil {
			return err
		}
		if total != 2 || len(locks) != 2 || locks[0].ID != a.ID || locks[1].ID != c.ID {
			t.Errorf("locks A and C: %d of %d", len(locks), total)
		}
		if locks, total, err := tx.FindLocks(ctx(), latchkey.LockFilter{IDs: []int64{}}, latchkey.Page{}); err != nil || total != 0 || len(locks) != 0 {
			t.Errorf("an empty list of locks found %d of %d (%v), want none", len(locks), total, err)
		}
		fs, err := tx.FindForeignCodesOn(ctx(), lockIDs(b.ID, c.ID))
		if err != nil {
			return err
		}
		if len(fs) != 1 || fs[0].LockID != c.ID || fs[0].Slot != 21 {
			t.Errorf("foreign codes on B and C: %+v", fs)
		}
		if fs, err := tx.FindForeignCodesOn(ctx(), nil); err != nil || len(fs) != 0 {
			t.Errorf("foreign codes on no lock: %d (%v), want none", len(fs), err)
		}
		long := make([]int64, latchkey.MaxListIDs+1)
		_, err = tx.FindGrants(ctx(), latchkey.GrantFilter{LockIDs: long})
		wantCode(t, err, latchkey.EINVALID)
		_, _, err = tx.FindLocks(ctx(), latchkey.LockFilter{IDs: long}, latchkey.Page{})
		wantCode(t, err, latchkey.EINVALID)
		_, err = tx.FindForeignCodesOn(ctx(), long)
		wantCode(t, err, latchkey.EINVALID)
		return nil
	}))
}

// A Zigbee IEEE address is kept in lower case, as Zigbee2MQTT names the lock in its
// events (typed in capitals, no event of the lock would find it); a friendly name and
// another driver's address are kept as typed.
func testZigbeeAddressSpelling(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, _ := newLock(t, s, "Back")
	for _, tt := range []struct{ in, want latchkey.Connection }{
		{latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000D6F00000000BB"}, latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000d6f00000000bb"}},
		{latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0X000D6F00000000BC"}, latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000d6f00000000bc"}},
		{latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "Back Door"}, latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "Back Door"}},
		{latchkey.Connection{Driver: latchkey.DriverSim, Address: "0x000D6F00000000BB"}, latchkey.Connection{Driver: latchkey.DriverSim, Address: "0x000D6F00000000BB"}},
	} {
		conn := tt.in
		got, err := s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &conn})
		must(t, err)
		if got.Connection != tt.want {
			t.Errorf("connection %+v recorded as %+v, want %+v", tt.in, got.Connection, tt.want)
		}
		if read, err := s.FindLockByID(ctx(), l.ID); err != nil || read.Connection != tt.want {
			t.Errorf("connection %+v read back as %+v (%v), want %+v", tt.in, read.Connection, err, tt.want)
		}
	}
	door := l.DoorID
	made := &latchkey.Lock{DoorID: door, Name: "Side", ModelID: "914", Connection: latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000D6F00000000CC"}}
	must(t, s.CreateLock(ctx(), made))
	if made.Connection.Address != "0x000d6f00000000cc" {
		t.Errorf("a lock created with its IEEE address in capitals: %q", made.Connection.Address)
	}
}
