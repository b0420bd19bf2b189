package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// startDemo runs the demo in a fresh directory, made the test's working directory, until
// the test ends, and returns it once a command in that directory finds it.
func startDemo(t *testing.T) demoServer {
	t.Helper()
	t.Chdir(t.TempDir())
	ctx, stop := context.WithCancel(context.Background())
	var out syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, io.Discard
	done := make(chan error, 1)
	go func() {
		done <- m.Demo(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler), demoTimings{Step: 100 * time.Millisecond, Speed: 50})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the demo did not stop within 30 s")
		}
	})
	for deadline := time.Now().Add(time.Minute); ; {
		if s, ok := discoverDemo(); ok && strings.Contains(out.String(), "Ctrl-C") {
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("the demo stopped: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo did not start within a minute")
		}
	}
}

// The interactive commands on the demo, with the twins' virtual hands and no one typing:
// a factory reset of the garage entry is walked to its end, the command waiting while
// Latchkey takes the lock off its hub, the hands do the model's sequence, and the codes
// go back on (the walk of an automatic step on its own: TestWalkWaitsForAutomaticSteps); a rekey of the side door with the new key not fully inserted stops for a
// locksmith, and the records still name the old key.
func TestDemoProceduresFromTheCommandLine(t *testing.T) {
	defer func(d time.Duration) { walkPoll = d }(walkPoll)
	walkPoll = 20 * time.Millisecond
	demo := startDemo(t)
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		m := NewMain()
		m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), &out, &out
		status := m.Run(context.Background(), args)
		return status, out.String()
	}
	var locks struct{ Items []latchkey.Lock }
	demoGet(t, demo, "/api/v1/locks", &locks)
	ids := map[string]int64{}
	for _, l := range locks.Items {
		ids[l.Name] = l.ID
	}
	garage, side := strconv.FormatInt(ids["Garage entry"], 10), strconv.FormatInt(ids["Side door"], 10)
	if garage == "0" || side == "0" {
		t.Fatalf("the demo's locks: %v", ids)
	}

	status, out := cli("reset", "--lock", garage, "--hands", "sim")
	if status != 0 {
		t.Fatalf("reset: exit %d\n%s", status, out)
	}
	// Which steps the walk lands on depends on how fast the twins are; the first is the
	// hands', and the records say that every step was done.
	for _, want := range []string{"Step 1 of ", "The virtual hands are doing this step on the twin", " done on ", "every step confirmed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the reset's walk lacks %q:\n%s", want, out)
		}
	}
	var reset struct{ Items []latchkey.Run }
	demoGet(t, demo, "/api/v1/procedures?kind=reset&lock="+garage, &reset)
	if len(reset.Items) != 1 || reset.Items[0].Status != latchkey.RunDone || len(reset.Items[0].Records) < len(reset.Items[0].Steps) {
		b, _ := json.Marshal(reset)
		t.Fatalf("the garage's reset: %s", b)
	}
	var lock latchkey.Lock
	demoGet(t, demo, "/api/v1/locks/"+garage, &lock)
	if lock.Status == latchkey.LockQuarantined {
		t.Errorf("the garage entry is still quarantined after the reset's end")
	}

	if status, out := cli("rekey", "--lock", side, "--hands", "sim", "--mistake", "key_bent"); status != 1 || !strings.Contains(out, `Unknown mistake "key_bent"; the sim hands can make: key_not_full, tool_partial`) {
		t.Fatalf("an unknown mistake: exit %d %q", status, out)
	}
	status, out = cli("rekey", "--lock", side, "--hands", "sim", "--mistake", "key_not_full")
	if status != 1 || !strings.Contains(out, "For a locksmith:") || !strings.Contains(out, "State left:") {
		t.Fatalf("a rekey with the new key not fully inserted: exit %d\n%s", status, out)
	}
	var runs struct{ Items []latchkey.Run }
	demoGet(t, demo, "/api/v1/procedures?lock="+side, &runs)
	if len(runs.Items) != 1 || runs.Items[0].Status != latchkey.RunEscalated {
		b, _ := json.Marshal(runs)
		t.Fatalf("the side door's runs: %s", b)
	}
	demoGet(t, demo, "/api/v1/locks/"+side, &lock)
	if lock.Status != latchkey.LockNeedsLocksmith || lock.KeyID != 1 {
		t.Fatalf("the side door after the escalation: %s, key %d", lock.Status, lock.KeyID)
	}
}
