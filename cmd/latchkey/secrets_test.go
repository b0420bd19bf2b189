package main_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	main "github.com/latchkey/latchkey/cmd/latchkey"
)

// Done when: a test stores codes, then searches the SQLite database, its WAL and the
// captured logs for every plaintext code: no hit.
func TestCodesNeverInPlaintext(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	cli := func(stdin string, args ...string) (status int) {
		m := main.NewMain()
		var out bytes.Buffer
		m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &logs // stdout is the one place a code may be shown
		return m.Run(context.Background(), append(args, "--data", dir))
	}
	for _, args := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916"}, {"lock", "add", "--door", "1", "Garage", "--model", "910"},
		{"person", "add", "Ana", "--role", "owner"}} {
		if s := cli("", args...); s != 0 {
			t.Fatalf("%v: %d\n%s", args, s, logs.String())
		}
	}
	var codes []string
	for i := range 12 {
		code := fmt.Sprintf("%d%06d", 7+i%2, 381926+i*7919)
		codes = append(codes, code)
		if s := cli(code+"\n", "code", "add", "--person", "1", "--lock", "1", "--pin", "-", fmt.Sprintf("Code %d", i), "--confirmed"); s != 0 {
			t.Fatalf("code add %d: %d\n%s", i, s, logs.String())
		}
	}
	// Refusals and reveals write to stderr and the audit log too: they must not carry codes.
	cli(codes[0]+"\n", "code", "add", "--person", "1", "--lock", "1", "--pin", "-", "Duplicate")
	cli("", "code", "reveal", "3")
	cli("", "code", "rm", "2")
	cli("", "vault", "rotate")

	// The database and its WAL, while still written to, and after.
	files := []string{"latchkey.db", "latchkey.db-wal", "latchkey.db-shm"}
	found := 0
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		found++
		for _, code := range codes {
			if bytes.Contains(b, []byte(code)) {
				t.Errorf("%s contains the plaintext code %s", name, code)
			}
		}
	}
	if found == 0 {
		t.Fatal("no database files found to search")
	}
	for _, code := range codes {
		if strings.Contains(logs.String(), code) {
			t.Errorf("the logs contain the plaintext code %s", code)
		}
	}
	if !strings.Contains(logs.String(), "same as existing code") {
		t.Errorf("the duplicate was not refused as expected:\n%s", logs.String())
	}
}
