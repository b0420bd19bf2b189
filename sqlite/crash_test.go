package sqlite_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// crashChildEnv makes the test binary act as the writer child.
const crashChildEnv = "LATCHKEY_CRASH_CHILD_DB"

// TestCrashChild is the child: it writes people one change at a time and prints each id
// once Update has returned, that is once the change is acknowledged.
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
	s := storetest.NewService(t, db)
	ctx := latchkey.NewContextWithActor(testCtx(), "child")
	for i := 0; ; i++ {
		p := &latchkey.Person{Name: fmt.Sprintf("Person %d", i), Role: latchkey.RoleGuest}
		if err := s.CreatePerson(ctx, p); err != nil {
			fmt.Println("write error:", err)
			os.Exit(2)
		}
		fmt.Println(p.ID)
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
	acked := map[int64]bool{}
	for round, killAfter := range []int{1, 17, 60, 150, 400} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
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
			id, err := strconv.ParseInt(lines.Text(), 10, 64)
			if err != nil {
				t.Fatalf("round %d: child said %q", round, lines.Text())
			}
			acked[id] = true
			n++
		}
		// Kill in the middle of the next write.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Ids the child printed before dying were acknowledged too.
		for lines.Scan() {
			if id, err := strconv.ParseInt(lines.Text(), 10, 64); err == nil {
				acked[id] = true
			}
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
		s := storetest.NewService(t, db)
		people, total, err := s.FindPeople(testCtx(), latchkey.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		have := map[int64]bool{}
		for offset := 0; offset < total; offset += 1000 {
			if offset > 0 {
				people, _, _ = s.FindPeople(testCtx(), latchkey.Page{Offset: offset, Limit: 1000})
			}
			for _, p := range people {
				have[p.ID] = true
			}
		}
		for id := range acked {
			if !have[id] {
				t.Fatalf("round %d: acknowledged write %d is missing after the crash", round, id)
			}
		}
		if n, err := s.VerifyAuditLog(testCtx()); err != nil || n != total {
			t.Fatalf("round %d: audit log %d entries for %d people: %v", round, n, total, err)
		}
		db.Close()
	}
	if len(acked) < 600 {
		t.Fatalf("only %d acknowledged writes over all rounds", len(acked))
	}
}
