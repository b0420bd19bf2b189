package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimRun(t *testing.T) {
	r := runCLI(t, "", "sim", "run", "../../examples/smartkey-rekey.yaml")
	if r.status != 0 || !strings.Contains(r.stdout, "learned key 46353") {
		t.Fatalf("status %d stderr %q\n%s", r.status, r.stderr, r.stdout)
	}
	r = runCLI(t, "", "sim", "run", "../../examples/radio-batch.yaml", "--json")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, line := range lines {
		var e struct {
			Ms     int64  `json:"t_ms"`
			Kind   string `json:"kind"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Kind == "" {
			t.Fatalf("not a JSON trace line: %q (%v)", line, err)
		}
	}
	if r.status != 0 || len(lines) < 20 {
		t.Fatalf("status %d, %d lines", r.status, len(lines))
	}
}

// A failing expectation stops the run: exit 1, the trace so far, and which step failed.
func TestSimRunFailingExpect(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(file, []byte("seed: 1\ntwins:\n  - {name: c, cylinder: {bitting: \"35242\"}}\nsteps:\n  - \"c: insert key 35242\"\n  - expect c state learn\n"), 0o644)
	r := runCLI(t, "", "sim", "run", file)
	if r.status != 1 || !strings.Contains(r.stderr, "Step 2") || !strings.Contains(r.stdout, "key 35242 inserted") {
		t.Fatalf("status %d stderr %q stdout %q", r.status, r.stderr, r.stdout)
	}
	os.WriteFile(file, []byte("twins:\n  - {name: c, cylinder: {bitting: \"35242\"}}\ncolour: red\n"), 0o644)
	if r := runCLI(t, "", "sim", "run", file); r.status != 1 || !strings.Contains(r.stderr, "colour") {
		t.Fatalf("unknown field: status %d stderr %q", r.status, r.stderr)
	}
	if r := runCLI(t, "", "sim", "run", "no-such.yaml"); r.status != 1 || !strings.Contains(r.stderr, "Cannot read") {
		t.Fatalf("missing file: status %d stderr %q", r.status, r.stderr)
	}
}

// The console reads commands, prints the trace as it happens, reports a bad command and
// carries on.
func TestSimConsole(t *testing.T) {
	in := "use deadbolt\npress 135790\nadvance 2s\nnonsense here\nshow\nfront: insert key 35242\nquit\nfront: remove key\n"
	r := runCLI(t, in, "sim")
	if r.status != 0 {
		t.Fatalf("status %d: %s", r.status, r.stderr)
	}
	for _, want := range []string{"unlocked (keypad, slot 1)", "bolt        unlocked", "key 35242 inserted"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("console output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "does not understand") {
		t.Errorf("bad command not reported: %q", r.stderr)
	}
	if strings.Contains(r.stdout, "key 35242 removed") {
		t.Error("commands after quit were run")
	}
}
