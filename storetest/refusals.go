package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// wantSays fails unless err has the code and its message says each of says.
func wantSays(t *testing.T, err error, code string, says ...string) {
	t.Helper()
	wantCode(t, err, code)
	for _, s := range says {
		if !strings.Contains(latchkey.ErrorMessage(err), s) {
			t.Errorf("%q does not say %q", latchkey.ErrorMessage(err), s)
		}
	}
}

// status reads a lock's status.
func status(t *testing.T, s *latchkey.Service, id int64) latchkey.LockStatus {
	t.Helper()
	l, err := s.FindLockByID(ctx(), id)
	must(t, err)
	return l.Status
}

// keyedLock makes a lock keyed to a new key of its site, whose one copy p holds.
func keyedLock(t *testing.T, s *latchkey.Service, name, bitting string) (*latchkey.Lock, *latchkey.Person, *latchkey.Key) {
	t.Helper()
	l, p := newLock(t, s, name)
	door, err := s.FindDoorByID(ctx(), l.DoorID)
	must(t, err)
	k := &latchkey.Key{SiteID: door.SiteID, Label: name + " key", Bitting: bitting, Copies: []latchkey.KeyCopy{{HolderID: p.ID}}}
	must(t, s.CreateKey(ctx(), k))
	_, err = s.SetLockKey(ctx(), l.ID, k.ID)
	must(t, err)
	return l, p, k
}

// Invariant 2: a lost copy stays lost. Marking it held again would clear nothing in
// truth (whoever found it may have copied it) and would let a "rekey" to the same key
// clear the exposure; one that came back is recorded as a new copy. A copy recorded lost
// from the start, or a key with a lost copy named as a lock's key, exposes the lock too.
func testLostCopyStaysLost(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p, k := keyedLock(t, s, "Front", "35242")
	lost := k.Copies[0].ID
	_, err := s.SetKeyCopyState(ctx(), k.ID, lost, latchkey.CopyLost)
	must(t, err)
	if st := status(t, s, l.ID); st != latchkey.LockExposed {
		t.Fatalf("after a copy of its key was lost: %s", st)
	}
	for _, to := range []latchkey.CopyState{latchkey.CopyHeld, latchkey.CopyReturned, latchkey.CopyToReturn} {
		_, err = s.SetKeyCopyState(ctx(), k.ID, lost, to)
		wantSays(t, err, latchkey.EUNSAFE, "A lost copy stays lost", "whoever found it may have copied it", "record it as a new copy")
	}
	got, err := s.FindKeyByID(ctx(), k.ID)
	must(t, err)
	if got.Copies[0].State != latchkey.CopyLost || status(t, s, l.ID) != latchkey.LockExposed {
		t.Fatalf("refused changes changed the copy (%s) or the lock (%s)", got.Copies[0].State, status(t, s, l.ID))
	}
	// So the rekey to the same key is refused, whatever else is recorded.
	_, err = s.AddKeyCopy(ctx(), k.ID, latchkey.KeyCopy{HolderID: p.ID})
	must(t, err)
	_, err = s.RecordRekey(ctx(), latchkey.Rekey{LockID: l.ID, KeyID: k.ID, Tests: 3, BothSides: true, DoorOpen: true})
	wantCode(t, err, latchkey.EUNSAFE)
	if st := status(t, s, l.ID); st != latchkey.LockExposed {
		t.Fatalf("after a refused rekey: %s", st)
	}

	// A copy recorded as lost when it is added exposes the locks the key opens.
	l2, p2, k2 := keyedLock(t, s, "Back", "46353")
	_, err = s.AddKeyCopy(ctx(), k2.ID, latchkey.KeyCopy{HolderID: p2.ID, State: latchkey.CopyLost})
	must(t, err)
	if st := status(t, s, l2.ID); st != latchkey.LockExposed {
		t.Fatalf("after a copy was added as lost: %s", st)
	}
	// A lock named as taking a key with a lost copy is exposed from the start.
	l3, _ := newLock(t, s, "Side")
	door3, err := s.FindDoorByID(ctx(), l3.DoorID)
	must(t, err)
	k3 := &latchkey.Key{SiteID: door3.SiteID, Label: "Side key", Bitting: "52416",
		Copies: []latchkey.KeyCopy{{HolderID: p.ID}, {Location: "under the mat", State: latchkey.CopyLost}}}
	must(t, s.CreateKey(ctx(), k3))
	got3, err := s.SetLockKey(ctx(), l3.ID, k3.ID)
	must(t, err)
	if got3.Status != latchkey.LockExposed || status(t, s, l3.ID) != latchkey.LockExposed {
		t.Fatalf("a lock keyed to a key with a lost copy: %s", got3.Status)
	}
}

// Invariant 2: only a rekey to a new key clears an exposure. The record of which key an
// exposed lock takes cannot be changed (the exposure's cause would drift), and a "rekey"
// to the key it already takes is refused even when the records no longer show a lost
// copy of it (a record from before a lost copy stayed lost). What the lock needs says to
// rekey it to a new key, where to record that, and that its battery is low too.
func testExposedNeedsNewKey(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p, k := keyedLock(t, s, "Front", "35242")
	door, err := s.FindDoorByID(ctx(), l.DoorID)
	must(t, err)
	fresh := &latchkey.Key{SiteID: door.SiteID, Label: "New key", Bitting: "46353", Copies: []latchkey.KeyCopy{{HolderID: p.ID}}}
	must(t, s.CreateKey(ctx(), fresh))
	_, err = s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyLost)
	must(t, err)

	// Correcting which key it takes is refused while it is exposed, to any key or none.
	for _, keyID := range []int64{fresh.ID, k.ID, 0} {
		_, err = s.SetLockKey(ctx(), l.ID, keyID)
		wantSays(t, err, latchkey.EUNSAFE, "is exposed", "latchkey lock rekey")
	}
	if got, _ := s.FindLockByID(ctx(), l.ID); got.KeyID != k.ID || got.Status != latchkey.LockExposed {
		t.Fatalf("refused key changes changed the lock: key %d, %s", got.KeyID, got.Status)
	}

	// A record written before the rule: the lost copy was marked held again.
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		old, err := tx.FindKeyByID(ctx(), k.ID)
		if err != nil {
			return err
		}
		old.Copies[0].State = latchkey.CopyHeld
		return tx.UpdateKey(ctx(), old)
	}))
	_, err = s.RecordRekey(ctx(), latchkey.Rekey{LockID: l.ID, KeyID: k.ID, Tests: 3, BothSides: true, DoorOpen: true})
	wantSays(t, err, latchkey.EUNSAFE, "rekeying to the key it already takes changes nothing", "the lost key still opens it", "rekey it to a new key")
	if st := status(t, s, l.ID); st != latchkey.LockExposed {
		t.Fatalf("a rekey to the same key cleared the exposure: %s", st)
	}

	// What it needs says so, and a low battery does not vanish behind the exposure.
	conn := latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventLowBattery, BatteryMV: 4600})
	must(t, err)
	got, err := s.FindLockByID(ctx(), l.ID)
	must(t, err)
	if a := got.Attention; a.Label != "exposed: rekey" || !strings.Contains(a.Why, "rekey it to a new key") ||
		!strings.Contains(a.Why, "Record a rekey") || !strings.Contains(a.Why, "its battery is also low") {
		t.Fatalf("an exposed lock with a low battery needs %+v", a)
	}

	// The rekey to a new key clears it.
	rekeyed, err := s.RecordRekey(ctx(), latchkey.Rekey{LockID: l.ID, KeyID: fresh.ID, Tests: 3, BothSides: true, DoorOpen: true})
	must(t, err)
	if rekeyed.Status != latchkey.LockOK || rekeyed.KeyID != fresh.ID {
		t.Fatalf("after the rekey to a new key: %+v", rekeyed)
	}
	_, err = s.RecordRekey(ctx(), latchkey.Rekey{LockID: l.ID, KeyID: fresh.ID, Tests: 3, BothSides: true, DoorOpen: true})
	wantSays(t, err, latchkey.ECONFLICT, "already takes key")
}

// A model with no keypad takes no codes: a lock's model cannot become one while codes
// are on it (they would count as ways in that are not there), a code cannot be
// confirmed set on such a lock, and what such a lock needs does not offer a code.
func testNoKeypadModel(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	smartkey := "smartkey"
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{ModelID: &smartkey})
	wantSays(t, err, latchkey.EUNSAFE, "1 code on it", "no keypad", "revoke them and confirm each removed")
	// A pending code counts too, and so does one whose removal is not confirmed.
	pending, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guest"}, LockIDs: []int64{l.ID}})
	must(t, err)
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{ModelID: &smartkey})
	wantSays(t, err, latchkey.EUNSAFE, "2 codes on it")
	if got, _ := s.FindLockByID(ctx(), l.ID); got.ModelID != "916" {
		t.Fatalf("a refused model change left the model %q", got.ModelID)
	}
	// A key held by someone lets the codes go (make before break).
	door, err := s.FindDoorByID(ctx(), l.DoorID)
	must(t, err)
	k := &latchkey.Key{SiteID: door.SiteID, Label: "Front key", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: p.ID}}}
	must(t, s.CreateKey(ctx(), k))
	_, err = s.SetLockKey(ctx(), l.ID, k.ID)
	must(t, err)
	for _, id := range []int64{c.ID, pending.ID} {
		_, err = s.RevokeCode(ctx(), id)
		must(t, err)
	}
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{ModelID: &smartkey})
	wantSays(t, err, latchkey.EUNSAFE, "2 codes on it")
	for _, id := range []int64{c.ID, pending.ID} {
		_, err = s.ConfirmCode(ctx(), id, l.ID)
		must(t, err)
	}
	got, err := s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{ModelID: &smartkey})
	must(t, err)
	if got.ModelID != "smartkey" {
		t.Fatalf("after the codes were removed: model %q", got.ModelID)
	}
	// An unchanged model is not checked again: the record's other fields still change.
	name := "Front knob"
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Name: &name, ModelID: &smartkey})
	must(t, err)

	// Records from before the rule: a code pending on a lock whose model has no keypad
	// cannot be confirmed set; its removal still can be.
	l2, p2 := newLock(t, s, "Back")
	c2, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p2.ID, Label: "Bo"}, LockIDs: []int64{l2.ID}})
	must(t, err)
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		old, err := tx.FindLockByID(ctx(), l2.ID)
		if err != nil {
			return err
		}
		old.ModelID = "smartkey"
		return tx.UpdateLock(ctx(), old)
	}))
	_, err = s.ConfirmCode(ctx(), c2.ID, l2.ID)
	wantSays(t, err, latchkey.EUNSAFE, "takes no codes", "Revoke the code")
	if g, _ := s.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &c2.ID}); g[0].Status != latchkey.GrantPending {
		t.Fatalf("a refused confirmation left the grant %s", g[0].Status)
	}
	_, err = s.RevokeCode(ctx(), c2.ID)
	must(t, err)
	g, err := s.ConfirmCode(ctx(), c2.ID, l2.ID)
	must(t, err)
	if g.Status != latchkey.GrantRemoved {
		t.Fatalf("the confirmed removal: %s", g.Status)
	}

	// A lock with no keypad and no key needs its key recorded, not a code.
	knob := &latchkey.Lock{DoorID: l2.DoorID, Name: "Knob", ModelID: "smartkey"}
	must(t, s.CreateLock(ctx(), knob))
	needs, err := s.FindLockByID(ctx(), knob.ID)
	must(t, err)
	if a := needs.Attention; a.Label != "no way in" || !strings.Contains(a.Why, "record its key") || strings.Contains(a.Why, "add a code") {
		t.Fatalf("a keyless lock with no keypad needs %+v", a)
	}
}

// A code whose window has already ended is refused, by the service's clock: it would
// only ever wait to be programmed at the lock.
func testEndedWindow(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	now := s.Clock.Now()
	add := func(start, end time.Time) error {
		_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guest",
			Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}, LockIDs: []int64{l.ID}})
		return err
	}
	// Said at the lock's site, where windows are given (newLock's site is in UTC).
	wantSays(t, add(now.Add(-48*time.Hour), now.Add(-time.Hour)), latchkey.EINVALID,
		"The window ended on "+now.Add(-time.Hour).UTC().Format("2006-01-02 15:04")+" (UTC)", "give dates in the future")
	wantCode(t, add(now.Add(-48*time.Hour), now.Truncate(time.Microsecond)), latchkey.EINVALID)
	if _, total, _ := s.FindCodes(ctx(), latchkey.CodeFilter{}, latchkey.Page{}); total != 0 {
		t.Fatalf("%d codes after refused windows", total)
	}
	// One that has begun but not ended is fine: it opens the door until it ends.
	must(t, add(now.Add(-time.Hour), now.Add(time.Hour)))
}

// A person who ever held a code or a key copy stays on record (codes and copies are kept
// as history, and name their person); the refusal says so, with the counts and what to
// do instead, rather than pointing at records that can never go.
func testPersonKept(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, owner := newLock(t, s, "Front")
	_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: owner.ID, Label: "Owner"}, LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	ana := &latchkey.Person{Name: "Ana", Role: latchkey.RoleTenant}
	must(t, s.CreatePerson(ctx(), ana))
	for _, label := range []string{"Ana front", "Ana spare"} {
		c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: ana.ID, Label: label}, LockIDs: []int64{l.ID}, Confirmed: true})
		must(t, err)
		_, err = s.RevokeCode(ctx(), c.ID)
		must(t, err)
		_, err = s.ConfirmCode(ctx(), c.ID, l.ID)
		must(t, err)
	}
	// Everything of hers revoked and confirmed removed: still on record, and told why.
	err = s.DeletePerson(ctx(), ana.ID)
	wantSays(t, err, latchkey.ECONFLICT, "Ana has 2 codes in the records", "revoked ones too", "stays on record", "latchkey person revoke")
	if strings.Contains(latchkey.ErrorMessage(err), "key cop") || strings.Contains(latchkey.ErrorMessage(err), "Other records") {
		t.Errorf("the refusal names what she does not hold: %s", latchkey.ErrorMessage(err))
	}
	if _, err := s.FindPersonByID(ctx(), ana.ID); err != nil {
		t.Fatalf("a refused removal removed her: %v", err)
	}
	// A key copy alone keeps someone on record too.
	bo := &latchkey.Person{Name: "Bo", Role: latchkey.RoleFamily}
	must(t, s.CreatePerson(ctx(), bo))
	door, err := s.FindDoorByID(ctx(), l.DoorID)
	must(t, err)
	must(t, s.CreateKey(ctx(), &latchkey.Key{SiteID: door.SiteID, Label: "House key", Bitting: "35242",
		Copies: []latchkey.KeyCopy{{HolderID: bo.ID}, {HolderID: bo.ID}}}))
	wantSays(t, s.DeletePerson(ctx(), bo.ID), latchkey.ECONFLICT, "Bo has 2 key copies", "key copy set")
	// Someone who never held either goes.
	cy := &latchkey.Person{Name: "Cy", Role: latchkey.RoleGuest}
	must(t, s.CreatePerson(ctx(), cy))
	must(t, s.DeletePerson(ctx(), cy.ID))
}

// One device connection reaches one lock: a device's events go to the lock found on its
// connection, so a second lock on the same driver and address is refused, naming the
// first; once that one is disconnected the connection is free.
func testOneLockPerConnection(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	front, _ := newLock(t, s, "Front")
	conn := latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: "7"}
	_, err := s.UpdateLock(ctx(), front.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	// Setting its own connection again is no conflict.
	_, err = s.UpdateLock(ctx(), front.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	err = s.CreateLock(ctx(), &latchkey.Lock{DoorID: front.DoorID, Name: "Second", ModelID: "916", Connection: conn})
	wantSays(t, err, latchkey.ECONFLICT, "Front", "zwavejs at address 7", "--disconnect")
	back, _ := newLock(t, s, "Back")
	_, err = s.UpdateLock(ctx(), back.ID, latchkey.LockUpdate{Connection: &conn})
	wantSays(t, err, latchkey.ECONFLICT, "Front", "zwavejs at address 7")
	if got, _ := s.FindLockByID(ctx(), back.ID); got.Connection != (latchkey.Connection{}) {
		t.Fatalf("a refused connection was kept: %+v", got.Connection)
	}
	// Another address, or the same address on another driver, is another connection.
	other := latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "7"}
	_, err = s.UpdateLock(ctx(), back.ID, latchkey.LockUpdate{Connection: &other})
	must(t, err)
	// Disconnected, the first lock frees its connection.
	_, err = s.UpdateLock(ctx(), front.ID, latchkey.LockUpdate{Connection: &latchkey.Connection{}})
	must(t, err)
	_, err = s.UpdateLock(ctx(), back.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	// A device's event now goes to the one lock on it.
	_, err = s.RecordDeviceEvent(ctx(), latchkey.DeviceEvent{Driver: latchkey.DriverZWaveJS, Address: "7", Kind: latchkey.EventLocked})
	must(t, err)
	if got, _ := s.FindLockByID(ctx(), back.ID); got.State.Bolt != "locked" {
		t.Fatalf("the event did not reach the lock on its connection: %+v", got.State)
	}
}

// A receipt is kept under a file's name: no name, ".", ".." or a bare separator is none.
func testReceiptNames(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, _ := newLock(t, s, "Front")
	for _, name := range []string{"", "   ", ".", "..", "/", "/home/ana/..", "  ..  "} {
		_, err := s.AddReceipt(ctx(), l.ID, name, []byte("%PDF-1.4"))
		wantSays(t, err, latchkey.EINVALID, "Name the file")
	}
	if rs, _ := s.FindReceipts(ctx(), l.ID, false); len(rs) != 0 {
		t.Fatalf("%d receipts kept after refused names", len(rs))
	}
	r, err := s.AddReceipt(ctx(), l.ID, "scans/..receipt.pdf", []byte("%PDF-1.4"))
	must(t, err)
	if r.Name != "..receipt.pdf" {
		t.Fatalf("kept as %q", r.Name)
	}
}

// Listing locks by a status that is not one is refused with the list of statuses, rather
// than answered with no locks.
func testLockStatusFilter(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	newLock(t, s, "Front")
	bogus := latchkey.LockStatus("bogus")
	_, _, err := s.FindLocks(ctx(), latchkey.LockFilter{Status: &bogus}, latchkey.Page{})
	wantSays(t, err, latchkey.EINVALID, `"bogus"`, "ok, exposed, needs_locksmith")
	ok := latchkey.LockOK
	locks, total, err := s.FindLocks(ctx(), latchkey.LockFilter{Status: &ok}, latchkey.Page{})
	must(t, err)
	if total != 1 || len(locks) != 1 {
		t.Fatalf("locks that are ok: %d", total)
	}
}
