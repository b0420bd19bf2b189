package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/storetest"
)

// testURL returns the server to test against, or skips: these tests need a real
// PostgreSQL. When the variable is set, failing to connect fails the test.
func testURL(t *testing.T) string {
	u := os.Getenv("LATCHKEY_TEST_POSTGRES")
	if u == "" {
		t.Skip("set LATCHKEY_TEST_POSTGRES=postgres://user@host:5432/db to run the PostgreSQL store tests")
	}
	return u
}

var schemaSeq atomic.Int64

// freshSchema creates an empty schema and returns a URL whose connections use it.
func freshSchema(t *testing.T) string {
	base := testURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("LATCHKEY_TEST_POSTGRES is set but PostgreSQL is not reachable: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("lktest_%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store { return MustOpen(t) })
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
