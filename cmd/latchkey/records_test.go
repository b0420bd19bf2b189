package main_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// storeFlags returns the flags that point the CLI at a fresh store: a temporary data
// directory, plus a fresh PostgreSQL schema for the "postgres" variant.
func storeFlags(t *testing.T, kind string) []string {
	flags := []string{"--data", t.TempDir()}
	if kind == "sqlite" {
		return flags
	}
	base := os.Getenv("LATCHKEY_TEST_POSTGRES")
	if base == "" {
		t.Skip("set LATCHKEY_TEST_POSTGRES=postgres://user@host:5432/db to run the CLI against PostgreSQL")
	}
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatalf("LATCHKEY_TEST_POSTGRES is set but PostgreSQL is not reachable: %v", err)
	}
	defer conn.Close(context.Background())
	schema := fmt.Sprintf("lkcli_%d", time.Now().UnixNano())
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return append(flags, "--db", u.String())
}

func TestRecordsCLI(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			flags := storeFlags(t, kind)
			cli := func(args ...string) result { return runCLI(t, "", append(args, flags...)...) }
			if kind == "postgres" {
				if r := cli("lock", "ls"); r.status != 1 || !strings.Contains(r.stderr, "latchkey migrate") {
					t.Fatalf("before migrating: status %d, %q", r.status, r.stderr)
				}
				if r := cli("migrate"); r.status != 0 || !strings.Contains(r.stdout, "Applied") {
					t.Fatalf("migrate: %d %q %q", r.status, r.stdout, r.stderr)
				}
			}
			steps := [][]string{
				{"site", "add", "Maple Street", "--tz", "America/Chicago"},
				{"door", "add", "--site", "1", "Front door"},
				{"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--smartkey", "--serial", "KW-1", "--purchased", "2025-03-01"},
				{"lock", "add", "--door", "1", "Knob"},
				{"person", "add", "Ana Ruiz", "--role", "tenant"},
				{"lock", "set", "2", "--model", "smartkey"},
			}
			for _, s := range steps {
				if r := cli(s...); r.status != 0 {
					t.Fatalf("%v: status %d, %s", s, r.status, r.stderr)
				}
			}
			var locks struct {
				Items []struct {
					Name, ModelID, Status string
					PurchasedAt           *time.Time `json:"purchased_at"`
				} `json:"items"`
				Total int `json:"total"`
			}
			decode(t, cli("lock", "ls", "--json"), &locks)
			if locks.Total != 2 || locks.Items[0].Status != "ok" || locks.Items[0].PurchasedAt == nil || locks.Items[1].Status != "ok" {
				t.Fatalf("locks: %+v", locks)
			}
			if r := cli("lock", "show", "1"); !strings.Contains(r.stdout, "SmartCode 916") || !strings.Contains(r.stdout, "2025-03-01") {
				t.Errorf("lock show: %s", r.stdout)
			}
			// Mistakes get a reason and what to do.
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"lock", "add", "--door", "1", "X", "--model", "be469"}, "models identify"},
				{[]string{"lock", "add", "--door", "1", "Y", "--purchased", "03/01/2025"}, "YYYY-MM-DD"},
				{[]string{"lock", "show", "abc"}, "not a lock id"},
				{[]string{"lock", "show", "99"}, "No lock with id 99"},
				{[]string{"site", "rm", "1"}, "still has 1 door"},
				{[]string{"person", "add", "Bo", "--role", "boss"}, "Unknown role"},
				{[]string{"site", "add", "Oak", "--tz", "Mars/Base"}, "IANA"},
			} {
				if r := cli(c.args...); r.status != 1 || !strings.Contains(r.stderr, c.want) {
					t.Errorf("%v: status %d, stderr %q; want 1 and %q", c.args, r.status, r.stderr, c.want)
				}
			}
			if r := cli("audit", "verify"); r.status != 0 || !strings.Contains(r.stdout, "6 entries") {
				t.Fatalf("audit verify: %d %q %q", r.status, r.stdout, r.stderr)
			}
		})
	}
}
