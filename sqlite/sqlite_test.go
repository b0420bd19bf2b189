package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// MustOpen opens a new database in a temporary directory.
func MustOpen(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(testCtx(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store { return MustOpen(t) })
}

// Opening an existing database applies nothing twice and keeps its records.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	db, err := sqlite.Open(testCtx(), path)
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.NewService(t, db)
	if err := s.CreatePerson(testCtx(), &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(testCtx(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, total, err := storetest.NewService(t, db).FindPeople(testCtx(), latchkey.Page{}); err != nil || total != 1 {
		t.Fatalf("after reopening: %d people, %v", total, err)
	}
	if err := db.IntegrityCheck(testCtx()); err != nil {
		t.Fatal(err)
	}
}

// testCtx is a context acting as a local owner.
func testCtx() context.Context { return latchkey.NewContextWithActor(context.Background(), "tester") }

// A change that panics fails alone: its caller gets an internal error, and the writer
// that serves every caller keeps serving.
func TestPanickingChange(t *testing.T) {
	db := MustOpen(t)
	defer db.Close()
	err := db.Update(testCtx(), func(tx latchkey.Tx) error {
		if err := tx.CreatePerson(testCtx(), &latchkey.Person{Name: "Ghost", Role: latchkey.RoleGuest}); err != nil {
			return err
		}
		panic("a bug in a change")
	})
	if latchkey.ErrorCode(err) != latchkey.EINTERNAL {
		t.Fatalf("a panicking change returned %v, want an internal error", err)
	}
	s := storetest.NewService(t, db)
	if err := s.CreatePerson(testCtx(), &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}); err != nil {
		t.Fatalf("the store after a panicking change: %v", err)
	}
	people, _, err := s.FindPeople(testCtx(), latchkey.Page{})
	if err != nil || len(people) != 1 || people[0].Name != "Ana" {
		t.Fatalf("people %v, %v: want Ana alone", people, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(testCtx(), func(latchkey.Tx) error { return nil }); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a change after Close: %v, want unavailable", err)
	}
}
