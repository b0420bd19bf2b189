package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testKeys(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	site, _ := seed(t, s)
	ana := &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}
	must(t, s.CreatePerson(ctx(), ana))
	k := &latchkey.Key{SiteID: site.ID, Label: "House key", Bitting: "35242",
		Copies: []latchkey.KeyCopy{{HolderID: ana.ID}, {Location: "kitchen drawer"}}}
	must(t, s.CreateKey(ctx(), k))
	got, err := s.FindKeyByID(ctx(), k.ID)
	must(t, err)
	if got.Bitting != "" || got.Keyway != "KW1" || got.State != latchkey.KeyActive || len(got.Copies) != 2 ||
		got.Copies[0].HolderID != ana.ID || got.Copies[1].Location != "kitchen drawer" || got.Copies[0].ID == 0 {
		t.Fatalf("key %+v", got)
	}
	if b, err := s.RevealBitting(ctx(), k.ID); err != nil || b != "35242" {
		t.Fatalf("the key's bitting revealed: %q %v", b, err)
	}
	k2, err := s.AddKeyCopy(ctx(), k.ID, latchkey.KeyCopy{HolderID: ana.ID})
	must(t, err)
	if len(k2.Copies) != 3 {
		t.Fatalf("%d copies after adding one", len(k2.Copies))
	}
	wantCode(t, s.CreateKey(ctx(), &latchkey.Key{SiteID: site.ID, Label: "Bad", Bitting: "17131"}), latchkey.EINVALID)
	wantCode(t, s.CreateKey(ctx(), &latchkey.Key{SiteID: site.ID, Label: "Nobody's", Bitting: "35242",
		Copies: []latchkey.KeyCopy{{HolderID: 999}}}), latchkey.ENOTFOUND)
	active := latchkey.KeyActive
	keys, total, err := s.FindKeys(ctx(), latchkey.KeyFilter{SiteID: &site.ID, State: &active}, latchkey.Page{})
	must(t, err)
	if total != 1 || len(keys[0].Copies) != 3 {
		t.Fatalf("keys: %d", total)
	}
	// The audit log names the key, never its bitting.
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		entries, err := tx.FindAudit(ctx(), 0, 100)
		for _, e := range entries {
			if strings.Contains(e.Detail, "35242") {
				t.Errorf("audit entry %d records the bitting: %s", e.Seq, e.Detail)
			}
		}
		return err
	}))
}

// newLock makes a person and a 916 on its own door, and returns both.
func newLock(t *testing.T, s *latchkey.Service, name string) (*latchkey.Lock, *latchkey.Person) {
	t.Helper()
	site := &latchkey.Site{Name: "Site " + name, TimeZone: "UTC"}
	must(t, s.CreateSite(ctx(), site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Door " + name}
	must(t, s.CreateDoor(ctx(), door))
	l := &latchkey.Lock{DoorID: door.ID, Name: name, ModelID: "916"}
	must(t, s.CreateLock(ctx(), l))
	p := &latchkey.Person{Name: "Owner of " + name, Role: latchkey.RoleOwner}
	must(t, s.CreatePerson(ctx(), p))
	return l, p
}

func testCodes(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	c, pin, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana's code"}, PIN: "482913", LockIDs: []int64{l.ID}})
	must(t, err)
	if pin != "482913" || c.ID == 0 {
		t.Fatalf("created %+v %q", c, pin)
	}
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		stored, err := tx.FindCodeByID(ctx(), c.ID)
		if err == nil && (len(stored.SealedPIN) == 0 || bytes.Contains(stored.SealedPIN, []byte("482913"))) {
			t.Errorf("stored PIN is not sealed: %x", stored.SealedPIN)
		}
		return err
	}))
	// Read back through the service, a code carries neither its PIN nor its sealed form.
	found, err := s.FindCodeByID(ctx(), c.ID)
	must(t, err)
	if found.Label != "Ana's code" || found.PersonID != p.ID || found.PIN != "" || found.SealedPIN != nil {
		t.Fatalf("FindCodeByID: %+v", found)
	}
	_, err = s.FindCodeByID(ctx(), c.ID+100)
	wantCode(t, err, latchkey.ENOTFOUND)
	// A generated code, refused duplicates, capacity (the stand-in holds three).
	_, gen, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guest"}, LockIDs: []int64{l.ID}})
	must(t, err)
	if gen == "" || gen == "482913" {
		t.Fatalf("generated %q", gen)
	}
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Again"}, PIN: "482913", LockIDs: []int64{l.ID}})
	wantCode(t, err, latchkey.EINVALID)
	if strings.Contains(latchkey.ErrorMessage(err), "482913") {
		t.Fatalf("error shows the code: %v", err)
	}
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Third"}, PIN: "5555", LockIDs: []int64{l.ID}})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Fourth"}, PIN: "6666", LockIDs: []int64{l.ID}})
	wantCode(t, err, latchkey.ECONFLICT)
	grants, err := s.FindGrants(ctx(), latchkey.GrantFilter{LockID: &l.ID})
	must(t, err)
	if len(grants) != 3 || grants[0].Slot != 1 || grants[1].Slot != 2 || grants[2].Slot != 3 || grants[0].Status != latchkey.GrantPending {
		t.Fatalf("grants %+v", grants)
	}
	// Reveal returns the PIN and is recorded.
	revealed, err := s.RevealCode(ctx(), c.ID)
	must(t, err)
	if revealed != "482913" {
		t.Fatalf("revealed %q", revealed)
	}
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		last, err := tx.LastAudit(ctx())
		if err == nil && (last.Action != "code.reveal" || last.EntityID != c.ID || last.Actor != "tester" || strings.Contains(last.Detail, "482913")) {
			t.Errorf("last audit entry %+v", last)
		}
		return err
	}))
	// An unidentified lock takes no code: rules differ by model.
	door := &latchkey.Door{SiteID: 1, Name: "Side"}
	must(t, s.CreateDoor(ctx(), door))
	knob := &latchkey.Lock{DoorID: door.ID, Name: "Knob"}
	must(t, s.CreateLock(ctx(), knob))
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "X"}, PIN: "1234", LockIDs: []int64{knob.ID}})
	wantCode(t, err, latchkey.EINVALID)
}

// Invariant 1: every attempt to take away a lock's last verified way in is refused as
// unsafe, and changes nothing; with a second way in, the same change goes through.
func testNoLockout(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	only, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Only code"}, PIN: "482913",
		LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	_, err = s.RevokeCode(ctx(), only.ID)
	wantCode(t, err, latchkey.EUNSAFE)
	if !strings.Contains(latchkey.ErrorMessage(err), "no way in") || !strings.Contains(latchkey.ErrorMessage(err), "Make before break") {
		t.Fatalf("reason: %s", latchkey.ErrorMessage(err))
	}
	grants, _ := s.FindGrants(ctx(), latchkey.GrantFilter{LockID: &l.ID})
	if grants[0].Status != latchkey.GrantSet {
		t.Fatalf("a refused revoke changed the grant to %s", grants[0].Status)
	}

	// A weekend guest code is not a way in: it does not open the door at all times.
	guest, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guest",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: 6, From: 0, Until: 1440}}}},
		PIN: "731904", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	_, err = s.RevokeCode(ctx(), only.ID)
	wantCode(t, err, latchkey.EUNSAFE)
	// A pending (unconfirmed) code is not a way in either.
	second, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "New code"}, PIN: "860412", LockIDs: []int64{l.ID}})
	must(t, err)
	_, err = s.RevokeCode(ctx(), only.ID)
	wantCode(t, err, latchkey.EUNSAFE)
	// Confirmed at the door, it is: now the old code can go (make before break).
	_, err = s.ConfirmCode(ctx(), second.ID, l.ID)
	must(t, err)
	_, err = s.RevokeCode(ctx(), only.ID)
	must(t, err)
	grants, _ = s.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &only.ID})
	if grants[0].Status != latchkey.GrantRemoving {
		t.Fatalf("revoked code's grant is %s; want removing until the lock confirms (invariant 2)", grants[0].Status)
	}
	g, err := s.ConfirmCode(ctx(), only.ID, l.ID)
	must(t, err)
	if g.Status != latchkey.GrantRemoved {
		t.Fatalf("after confirming the removal: %s", g.Status)
	}
	_ = guest

	// Keys: a lock keyed to a key a person holds has a way in; retiring that key, or
	// taking back the only held copy, or unkeying the lock, is refused when it is the last.
	l2, p2 := newLock(t, s, "Back")
	k := &latchkey.Key{SiteID: 1, Label: "Back key", Bitting: "46353", Copies: []latchkey.KeyCopy{{HolderID: p2.ID}}}
	must(t, s.CreateKey(ctx(), k))
	_, err = s.SetLockKey(ctx(), l2.ID, k.ID)
	must(t, err)
	_, err = s.SetKeyState(ctx(), k.ID, latchkey.KeyRetired)
	wantCode(t, err, latchkey.EUNSAFE)
	_, err = s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyReturned)
	wantCode(t, err, latchkey.EUNSAFE)
	_, err = s.SetLockKey(ctx(), l2.ID, 0)
	wantCode(t, err, latchkey.EUNSAFE)
	got, _ := s.FindKeyByID(ctx(), k.ID)
	if got.State != latchkey.KeyActive || got.Copies[0].State != latchkey.CopyHeld {
		t.Fatalf("refused changes changed the key: %+v", got)
	}
	// With a spare kept in a drawer only (no holder), it still is the last way in.
	_, err = s.AddKeyCopy(ctx(), k.ID, latchkey.KeyCopy{Location: "drawer"})
	must(t, err)
	_, err = s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyReturned)
	wantCode(t, err, latchkey.EUNSAFE)
	// With a second holder, the first copy can come back.
	_, err = s.AddKeyCopy(ctx(), k.ID, latchkey.KeyCopy{HolderID: p.ID})
	must(t, err)
	_, err = s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyReturned)
	must(t, err)
}

// Invariant 2: a lost key is recorded whatever it leaves behind, and every lock it opens
// is marked exposed.
func testLostKeyExposes(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	k := &latchkey.Key{SiteID: 1, Label: "Front key", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: p.ID}}}
	must(t, s.CreateKey(ctx(), k))
	_, err := s.SetLockKey(ctx(), l.ID, k.ID)
	must(t, err)
	_, err = s.SetKeyState(ctx(), k.ID, latchkey.KeyLost)
	must(t, err)
	got, err := s.FindLockByID(ctx(), l.ID)
	must(t, err)
	if got.Status != latchkey.LockExposed {
		t.Fatalf("lock status %s after its key was lost; want exposed", got.Status)
	}
}

func testServiceLogAndReceipts(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	must(t, s.AddServiceEntry(ctx(), &latchkey.ServiceEntry{LockID: l.ID, Kind: latchkey.ServiceBattery, Note: "New batteries"}))
	must(t, s.AddServiceEntry(ctx(), &latchkey.ServiceEntry{LockID: l.ID, Kind: latchkey.ServiceRepair, Note: "Oiled it", WarrantyRelevant: true}))
	wantCode(t, s.AddServiceEntry(ctx(), &latchkey.ServiceEntry{LockID: l.ID, Kind: "magic", Note: "x"}), latchkey.EINVALID)
	wantCode(t, s.AddServiceEntry(ctx(), &latchkey.ServiceEntry{LockID: 999, Note: "x"}), latchkey.ENOTFOUND)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 5000)...)
	r, err := s.AddReceipt(ctx(), l.ID, "/home/ana/Downloads/receipt.pdf", pdf)
	must(t, err)
	if r.Name != "receipt.pdf" || r.ContentType != "application/pdf" || r.Size != len(pdf) || len(r.SHA256) != 64 {
		t.Fatalf("receipt %+v", r)
	}
	_, err = s.AddReceipt(ctx(), l.ID, "huge.jpg", make([]byte, latchkey.MaxReceiptBytes+1))
	wantCode(t, err, latchkey.EINVALID)
	_, err = s.AddReceipt(ctx(), l.ID, "empty.pdf", nil)
	wantCode(t, err, latchkey.EINVALID)
	rs, err := s.FindReceipts(ctx(), l.ID, true)
	must(t, err)
	if len(rs) != 1 || !bytes.Equal(rs[0].Data, pdf) {
		t.Fatalf("receipts read back: %d", len(rs))
	}
	if rs, _ := s.FindReceipts(ctx(), l.ID, false); rs[0].Data != nil {
		t.Fatal("a listing carried the file's contents")
	}
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, PIN: "482913", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	rec, err := s.FindLockRecord(ctx(), l.ID)
	must(t, err)
	if rec.Site == nil || rec.Door == nil || len(rec.Service) != 2 || !rec.Service[1].WarrantyRelevant || len(rec.Receipts) != 1 ||
		len(rec.Grants) != 1 || rec.People[p.ID] == nil || rec.Codes[rec.Grants[0].CodeID].SealedPIN != nil {
		t.Fatalf("lock record %+v", rec)
	}
}

// Invariant 1 counts only verified, reliable ways in. Each kind of credential that is
// not one is tried as a lock's second way in: beside it, revoking the lock's one
// confirmed always-valid code must still be refused. The controls (a second reliable
// code, a key a person holds) show the refusal is about the kind, not the lock.
func testWaysIn(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	start := s.Clock.Now()
	end := start.Add(48 * time.Hour)
	confirmed := func(label string, c latchkey.Code) func(*testing.T, *latchkey.Lock, *latchkey.Person) {
		return func(t *testing.T, l *latchkey.Lock, p *latchkey.Person) {
			c.PersonID, c.Label = p.ID, label
			_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: c, LockIDs: []int64{l.ID}, Confirmed: true})
			must(t, err)
		}
	}
	keyed := func(copy latchkey.KeyCopy, then func(t *testing.T, k *latchkey.Key)) func(*testing.T, *latchkey.Lock, *latchkey.Person) {
		return func(t *testing.T, l *latchkey.Lock, p *latchkey.Person) {
			if copy.Location == "" {
				copy.HolderID = p.ID
			}
			door, err := s.FindDoorByID(ctx(), l.DoorID)
			must(t, err)
			k := &latchkey.Key{SiteID: door.SiteID, Label: "Key of " + l.Name, Bitting: "35242", Copies: []latchkey.KeyCopy{copy}}
			must(t, s.CreateKey(ctx(), k))
			_, err = s.SetLockKey(ctx(), l.ID, k.ID)
			must(t, err)
			if then != nil {
				then(t, k)
			}
		}
	}
	tests := []struct {
		name   string
		second func(*testing.T, *latchkey.Lock, *latchkey.Person)
		wayIn  bool // whether the second credential counts as a way in
	}{
		{"OK/AlwaysCode", confirmed("Always", latchkey.Code{}), true},
		{"OK/HeldKey", keyed(latchkey.KeyCopy{}, nil), true},
		{"ErrPendingCode", func(t *testing.T, l *latchkey.Lock, p *latchkey.Person) {
			_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Pending"}, LockIDs: []int64{l.ID}})
			must(t, err)
		}, false},
		{"ErrOneTimeCode", confirmed("Once", latchkey.Code{OneTime: true}), false},
		{"ErrUseLimitedCode", confirmed("Five uses", latchkey.Code{UseLimit: 5}), false},
		{"ErrWindowCode", confirmed("Weekend", latchkey.Code{Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}), false},
		{"ErrWeeklyCode", confirmed("Weekdays", latchkey.Code{Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWeekly,
			Weekly: []latchkey.WeeklyHours{{Day: time.Monday, From: 0, Until: 24 * 60}, {Day: time.Tuesday, From: 0, Until: 24 * 60}}}}), false},
		{"ErrRevokedCode", func(t *testing.T, l *latchkey.Lock, p *latchkey.Person) {
			c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Revoked"}, LockIDs: []int64{l.ID}, Confirmed: true})
			must(t, err)
			_, err = s.RevokeCode(ctx(), c.ID) // the first code is still there: allowed
			must(t, err)
		}, false},
		{"ErrRemovedCode", func(t *testing.T, l *latchkey.Lock, p *latchkey.Person) {
			c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Removed"}, LockIDs: []int64{l.ID}, Confirmed: true})
			must(t, err)
			_, err = s.RevokeCode(ctx(), c.ID)
			must(t, err)
			_, err = s.ConfirmCode(ctx(), c.ID, l.ID)
			must(t, err)
		}, false},
		{"ErrSpareKeyOnly", keyed(latchkey.KeyCopy{Location: "kitchen drawer"}, nil), false},
		{"ErrLostKey", keyed(latchkey.KeyCopy{}, func(t *testing.T, k *latchkey.Key) {
			_, err := s.SetKeyState(ctx(), k.ID, latchkey.KeyLost)
			must(t, err)
		}), false},
		{"ErrLostCopy", keyed(latchkey.KeyCopy{}, func(t *testing.T, k *latchkey.Key) {
			_, err := s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyLost)
			must(t, err)
		}), false},
		{"ErrCopyToReturn", keyed(latchkey.KeyCopy{}, func(t *testing.T, k *latchkey.Key) {
			// Allowed: the first code is the other way in.
			_, err := s.SetKeyCopyState(ctx(), k.ID, k.Copies[0].ID, latchkey.CopyToReturn)
			must(t, err)
		}), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, p := newLock(t, s, fmt.Sprintf("Lock %d", i))
			first, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "First"}, LockIDs: []int64{l.ID}, Confirmed: true})
			must(t, err)
			tt.second(t, l, p)
			_, err = s.RevokeCode(ctx(), first.ID)
			if tt.wayIn {
				must(t, err)
				return
			}
			wantCode(t, err, latchkey.EUNSAFE)
			if g, _ := s.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &first.ID}); g[0].Status != latchkey.GrantSet {
				t.Fatalf("a refused revoke left the first code %s", g[0].Status)
			}
		})
	}
}

// A sealed PIN is bound to its code's record: copied by SQL onto another code, it does
// not open, so the other code reveals neither PIN.
func testSealedPINBoundToRecord(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	ana, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, PIN: "482913", LockIDs: []int64{l.ID}})
	must(t, err)
	bo, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Bo"}, PIN: "731904", LockIDs: []int64{l.ID}})
	must(t, err)
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		from, err := tx.FindCodeByID(ctx(), ana.ID)
		if err != nil {
			return err
		}
		to, err := tx.FindCodeByID(ctx(), bo.ID)
		if err != nil {
			return err
		}
		to.SealedPIN = from.SealedPIN
		return tx.UpdateCode(ctx(), to)
	}))
	pin, err := s.RevealCode(ctx(), bo.ID)
	if err == nil || pin != "" {
		t.Fatalf("a PIN copied onto another code was revealed: %q", pin)
	}
	if msg := latchkey.ErrorMessage(err); strings.Contains(msg, "482913") || strings.Contains(msg, "731904") || !strings.Contains(msg, "does not open") {
		t.Fatalf("the error should say the PIN does not open, and show none: %s", msg)
	}
	// The code the PIN belongs to still opens.
	if pin, err := s.RevealCode(ctx(), ana.ID); err != nil || pin != "482913" {
		t.Fatalf("reveal of the original: %q %v", pin, err)
	}
}

// CheckCode answers whether a lock can take a PIN as CreateCode would decide, without
// a digit of any code; only those who may reveal codes have it checked against the codes
// on the lock, and learn which code a PIN collides with.
func testCheckCode(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	add := func(label, pin string) *latchkey.Code {
		t.Helper()
		c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: label}, PIN: pin, LockIDs: []int64{l.ID}})
		must(t, err)
		return c
	}
	ana := add("Ana", "482913")
	check := func(c context.Context, pin string) *latchkey.CodeVerdict {
		t.Helper()
		v, err := s.CheckCode(c, l.ID, pin)
		must(t, err)
		if text := fmt.Sprintf("%+v", *v); strings.Contains(text, "482913") || strings.Contains(text, "615007") {
			t.Fatalf("a verdict holds digits: %s", text)
		}
		return v
	}
	if v := check(ctx(), "730245"); !v.OK || v.Collides || v.Rules != "" || v.Full != "" || v.LockID != l.ID || !strings.Contains(v.Message, "can take the code") {
		t.Fatalf("a free PIN: %+v", *v)
	}
	// Its own rules first; then nothing is said of the other codes.
	if v := check(ctx(), "48"); v.OK || v.Rules == "" || v.Collides {
		t.Fatalf("a PIN too short: %+v", *v)
	}
	// The owner is told which code it collides with.
	if v := check(ctx(), "482913"); v.OK || !v.Collides || len(v.With) != 1 || v.With[0].CodeID != ana.ID || v.With[0].Label != "Ana" || !strings.Contains(v.Message, "same") {
		t.Fatalf("a duplicate, for the owner: %+v", *v)
	}
	// A revoked code still opens the lock until the lock confirms: it still collides.
	add("Spare", "615007")
	_, err := s.RevokeCode(ctx(), ana.ID)
	must(t, err)
	if v := check(ctx(), "482913"); !v.Collides {
		t.Fatalf("a PIN beside a code whose revocation is pending: %+v", *v)
	}
	audit := func() (reveals, checks int) {
		t.Helper()
		must(t, store.View(ctx(), func(tx latchkey.Tx) error {
			entries, err := tx.FindAudit(ctx(), 0, 1000)
			for _, e := range entries {
				switch e.Action {
				case "code.reveal":
					reveals++
				case "code.check":
					checks++
					if strings.Contains(e.Detail, "615007") {
						t.Errorf("the audit entry holds the digits: %s", e.Detail)
					}
				}
			}
			return err
		}))
		return reveals, checks
	}
	if reveals, checks := audit(); reveals != 0 || checks != 0 {
		t.Fatalf("the owner's checks recorded %d reveals and %d checks; want none", reveals, checks)
	}
	// For an installer a check leaves the other codes out, whatever the PIN: a free check
	// that answered "collides" would let them try every PIN. Adding the code still refuses
	// a collision, without saying with what.
	installer := as(latchkey.UserInstaller, 7)
	_, _, err = s.CreateCode(installer, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guess"}, PIN: "615007", LockIDs: []int64{l.ID}})
	if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "collides") || strings.Contains(latchkey.ErrorMessage(err), "Spare") {
		t.Fatalf("an installer's chosen duplicate: %v", err)
	}
	for range 20 {
		for _, pin := range []string{"730245", "615007"} {
			v := check(installer, pin)
			if !v.OK || v.Collides || v.With != nil || !v.CollisionsUnchecked || strings.Contains(v.Message, "Spare") || !strings.Contains(v.Message, "checked only when the code is added") {
				t.Fatalf("an installer's check of %s: %+v", pin, *v)
			}
		}
	}
	if v := check(installer, "48"); v.OK || v.Rules == "" {
		t.Fatalf("a PIN too short, for an installer: %+v", *v)
	}
	if reveals, checks := audit(); reveals != 0 || checks != 0 {
		t.Fatalf("the installer's checks recorded %d reveals and %d checks; want none", reveals, checks)
	}
	// A viewer adds no code, and checks none.
	_, err = s.CheckCode(as(latchkey.UserViewer, 8), l.ID, "730245")
	wantCode(t, err, latchkey.EFORBIDDEN)
	// A full lock (the stand-in holds three) says so.
	add("Third", "907153")
	if v := check(ctx(), "730245"); v.OK || v.Full == "" || v.Collides {
		t.Fatalf("a full lock: %+v", *v)
	}
	// An unidentified lock cannot be checked: its rules are not known.
	door := &latchkey.Door{SiteID: 1, Name: "Side"}
	must(t, s.CreateDoor(ctx(), door))
	knob := &latchkey.Lock{DoorID: door.ID, Name: "Knob"}
	must(t, s.CreateLock(ctx(), knob))
	_, err = s.CheckCode(ctx(), knob.ID, "730245")
	wantCode(t, err, latchkey.EINVALID)
	_, err = s.CheckCode(ctx(), 999, "730245")
	wantCode(t, err, latchkey.ENOTFOUND)
}

// GenerateBittings keeps clear of every bitting recorded on the site's keys, lost ones
// included, which it opens sealed and never returns; generating is recorded, without a
// bitting, and limited for those who may not reveal key cuts.
func testGenerateBittings(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	home, _ := seed(t, s)
	cabin := &latchkey.Site{Name: "Cabin", TimeZone: "UTC"}
	must(t, s.CreateSite(ctx(), cabin))
	near := func(a, b string) bool {
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		return diff <= 1
	}
	gen := func(c context.Context, req latchkey.BittingRequest) []string {
		t.Helper()
		g, err := s.GenerateBittings(c, req)
		must(t, err)
		if len(g.Bittings) != max(req.Count, 1) || g.SiteID != req.SiteID {
			t.Fatalf("generated %+v for %+v", g, req)
		}
		return g.Bittings
	}
	// The stand-in rules take bittings in order: with no key recorded, 11112 comes first.
	if got := gen(ctx(), latchkey.BittingRequest{SiteID: home.ID}); got[0] != "11112" {
		t.Fatalf("first bitting on a site with no keys: %v", got)
	}
	recorded := []string{"11112", "11121", "35242"}
	for i, b := range recorded {
		k := &latchkey.Key{SiteID: home.ID, Label: fmt.Sprintf("Key %d", i), Bitting: b}
		must(t, s.CreateKey(ctx(), k))
		if i == 0 {
			_, err := s.SetKeyState(ctx(), k.ID, latchkey.KeyLost) // a lost key is still out there
			must(t, err)
		}
	}
	g, err := s.GenerateBittings(ctx(), latchkey.BittingRequest{SiteID: home.ID, Count: 50, Avoid: []string{"11123"}})
	must(t, err)
	if g.Avoided != 3 || len(g.Bittings) != 50 {
		t.Fatalf("generated %+v", g)
	}
	for _, b := range g.Bittings {
		for _, r := range append(recorded, "11123") {
			if near(b, r) {
				t.Fatalf("generated %s, within one cut of the avoided %s", b, r)
			}
		}
	}
	// The home's keys are the home's: another site may use their bittings.
	if got := gen(ctx(), latchkey.BittingRequest{SiteID: cabin.ID}); got[0] != "11112" {
		t.Fatalf("the cabin avoided the home's keys: %v", got)
	}
	// Recorded, never with a bitting.
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		entries, err := tx.FindAudit(ctx(), 0, 1000)
		n := 0
		for _, e := range entries {
			if e.Action != "key.generate" {
				continue
			}
			n++
			for _, b := range append(recorded, g.Bittings...) {
				if strings.Contains(e.Detail, b) {
					t.Errorf("audit entry %d records a bitting: %s", e.Seq, e.Detail)
				}
			}
		}
		if n != 3 {
			t.Errorf("%d key.generate entries, want 3", n)
		}
		return err
	}))
	// Someone who may not reveal key cuts gets a few at a time; a viewer none.
	installer := as(latchkey.UserInstaller, 7)
	if got := gen(installer, latchkey.BittingRequest{SiteID: home.ID, Count: 3}); near(got[0], "11112") {
		t.Fatalf("an installer's bittings: %v", got)
	}
	_, err = s.GenerateBittings(installer, latchkey.BittingRequest{SiteID: home.ID, Count: 4})
	wantCode(t, err, latchkey.EFORBIDDEN)
	// Nor may they add bittings to avoid: a list of nearly every bitting would leave one
	// candidate, and whether it came back would say whether it is near a recorded key.
	_, err = s.GenerateBittings(installer, latchkey.BittingRequest{SiteID: home.ID, Avoid: []string{"22222"}})
	wantCode(t, err, latchkey.EFORBIDDEN)
	// And they get ten requests an hour (one spent above): enough to cut keys, too few to
	// map which bittings never come back.
	for i := 2; i <= 10; i++ {
		gen(installer, latchkey.BittingRequest{SiteID: home.ID})
	}
	_, err = s.GenerateBittings(installer, latchkey.BittingRequest{SiteID: home.ID})
	wantCode(t, err, latchkey.EFORBIDDEN)
	gen(ctx(), latchkey.BittingRequest{SiteID: home.ID}) // the owner is not held up
	_, err = s.GenerateBittings(as(latchkey.UserViewer, 8), latchkey.BittingRequest{SiteID: home.ID})
	wantCode(t, err, latchkey.EFORBIDDEN)
	_, err = s.GenerateBittings(ctx(), latchkey.BittingRequest{SiteID: 999})
	wantCode(t, err, latchkey.ENOTFOUND)
	_, err = s.GenerateBittings(ctx(), latchkey.BittingRequest{SiteID: home.ID, Count: latchkey.MaxGeneratedBittings + 1})
	wantCode(t, err, latchkey.EINVALID)
}

// A lock's record goes only when nothing depends on it: one with codes on it or a
// connection is refused as unsafe, saying what it has, unless forced; an exposed one is
// refused even forced.
func testDeleteLock(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	conn := latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: "7"}
	_, err := s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, PIN: "482913", LockIDs: []int64{l.ID}})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guest"}, PIN: "730245", LockIDs: []int64{l.ID}})
	must(t, err)
	err = s.DeleteLock(ctx(), l.ID, false)
	wantCode(t, err, latchkey.EUNSAFE)
	for _, want := range []string{"2 codes on it", "connected to zwavejs (address 7)", fmt.Sprintf("latchkey lock set %d --disconnect", l.ID), "--force"} {
		if !strings.Contains(latchkey.ErrorMessage(err), want) {
			t.Errorf("refusal %q does not say %q", latchkey.ErrorMessage(err), want)
		}
	}
	if _, err := s.FindLockByID(ctx(), l.ID); err != nil {
		t.Fatalf("the refused lock is gone: %v", err)
	}
	// A connection alone is reason enough.
	bare, _ := newLock(t, s, "Back")
	conn8 := latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: "8"}
	_, err = s.UpdateLock(ctx(), bare.ID, latchkey.LockUpdate{Connection: &conn8})
	must(t, err)
	err = s.DeleteLock(ctx(), bare.ID, false)
	if wantCode(t, err, latchkey.EUNSAFE); strings.Contains(latchkey.ErrorMessage(err), "on it") || !strings.Contains(latchkey.ErrorMessage(err), "address 8") {
		t.Errorf("a lock with no codes: %v", err)
	}
	// Forced, it goes, and the audit entry says it was forced and which codes were on it
	// (its grants go with it), never their digits.
	grants, err := s.FindGrants(ctx(), latchkey.GrantFilter{LockID: &l.ID})
	must(t, err)
	must(t, s.DeleteLock(ctx(), l.ID, true))
	_, err = s.FindLockByID(ctx(), l.ID)
	wantCode(t, err, latchkey.ENOTFOUND)
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		last, err := tx.LastAudit(ctx())
		if err != nil {
			return err
		}
		if last.Action != "lock.delete" || !strings.Contains(last.Detail, `"forced":true`) || !strings.Contains(last.Detail, `"codes_on":2`) {
			t.Errorf("last audit entry %+v", last)
		}
		for i, label := range []string{"Ana", "Guest"} {
			want := fmt.Sprintf(`{"code_id":%d,"label":%q,"slot":%d,"status":"pending"}`, grants[i].CodeID, label, grants[i].Slot)
			if !strings.Contains(last.Detail, want) {
				t.Errorf("the forced removal's audit entry lacks %s: %s", want, last.Detail)
			}
		}
		if strings.Contains(last.Detail, "482913") || strings.Contains(last.Detail, "730245") {
			t.Errorf("the audit entry holds a PIN: %s", last.Detail)
		}
		return nil
	}))
	// An exposed lock keeps its record, forced or not.
	k := &latchkey.Key{SiteID: 1, Label: "Back key", Bitting: "35242"}
	must(t, s.CreateKey(ctx(), k))
	_, err = s.SetLockKey(ctx(), bare.ID, k.ID)
	must(t, err)
	_, err = s.SetKeyState(ctx(), k.ID, latchkey.KeyLost)
	must(t, err)
	err = s.DeleteLock(ctx(), bare.ID, true)
	if wantCode(t, err, latchkey.EUNSAFE); !strings.Contains(latchkey.ErrorMessage(err), "exposed") {
		t.Errorf("an exposed lock, forced: %v", err)
	}
	// A lock with nothing on it goes without force.
	plain, _ := newLock(t, s, "Shed")
	must(t, s.DeleteLock(ctx(), plain.ID, false))
}
