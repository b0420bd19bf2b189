package main_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// Done when: backup, restore into a fresh data directory, export: equal to the export
// before the backup. The backup is restored into the embedded store and, when enabled,
// into PostgreSQL (the format is the same for both).
func TestBackupRestoreRoundTrip(t *testing.T) {
	src := storeFlags(t, "sqlite")
	cli := func(flags []string, stdin string, args ...string) result {
		t.Helper()
		r := runCLI(t, stdin, append(args, flags...)...)
		if r.status != 0 {
			t.Fatalf("%v: status %d: %s", args, r.status, r.stderr)
		}
		return r
	}
	for _, s := range [][]string{
		{"site", "add", "Maple Street", "--tz", "America/Chicago"}, {"door", "add", "--site", "1", "Front"},
		{"door", "add", "--site", "1", "Garage"}, {"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--purchased", "2025-03-01"},
		{"lock", "add", "--door", "2", "Keypad", "--model", "910"}, {"person", "add", "Ana", "--role", "owner"},
		{"person", "add", "Guest", "--role", "guest"}, {"key", "add", "--site", "1", "--bitting", "35242", "--holder", "1", "--spare", "drawer", "House key"},
		{"lock", "set", "1", "--key", "1"}, {"code", "add", "--person", "1", "--lock", "1,2", "Ana", "--confirmed"},
		{"code", "add", "--person", "2", "--lock", "2", "Weekend", "--weekly", "sat-sun 10:00-18:00"},
		{"person", "rm", "2"}, // fails: the guest holds a code; ids keep their gaps otherwise
	} {
		if s[0] == "person" && s[1] == "rm" {
			runCLI(t, "", append(s, src...)...)
			continue
		}
		cli(src, "", s...)
	}
	cli(src, "", "code", "rm", "2")
	// A lock on a hub reports a code set at its keypad in a slot Latchkey does not own.
	cli(src, "", "lock", "add", "--door", "2", "Side", "--model", "916", "--driver", "sim", "--address", "side")
	noteKeypadCode(t, src[1], "side", 4)
	if r := cli(src, "", "lock", "slots", "3"); !strings.Contains(r.stdout, "to adopt or clear") {
		t.Fatalf("lock slots 3 before the backup:\n%s", r.stdout)
	}
	cli(src, "", "lock", "log", "1", "Rekeyed after move-in", "--kind", "rekey")
	// A hub, its broker password sealed inside the backup like the PINs.
	cli(src, "hub-password-77\n", "hub", "add", "zigbee2mqtt", "mqtt://broker:1883", "--username", "lk", "--password-stdin")
	receipt := filepath.Join(t.TempDir(), "receipt.pdf")
	os.WriteFile(receipt, []byte("%PDF-1.4 receipt"), 0o644)
	cli(src, "", "lock", "receipt", "add", "1", receipt)
	before := cli(src, "", "export").stdout
	pin := strings.TrimSpace(cli(src, "", "code", "reveal", "1").stdout)
	file := filepath.Join(t.TempDir(), "backup.json")
	cli(src, "", "backup", file)
	raw, _ := os.ReadFile(file)
	if bytes.Contains(raw, []byte(pin)) {
		t.Fatal("the backup contains a code in plaintext")
	}
	if bytes.Contains(raw, []byte("hub-password-77")) || !bytes.Contains(raw, []byte(`"sealed_hub_secrets"`)) {
		t.Fatal("the backup holds the hub's password in plaintext, or not at all")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			dst := storeFlags(t, kind)
			if kind == "postgres" {
				cli(dst, "", "migrate")
			}
			// Without the vault key the codes were sealed with, nothing is restored.
			if r := runCLI(t, "", append([]string{"restore", file}, dst...)...); r.status != 1 || !strings.Contains(r.stderr, "vault key") {
				t.Fatalf("restore without the vault key: %d %q", r.status, r.stderr)
			}
			key, _ := os.ReadFile(filepath.Join(src[1], "vault.key"))
			os.WriteFile(filepath.Join(dst[1], "vault.key"), key, 0o600)
			cli(dst, "", "restore", file)
			if after := cli(dst, "", "export").stdout; after != before {
				t.Fatalf("export after restore differs:\nbefore: %s\nafter:  %s", before, after)
			}
			if r := cli(dst, "", "lock", "slots", "3"); !strings.Contains(r.stdout, "to adopt or clear") {
				t.Fatalf("the restored lock's unowned code:\n%s", r.stdout)
			}
			if got := strings.TrimSpace(cli(dst, "", "code", "reveal", "1").stdout); got != pin {
				t.Fatal("the restored code reveals different digits")
			}
			if r := cli(dst, "", "hub", "ls"); !strings.Contains(r.stdout, "lk (password sealed)") {
				t.Fatalf("the restored hub:\n%s", r.stdout)
			}
			if got := cli(dst, "", "lock", "receipt", "get", "1", "1").stdout; got != "%PDF-1.4 receipt" {
				t.Fatalf("the restored receipt reads %q", got)
			}
			if r := cli(dst, "", "audit", "verify"); !strings.Contains(r.stdout, "intact") {
				t.Fatal(r.stdout)
			}
			// New records after a restore get new ids (sequences moved past the restored ones).
			cli(dst, "", "site", "add", "Oak")
			if r := runCLI(t, "", append([]string{"restore", file}, dst...)...); r.status != 1 || !strings.Contains(r.stderr, "already holds records") {
				t.Fatalf("restore into a store with records: %d %q", r.status, r.stderr)
			}
		})
	}
	if r := runCLI(t, "", append([]string{"export", "--format", "csv"}, src...)...); !strings.Contains(r.stdout, "1,Maple Street,Front,Deadbolt,916,ok") {
		t.Errorf("csv export:\n%s", r.stdout)
	}
}

// An export is read by spreadsheets: a name typed like a formula is written as text.
// Files written over an existing one end up readable by their owner only.
func TestExportIsSafeToOpen(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "=HYPERLINK(\"http://evil.example\")", "--model", "916"}} {
		if r := runCLI(t, "", append(args, "--data", dir)...); r.status != 0 {
			t.Fatalf("%v: %s", args, r.stderr)
		}
	}
	out := filepath.Join(dir, "locks.csv")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", "export", "--format", "csv", "-o", out, "--data", dir); r.status != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), `"'=HYPERLINK(""http://evil.example"")"`) {
		t.Fatalf("the formula was not written as text:\n%s", b)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the export over a 0644 file has mode %v (%v)", fi.Mode().Perm(), err)
	}
}

// noteKeypadCode plays a hub's report of a code set at a lock's keypad into the data
// directory's records.
func noteKeypadCode(t *testing.T, dir, address string, slot int) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := storetest.NewServiceAt(t, db, filepath.Join(dir, "vault.key"))
	if _, err := svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: address,
		Kind: latchkey.EventCodeAdded, Source: latchkey.SourceKeypad, Slot: slot}); err != nil {
		t.Fatal(err)
	}
}
