package main_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	main "github.com/latchkey/latchkey/cmd/latchkey"
	"github.com/latchkey/latchkey/sqlite"
)

// Done when: a test stores codes, then searches the SQLite database, its WAL and the
// captured logs for every plaintext code: no hit. The database stays open in the test
// while the commands run, so that the WAL is still there, holding the newest pages, when
// it is searched; then it is searched again once everything is closed.
func TestCodesNeverInPlaintext(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	cli := func(stdin string, args ...string) (status int, stdout string) {
		m := main.NewMain()
		var out bytes.Buffer
		m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &logs // stdout is the one place a code may be shown
		return m.Run(context.Background(), append(args, "--data", dir)), out.String()
	}
	for _, args := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916"}, {"lock", "add", "--door", "1", "Garage", "--model", "910"},
		{"person", "add", "Ana", "--role", "owner"}} {
		if s, _ := cli("", args...); s != 0 {
			t.Fatalf("%v: %d\n%s", args, s, logs.String())
		}
	}
	// Held open from here on: the commands' own closes are then not the last, and SQLite
	// keeps the WAL file.
	held, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	var codes []string
	for i := range 12 {
		code := fmt.Sprintf("%d%06d", 7+i%2, 381926+i*7919)
		codes = append(codes, code)
		if s, _ := cli(code+"\n", "code", "add", "--person", "1", "--lock", "1", "--pin", "-", fmt.Sprintf("Code %d", i), "--confirmed"); s != 0 {
			t.Fatalf("code add %d: %d\n%s", i, s, logs.String())
		}
	}
	// Refusals and reveals write to stderr and the audit log too: they must not carry codes.
	if s, _ := cli(codes[0]+"\n", "code", "add", "--person", "1", "--lock", "1", "--pin", "-", "Duplicate"); s != 1 {
		t.Errorf("a duplicate code: exit %d, want 1", s)
	}
	if s, out := cli("", "code", "reveal", "3"); s != 0 || !strings.Contains(out, codes[2]) {
		t.Errorf("code reveal 3: exit %d, output %q; want code 3's digits", s, out)
	}
	if s, _ := cli("", "code", "rm", "2"); s != 0 {
		t.Errorf("code rm 2: exit %d, want 0 (eleven other codes remain)", s)
	}
	if s, _ := cli("", "vault", "rotate"); s != 0 {
		t.Errorf("vault rotate: exit %d, want 0", s)
	}

	search := func(when string, mustFind ...string) {
		t.Helper()
		for _, name := range []string{"latchkey.db", "latchkey.db-wal", "latchkey.db-shm"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				if slices.Contains(mustFind, name) {
					t.Fatalf("%s: %s is missing: %v", when, name, err)
				}
				continue
			}
			if slices.Contains(mustFind, name) && len(b) == 0 {
				t.Fatalf("%s: %s is empty", when, name)
			}
			for _, code := range codes {
				if bytes.Contains(b, []byte(code)) {
					t.Errorf("%s: %s contains the plaintext code %s", when, name, code)
				}
			}
		}
	}
	search("while open", "latchkey.db", "latchkey.db-wal", "latchkey.db-shm")
	held.Close()
	search("after closing", "latchkey.db")
	for _, code := range codes {
		if strings.Contains(logs.String(), code) {
			t.Errorf("the logs contain the plaintext code %s", code)
		}
	}
	if !strings.Contains(logs.String(), "same as existing code") {
		t.Errorf("the duplicate was not refused as expected:\n%s", logs.String())
	}
}
