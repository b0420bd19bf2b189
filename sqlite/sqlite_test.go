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
