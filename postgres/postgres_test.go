package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/postgres/pgtest"
	"github.com/latchkey/latchkey/storetest"
)

// The store passes the contract suite on a fresh schema of each test's own.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store { return MustOpen(t) })
}

// freshSchema returns a URL of an empty schema of the test's own.
func freshSchema(t *testing.T) string { return pgtest.FreshSchema(t, "the PostgreSQL store tests") }

// MustOpen migrates a fresh schema and opens it.
func MustOpen(t *testing.T) *postgres.DB {
	t.Helper()
	db, _ := mustOpenURL(t)
	return db
}

// mustOpenURL is MustOpen that also returns the schema's URL, for a second connection.
func mustOpenURL(t *testing.T) (*postgres.DB, string) {
	t.Helper()
	u := freshSchema(t)
	if _, err := postgres.Migrate(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return db, u
}

// Open refuses a schema that lacks migrations and says what to run.
func TestOpenRefusesOldSchema(t *testing.T) {
	u := freshSchema(t)
	_, err := postgres.Open(context.Background(), u)
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || !strings.Contains(latchkey.ErrorMessage(err), "latchkey migrate") {
		t.Fatalf("Open on an empty schema: %v", err)
	}
	applied, err := postgres.Migrate(context.Background(), u)
	if err != nil || len(applied) == 0 {
		t.Fatalf("Migrate: %v %v", applied, err)
	}
	again, err := postgres.Migrate(context.Background(), u)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Migrate applied %v (%v); want nothing", again, err)
	}
}

func TestBadURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://%zz")
	if latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("got %v, want invalid", err)
	}
}

// The audit log cut short, rewritten with its hashes recomputed, stripped of its
// authentication, or its head removed or moved, through SQL behind the store's back:
// `audit verify` names each (storetest.RunAuditAttacks).
func TestAuditAttacks(t *testing.T) {
	storetest.RunAuditAttacks(t, func(t *testing.T) (latchkey.Store, storetest.Attacker) {
		db, u := mustOpenURL(t)
		raw, err := pgx.Connect(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close(context.Background()) })
		return db, storetest.Attacker{
			Exec:         func(q string) error { _, err := raw.Exec(context.Background(), q); return err },
			DropTriggers: []string{`DROP TRIGGER audit_append_only ON audit`, `DROP TRIGGER audit_head_kept ON audit_head`},
		}
	})
}

// A change that swallows the failure of one of its statements and returns nil is not
// reported kept: PostgreSQL aborted it. It is rolled back alone, and the transaction is
// not given up: the change after it in the same transaction is kept, and runs once.
func TestSwallowedFailureNotKept(t *testing.T) {
	db := MustOpen(t)
	defer db.Close()
	ctx := latchkey.NewContextWithActor(context.Background(), "tester")
	s := storetest.NewService(t, db)
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	if err := s.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	front, back := &latchkey.Door{SiteID: site.ID, Name: "Front"}, &latchkey.Door{SiteID: site.ID, Name: "Back"}
	for _, d := range []*latchkey.Door{front, back} {
		if err := s.CreateDoor(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	swallow := func(tx latchkey.Tx) error {
		if err := tx.CreatePerson(ctx, &latchkey.Person{Name: "Ghost", Role: latchkey.RoleGuest}); err != nil {
			return err
		}
		_ = tx.UpdateDoor(ctx, &latchkey.Door{ID: back.ID, SiteID: site.ID, Name: "Front"}) // a duplicate, ignored
		return nil
	}
	// Hold the writer, then queue the two changes in order behind it.
	running, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- db.Update(ctx, func(latchkey.Tx) error { close(running); <-release; return nil })
	}()
	<-running
	before := db.WriteStats()
	results := make([]chan error, 2)
	for i, fn := range []func() error{
		func() error { return db.Update(ctx, swallow) },
		func() error { return s.CreatePerson(ctx, &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}) },
	} {
		results[i] = make(chan error, 1)
		go func() { results[i] <- fn() }()
		for db.WriteStats().Waiting <= int64(i) {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(time.Millisecond) // from counted to queued on the writer's channel
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	swallowed, kept := <-results[0], <-results[1]
	if swallowed == nil || kept != nil {
		t.Fatalf("the swallowing change returned %v, the next %v; want the first alone to fail", swallowed, kept)
	}
	if st := db.WriteStats(); st.Batches-before.Batches != 1 || st.GivenUp != before.GivenUp {
		t.Fatalf("stats %+v after %+v; want the two changes in one transaction, not given up", st, before)
	}
	people, _, err := s.FindPeople(ctx, latchkey.Page{})
	if err != nil || len(people) != 1 || people[0].Name != "Ana" {
		t.Fatalf("people %v (%v); want Ana alone", people, err)
	}
}
