package storetest

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
)

// testAgreement holds the cases on which the stores must agree: what one keeps the other
// keeps alike, and what one refuses the other refuses with the same code, in words that
// name no table, column or constraint. Each goes through latchkey.Tx directly (Update and
// View), past the domain's validation, so that it tests the store itself.
func testAgreement(t *testing.T, store latchkey.Store) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, latchkey.Store)
	}{
		{"NULText", agreeNUL},
		{"InvalidUTF8", agreeInvalidUTF8},
		{"LargeIntegers", agreeLargeIntegers},
		{"LongText", agreeLongText},
		{"Times", agreeTimes},
		{"ExplicitIDs", agreeExplicitIDs},
		{"PlainErrors", agreePlainErrors},
		{"LateFailureAlone", agreeLateFailureAlone},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, store) })
	}
}

// fixtureSeq keeps the names of fixtures unique within a store.
var fixtureSeq atomic.Int64

// fixture is a site, a door, a lock and a person, written through the Tx.
type fixture struct {
	site   *latchkey.Site
	door   *latchkey.Door
	lock   *latchkey.Lock
	person *latchkey.Person
}

func newFixture(t *testing.T, store latchkey.Store) fixture {
	t.Helper()
	n := fixtureSeq.Add(1)
	f := fixture{
		site:   &latchkey.Site{Name: fmt.Sprintf("Site %d", n), TimeZone: "UTC", CreatedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		person: &latchkey.Person{Name: fmt.Sprintf("Person %d", n), Role: latchkey.RoleGuest},
	}
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		if err := tx.CreateSite(ctx(), f.site); err != nil {
			return err
		}
		f.door = &latchkey.Door{SiteID: f.site.ID, Name: "Door"}
		if err := tx.CreateDoor(ctx(), f.door); err != nil {
			return err
		}
		f.lock = &latchkey.Lock{DoorID: f.door.ID, Name: "Lock", Status: latchkey.LockOK}
		if err := tx.CreateLock(ctx(), f.lock); err != nil {
			return err
		}
		return tx.CreatePerson(ctx(), f.person)
	}))
	return f
}

// wantPlain fails unless err has the code and a message that names nothing of the
// schema: no identifier with an underscore, no table name, no parenthesised detail.
func wantPlain(t *testing.T, err error, code string) {
	t.Helper()
	wantCode(t, err, code)
	msg := latchkey.ErrorMessage(err)
	for _, name := range []string{"_", "(", "sites", "doors", "locks", "people", "users", "audit", "key_copies", "constraint", "SQLSTATE"} {
		if strings.Contains(msg, name) {
			t.Errorf("the message %q shows %q of the database", msg, name)
		}
	}
}

// Text with a NUL character is refused alike, as invalid, in writes and in lookups.
func agreeNUL(t *testing.T, store latchkey.Store) {
	f := newFixture(t, store)
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreatePerson(ctx(), &latchkey.Person{Name: "Ana\x00Ruiz", Role: latchkey.RoleGuest})
	}), latchkey.EINVALID)
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		l := *f.lock
		l.Notes = "spare key\x00"
		return tx.UpdateLock(ctx(), &l)
	}), latchkey.EINVALID)
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreateCode(ctx(), &latchkey.Code{PersonID: f.person.ID, Label: "x", Schedule: latchkey.Schedule{Kind: "always\x00"}})
	}), latchkey.EINVALID)
	wantPlain(t, store.View(ctx(), func(tx latchkey.Tx) error {
		_, err := tx.FindUserByName(ctx(), "ana\x00")
		return err
	}), latchkey.EINVALID)
}

// Text that is not valid UTF-8 is refused alike, as invalid.
func agreeInvalidUTF8(t *testing.T, store latchkey.Store) {
	f := newFixture(t, store)
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreatePerson(ctx(), &latchkey.Person{Name: "Ana \xff\xfe", Role: latchkey.RoleGuest})
	}), latchkey.EINVALID)
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreateServiceEntry(ctx(), &latchkey.ServiceEntry{LockID: f.lock.ID, At: time.Now(), Actor: "x", Kind: "note", Note: "\xc3\x28"})
	}), latchkey.EINVALID)
	// Valid text beyond ASCII is kept as it is.
	p := &latchkey.Person{Name: "Zoë 李 🔑", Role: latchkey.RoleGuest}
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error { return tx.CreatePerson(ctx(), p) }))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		got, err := tx.FindPersonByID(ctx(), p.ID)
		if err == nil && got.Name != p.Name {
			err = fmt.Errorf("name %q read back as %q", p.Name, got.Name)
		}
		return err
	}))
}

// Integers of 2^31 and more, in every column that holds a Go int, are kept and read back.
func agreeLargeIntegers(t *testing.T, store latchkey.Store) {
	f := newFixture(t, store)
	for _, n := range []int{math.MaxInt32 + 1, 1 << 40, math.MaxInt64} {
		var code *latchkey.Code
		var grant *latchkey.Grant
		var event *latchkey.Event
		var receipt *latchkey.Receipt
		must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
			l := *f.lock
			l.State.BatteryMV = n
			if err := tx.UpdateLock(ctx(), &l); err != nil {
				return err
			}
			code = &latchkey.Code{PersonID: f.person.ID, Label: "big", Schedule: latchkey.Schedule{Kind: latchkey.ScheduleAlways}, UseLimit: n, CreatedAt: time.Now()}
			if err := tx.CreateCode(ctx(), code); err != nil {
				return err
			}
			grant = &latchkey.Grant{CodeID: code.ID, LockID: f.lock.ID, Slot: n, Status: latchkey.GrantPending, UpdatedAt: time.Now()}
			if err := tx.CreateGrant(ctx(), grant); err != nil {
				return err
			}
			event = &latchkey.Event{LockID: f.lock.ID, Kind: latchkey.EventUnlocked, Slot: n, At: time.Now()}
			if err := tx.CreateEvent(ctx(), event); err != nil {
				return err
			}
			receipt = &latchkey.Receipt{LockID: f.lock.ID, Name: "r.pdf", ContentType: "application/pdf", Size: n, SHA256: "x", AddedAt: time.Now(), Data: []byte("%PDF")}
			return tx.CreateReceipt(ctx(), receipt)
		}))
		must(t, store.View(ctx(), func(tx latchkey.Tx) error {
			l, err := tx.FindLockByID(ctx(), f.lock.ID)
			if err != nil {
				return err
			}
			c, err := tx.FindCodeByID(ctx(), code.ID)
			if err != nil {
				return err
			}
			grants, err := tx.FindGrants(ctx(), latchkey.GrantFilter{CodeID: &code.ID})
			if err != nil || len(grants) != 1 {
				return fmt.Errorf("grants of the code: %v, %v", grants, err)
			}
			events, err := tx.FindEvents(ctx(), f.lock.ID, 1)
			if err != nil || len(events) != 1 {
				return fmt.Errorf("events of the lock: %v, %v", events, err)
			}
			receipts, err := tx.FindReceipts(ctx(), f.lock.ID, false)
			if err != nil || len(receipts) == 0 {
				return fmt.Errorf("receipts of the lock: %v, %v", receipts, err)
			}
			for what, got := range map[string]int{"battery_mv": l.State.BatteryMV, "use_limit": c.UseLimit, "slot": grants[0].Slot,
				"event slot": events[0].Slot, "size": receipts[len(receipts)-1].Size} {
				if got != n {
					t.Errorf("%s %d read back as %d", what, n, got)
				}
			}
			return nil
		}))
	}
}

// Text of 1 MiB is kept whole where it is free text, and refused alike, as invalid, in
// a column that identifies a record (an indexed name).
func agreeLongText(t *testing.T, store latchkey.Store) {
	f := newFixture(t, store)
	long := strings.Repeat("Ünïcode and ASCII, ", 1<<20/20)
	p := &latchkey.Person{Name: long, Role: latchkey.RoleGuest}
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		if err := tx.CreatePerson(ctx(), p); err != nil {
			return err
		}
		l := *f.lock
		l.Notes = long
		return tx.UpdateLock(ctx(), &l)
	}))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		got, err := tx.FindPersonByID(ctx(), p.ID)
		if err != nil {
			return err
		}
		l, err := tx.FindLockByID(ctx(), f.lock.ID)
		if err != nil {
			return err
		}
		if got.Name != long || l.Notes != long {
			return fmt.Errorf("1 MiB of text read back as %d and %d bytes", len(got.Name), len(l.Notes))
		}
		return nil
	}))
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreateDoor(ctx(), &latchkey.Door{SiteID: f.site.ID, Name: long})
	}), latchkey.EINVALID)
}

// Times read back in UTC to the microsecond; a year outside 1 to 9999 is refused alike.
func agreeTimes(t *testing.T, store latchkey.Store) {
	at := time.Date(2026, 7, 4, 9, 30, 15, 123456789, time.FixedZone("EDT", -4*3600))
	s := &latchkey.Site{Name: "Timely", TimeZone: "UTC", CreatedAt: at}
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error { return tx.CreateSite(ctx(), s) }))
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		got, err := tx.FindSiteByID(ctx(), s.ID)
		if err == nil && (!got.CreatedAt.Equal(at.Truncate(time.Microsecond)) || got.CreatedAt.Location() != time.UTC) {
			err = fmt.Errorf("%v read back as %v", at, got.CreatedAt)
		}
		return err
	}))
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreateSite(ctx(), &latchkey.Site{Name: "Far", TimeZone: "UTC", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	}), latchkey.EINVALID)
}

// A record created with an explicit id (as a restore does) keeps it, and records the
// store numbers later come after it: a smaller explicit id moves nothing back.
func agreeExplicitIDs(t *testing.T, store latchkey.Store) {
	var last int64
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		people, _, err := tx.FindPeople(ctx(), latchkey.Page{Offset: 0, Limit: 1000})
		for _, p := range people {
			last = max(last, p.ID)
		}
		return err
	}))
	create := func(id int64) int64 {
		t.Helper()
		p := &latchkey.Person{ID: id, Name: fmt.Sprintf("Restored %d", id), Role: latchkey.RoleGuest}
		must(t, store.Update(ctx(), func(tx latchkey.Tx) error { return tx.CreatePerson(ctx(), p) }))
		if id != 0 && p.ID != id {
			t.Fatalf("explicit id %d stored as %d", id, p.ID)
		}
		return p.ID
	}
	high := last + 1000
	create(high)
	if got := create(0); got <= high {
		t.Fatalf("after explicit id %d the store numbered a new record %d", high, got)
	}
	create(last + 500) // below the highest: a gap restored
	if got := create(0); got <= high+1 {
		t.Fatalf("after explicit ids %d and %d the store numbered a new record %d", high, last+500, got)
	}
	wantPlain(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreatePerson(ctx(), &latchkey.Person{ID: high, Name: "Twin", Role: latchkey.RoleGuest})
	}), latchkey.ECONFLICT)

	// Within one change too, and for a key's copies.
	f := newFixture(t, store)
	k := &latchkey.Key{ID: high, SiteID: f.site.ID, Label: "Restored key", Keyway: "KW1", Bitting: "12345", State: latchkey.KeyActive,
		CreatedAt: time.Now(), Copies: []latchkey.KeyCopy{{ID: high, State: latchkey.CopyHeld}, {ID: high + 1, State: latchkey.CopyHeld}}}
	must(t, store.Update(ctx(), func(tx latchkey.Tx) error {
		if err := tx.CreateKey(ctx(), k); err != nil {
			return err
		}
		k.Copies = append(k.Copies, latchkey.KeyCopy{State: latchkey.CopyHeld})
		return tx.UpdateKey(ctx(), k)
	}))
	if ids := []int64{k.ID, k.Copies[0].ID, k.Copies[1].ID}; ids[0] != high || ids[1] != high || ids[2] != high+1 {
		t.Fatalf("restored key and copies have ids %v", ids)
	}
	if k.Copies[2].ID <= high+1 {
		t.Fatalf("a new copy after restored ones has id %d", k.Copies[2].ID)
	}
}

// A duplicate, a reference to a missing record and a record still referred to are
// conflicts, told in plain words.
func agreePlainErrors(t *testing.T, store latchkey.Store) {
	f := newFixture(t, store)
	for what, fn := range map[string]func(tx latchkey.Tx) error{
		"duplicate door": func(tx latchkey.Tx) error {
			return tx.CreateDoor(ctx(), &latchkey.Door{SiteID: f.site.ID, Name: f.door.Name})
		},
		"door of a missing site": func(tx latchkey.Tx) error {
			return tx.CreateDoor(ctx(), &latchkey.Door{SiteID: f.site.ID + 1000, Name: "Nowhere"})
		},
		"site with doors": func(tx latchkey.Tx) error { return tx.DeleteSite(ctx(), f.site.ID) },
		"duplicate user": func(tx latchkey.Tx) error {
			u := latchkey.User{Name: fmt.Sprintf("user%d", f.site.ID), Role: latchkey.UserViewer, PasswordHash: "h", CreatedAt: time.Now()}
			if err := tx.CreateUser(ctx(), &u); err != nil {
				return err
			}
			u.ID = 0
			return tx.CreateUser(ctx(), &u)
		},
	} {
		t.Run(what, func(t *testing.T) { wantPlain(t, store.Update(ctx(), fn), latchkey.ECONFLICT) })
	}
}

// A change whose last statement fails (an audit entry whose place is taken), in one
// shared transaction with changes that succeed, fails alone and leaves nothing behind.
func agreeLateFailureAlone(t *testing.T, store latchkey.Store) {
	stats, ok := store.(interface{ WriteStats() groupcommit.Stats })
	if !ok {
		t.Fatalf("%T does not report its group commits (WriteStats)", store)
	}
	s := NewService(t, store)
	_, before, err := s.FindPeople(ctx(), latchkey.Page{})
	must(t, err)
	must(t, s.CreatePerson(ctx(), &latchkey.Person{Name: "First", Role: latchkey.RoleGuest})) // the log is not empty
	running, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- store.Update(ctx(), func(latchkey.Tx) error {
			close(running)
			<-release
			return nil
		})
	}()
	<-running
	const n = 9
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("Late %d", i)
			if i%3 != 1 {
				results[i] = s.CreatePerson(ctx(), &latchkey.Person{Name: name, Role: latchkey.RoleGuest})
				return
			}
			results[i] = store.Update(ctx(), func(tx latchkey.Tx) error {
				if err := tx.CreatePerson(ctx(), &latchkey.Person{Name: name, Role: latchkey.RoleGuest}); err != nil {
					return err
				}
				e := &latchkey.AuditEntry{Seq: 1, At: time.Now(), Actor: "tester", Action: "person.create", Entity: "person"}
				e.Hash = "taken"
				return tx.AppendAudit(ctx(), e)
			})
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); stats.WriteStats().Waiting < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d changes queued behind the busy writer", stats.WriteStats().Waiting, n)
		}
	}
	close(release)
	wg.Wait()
	must(t, <-holder)
	for i, err := range results {
		switch {
		case i%3 != 1 && err != nil:
			t.Errorf("change %d failed beside a late failure: %v", i, err)
		case i%3 == 1 && latchkey.ErrorCode(err) != latchkey.ECONFLICT:
			t.Errorf("change %d, whose audit entry's place is taken, returned %v; want a conflict", i, err)
		}
	}
	people, total, err := s.FindPeople(ctx(), latchkey.Page{Limit: 1000})
	must(t, err)
	if want := before + 1 + 2*n/3; total != want {
		t.Errorf("%d people, want %d", total, want)
	}
	for _, p := range people {
		var i int
		if _, err := fmt.Sscanf(p.Name, "Late %d", &i); err == nil && i%3 == 1 {
			t.Errorf("%s was kept, but its change failed", p.Name)
		}
	}
	_, err = s.VerifyAuditLog(ctx())
	must(t, err)
}
