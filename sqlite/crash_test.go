package sqlite_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// crashChildEnv makes the test binary act as the writer child.
const (
	crashChildEnv = "LATCHKEY_CRASH_CHILD_DB"
	crashRoundEnv = "LATCHKEY_CRASH_ROUND"
)

// TestCrashChild is the child: it writes people one change at a time and prints each id
// and name once Update has returned, that is once the change is acknowledged. Names are
// unique across rounds (the round comes from the parent), so that a lost write whose id
// was given again to a later one is caught.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestCrashKeepsAcknowledgedWrites as its child process")
	}
	db, err := sqlite.Open(testCtx(), path)
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(2)
	}
	s := storetest.NewServiceAt(t, db, filepath.Join(filepath.Dir(path), "vault.key"))
	ctx := latchkey.NewContextWithActor(testCtx(), "child")
	round := os.Getenv(crashRoundEnv)
	for i := 0; ; i++ {
		p := &latchkey.Person{Name: fmt.Sprintf("Round %s person %d", round, i), Role: latchkey.RoleGuest}
		if err := s.CreatePerson(ctx, p); err != nil {
			fmt.Println("write error:", err)
			os.Exit(2)
		}
		fmt.Printf("%d\t%s\n", p.ID, p.Name)
	}
}

// Invariant 7: a process killed with SIGKILL in the middle of a stream of writes leaves a
// database that opens, passes its integrity check, holds every acknowledged write, and
// whose audit chain is whole.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), "latchkey.db")
	acked := map[int64]string{} // id: the name acknowledged with it
	ack := func(round int, line string) {
		t.Helper()
		idText, name, ok := strings.Cut(line, "\t")
		id, err := strconv.ParseInt(idText, 10, 64)
		if !ok || err != nil {
			t.Fatalf("round %d: child said %q", round, line)
		}
		if earlier, seen := acked[id]; seen {
			t.Fatalf("round %d: id %d acknowledged for %q was acknowledged before for %q", round, id, name, earlier)
		}
		acked[id] = name
	}
	for round, killAfter := range []int{1, 17, 60, 150, 400} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprintf("%s=%d", crashRoundEnv, round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		n := 0
		deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
		for n < killAfter && lines.Scan() {
			ack(round, lines.Text())
			n++
		}
		// Kill in the middle of the next write.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Lines the child printed before dying were acknowledged too. Each is one write
		// of less than PIPE_BUF bytes to the pipe, so the kill cannot cut one short.
		for lines.Scan() {
			ack(round, lines.Text())
		}
		cmd.Wait()
		deadline.Stop()
		if n < killAfter {
			t.Fatalf("round %d: the child stopped after %d writes", round, n)
		}

		db, err := sqlite.Open(testCtx(), path)
		if err != nil {
			t.Fatalf("round %d: the database does not open after the crash: %v", round, err)
		}
		if err := db.IntegrityCheck(testCtx()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		s := storetest.NewServiceAt(t, db, filepath.Join(filepath.Dir(path), "vault.key"))
		people, total, err := s.FindPeople(testCtx(), latchkey.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		have := map[int64]string{}
		for offset := 0; offset < total; offset += 1000 {
			if offset > 0 {
				people, _, _ = s.FindPeople(testCtx(), latchkey.Page{Offset: offset, Limit: 1000})
			}
			for _, p := range people {
				have[p.ID] = p.Name
			}
		}
		for id, name := range acked {
			if have[id] != name {
				t.Fatalf("round %d: acknowledged write %d (%q) reads %q after the crash", round, id, name, have[id])
			}
		}
		if n, err := s.VerifyAuditLog(testCtx()); err != nil || n != total {
			t.Fatalf("round %d: audit log %d entries for %d people: %v", round, n, total, err)
		}
		db.Close()
	}
}
