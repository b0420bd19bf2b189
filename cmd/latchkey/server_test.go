package main_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	main "github.com/latchkey/latchkey/cmd/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// Every record command works through --server and a token as it does locally, with the
// same refusals and exit statuses.
func TestCLIAgainstServer(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := vault.Open(filepath.Join(dir, "vault.key"))
	svc := &latchkey.Service{Store: db, Vault: v, Models: main.Rules(), Clock: latchkey.SystemClock{}}
	srv := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0"}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	local := []string{"--data", dir}
	// The account and its token are made next to the data, as an administrator would.
	if r := runCLI(t, "a long enough password\n", append([]string{"user", "add", "ana", "--role", "owner"}, local...)...); r.status != 0 {
		t.Fatal(r.stderr)
	}
	var tok struct{ Token string }
	decode(t, runCLI(t, "", append([]string{"token", "create", "ci", "--user", "ana", "--json"}, local...)...), &tok)
	remote := []string{"--server", srv.URL(), "--token", tok.Token}
	cli := func(args ...string) result { return runCLI(t, "", append(args, remote...)...) }
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "910", "--purchased", "2025-03-01"},
		{"person", "add", "Ana", "--role", "owner"}, {"code", "add", "--person", "1", "--lock", "1", "Ana", "--pin", "135790", "--confirmed"},
		{"key", "add", "--site", "1", "--bitting", "35242", "--holder", "1", "House key"}, {"lock", "set", "1", "--key", "1"},
		{"lock", "log", "1", "New batteries", "--kind", "battery"}} {
		if r := cli(s...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	// The five-button rule, through the server.
	if r := cli("code", "add", "--person", "1", "--lock", "1", "Guest", "--pin", "246890"); r.status != 1 || !strings.Contains(r.stderr, "five-button") {
		t.Fatalf("same-button code through the server: %d %q", r.status, r.stderr)
	}
	if r := cli("code", "reveal", "1"); strings.TrimSpace(r.stdout) != "135790" {
		t.Fatalf("reveal through the server: %q %q", r.stdout, r.stderr)
	}
	if r := cli("key", "retire", "1"); r.status != 0 {
		t.Fatalf("retiring the key with a code as a second way in: %s", r.stderr)
	}
	if r := cli("code", "rm", "1"); r.status != 3 || !strings.Contains(r.stderr, "Make before break") {
		t.Fatalf("last way in through the server: %d %q", r.status, r.stderr)
	}
	if r := cli("lock", "show", "1"); !strings.Contains(r.stdout, "New batteries") || !strings.Contains(r.stdout, "slot 1: Ana") {
		t.Errorf("lock show through the server:\n%s", r.stdout)
	}
	if r := cli("audit", "verify"); r.status != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli("backup", filepath.Join(t.TempDir(), "b.json")); r.status != 1 || !strings.Contains(r.stderr, "local data directory") {
		t.Fatalf("backup through the server: %d %q", r.status, r.stderr)
	}
	if r := runCLI(t, "", "lock", "ls", "--server", srv.URL(), "--token", "lk_nope"); r.status != 1 || !strings.Contains(r.stderr, "token is not known") {
		t.Fatalf("bad token: %d %q", r.status, r.stderr)
	}
}

// 'latchkey serve' starts the sync engine and its job queue with the server, on either
// store, and stops them cleanly on Ctrl-C (the context's end).
func TestServeStartsAndStopsTheSyncEngine(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			flags := storeFlags(t, kind)
			if kind == "postgres" {
				if r := runCLI(t, "", append([]string{"migrate"}, flags...)...); r.status != 0 {
					t.Fatalf("migrate: %d %q", r.status, r.stderr)
				}
			}
			m := main.NewMain()
			out, w := io.Pipe()
			var errOut bytes.Buffer
			m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), w, &errOut
			serving := make(chan struct{})
			go func() {
				lines := bufio.NewScanner(out)
				for lines.Scan() {
					if strings.Contains(lines.Text(), "Latchkey is serving") {
						close(serving)
					}
				}
			}()
			ctx, cancel := context.WithCancel(context.Background())
			status := make(chan int)
			go func() {
				status <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, flags...))
				w.Close()
			}()
			select {
			case <-serving:
			case s := <-status:
				t.Fatalf("serve stopped with %d: %s", s, errOut.String())
			case <-time.After(30 * time.Second):
				t.Fatal("serve never said it serves")
			}
			cancel()
			if s := <-status; s != 0 {
				t.Fatalf("serve stopped with %d: %s", s, errOut.String())
			}
		})
	}
}
