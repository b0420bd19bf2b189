package storetest

import (
	"time"

	"fmt"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// A lock keeps at most MaxReceiptsPerLock files, and one is read without the others; a
// key at most MaxKeyCopies copies.
func testRecordLimits(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	var ids []int64
	for i := range latchkey.MaxReceiptsPerLock {
		r, err := s.AddReceipt(ctx(), l.ID, fmt.Sprintf("r%d.pdf", i), []byte(fmt.Sprintf("%%PDF-1.4 %d", i)))
		must(t, err)
		ids = append(ids, r.ID)
	}
	_, err := s.AddReceipt(ctx(), l.ID, "one-too-many.pdf", []byte("%PDF-1.4"))
	wantCode(t, err, latchkey.ECONFLICT)
	r, err := s.FindReceipt(ctx(), l.ID, ids[3])
	must(t, err)
	if string(r.Data) != "%PDF-1.4 3" || r.Name != "r3.pdf" {
		t.Fatalf("receipt %q %q", r.Name, r.Data)
	}
	other, _ := newLock(t, s, "Back")
	_, err = s.FindReceipt(ctx(), other.ID, ids[3]) // not that lock's
	wantCode(t, err, latchkey.ENOTFOUND)

	site, _, _ := s.FindSites(ctx(), latchkey.Page{})
	k := &latchkey.Key{SiteID: site[0].ID, Label: "House key", Bitting: "35242"}
	for range latchkey.MaxKeyCopies + 1 {
		k.Copies = append(k.Copies, latchkey.KeyCopy{HolderID: p.ID})
	}
	wantCode(t, s.CreateKey(ctx(), k), latchkey.EINVALID)
	k.Copies = k.Copies[:latchkey.MaxKeyCopies]
	must(t, s.CreateKey(ctx(), k))
	_, err = s.AddKeyCopy(ctx(), k.ID, latchkey.KeyCopy{HolderID: p.ID})
	wantCode(t, err, latchkey.EINVALID)
}

// An id is never given twice, even after the record that had it was removed: the audit
// log's entries about the old record must not seem to be about a new one.
func testIDsNeverReused(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	first := &latchkey.Person{Name: "First", Role: latchkey.RoleGuest}
	must(t, s.CreatePerson(ctx(), first))
	must(t, s.DeletePerson(ctx(), first.ID))
	next := &latchkey.Person{Name: "Next", Role: latchkey.RoleGuest}
	must(t, s.CreatePerson(ctx(), next))
	if next.ID <= first.ID {
		t.Fatalf("a new person got id %d, after %d was removed; want a new id", next.ID, first.ID)
	}
}

// A code goes only on a lock that can and may take one now: not on one with no keypad,
// not on one with a low battery (power first), not on a quarantined one (invariants 5,
// 6); the refusals say what to do.
func testProgrammable(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	try := func(lockID int64) error {
		_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, LockIDs: []int64{lockID}})
		return err
	}
	must(t, try(l.ID))
	knob := &latchkey.Lock{DoorID: l.DoorID, Name: "Knob", ModelID: "smartkey"}
	must(t, s.CreateLock(ctx(), knob))
	wantCode(t, try(knob.ID), latchkey.EINVALID)

	_, err := s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}})
	must(t, err)
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventLowBattery, BatteryMV: 4700})
	must(t, err)
	err = try(l.ID)
	wantCode(t, err, latchkey.EUNSAFE)
	if !strings.Contains(latchkey.ErrorMessage(err), "replace its batteries") {
		t.Fatalf("the low-battery refusal: %v", err)
	}
	// What the lock needs says so wherever it is read (the dashboard, lock ls, the API).
	if got, _ := s.FindLockByID(ctx(), l.ID); got.Attention.Label != "battery low" {
		t.Fatalf("a low-battery lock reads as needing %+v", got.Attention)
	}
	if locks, _, _ := s.FindLocks(ctx(), latchkey.LockFilter{}, latchkey.Page{}); locks[0].Attention.Label != "battery low" {
		t.Fatalf("a low-battery lock is listed as needing %+v", locks[0].Attention)
	}
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventLocked, BatteryMV: 6100})
	must(t, err)
	must(t, try(l.ID)) // fresh batteries
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventResetLocally})
	must(t, err)
	wantCode(t, try(l.ID), latchkey.EUNSAFE)
}

// What a lock needs is one rule, and every way of reading a lock derives it from the same
// facts: the lock alone, the list (lock ls, the API), its record (its page) and the export
// (the dashboard). A code with a window is no way in; a pending code is a change waiting.
func testAttentionEverywhere(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	front, p := newLock(t, s, "Front")
	back, _ := newLock(t, s, "Back")
	side, _ := newLock(t, s, "Side")
	start, end := time.Now().Add(time.Hour), time.Now().Add(48*time.Hour)
	_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guest",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}, LockIDs: []int64{front.ID}, Confirmed: true})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, LockIDs: []int64{back.ID}})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Bo"}, LockIDs: []int64{side.ID}, Confirmed: true})
	must(t, err)
	// A code whose window opens in a week is no change to make yet.
	later, laterEnd := time.Now().Add(7*24*time.Hour), time.Now().Add(8*24*time.Hour)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Next week",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &later, End: &laterEnd}}, LockIDs: []int64{side.ID}})
	must(t, err)
	want := map[int64]string{front.ID: "no way in", back.ID: "changes pending", side.ID: "ok"}

	listed, _, err := s.FindLocks(ctx(), latchkey.LockFilter{}, latchkey.Page{})
	must(t, err)
	exported, err := s.Export(ctx())
	must(t, err)
	for _, read := range []struct {
		how   string
		locks []*latchkey.Lock
	}{{"listed", listed}, {"exported", exported.Locks}} {
		if len(read.locks) != 3 {
			t.Fatalf("%s: %d locks", read.how, len(read.locks))
		}
		for _, l := range read.locks {
			if l.Attention.Label != want[l.ID] {
				t.Errorf("%s, lock %s needs %+v, want %q", read.how, l.Name, l.Attention, want[l.ID])
			}
		}
	}
	for id, label := range want {
		one, err := s.FindLockByID(ctx(), id)
		must(t, err)
		// A change waiting is one to make at the lock and then confirm: nothing confirms it by itself.
		if id == back.ID && (!strings.Contains(one.Attention.Why, "1 code change to make at the lock") || !strings.Contains(one.Attention.Why, "confirm it on the lock's page")) {
			t.Errorf("a lock with a code to program needs %+v", one.Attention)
		}
		rec, err := s.FindLockRecord(ctx(), id)
		must(t, err)
		if one.Attention.Label != label || rec.Lock.Attention.Label != label {
			t.Errorf("lock %d needs %q read alone and %q in its record, want %q", id, one.Attention.Label, rec.Lock.Attention.Label, label)
		}
	}
}

// A lock's entries in the audit log take in what happened to its codes and its key, and
// a person's what happened to their codes and key copies; the sentences say which lock
// confirmed a code and what became of a copy.
func testAuditRelated(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	front, ana := newLock(t, s, "Front")
	back, _ := newLock(t, s, "Back")
	bo := &latchkey.Person{Name: "Bo", Role: latchkey.RoleGuest}
	must(t, s.CreatePerson(ctx(), bo))
	onFront, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: ana.ID, Label: "Ana front"}, LockIDs: []int64{front.ID}})
	must(t, err)
	_, err = s.ConfirmCode(ctx(), onFront.ID, front.ID)
	must(t, err)
	onBack, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: bo.ID, Label: "Bo back"}, LockIDs: []int64{back.ID}, Confirmed: true})
	must(t, err)
	k := &latchkey.Key{SiteID: 1, Label: "Front key", Keyway: "KW1", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: bo.ID, State: latchkey.CopyHeld}}}
	must(t, s.CreateKey(ctx(), k))
	_, err = s.SetLockKey(ctx(), front.ID, k.ID)
	must(t, err)
	_, err = s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyLost)
	must(t, err)

	sentences := func(f latchkey.AuditFilter) string {
		t.Helper()
		entries, _, err := s.FindAuditEntries(ctx(), f, latchkey.Page{Limit: 100})
		must(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Sentence())
		}
		return strings.Join(out, "\n")
	}
	lock := sentences(latchkey.AuditFilter{Entity: "lock", EntityID: front.ID})
	for _, want := range []string{"added lock 1 (Front)", "added code 1 (Ana front)", "recorded that lock 1 confirmed code 1 is on it",
		"recorded key 1 (Front key)", "recorded copy 1 of key 1 as lost"} {
		if !strings.Contains(lock, want) {
			t.Errorf("the front lock's entries lack %q:\n%s", want, lock)
		}
	}
	if strings.Contains(lock, "Bo back") || strings.Contains(lock, "lock 2") {
		t.Errorf("the front lock's entries hold the back lock's:\n%s", lock)
	}
	person := sentences(latchkey.AuditFilter{Entity: "person", EntityID: bo.ID})
	for _, want := range []string{"added person 3 (Bo)", "added code 2 (Bo back)", "recorded copy 1 of key 1 as lost"} {
		if !strings.Contains(person, want) {
			t.Errorf("Bo's entries lack %q:\n%s", want, person)
		}
	}
	if strings.Contains(person, "Ana front") {
		t.Errorf("Bo's entries hold Ana's code:\n%s", person)
	}
	_ = onBack
}
