package storetest

import (
	"fmt"
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
