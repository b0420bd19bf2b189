package procedure_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/procedure"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// The crash tests' server is a child process (this test binary, run again): the records,
// the procedure engine and the sync engine, their work queued as durable jobs. The twins and the virtual hands live in the
// parent, so that what the locks hold, and what the hands remember doing, outlive every
// kill; the child reaches them through a small HTTP bridge standing in for the hubs and
// for the person at the door.
const (
	crashDirEnv    = "LATCHKEY_PROC_CRASH_DIR"
	crashBridgeEnv = "LATCHKEY_PROC_CRASH_BRIDGE"
)

// bridgeCall is one request to the parent: a command to a lock, or a step for the hands.
type bridgeCall struct {
	Address string        `json:"address,omitempty"`
	Slot    int           `json:"slot,omitempty"`
	PIN     string        `json:"pin,omitempty"`
	Run     *latchkey.Run `json:"run,omitempty"`
	Step    string        `json:"step,omitempty"`
}

// bridgeAnswer is the parent's answer: a result, or an error's code and message.
type bridgeAnswer struct {
	Result  json.RawMessage `json:"result,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
}

// bridge is the child's end: each call is one request to the parent.
type bridge struct{ base string }

func (b bridge) call(ctx context.Context, op string, c bridgeCall, out any) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		req.Header.Set("X-Timeout", time.Until(dl).String())
	}
	req.Header.Set("X-Pid", strconv.Itoa(os.Getpid()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "the hub did not answer: %v", err)
	}
	defer resp.Body.Close()
	var a bridgeAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "the hub's answer was cut off: %v", err)
	}
	if a.Code != "" {
		return latchkey.Errorf(a.Code, "%s", a.Message)
	}
	if out != nil {
		return json.Unmarshal(a.Result, out)
	}
	return nil
}

// bridgeDriver is the child's device driver, over the parent's twins.
type bridgeDriver struct{ bridge }

var (
	_ latchkey.DeviceDriver  = bridgeDriver{}
	_ latchkey.HubPairing    = bridgeDriver{}
	_ latchkey.BatteryReader = bridgeDriver{}
	_ latchkey.CodeReader    = bridgeDriver{}
)

func (bridgeDriver) Name() latchkey.Driver                { return latchkey.DriverSim }
func (bridgeDriver) Subscribe(func(latchkey.DeviceEvent)) {}
func (b bridgeDriver) Lock(ctx context.Context, address string) error {
	return b.call(ctx, "lock", bridgeCall{Address: address}, nil)
}
func (b bridgeDriver) Unlock(ctx context.Context, address string) error {
	return b.call(ctx, "unlock", bridgeCall{Address: address}, nil)
}
func (b bridgeDriver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	return b.call(ctx, "set", bridgeCall{Address: address, Slot: slot, PIN: pin}, nil)
}
func (b bridgeDriver) ClearCode(ctx context.Context, address string, slot int) error {
	return b.call(ctx, "clear", bridgeCall{Address: address, Slot: slot}, nil)
}
func (b bridgeDriver) ReadCode(ctx context.Context, address string, slot int) (string, bool, error) {
	var got struct {
		PIN     string `json:"pin"`
		Present bool   `json:"present"`
	}
	err := b.call(ctx, "read", bridgeCall{Address: address, Slot: slot}, &got)
	return got.PIN, got.Present, err
}
func (b bridgeDriver) RemoveFromHub(ctx context.Context, address string) error {
	return b.call(ctx, "remove", bridgeCall{Address: address}, nil)
}
func (b bridgeDriver) AddToHub(ctx context.Context, address string) error {
	return b.call(ctx, "add", bridgeCall{Address: address}, nil)
}
func (b bridgeDriver) ReadBattery(ctx context.Context, address string) (int, error) {
	var mv int
	err := b.call(ctx, "battery", bridgeCall{Address: address}, &mv)
	return mv, err
}

// bridgeHands are the child's virtual hands: the parent's do each step.
type bridgeHands struct{ bridge }

func (b bridgeHands) Do(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, error) {
	var a latchkey.Advance
	err := b.call(ctx, "hands", bridgeCall{Run: r, Step: st.ID}, &a)
	return a, err
}

func (bridgeHands) Mistakes() []string { return (&simdriver.Hands{}).Mistakes() }

// TestCrashProcedureChild is the child: a server's procedure engine and sync engine over
// the records in the directory the parent names, until it is killed or its input ends.
func TestCrashProcedureChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashRekey and TestCrashReset as their child process")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "latchkey.db"))
	must(t, err)
	svc := storetest.NewServiceAt(t, db, filepath.Join(dir, "vault.key"))
	svc.Clock = latchkey.SystemClock{}
	b := bridge{os.Getenv(crashBridgeEnv)}
	drivers := map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: bridgeDriver{b}}
	syncer := &codesync.Engine{Service: svc, Drivers: drivers, Interval: 100 * time.Millisecond, Timeout: 3 * time.Second}
	engine := procedure.New(svc, catalog.Default())
	engine.Drivers, engine.Hands["sim"] = drivers, bridgeHands{b}
	engine.Interval, engine.StepTimeout = 50*time.Millisecond, 5*time.Second
	// As a server runs them: both engines' work queued as durable jobs beside the records.
	q, err := jobs.OpenSQLite(ctx, filepath.Join(dir, "jobs.db"), jobs.Config{Sync: syncer, Procedures: engine, JobTimeout: 20 * time.Second,
		FirstBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	must(t, err)
	go syncer.Plan(ctx, q)
	go engine.Plan(ctx, q)
	fmt.Println("running")
	io.Copy(io.Discard, os.Stdin) // the parent gone, so is the child
}

// crashBridge serves the parent's twins and hands to the child. Each action it is asked
// for the first time is a step boundary: the child is killed there once, before the
// action (just after the last report was committed) or after it (before its report can
// be), as after says. An action asked for again (the child restarted and did the step
// again) must leave the twins as they were.
type crashBridge struct {
	t      *testing.T
	driver *simdriver.Driver
	hands  *simdriver.Hands
	after  bool

	mu      sync.Mutex
	child   *exec.Cmd
	seen    map[string]bool // actions asked for
	done    map[string]bool // actions carried out
	kills   []string        // where the child was killed
	changed []string        // actions done again that changed a twin
}

func (b *crashBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, "/")
	var c bridgeCall
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if d, err := time.ParseDuration(r.Header.Get("X-Timeout")); err == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	key, twins := b.action(op, c)
	b.mu.Lock()
	if b.child == nil || strconv.Itoa(b.child.Process.Pid) != r.Header.Get("X-Pid") {
		// From a child killed a moment ago, whose last request was still on its way.
		b.mu.Unlock()
		http.Error(w, "gone", http.StatusGone)
		return
	}
	kill := !b.seen[key]
	b.seen[key] = true
	again := b.done[key]
	child := b.child
	b.mu.Unlock()
	if kill && !b.after {
		b.kill(child, "before "+key)
		return
	}
	var before string
	if again {
		before = b.fingerprint(twins)
	}
	result, err := b.carryOut(ctx, op, c)
	if err == nil {
		b.mu.Lock()
		b.done[key] = true
		if again {
			if now := b.fingerprint(twins); now != before {
				b.changed = append(b.changed, fmt.Sprintf("%s: %s -> %s", key, before, now))
			}
		}
		b.mu.Unlock()
	}
	if kill {
		b.kill(child, "after "+key)
		return
	}
	var a bridgeAnswer
	if err != nil {
		a.Code, a.Message = latchkey.ErrorCode(err), latchkey.ErrorMessage(err)
	} else if a.Result, err = json.Marshal(result); err != nil {
		a.Code, a.Message = latchkey.EINTERNAL, err.Error()
	}
	json.NewEncoder(w).Encode(a)
}

func (b *crashBridge) kill(child *exec.Cmd, where string) {
	child.Process.Signal(syscall.SIGKILL)
	b.mu.Lock()
	b.kills = append(b.kills, where)
	b.mu.Unlock()
}

// action names what a call asks for (never its PIN), and what it may change: the
// fields of each twin it acts on. A code command changes its slot, and nothing else
// (the sync engine may be writing another slot meanwhile); a step of the hands changes
// what a person at the door does: a cylinder's key, tool, state and door, a lock's
// power, door handing and pairing.
func (b *crashBridge) action(op string, c bridgeCall) (string, map[string][]string) {
	switch op {
	case "set", "clear", "read":
		return fmt.Sprintf("%s %s/%d", op, c.Address, c.Slot), map[string][]string{c.Address: {fmt.Sprintf("slot:%d", c.Slot)}}
	case "hands":
	default:
		return op + " " + c.Address, map[string][]string{c.Address: {"paired", "bolt", "power"}}
	}
	st := b.step(c)
	if st == nil {
		return "hands " + c.Step, nil
	}
	lockID := st.LockID
	if lockID == 0 {
		lockID = c.Run.LockIDs[0]
	}
	twins := map[string][]string{}
	if name, ok := b.hands.Locks[lockID]; ok {
		twins[name] = []string{"door", "power", "user-codes", "handing", "paired", "mastercode", "progcode"}
	}
	if name, ok := b.hands.Cylinders[lockID]; ok {
		twins[name] = []string{"state", "bitting", "key", "angle", "tool", "rekey", "bolt", "door"}
	}
	return fmt.Sprintf("hands run %d step %s at version %d", c.Run.ID, st.ID, c.Run.Version), twins
}

func (b *crashBridge) step(c bridgeCall) *latchkey.Step {
	if c.Run == nil {
		return nil
	}
	i := slices.IndexFunc(c.Run.Steps, func(st latchkey.Step) bool { return st.ID == c.Step })
	if i < 0 {
		return nil
	}
	return &c.Run.Steps[i]
}

func (b *crashBridge) carryOut(ctx context.Context, op string, c bridgeCall) (any, error) {
	d := b.driver
	switch op {
	case "lock":
		return nil, d.Lock(ctx, c.Address)
	case "unlock":
		return nil, d.Unlock(ctx, c.Address)
	case "set":
		return nil, d.SetCode(ctx, c.Address, c.Slot, c.PIN)
	case "clear":
		return nil, d.ClearCode(ctx, c.Address, c.Slot)
	case "read":
		pin, present, err := d.ReadCode(ctx, c.Address, c.Slot)
		return map[string]any{"pin": pin, "present": present}, err
	case "remove":
		return nil, d.RemoveFromHub(ctx, c.Address)
	case "add":
		return nil, d.AddToHub(ctx, c.Address)
	case "battery":
		return d.ReadBattery(ctx, c.Address)
	case "hands":
		st := b.step(c)
		if st == nil {
			return nil, latchkey.Errorf(latchkey.EINVALID, "no step %q in the run", c.Step)
		}
		return b.hands.Do(ctx, c.Run, st)
	}
	return nil, latchkey.Errorf(latchkey.EINVALID, "unknown bridge operation %q", op)
}

// fingerprint reads the fields of the twins.
func (b *crashBridge) fingerprint(twins map[string][]string) string {
	var out []string
	b.driver.Do(func(w *sim.World) {
		for name, fields := range twins {
			tw, err := w.Twin(name)
			if err != nil {
				continue
			}
			for _, f := range fields {
				v, _ := tw.Field(f)
				out = append(out, name+"."+f+"="+v)
			}
		}
	})
	slices.Sort(out)
	return strings.Join(out, " ")
}

// crashHome is the home of the end-to-end tests with its records in a directory, its
// twins and hands in this process, and a bridge to them for the child.
type crashHome struct {
	t      *testing.T
	dir    string
	ctx    context.Context
	driver *simdriver.Driver
	hands  *simdriver.Hands
	bridge *crashBridge
	url    string
	key    *latchkey.Key
	locks  map[string]*latchkey.Lock
	pins   map[int64]string // the codes put on the locks before the run, by code id
}

func newCrashHome(t *testing.T, after bool) *crashHome {
	h := &crashHome{t: t, dir: t.TempDir(), ctx: latchkey.NewContextWithActor(context.Background(), "ana"), pins: map[int64]string{}}
	h.driver = simdriver.New(homeWorld(t))
	h.driver.Speed = 5
	h.driver.Start()
	t.Cleanup(h.driver.Close)
	h.hands = &simdriver.Hands{Driver: h.driver}
	h.records(func(svc *latchkey.Service) { _, h.key, h.locks = recordHome(t, h.ctx, svc, h.hands) })
	h.bridge = &crashBridge{t: t, driver: h.driver, hands: h.hands, after: after, seen: map[string]bool{}, done: map[string]bool{}}
	srv := httptest.NewServer(h.bridge)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// records opens the records (the child may be running: SQLite's WAL lets both in).
func (h *crashHome) records(f func(svc *latchkey.Service)) {
	h.t.Helper()
	db, err := sqlite.Open(h.ctx, filepath.Join(h.dir, "latchkey.db"))
	must(h.t, err)
	defer db.Close()
	svc := storetest.NewServiceAt(h.t, db, filepath.Join(h.dir, "vault.key"))
	svc.Clock = latchkey.SystemClock{}
	f(svc)
}

// codesOn gives Ana n codes on a lock and has a sync engine in this process put them on
// its twin.
func (h *crashHome) codesOn(lock string, n int) {
	h.records(func(svc *latchkey.Service) {
		p := &latchkey.Person{Name: "Bo", Role: latchkey.RoleFamily}
		must(h.t, svc.CreatePerson(h.ctx, p))
		for i := range n {
			c, pin, err := svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: fmt.Sprintf("Code %d", i+1)}, LockIDs: []int64{h.locks[lock].ID}})
			must(h.t, err)
			h.pins[c.ID] = pin
		}
		ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
		defer cancel()
		syncer := &codesync.Engine{Service: svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: h.driver},
			Interval: 50 * time.Millisecond, Timeout: 3 * time.Second}
		go syncer.Run(ctx)
		for !h.codesSet(svc, lock) {
			if ctx.Err() != nil {
				h.t.Fatalf("the codes never reached %s", lock)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// codesSet reports whether every code is recorded set on a lock and its twin holds it.
func (h *crashHome) codesSet(svc *latchkey.Service, lock string) bool {
	h.t.Helper()
	grants, err := svc.FindGrants(h.ctx, latchkey.GrantFilter{LockID: &h.locks[lock].ID})
	must(h.t, err)
	for _, g := range grants {
		if g.Status != latchkey.GrantSet {
			return false
		}
		pin, present, err := h.driver.ReadCode(h.ctx, lock, g.Slot)
		if err != nil || !present || pin != h.pins[g.CodeID] {
			return false
		}
	}
	return len(grants) == len(h.pins)
}

// start starts a run, done by the virtual hands, in the records.
func (h *crashHome) start(kind latchkey.ProcedureKind, locks ...string) int64 {
	var id int64
	h.records(func(svc *latchkey.Service) {
		e := procedure.New(svc, catalog.Default())
		e.Hands["sim"] = h.hands
		req := latchkey.ProcedureRequest{Kind: kind, Hands: "sim"}
		for _, name := range locks {
			req.LockIDs = append(req.LockIDs, h.locks[name].ID)
		}
		r, err := e.StartProcedure(h.ctx, req)
		must(h.t, err)
		id = r.ID
	})
	return id
}

// runToEnd runs the child again and again, each killed at the next step boundary,
// until the run has ended; it returns the run.
func (h *crashHome) runToEnd(runID int64) *latchkey.Run {
	h.t.Helper()
	for starts := 1; ; starts++ {
		if starts > 80 {
			h.t.Fatalf("the child was started %d times and the run is not over; kills: %v", starts, h.bridge.kills)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashProcedureChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+h.dir, crashBridgeEnv+"="+h.url)
		stdin, err := cmd.StdinPipe()
		must(h.t, err)
		out, err := cmd.StdoutPipe()
		must(h.t, err)
		var errs bytes.Buffer
		cmd.Stderr = &errs
		must(h.t, cmd.Start())
		h.bridge.mu.Lock()
		h.bridge.child = cmd
		h.bridge.mu.Unlock()
		exited := make(chan struct{})
		var lines []string
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			cmd.Wait()
			close(exited)
		}()
		deadline := time.After(45 * time.Second)
		for {
			var r *latchkey.Run
			select {
			case <-exited:
			case <-deadline:
				cmd.Process.Kill()
				<-exited
				h.records(func(svc *latchkey.Service) { r, _ = svc.FindRunByID(h.ctx, runID) })
				h.t.Fatalf("run %d still %s at step %d after 45 s of one child; its last records %+v; output %s %s", runID, r.Status, r.Current+1, r.Records[max(0, len(r.Records)-3):], strings.Join(lines, "\n"), errs.String())
			case <-time.After(100 * time.Millisecond):
				h.records(func(svc *latchkey.Service) {
					var err error
					r, err = svc.FindRunByID(h.ctx, runID)
					must(h.t, err)
				})
				if r.Status == latchkey.RunActive {
					continue
				}
				stdin.Close()
				cmd.Process.Kill()
				<-exited
				return r
			}
			if st := cmd.ProcessState; st != nil && !strings.Contains(st.String(), "killed") {
				h.t.Fatalf("the child ended by itself (%s): %s %s", st, strings.Join(lines, "\n"), errs.String())
			}
			break
		}
	}
}

// checkRecords checks that no record was lost: every step of the plan done once, in
// order, and nothing else recorded; the run's start and end in each lock's service log;
// an audit entry for each step; and the audit chain whole.
func (h *crashHome) checkRecords(svc *latchkey.Service, r *latchkey.Run) {
	h.t.Helper()
	if len(r.Records) != len(r.Steps) {
		h.t.Errorf("run %d has %d step records for %d steps: %+v", r.ID, len(r.Records), len(r.Steps), r.Records)
	}
	for i, st := range r.Steps {
		if i < len(r.Records) && (r.Records[i].Step != st.ID || r.Records[i].Outcome != latchkey.StepDone) {
			h.t.Errorf("record %d is %s %s; step %d is %s", i, r.Records[i].Step, r.Records[i].Outcome, i+1, st.ID)
		}
	}
	for _, id := range r.LockIDs {
		entries, err := svc.FindServiceEntries(h.ctx, id)
		must(h.t, err)
		var started, done int
		for _, e := range entries {
			switch {
			case strings.Contains(e.Note, fmt.Sprintf("Procedure run %d: Started", r.ID)):
				started++
			case strings.Contains(e.Note, fmt.Sprintf("Procedure run %d: Done", r.ID)):
				done++
			}
		}
		if started != 1 || done != 1 {
			h.t.Errorf("lock %d's service log has the run started %d times and done %d times", id, started, done)
		}
	}
	steps, _, err := svc.FindAuditEntries(h.ctx, latchkey.AuditFilter{Action: "procedure.step"}, latchkey.Page{Limit: 1000})
	must(h.t, err)
	if len(steps) != len(r.Records) {
		h.t.Errorf("the audit log has %d step reports; the run %d", len(steps), len(r.Records))
	}
	if _, err := svc.VerifyAuditLog(h.ctx); err != nil {
		h.t.Errorf("the audit log does not verify: %v", err)
	}
}

// checkBridge checks that the child was killed at every action, and that no action done
// again changed a twin.
func (h *crashHome) checkBridge() {
	h.t.Helper()
	b := h.bridge
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.kills) != len(b.seen) {
		h.t.Errorf("%d kills for %d actions", len(b.kills), len(b.seen))
	}
	for _, c := range b.changed {
		h.t.Errorf("done again, it changed the twins: %s", c)
	}
	h.t.Logf("killed %d times: %s", len(b.kills), strings.Join(b.kills, "; "))
}

func crashModes(t *testing.T, test func(t *testing.T, after bool)) {
	if testing.Short() {
		t.Skip("crash tests skipped in -short mode")
	}
	for _, after := range []bool{false, true} {
		t.Run(map[bool]string{false: "killed before each action", true: "killed after each action"}[after], func(t *testing.T) { test(t, after) })
	}
}

// A rekey of two locks keyed alike, its server killed at every step boundary: the run
// ends done, both cylinders take the new key and the records say so, and no step is
// recorded twice or lost.
func TestCrashRekey(t *testing.T) {
	crashModes(t, func(t *testing.T, after bool) {
		h := newCrashHome(t, after)
		r := h.runToEnd(h.start(latchkey.ProcedureRekey, "front", "side"))
		if r.Status != latchkey.RunDone {
			t.Fatalf("the rekey ended %s: %s %+v", r.Status, r.Outcome, r.Escalation)
		}
		h.checkBridge()
		h.records(func(svc *latchkey.Service) {
			bitting, err := svc.RevealBitting(h.ctx, r.Params.NewKeyID)
			must(t, err)
			for name, twin := range map[string]string{"front": "front-cylinder", "side": "side"} {
				l, err := svc.FindLockByID(h.ctx, h.locks[name].ID)
				must(t, err)
				if l.KeyID != r.Params.NewKeyID {
					t.Errorf("%s takes key %d; the run's new key is %d", name, l.KeyID, r.Params.NewKeyID)
				}
				if got := h.field(twin, "bitting"); got != bitting || got == string(houseKey) {
					t.Errorf("%s's cylinder takes %s; the records say %s", name, got, bitting)
				}
				if got := h.field(twin, "state"); got != sim.CylinderOperate {
					t.Errorf("%s's cylinder is %s", name, got)
				}
			}
			// The back door still takes the house key, which stays in use.
			if k, err := svc.FindKeyByID(h.ctx, h.key.ID); err != nil || k.State != latchkey.KeyActive {
				t.Errorf("the house key after the rekey: %+v %v", k, err)
			}
			h.checkRecords(svc, r)
		})
	})
}

// A factory reset of the Z-Wave front door, with two codes on it, its server killed at
// every step boundary: the run ends done, the lock back on its hub with its door handing
// set, both codes recorded set and held by the twin, and no step recorded twice or lost.
func TestCrashReset(t *testing.T) {
	crashModes(t, func(t *testing.T, after bool) {
		h := newCrashHome(t, after)
		h.codesOn("front", 2)
		r := h.runToEnd(h.start(latchkey.ProcedureReset, "front"))
		if r.Status != latchkey.RunDone {
			t.Fatalf("the reset ended %s: %s %+v", r.Status, r.Outcome, r.Escalation)
		}
		h.checkBridge()
		if !strings.HasPrefix(h.field("front", "paired"), "zwave ") || h.field("front", "handing") != "set" {
			t.Errorf("after the reset the front twin is paired %s, handing %s", h.field("front", "paired"), h.field("front", "handing"))
		}
		h.records(func(svc *latchkey.Service) {
			if !h.codesSet(svc, "front") {
				grants, _ := svc.FindGrants(h.ctx, latchkey.GrantFilter{LockID: &h.locks["front"].ID})
				t.Errorf("after the reset not every code is back: %+v; the twin holds %s", grants, h.field("front", "codes"))
			}
			if l, err := svc.FindLockByID(h.ctx, h.locks["front"].ID); err != nil || l.Status != latchkey.LockOK {
				t.Errorf("the front lock after its reset: %+v %v", l, err)
			}
			h.checkRecords(svc, r)
		})
	})
}

// field reads a twin's field.
func (h *crashHome) field(twin, name string) string {
	var v string
	h.driver.Do(func(w *sim.World) {
		t, _ := w.Twin(twin)
		v, _ = t.Field(name)
	})
	return v
}
