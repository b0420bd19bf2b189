// Package pgtest gives tests an empty PostgreSQL schema of their own on the server that
// LATCHKEY_TEST_POSTGRES names. Tests that need it skip, saying how to enable them, when
// the variable is unset, and fail when it is set but the server cannot be reached.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the variable that names the test server.
const Env = "LATCHKEY_TEST_POSTGRES"

var seq atomic.Int64

// FreshSchema creates an empty schema, dropped when the test ends, and returns a URL
// whose connections use it. what says what the skipped tests would have covered.
func FreshSchema(t testing.TB, what string) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skipf("set %s=postgres://user@host:5432/db to run %s against PostgreSQL", Env, what)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", Env, err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is not reachable: %v", Env, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("lktest_%d_%d", time.Now().UnixNano(), seq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
