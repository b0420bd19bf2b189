package storetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// A bitting is a secret like a PIN: stored only sealed, shown only by an audited reveal
// that needs the reveal permission, bound to its key's record, and never in an export.
// Keys recorded before bittings were sealed are sealed by SealBittings.
func testBittingsSealed(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	site, _ := seed(t, s)
	ana := &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}
	must(t, s.CreatePerson(ctx(), ana))
	house := &latchkey.Key{SiteID: site.ID, Label: "House key", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: ana.ID}}}
	must(t, s.CreateKey(ctx(), house))
	shed := &latchkey.Key{SiteID: site.ID, Label: "Shed key", Bitting: "46353", Copies: []latchkey.KeyCopy{{HolderID: ana.ID}}}
	must(t, s.CreateKey(ctx(), shed))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		k, err := tx.FindKeyByID(ctx(), house.ID)
		if err == nil && (k.Bitting != "" || len(k.SealedBitting) == 0 || bytes.Contains(k.SealedBitting, []byte("35242"))) {
			t.Errorf("the stored key keeps its bitting in the clear: %q %x", k.Bitting, k.SealedBitting)
		}
		return err
	}))
	for _, read := range []func() (*latchkey.Key, error){
		func() (*latchkey.Key, error) { return s.FindKeyByID(ctx(), house.ID) },
		func() (*latchkey.Key, error) {
			keys, _, err := s.FindKeys(ctx(), latchkey.KeyFilter{}, latchkey.Page{})
			return keys[0], err
		},
		func() (*latchkey.Key, error) {
			r, err := s.Export(ctx())
			return r.Keys[0], err
		},
	} {
		if k, err := read(); err != nil || k.Bitting != "" {
			t.Fatalf("a reader of keys sees bitting %q (%v)", k.Bitting, err)
		}
	}
	_, err := s.RevealBitting(as(latchkey.UserInstaller, 5), house.ID)
	wantCode(t, err, latchkey.EFORBIDDEN)
	b, err := s.RevealBitting(ctx(), house.ID)
	if err != nil || b != "35242" {
		t.Fatalf("reveal: %q %v", b, err)
	}
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		last, err := tx.LastAudit(ctx())
		if err == nil && (last.Action != "key.reveal" || last.EntityID != house.ID || strings.Contains(last.Detail, "35242")) {
			t.Errorf("the reveal's audit entry: %+v", last)
		}
		return err
	}))

	// Copied onto another key's record, a sealed bitting does not open.
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		from, err := tx.FindKeyByID(ctx(), house.ID)
		if err != nil {
			return err
		}
		to, err := tx.FindKeyByID(ctx(), shed.ID)
		if err != nil {
			return err
		}
		to.SealedBitting = from.SealedBitting
		return tx.UpdateKey(ctx(), to)
	}))
	if b, err := s.RevealBitting(ctx(), shed.ID); err == nil || b != "" || strings.Contains(latchkey.ErrorMessage(err), "35242") {
		t.Fatalf("a bitting copied onto another key revealed %q (%v)", b, err)
	}

	// A key recorded in the clear (before sealing) is sealed by SealBittings, once.
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		k, err := tx.FindKeyByID(ctx(), shed.ID)
		if err != nil {
			return err
		}
		k.Bitting, k.SealedBitting = "46353", nil
		return tx.UpdateKey(ctx(), k)
	}))
	if k, _ := s.FindKeyByID(ctx(), shed.ID); k.Bitting != "" {
		t.Fatalf("an unsealed key's bitting is shown to a reader: %q", k.Bitting)
	}
	n, err := s.SealBittings(ctx())
	if err != nil || n != 1 {
		t.Fatalf("SealBittings sealed %d (%v), want 1", n, err)
	}
	if n, err := s.SealBittings(ctx()); err != nil || n != 0 {
		t.Fatalf("SealBittings again sealed %d (%v), want 0", n, err)
	}
	if b, err := s.RevealBitting(ctx(), shed.ID); err != nil || b != "46353" {
		t.Fatalf("reveal after sealing: %q %v", b, err)
	}
}

// Every change appends an authenticated entry and moves the recorded head to it; a head
// forged from an entry's own MAC is named by verification.
func testAuditAuthenticated(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	seed(t, s)
	must(t, s.CreatePerson(ctx(), &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}))
	var entries []*latchkey.AuditEntry
	must(t, store.View(ctx(), func(tx latchkey.Tx) (err error) {
		entries, err = tx.FindAudit(ctx(), 0, 100)
		if err != nil {
			return err
		}
		head, err := tx.FindAuditHead(ctx())
		if err == nil && (head == nil || head.Seq != 3 || head.Hash != entries[2].Hash || head.MAC == "") {
			t.Errorf("head %+v after three changes; want entry 3's", head)
		}
		return err
	}))
	for _, e := range entries {
		if e.MAC == "" {
			t.Fatalf("entry %d is not authenticated", e.Seq)
		}
	}
	if n, err := s.VerifyAuditLog(ctx()); err != nil || n != 3 {
		t.Fatalf("verify: %d %v", n, err)
	}
	setHead := func(h *latchkey.AuditHead) {
		t.Helper()
		must(t, store.Update(ctx(), func(tx latchkey.Tx) error { return tx.SetAuditHead(ctx(), h) }))
	}
	// The head of entry 2, made from entry 2's own MAC: not a head's MAC.
	setHead(&latchkey.AuditHead{Seq: 2, Hash: entries[1].Hash, MAC: entries[1].MAC})
	_, err := s.VerifyAuditLog(ctx())
	if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "altered") {
		t.Fatalf("a forged head: %v", err)
	}
	// Cutting entries off the end and rewriting them are attacks through SQL, behind
	// the store's back: the stores' own tests make them (AuditTruncation, AuditRewrite).
}

// A chosen PIN refused for colliding with another code would tell its chooser something
// of that code. For someone who may not reveal codes the refusal names no code, is
// recorded, and comes after the PIN's own rules; a few such refusals use up the choice.
func testCollisionOracle(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	_, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, PIN: "482913", LockIDs: []int64{l.ID}})
	must(t, err)
	installer := as(latchkey.UserInstaller, 7)
	try := func(pin string) error {
		_, _, err := s.CreateCode(installer, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Guess"}, PIN: pin, LockIDs: []int64{l.ID}})
		return err
	}
	// Refused on its own rules first: nothing is said of the other codes.
	err = try("482913999")
	if msg := latchkey.ErrorMessage(err); latchkey.ErrorCode(err) != latchkey.EINVALID || strings.Contains(msg, "same") || strings.Contains(msg, "collides") {
		t.Fatalf("a PIN too long: %v", err)
	}
	for i := range 5 {
		err = try("482913")
		if msg := latchkey.ErrorMessage(err); latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(msg, "collides") || strings.Contains(msg, "no.") {
			t.Fatalf("try %d: %v; want a refusal that names no code", i, err)
		}
	}
	err = try("731904") // would be accepted, but the allowance is spent
	wantCode(t, err, latchkey.EFORBIDDEN)
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		entries, err := tx.FindAudit(ctx(), 0, 100)
		n := 0
		for _, e := range entries {
			if e.Action == "code.refused" {
				n++
			}
		}
		if n != 5 {
			t.Errorf("%d refusals recorded, want 5", n)
		}
		return err
	}))
	// Someone who may reveal codes is told which rule refused it, as before.
	_, _, err = s.CreateCode(as(latchkey.UserManager, 8), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "M"}, PIN: "482913", LockIDs: []int64{l.ID}})
	if latchkey.ErrorCode(err) != latchkey.EINVALID || strings.Contains(latchkey.ErrorMessage(err), "collides") {
		t.Fatalf("a manager's duplicate: %v", err)
	}
}
