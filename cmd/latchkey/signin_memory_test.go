package main_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SPEC §7: 64 parallel sign-ins with made-up names keep a real server's peak memory under
// 512 MiB (each password check takes 64 MiB of argon2id), and a signed-in reader still
// gets answers meanwhile. The server is the latchkey binary as people run it, built
// without the race detector (whose shadow memory would be measured too), alone in its
// process.
func TestSignInFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sign-in flood skipped in -short mode")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the server's peak memory (Linux)")
	}
	dir := t.TempDir()
	if r := runCLI(t, "a long passphrase\n", "user", "add", "ana", "--role", "owner", "--data", dir); r.status != 0 {
		t.Fatalf("user add: %s", r.stderr)
	}
	r := runCLI(t, "", "token", "create", "reader", "--user", "ana", "--data", dir, "--json")
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil || tok.Token == "" {
		t.Fatalf("token create: %q %s", r.stdout, r.stderr)
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build the server it measures")
	}
	bin := filepath.Join(t.TempDir(), "latchkey")
	if b, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build latchkey: %v\n%s", err, b)
	}
	cmd := exec.Command(bin, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := ""
	lines := bufio.NewScanner(out)
	for base == "" && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "Latchkey is serving at "); ok {
			base, _, _ = strings.Cut(rest, " ")
		}
	}
	if base == "" {
		t.Fatal("the server did not start")
	}
	go func() {
		for lines.Scan() { // keep the child's stdout drained
		}
	}()

	client := &http.Client{Timeout: 60 * time.Second}
	read := func() (int, error) {
		req, _ := http.NewRequest("GET", base+"/api/v1/locks", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if status, err := read(); err != nil || status != 200 {
		t.Fatalf("the reader before the flood: %d %v", status, err)
	}

	const signIns = 64
	var flood sync.WaitGroup
	var inFlight atomic.Bool
	inFlight.Store(true)
	statuses := make([]int, signIns)
	start := make(chan struct{})
	for i := range signIns {
		flood.Add(1)
		go func() {
			defer flood.Done()
			secret := make([]byte, 8)
			rand.Read(secret)
			body, _ := json.Marshal(map[string]string{"name": "nobody-" + hex.EncodeToString(secret), "password": "guess " + hex.EncodeToString(secret)})
			<-start
			resp, err := client.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Errorf("sign-in %d: %v", i, err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	var answered, failed atomic.Int64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for inFlight.Load() {
			if status, err := read(); err != nil || status != 200 {
				failed.Add(1)
				continue
			}
			answered.Add(1)
		}
	}()
	close(start)
	flood.Wait()
	inFlight.Store(false)
	<-readerDone

	for i, status := range statuses {
		if status != 401 && status != 429 && status != 503 {
			t.Errorf("sign-in %d with a made-up name: status %d, want 401 (or 429/503 when held back)", i, status)
		}
	}
	if failed.Load() > 0 || answered.Load() == 0 {
		t.Errorf("the signed-in reader got %d answers and %d failures during the flood; want answers and no failures", answered.Load(), failed.Load())
	}
	peak := peakMemory(t, cmd.Process.Pid)
	t.Logf("64 parallel sign-ins: peak memory %d MiB (bound 512 MiB, ratio %.2f); reader answered %d times meanwhile",
		peak>>20, float64(peak)/float64(512<<20), answered.Load())
	if peak >= 512<<20 {
		t.Fatalf("the server's peak memory was %d MiB during 64 parallel sign-ins; the bound is 512 MiB", peak>>20)
	}
}

// peakMemory reads a process's peak resident memory (VmHWM) in bytes.
func peakMemory(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q", v)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
