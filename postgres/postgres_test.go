package postgres_test

import (
	"context"
	"strings"
	"testing"

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
	u := freshSchema(t)
	if _, err := postgres.Migrate(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return db
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
