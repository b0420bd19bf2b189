package main_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/latchkey/latchkey/postgres/pgtest"
)

// storeFlags returns the flags that point the CLI at a fresh store: a temporary data
// directory, plus a fresh PostgreSQL schema for the "postgres" variant.
func storeFlags(t *testing.T, kind string) []string {
	flags := []string{"--data", t.TempDir()}
	if kind == "sqlite" {
		return flags
	}
	return append(flags, "--db", pgtest.FreshSchema(t, "the CLI"))
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
				if r := cli("migrate"); r.status != 0 || !strings.Contains(r.stdout, "Applied") || !strings.Contains(r.stdout, "job queue") {
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
				{[]string{"site", "add", "Oak", "--tz", "Mars/Base"}, "IANA"},
			} {
				if r := cli(c.args...); r.status != 1 || !strings.Contains(r.stderr, c.want) {
					t.Errorf("%v: status %d, stderr %q; want 1 and %q", c.args, r.status, r.stderr, c.want)
				}
			}
			if r := cli("person", "add", "Bo", "--role", "boss"); r.status != 2 || !strings.Contains(r.stderr, "Unknown role") {
				t.Errorf("a wrong --role: status %d, %q; want 2, a usage error", r.status, r.stderr)
			}
			// Records change in place; a refused change changes nothing.
			if r := cli("site", "set", "1", "--tz", "Mars/Base"); r.status != 1 || !strings.Contains(r.stderr, "IANA") {
				t.Errorf("site set --tz Mars/Base: %d %q", r.status, r.stderr)
			}
			if r := cli("site", "set", "1"); r.status != 2 || !strings.Contains(r.stderr, "say what to change") {
				t.Errorf("site set with nothing to change: %d %q", r.status, r.stderr)
			}
			for _, s := range [][]string{{"site", "set", "1", "--address", "12 Maple St"}, {"door", "set", "1", "--name", "Front"},
				{"person", "set", "1", "--phone", "555 0100", "--role", "family"}} {
				if r := cli(s...); r.status != 0 {
					t.Fatalf("%v: status %d, %s", s, r.status, r.stderr)
				}
			}
			if r := cli("site", "show", "1"); !strings.Contains(r.stdout, "12 Maple St") || !strings.Contains(r.stdout, "America/Chicago") || !strings.Contains(r.stdout, "Front") {
				t.Errorf("site show after set: %s", r.stdout)
			}
			if r := cli("key", "add", "--site", "1", "--bitting", "35242", "House key", "--holder", "1"); r.status != 0 {
				t.Fatalf("key add: %s", r.stderr)
			}
			if r := cli("person", "show", "1"); !strings.Contains(r.stdout, "Ana Ruiz (family), 555 0100") || !strings.Contains(r.stdout, "key 1 (House key): copy 1, held") {
				t.Errorf("person show after set, with the key copy she holds: %s", r.stdout)
			}
			if r := cli("audit", "verify"); r.status != 0 || !strings.Contains(r.stdout, "10 entries") {
				t.Fatalf("audit verify: %d %q %q", r.status, r.stdout, r.stderr)
			}
		})
	}
}

// Done when: removing the last working credential of a lock is refused with exit status
// 3 and a reason that says what to do instead.
func TestUnsafeExitStatus(t *testing.T) {
	flags := storeFlags(t, "sqlite")
	cli := func(args ...string) result { return runCLI(t, "", append(args, flags...)...) }
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916"}, {"person", "add", "Ana", "--role", "owner"},
		{"code", "add", "--person", "1", "--lock", "1", "Only code", "--confirmed"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %s", s, r.stderr)
		}
	}
	r := cli("code", "rm", "1")
	if r.status != 3 || !strings.Contains(r.stderr, "no way in") || !strings.Contains(r.stderr, "first add and confirm another code") {
		t.Fatalf("status %d, stderr %q; want 3 and what to do", r.status, r.stderr)
	}
	r = cli("person", "revoke", "1")
	if r.status != 3 || !strings.Contains(r.stdout, "Kept code 1: ") || !strings.Contains(r.stderr, "1 code kept") {
		t.Fatalf("person revoke keeping the last way in: status %d, %q %q; want 3", r.status, r.stdout, r.stderr)
	}
	r = cli("code", "rm", "1", "--json")
	var body struct {
		Error struct{ Code, Message string }
	}
	decode(t, r, &body)
	if r.status != 3 || body.Error.Code != "unsafe" {
		t.Fatalf("--json: status %d %+v", r.status, body)
	}
}

// A lock's connection is cleared with lock set --disconnect, which is what the refusal to
// remove a connected lock points at; one connection reaches one lock; an unknown status
// to list by is refused.
func TestLockDisconnectCLI(t *testing.T) {
	flags := storeFlags(t, "sqlite")
	cli := func(args ...string) result { return runCLI(t, "", append(args, flags...)...) }
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--driver", "sim", "--address", "front"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %s", s, r.stderr)
		}
	}
	if r := cli("lock", "add", "--door", "1", "Knob", "--model", "916", "--driver", "sim", "--address", "front"); r.status != 1 || !strings.Contains(r.stderr, "Lock 1 (Deadbolt) is already connected") {
		t.Errorf("a second lock on one connection: %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "ls", "--status", "bogus"); r.status != 1 || !strings.Contains(r.stderr, "Unknown lock status") {
		t.Errorf("lock ls --status bogus: %d %q", r.status, r.stderr)
	}
	r := cli("lock", "rm", "1")
	if r.status != 3 || !strings.Contains(r.stderr, "latchkey lock set 1 --disconnect") {
		t.Fatalf("removing a connected lock: %d %q; want 3, pointing at --disconnect", r.status, r.stderr)
	}
	var l struct {
		Connection struct{ Driver, Address string }
	}
	decode(t, cli("lock", "set", "1", "--disconnect", "--json"), &l)
	if l.Connection.Driver != "" || l.Connection.Address != "" {
		t.Fatalf("after --disconnect: %+v", l)
	}
	if r := cli("lock", "rm", "1"); r.status != 0 {
		t.Fatalf("removing the disconnected lock: %d %q", r.status, r.stderr)
	}
}

// Done when: changing one byte of one audit entry makes 'latchkey audit verify' fail and
// name that entry.
func TestAuditVerifyNamesTamperedEntry(t *testing.T) {
	flags := storeFlags(t, "sqlite")
	for _, s := range [][]string{{"site", "add", "Home"}, {"site", "add", "Cabin"}, {"site", "add", "Shop"}} {
		runCLI(t, "", append(s, flags...)...)
	}
	db, err := sql.Open("sqlite", filepath.Join(flags[1], "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `UPDATE audit SET detail = replace(detail, 'Cabin', 'Cabim') WHERE seq = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	r := runCLI(t, "", append([]string{"audit", "verify"}, flags...)...)
	if r.status != 1 || !strings.Contains(r.stderr, "entry 2") {
		t.Fatalf("status %d, stderr %q; want 1 naming entry 2", r.status, r.stderr)
	}
}

func TestLockRecordsCLI(t *testing.T) {
	flags := storeFlags(t, "sqlite")
	cli := func(args ...string) result { return runCLI(t, "", append(args, flags...)...) }
	receipt := filepath.Join(t.TempDir(), "receipt.pdf")
	os.WriteFile(receipt, []byte("%PDF-1.4 receipt from the hardware store"), 0o644)
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--purchased", "2025-03-01", "--serial", "KW-42"},
		{"person", "add", "Ana", "--role", "owner"}, {"key", "add", "--site", "1", "--bitting", "35242", "--holder", "1", "House key"},
		{"lock", "set", "1", "--key", "1"}, {"code", "add", "--person", "1", "--lock", "1", "Ana's code", "--confirmed"},
		{"lock", "log", "1", "New batteries", "--kind", "battery"}, {"lock", "log", "1", "Oiled the cylinder", "--kind", "repair", "--deviates"},
		{"lock", "receipt", "add", "1", receipt}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %s", s, r.stderr)
		}
	}
	pin := strings.TrimSpace(cli("code", "reveal", "1").stdout)
	sheet := cli("lock", "sheet", "1").stdout
	for _, want := range []string{"<title>Record sheet: Deadbolt, Home</title>", "KW-42", "House key", "<svg", "Ana&#39;s code",
		"warranty-relevant", "receipt.pdf", "unconfirmed", "2025-03-01"} {
		if !strings.Contains(sheet, want) {
			t.Errorf("the record sheet lacks %q", want)
		}
	}
	if strings.Contains(sheet, pin) {
		t.Error("the record sheet prints a code's digits")
	}
	out := filepath.Join(t.TempDir(), "back.pdf")
	if r := cli("lock", "receipt", "get", "1", "1", "-o", out); r.status != 0 {
		t.Fatal(r.stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != "%PDF-1.4 receipt from the hardware store" {
		t.Errorf("receipt read back as %q", got)
	}
	big := filepath.Join(t.TempDir(), "big.jpg")
	os.WriteFile(big, make([]byte, 11<<20), 0o644)
	if r := cli("lock", "receipt", "add", "1", big); r.status != 1 || !strings.Contains(r.stderr, "10 MiB") {
		t.Errorf("11 MiB receipt: %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "show", "1"); !strings.Contains(r.stdout, "[warranty-relevant]") || !strings.Contains(r.stdout, "Warranty:   unknown") {
		t.Errorf("lock show:\n%s", r.stdout)
	}
}

// In a directory holding a demo, a command never quietly works on other records: with
// the demo stopped, a record command says so and what it uses instead; a command that
// works on a data directory (backup) asks for it to be named; a backup of a data
// directory with no records is refused rather than made empty.
func TestDemoDirectoryRule(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("LATCHKEY_DATA", "")
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("latchkey-demo", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("latchkey-demo", "DEMO-DATA-DELETED-ON-EACH-RUN"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "lock", "ls"); r.status != 0 || !strings.Contains(r.stderr, "is not running") {
		t.Errorf("lock ls beside a stopped demo: %d %q; want a word that the demo is not running", r.status, r.stderr)
	}
	if r := runCLI(t, "", "backup", "b.json"); r.status != 2 || !strings.Contains(r.stderr, "--data ./latchkey-demo") {
		t.Errorf("backup beside a demo: %d %q; want exit 2 asking for the data directory", r.status, r.stderr)
	}
	if r := runCLI(t, "", "backup", "b.json", "--data", filepath.Join(t.TempDir(), "none")); r.status != 1 || !strings.Contains(r.stderr, "no records") {
		t.Errorf("backup of an empty data directory: %d %q", r.status, r.stderr)
	}
	if _, err := os.Stat("b.json"); err == nil {
		t.Error("a backup file was written")
	}
}
