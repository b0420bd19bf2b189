// Package zwavejstest runs the real zwave-js driver and zwave-js-server, over zwave-js's
// mock controller with a mock Kwikset lock (zwavejs/testdata/harness), for tests: the zwavejs
// driver's own, the driver contract suite's and the sync engine's.
//
// Tests run it when LATCHKEY_TEST_ZWAVEJS is 1 (npm ci in zwavejs/testdata/harness first; Node
// 20 or later), and skip saying so otherwise.
package zwavejstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvVar enables the tests that need the harness.
const EnvVar = "LATCHKEY_TEST_ZWAVEJS"

// Harness is one running harness: a zwave-js-server with one lock, node 2.
type Harness struct {
	// URL is the zwave-js-server's WebSocket address.
	URL string
	// Control is the side channel's address.
	Control string
	// Address is the mock lock's address for the zwavejs driver (its node id).
	Address string
	// ManufacturerID, ProductType and ProductID are the mock lock's Z-Wave ids (a
	// Kwikset 912).
	ManufacturerID, ProductType, ProductID int
	// NumUsers is how many user code slots the lock has.
	NumUsers int

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
}

type ready struct {
	Ready          bool   `json:"ready"`
	WS             string `json:"ws"`
	Control        string `json:"control"`
	NodeID         int    `json:"nodeId"`
	ManufacturerID int    `json:"manufacturerId"`
	ProductType    int    `json:"productType"`
	ProductID      int    `json:"productId"`
	NumUsers       int    `json:"numUsers"`
}

// Start runs a harness for the test and stops it when the test ends. It skips the test
// unless LATCHKEY_TEST_ZWAVEJS is 1, and fails it when the harness does not start.
func Start(tb testing.TB) *Harness {
	tb.Helper()
	switch os.Getenv(EnvVar) {
	case "1":
	case "":
		tb.Skipf("the real zwave-js tests need Node 20+: run `npm ci` in zwavejs/testdata/harness, then set %s=1", EnvVar)
	default:
		tb.Fatalf("%s=%q: set it to 1 to run the real zwave-js tests (npm ci in zwavejs/testdata/harness first)", EnvVar, os.Getenv(EnvVar))
	}
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "zwave-js")); err != nil {
		tb.Fatalf("%s=1 but zwave-js is not installed: run `npm ci` in %s", EnvVar, dir)
	}
	h, err := start(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		h.Stop()
		if tb.Failed() {
			tb.Logf("harness log:\n%s", h.stderr.String())
		}
	})
	return h
}

// Dir is the harness's directory (zwavejs/testdata/harness in the repository).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "harness")
}

func start(dir string) (*Harness, error) {
	cmd := exec.Command("node", "harness.js")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe() // the harness stops when it closes, even if the test dies
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	h := &Harness{cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the zwave-js harness (is node on PATH?): %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		var r ready
		if err := json.Unmarshal([]byte(line), &r); err != nil || !r.Ready {
			h.Stop()
			return nil, fmt.Errorf("the zwave-js harness said %q instead of its ready line; its log:\n%s", line, h.stderr.String())
		}
		h.URL, h.Control, h.Address = r.WS, r.Control, strconv.Itoa(r.NodeID)
		h.ManufacturerID, h.ProductType, h.ProductID, h.NumUsers = r.ManufacturerID, r.ProductType, r.ProductID, r.NumUsers
		return h, nil
	case <-time.After(60 * time.Second):
		h.Stop()
		return nil, fmt.Errorf("the zwave-js harness was not ready within 60 s; its log:\n%s", h.stderr.String())
	}
}

// Stop ends the harness (closing its stdin, then killing it if it lingers).
func (h *Harness) Stop() {
	if h.cmd.Process == nil || h.cmd.ProcessState != nil {
		return
	}
	_ = h.stdin.Close()
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
}

// Do makes the lock do something through the side channel (harness.js lists the
// actions: keypad-unlock, wrong-code, lockout, jam, tamper, low-battery, reset-locally,
// all-codes-deleted, dead, alive, restart-server, ...), with the body's fields.
func (h *Harness) Do(tb testing.TB, action string, body map[string]any) {
	tb.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(h.Control+"/"+strings.TrimPrefix(action, "/"), "application/json", bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("harness %s: %v", action, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		tb.Fatalf("harness %s: %s %s", action, resp.Status, out)
	}
}

// Slot reads what the mock lock itself holds in a slot, past zwave-js: its status
// (0 available, 1 enabled) and code.
func (h *Harness) Slot(tb testing.TB, slot int) (status int, code string) {
	tb.Helper()
	return h.SlotOf(tb, h.Address, slot)
}

// SlotOf reads a slot of the lock at an address (a lock included since, as node 3).
func (h *Harness) SlotOf(tb testing.TB, address string, slot int) (status int, code string) {
	tb.Helper()
	resp, err := http.Get(h.Control + "/slot?node=" + address + "&slot=" + strconv.Itoa(slot))
	if err != nil {
		tb.Fatalf("harness slot: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("harness slot of %s: %s", address, resp.Status)
	}
	var s struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		tb.Fatalf("harness slot: %v", err)
	}
	return s.Status, s.Code
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
