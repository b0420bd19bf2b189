package storetest

import (
	"errors"
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

	// Within one transaction shared by several changes: a new record before an explicit
	// id, and one after it, as when a restore shares a batch with new records.
	people := []*latchkey.Person{{Name: "Numbered before"}, {ID: high + 100, Name: "Explicit"}, {Name: "Numbered after"}}
	var changes []func() error
	for _, p := range people {
		p.Role = latchkey.RoleGuest
		changes = append(changes, func() error {
			return store.Update(ctx(), func(tx latchkey.Tx) error { return tx.CreatePerson(ctx(), p) })
		})
	}
	for i, err := range inOneBatch(t, store, changes...) {
		must(t, err)
		if people[i].ID == 0 {
			t.Fatalf("%s was given no id", people[i].Name)
		}
	}
	if people[1].ID != high+100 || people[0].ID <= high+1 || people[0].ID == people[2].ID || people[2].ID <= high+100 {
		t.Fatalf("in one batch, around explicit id %d, the store numbered new records %d and %d", high+100, people[0].ID, people[2].ID)
	}
	if got := create(0); got <= high+100 || got == people[2].ID {
		t.Fatalf("after a batch with explicit id %d the store numbered a new record %d", high+100, got)
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

// writeStats returns the store's report of its group commits.
func writeStats(t *testing.T, store latchkey.Store) interface{ WriteStats() groupcommit.Stats } {
	t.Helper()
	stats, ok := store.(interface{ WriteStats() groupcommit.Stats })
	if !ok {
		t.Fatalf("%T does not report its group commits (WriteStats)", store)
	}
	return stats
}

// holdWriter keeps the store's writer busy until release is called, so that the
// changes queued meanwhile share one transaction.
func holdWriter(t *testing.T, store latchkey.Store) (release func()) {
	t.Helper()
	running, done := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- store.Update(ctx(), func(latchkey.Tx) error {
			close(running)
			<-done
			return nil
		})
	}()
	<-running
	return func() {
		close(done)
		must(t, <-holder)
	}
}

// inOneBatch calls each of fns, each of which makes one change, in a goroutine of its
// own, queued one after another behind the busy writer, so that the changes share one
// transaction in that order; it returns what each returned.
func inOneBatch(t *testing.T, store latchkey.Store, fns ...func() error) []error {
	t.Helper()
	stats := writeStats(t, store)
	release := holdWriter(t, store)
	defer func() {
		if release != nil {
			release() // so that the store closes
		}
	}()
	waitFor := func(what string, done func(waiting int64) bool) {
		for deadline := time.Now().Add(30 * time.Second); !done(stats.WriteStats().Waiting); time.Sleep(100 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d changes waiting", what, stats.WriteStats().Waiting)
			}
		}
	}
	// The holder's own request counts as waiting until its Update sees it taken.
	waitFor("the holding change was not taken", func(n int64) bool { return n == 0 })
	before := stats.WriteStats()
	results := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = fn()
		}()
		waitFor(fmt.Sprintf("change %d did not queue", i), func(n int64) bool { return n > int64(i) })
		time.Sleep(time.Millisecond) // from counted to queued on the writer's channel
	}
	release()
	release = nil
	wg.Wait()
	if after := stats.WriteStats(); after.Batches-before.Batches != 1 || after.Changes-before.Changes != int64(len(fns)) {
		t.Fatalf("the %d changes ran as %d changes in %d batches; want them in one", len(fns),
			after.Changes-before.Changes, after.Batches-before.Batches)
	}
	return results
}

// testLateFailureRerun restores a backup into the empty store, then makes changes
// that share one transaction, one of which fails late. On PostgreSQL a door's INSERT is
// sent after its change ended, so a name taken by a change before it in the same
// transaction is found late, after the changes behind it sealed their audit entries on
// its own; SQLite finds it at once. Either way the failing change is answered with a
// conflict and takes nothing else with it: every other change is kept once, with the
// ids it was answered with, after the restored ones, and the audit log verifies.
func testLateFailureRerun(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	restored := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	site := &latchkey.Site{ID: 500, Name: "Restored site", TimeZone: "UTC", CreatedAt: restored}
	key := &latchkey.Key{ID: 800, SiteID: site.ID, Label: "Restored key", Keyway: "KW1", Bitting: "12345", State: latchkey.KeyActive, CreatedAt: restored,
		Copies: []latchkey.KeyCopy{{ID: 900, Location: "Drawer", State: latchkey.CopyHeld}, {ID: 901, Location: "Safe", State: latchkey.CopyHeld}}}
	must(t, s.Restore(ctx(), &latchkey.Backup{Format: latchkey.BackupFormat, Version: latchkey.BackupVersion, Created: restored,
		Records: latchkey.Records{
			Sites:  []*latchkey.Site{site},
			Doors:  []*latchkey.Door{{ID: 600, SiteID: site.ID, Name: "Restored door"}},
			People: []*latchkey.Person{{ID: 700, Name: "Restored person", Role: latchkey.RoleOwner}},
			Keys:   []*latchkey.Key{key},
		}}))
	for _, c := range []struct {
		name     string
		midBatch bool // a change after the failing one reads, and finds the failure
	}{{"MidBatch", true}, {"AtCommit", false}} {
		t.Run(c.name, func(t *testing.T) { lateFailureRerun(t, store, s, c.name, c.midBatch) })
	}
}

func lateFailureRerun(t *testing.T, store latchkey.Store, s *latchkey.Service, name string, midBatch bool) {
	entriesBefore, err := s.VerifyAuditLog(ctx())
	must(t, err)
	copiesBefore := keyCopies(t, s, 800)
	boom := errors.New("boom")
	var (
		newKey = &latchkey.Key{SiteID: 500, Label: "New key " + name, Keyway: "KW1", Bitting: "23456", State: latchkey.KeyActive,
			Copies: []latchkey.KeyCopy{{Location: "Desk", State: latchkey.CopyHeld}}}
		first  = &latchkey.Door{SiteID: 500, Name: "Side " + name}
		second = &latchkey.Door{SiteID: 500, Name: "Side " + name} // taken by first
		third  = &latchkey.Door{SiteID: 500, Name: "Back " + name}
		people = []*latchkey.Person{{Name: "After 1 " + name}, {Name: "After 2 " + name}}
	)
	changes := []func() error{
		func() error {
			_, err := s.AddKeyCopy(ctx(), 800, latchkey.KeyCopy{Location: "Hook " + name, State: latchkey.CopyHeld})
			return err
		},
		func() error { return s.CreateKey(ctx(), newKey) },
		func() error { // fails early, after numbering a person
			return store.Update(ctx(), func(tx latchkey.Tx) error {
				if err := tx.CreatePerson(ctx(), &latchkey.Person{Name: "Boom " + name, Role: latchkey.RoleGuest}); err != nil {
					return err
				}
				return boom
			})
		},
		func() error { return s.CreateDoor(ctx(), first) },
		func() error { return s.CreateDoor(ctx(), second) },
	}
	if midBatch {
		changes = append(changes, func() error { return s.CreateDoor(ctx(), third) })
	}
	for _, p := range people {
		p.Role = latchkey.RoleGuest
		changes = append(changes, func() error { return s.CreatePerson(ctx(), p) })
	}
	results := inOneBatch(t, store, changes...)
	for i, err := range results {
		switch {
		case i == 2 && !errors.Is(err, boom):
			t.Errorf("the change that fails early returned %v, want its own error", err)
		case i == 4 && latchkey.ErrorCode(err) != latchkey.ECONFLICT:
			t.Errorf("the second door of the same name returned %v, want a conflict", err)
		case i != 2 && i != 4 && err != nil:
			t.Errorf("change %d failed: %v", i, err)
		}
	}

	// Every other change is kept once, with the ids it was answered with, after the
	// restored ones.
	doors, _, err := s.FindDoors(ctx(), latchkey.DoorFilter{}, latchkey.Page{Limit: 1000})
	must(t, err)
	wantDoors := map[string]int64{first.Name: first.ID}
	if midBatch {
		wantDoors[third.Name] = third.ID
	}
	for _, d := range doors {
		if want, ok := wantDoors[d.Name]; ok {
			if d.ID != want || d.ID <= 600 {
				t.Errorf("door %q kept as %d, answered as %d; want one, numbered after the restored 600", d.Name, d.ID, want)
			}
			delete(wantDoors, d.Name)
		} else if strings.HasSuffix(d.Name, name) {
			t.Errorf("door %q (%d) kept again", d.Name, d.ID)
		}
	}
	for n := range wantDoors {
		t.Errorf("door %q was not kept", n)
	}
	all, _, err := s.FindPeople(ctx(), latchkey.Page{Limit: 1000})
	must(t, err)
	kept := map[string][]int64{}
	for _, p := range all {
		kept[p.Name] = append(kept[p.Name], p.ID)
	}
	for _, p := range people {
		if ids := kept[p.Name]; len(ids) != 1 || ids[0] != p.ID || p.ID <= 700 {
			t.Errorf("%s kept as %v, answered as %d; want once, numbered after the restored 700", p.Name, ids, p.ID)
		}
	}
	if ids := kept["Boom "+name]; len(ids) != 0 {
		t.Errorf("the person of the change that failed was kept: %v", ids)
	}
	if got := keyCopies(t, s, 800); len(got) != len(copiesBefore)+1 || got[len(got)-1] <= 901 {
		t.Errorf("the restored key's copies went from %v to %v; want one more, numbered after the restored 901", copiesBefore, got)
	}
	keys, _, err := s.FindKeys(ctx(), latchkey.KeyFilter{}, latchkey.Page{Limit: 1000})
	must(t, err)
	var found []int64
	for _, k := range keys {
		if k.Label == newKey.Label {
			found = append(found, k.ID)
			if len(k.Copies) != 1 || k.Copies[0].ID != newKey.Copies[0].ID || k.Copies[0].ID <= 901 {
				t.Errorf("the new key's copies %+v, answered as %+v; want one, numbered after the restored 901", k.Copies, newKey.Copies)
			}
		}
	}
	if len(found) != 1 || found[0] != newKey.ID || newKey.ID <= 800 {
		t.Errorf("the new key kept as %v, answered as %d; want once, numbered after the restored 800", found, newKey.ID)
	}

	// The audit log verifies, and holds one entry for each kept change, naming what
	// it was answered with.
	n, err := s.VerifyAuditLog(ctx())
	must(t, err)
	want := map[string]bool{"key 800": true, fmt.Sprintf("key %d", newKey.ID): true, fmt.Sprintf("door %d", first.ID): true,
		fmt.Sprintf("person %d", people[0].ID): true, fmt.Sprintf("person %d", people[1].ID): true}
	if midBatch {
		want[fmt.Sprintf("door %d", third.ID)] = true
	}
	if n != entriesBefore+len(want) {
		t.Errorf("%d audit entries after %d, want %d more", n, entriesBefore, len(want))
	}
	entries, err := s.RecentAudit(ctx(), n-entriesBefore)
	must(t, err)
	for _, e := range entries {
		if what := fmt.Sprintf("%s %d", e.Entity, e.EntityID); !want[what] {
			t.Errorf("audit entry %d names %s, which no kept change was answered with", e.Seq, what)
		}
	}
	// The new key's bitting was sealed for the id it was answered with.
	if b, err := s.RevealBitting(ctx(), newKey.ID); err != nil || b != "23456" {
		t.Errorf("the new key's bitting reads back as %q (%v)", b, err)
	}
}

// keyCopies returns the ids of a key's copies, in order.
func keyCopies(t *testing.T, s *latchkey.Service, keyID int64) []int64 {
	t.Helper()
	k, err := s.FindKeyByID(ctx(), keyID)
	must(t, err)
	var ids []int64
	for _, c := range k.Copies {
		ids = append(ids, c.ID)
	}
	return ids
}
