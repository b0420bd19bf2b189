package storetest

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// testUpdates: sites, doors and people change in place; a change that would make a
// record invalid changes nothing.
func testUpdates(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	site, door := seed(t, s)
	name, zone := "Maple St. duplex", "America/New_York"
	got, err := s.UpdateSite(ctx(), site.ID, latchkey.SiteUpdate{Name: &name, TimeZone: &zone})
	must(t, err)
	if got.Name != name || got.TimeZone != zone || got.Address != site.Address {
		t.Fatalf("updated site %+v", got)
	}
	bad := "Mars/Olympus"
	_, err = s.UpdateSite(ctx(), site.ID, latchkey.SiteUpdate{TimeZone: &bad})
	wantCode(t, err, latchkey.EINVALID)
	again, err := s.FindSiteByID(ctx(), site.ID)
	must(t, err)
	if again.TimeZone != zone {
		t.Fatalf("a refused update changed the time zone to %q", again.TimeZone)
	}
	_, err = s.UpdateSite(ctx(), 9999, latchkey.SiteUpdate{Name: &name})
	wantCode(t, err, latchkey.ENOTFOUND)

	d, err := s.UpdateDoor(ctx(), door.ID, "  Back door ")
	must(t, err)
	if d.Name != "Back door" {
		t.Fatalf("renamed door %q", d.Name)
	}
	_, err = s.UpdateDoor(ctx(), door.ID, "   ")
	wantCode(t, err, latchkey.EINVALID)

	p := &latchkey.Person{Name: "Ana", Role: latchkey.RoleTenant}
	must(t, s.CreatePerson(ctx(), p))
	phone, role := "+1 555 0100", latchkey.RoleOwner
	up, err := s.UpdatePerson(ctx(), p.ID, latchkey.PersonUpdate{Phone: &phone, Role: &role})
	must(t, err)
	if up.Name != "Ana" || up.Phone != phone || up.Role != latchkey.RoleOwner {
		t.Fatalf("updated person %+v", up)
	}
	wrong := latchkey.PersonRole("landlord")
	_, err = s.UpdatePerson(ctx(), p.ID, latchkey.PersonUpdate{Role: &wrong})
	wantCode(t, err, latchkey.EINVALID)
	last, _, err := s.FindAuditEntries(ctx(), latchkey.AuditFilter{}, latchkey.Page{Limit: 1})
	must(t, err)
	if len(last) != 1 || last[0].Action != "person.update" || strings.Contains(last[0].Detail, phone) {
		t.Fatalf("last audit entry %+v: want person.update, without the phone number", last)
	}
}

// testRevokePerson: revoking everything of a person revokes each code on its own; the
// one that is a lock's last way in stays, and the answer says why (invariant 1).
func testRevokePerson(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	l2, _ := newLock(t, s, "Back")
	ana := &latchkey.Person{Name: "Ana", Role: latchkey.RoleTenant}
	must(t, s.CreatePerson(ctx(), ana))
	owner, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Owner"}, PIN: "482913",
		LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	front, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: ana.ID, Label: "Ana front"}, PIN: "731904",
		LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	back, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: ana.ID, Label: "Ana back"}, PIN: "860412",
		LockIDs: []int64{l2.ID}, Confirmed: true})
	must(t, err)

	r, err := s.RevokePerson(ctx(), ana.ID)
	must(t, err)
	if len(r.Revoked) != 1 || r.Revoked[0] != front.ID {
		t.Fatalf("revoked %v, want only %d", r.Revoked, front.ID)
	}
	why, kept := r.Kept[back.ID]
	if !kept || !strings.Contains(why, "no way in") {
		t.Fatalf("kept %v: want code %d kept as the back lock's last way in", r.Kept, back.ID)
	}
	codes, _, err := s.FindCodes(ctx(), latchkey.CodeFilter{PersonID: &ana.ID}, latchkey.Page{})
	must(t, err)
	for _, c := range codes {
		if c.Revoked != (c.ID == front.ID) {
			t.Fatalf("code %d revoked=%v after revoking Ana", c.ID, c.Revoked)
		}
	}
	others, _, err := s.FindCodes(ctx(), latchkey.CodeFilter{PersonID: &p.ID}, latchkey.Page{})
	must(t, err)
	if len(others) != 1 || others[0].ID != owner.ID || others[0].Revoked {
		t.Fatalf("another person's codes changed: %+v", others)
	}
	// Again: nothing more to revoke, the last way in still kept.
	r, err = s.RevokePerson(ctx(), ana.ID)
	must(t, err)
	if len(r.Revoked) != 0 || len(r.Kept) != 1 {
		t.Fatalf("second revoke %+v", r)
	}
	_, err = s.RevokePerson(ctx(), 9999)
	wantCode(t, err, latchkey.ENOTFOUND)
}
