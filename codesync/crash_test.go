package codesync_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// The crash test's server is a child process (this test binary, run again); the twins
// live in the parent, so that what the locks hold outlives every kill, and the child
// reaches them through a small HTTP bridge standing in for a hub.
const (
	crashDirEnv    = "LATCHKEY_SYNC_CRASH_DIR"
	crashBridgeEnv = "LATCHKEY_SYNC_CRASH_BRIDGE"
)

// bridgeDriver is the child's driver: each command is one request to the parent's twins.
type bridgeDriver struct{ base string }

func (b bridgeDriver) Name() latchkey.Driver              { return latchkey.DriverSim }
func (bridgeDriver) Subscribe(func(latchkey.DeviceEvent)) {}
func (bridgeDriver) Lock(context.Context, string) error   { return nil }
func (bridgeDriver) Unlock(context.Context, string) error { return nil }
func (b bridgeDriver) ClearCode(ctx context.Context, address string, slot int) error {
	_, err := b.call(ctx, "clear", address, slot, "")
	return err
}

func (b bridgeDriver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	_, err := b.call(ctx, "set", address, slot, pin)
	return err
}

func (b bridgeDriver) ReadCode(ctx context.Context, address string, slot int) (string, bool, error) {
	r, err := b.call(ctx, "read", address, slot, "")
	return r.PIN, r.Present, err
}

type bridgeAnswer struct {
	PIN     string `json:"pin"`
	Present bool   `json:"present"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (b bridgeDriver) call(ctx context.Context, op, address string, slot int, pin string) (bridgeAnswer, error) {
	form := url.Values{"op": {op}, "address": {address}, "slot": {strconv.Itoa(slot)}, "pin": {pin}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base, nil)
	if err != nil {
		return bridgeAnswer{}, err
	}
	req.URL.RawQuery = form.Encode()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return bridgeAnswer{}, latchkey.Errorf(latchkey.EUNAVAILABLE, "the hub did not answer: %v", err)
	}
	defer resp.Body.Close()
	var a bridgeAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return a, latchkey.Errorf(latchkey.EUNAVAILABLE, "the hub's answer was cut off: %v", err)
	}
	if a.Code != "" {
		return a, latchkey.Errorf(a.Code, "%s", a.Message)
	}
	return a, nil
}

// TestCrashSyncChild is the child: the server's sync engine and job queue over the
// records in the directory the parent names, until it is killed.
func TestCrashSyncChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashResumesAndConverges as its child process")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "latchkey.db"))
	must(t, err)
	svc := storetest.NewServiceAt(t, db, filepath.Join(dir, "vault.key"))
	svc.Clock = latchkey.SystemClock{}
	engine := &codesync.Engine{Service: svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: bridgeDriver{os.Getenv(crashBridgeEnv)}},
		Interval: 200 * time.Millisecond, Timeout: 2 * time.Second}
	q, err := jobs.OpenSQLite(ctx, filepath.Join(dir, "jobs.db"), jobs.Config{Sync: engine, JobTimeout: 20 * time.Second,
		FirstBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, PollInterval: 50 * time.Millisecond})
	must(t, err)
	fmt.Println("running")
	engine.Plan(ctx, q)
}

// write is one command the bridge carried out on a twin.
type write struct {
	op   string
	pin  string
	when time.Time
}

// bridge serves the parent's twins to the child, records every write, and kills the
// child when the call numbered killAt comes in: after carrying it out or before, as
// killAfter says, and before answering, so that the child never learns the outcome.
type bridge struct {
	driver *simdriver.Driver
	mu     sync.Mutex
	calls  int
	killAt int
	after  bool
	child  *exec.Cmd
	writes map[string][]write // by "address/slot"
}

func (b *bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op, address, pin := q.Get("op"), q.Get("address"), q.Get("pin")
	slot, _ := strconv.Atoi(q.Get("slot"))
	b.mu.Lock()
	b.calls++
	kill := b.calls == b.killAt && b.child != nil
	after, child := b.after, b.child
	b.mu.Unlock()
	if kill && !after {
		child.Process.Signal(syscall.SIGKILL)
		return
	}
	var a bridgeAnswer
	var err error
	switch op {
	case "set":
		err = b.driver.SetCode(r.Context(), address, slot, pin)
	case "clear":
		err = b.driver.ClearCode(r.Context(), address, slot)
	case "read":
		a.PIN, a.Present, err = b.driver.ReadCode(r.Context(), address, slot)
	}
	if op != "read" && err == nil {
		b.mu.Lock()
		key := fmt.Sprintf("%s/%d", address, slot)
		b.writes[key] = append(b.writes[key], write{op, pin, time.Now()})
		b.mu.Unlock()
	}
	if kill {
		child.Process.Signal(syscall.SIGKILL)
		return
	}
	if err != nil {
		a.Code, a.Message = latchkey.ErrorCode(err), latchkey.ErrorMessage(err)
	}
	json.NewEncoder(w).Encode(a)
}

// A server killed at random points while the engine works (between a write reaching a
// lock and its outcome being recorded, among others) resumes when started again and
// converges: every wanted code on its locks, every revoked one gone, no revoked code
// written again after its revocation, and no slot given another code's PIN while its
// own code holds it.
func TestCrashResumesAndConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	dir := t.TempDir()

	w := sim.NewWorld(sim.Config{Seed: uint64(seed)})
	names := []string{"z1", "z2", "z3", "z4", "g1", "g2", "g3", "g4"}
	for _, name := range names {
		radio, model := "zwave", "916"
		if name[0] == 'g' {
			radio, model = "zigbee", "914"
		}
		l, err := w.AddLock(name, sim.LockOptions{Model: model, Radio: radio, Locked: true})
		must(t, err)
		must(t, l.JoinHub())
	}
	d := simdriver.New(w)
	d.Speed = 20
	d.Start()
	t.Cleanup(d.Close)
	br := &bridge{driver: d, writes: map[string][]write{}}
	hub := httptest.NewServer(br)
	t.Cleanup(hub.Close)

	// The records: eight connected locks, eight codes on two of them each.
	ctx := latchkey.NewContextWithActor(context.Background(), "ana")
	pins := map[int64]string{}
	var codeIDs []int64 // in the order made
	revokedAt := map[int64]time.Time{}
	records := func(f func(svc *latchkey.Service)) {
		db, err := sqlite.Open(ctx, filepath.Join(dir, "latchkey.db"))
		must(t, err)
		defer db.Close()
		svc := storetest.NewServiceAt(t, db, filepath.Join(dir, "vault.key"))
		svc.Clock = latchkey.SystemClock{}
		f(svc)
	}
	var lockIDs []int64
	addCodes := func(svc *latchkey.Service, n int) {
		person := &latchkey.Person{Name: fmt.Sprintf("Guest %d", len(pins)), Role: latchkey.RoleGuest}
		must(t, svc.CreatePerson(ctx, person))
		for range n {
			// Code i goes on locks i and i+3 (of eight): two codes a lock, within the
			// three slots the test models have.
			i := len(pins)
			ids := []int64{lockIDs[i%len(lockIDs)], lockIDs[(i+3)%len(lockIDs)]}
			c, pin, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: person.ID, Label: fmt.Sprintf("Code %d", len(pins))}, LockIDs: ids})
			must(t, err)
			pins[c.ID] = pin
			codeIDs = append(codeIDs, c.ID)
		}
	}
	records(func(svc *latchkey.Service) {
		site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
		must(t, svc.CreateSite(ctx, site))
		door := &latchkey.Door{SiteID: site.ID, Name: "Doors"}
		must(t, svc.CreateDoor(ctx, door))
		for _, name := range names {
			l := &latchkey.Lock{DoorID: door.ID, Name: name, ModelID: "916", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: name}}
			must(t, svc.CreateLock(ctx, l))
			lockIDs = append(lockIDs, l.ID)
		}
		addCodes(svc, 8)
	})

	// start runs the child; it is killed at call killAt of the bridge (0: never).
	start := func(killAt int) (*exec.Cmd, chan struct{}) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSyncChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashBridgeEnv+"="+hub.URL)
		out, err := cmd.StdoutPipe()
		must(t, err)
		br.mu.Lock()
		br.calls, br.killAt, br.after, br.child = 0, killAt, rng.IntN(2) == 0, cmd
		br.mu.Unlock()
		must(t, cmd.Start())
		exited := make(chan struct{})
		go func() {
			lines := bufio.NewScanner(out)
			for lines.Scan() {
			}
			cmd.Wait()
			close(exited)
		}()
		return cmd, exited
	}
	// crash kills the child at a random call; one that has nothing left to do before
	// that call is killed idle, two seconds after its last.
	crash := func(round int) {
		cmd, exited := start(1 + rng.IntN(12))
		last, calls := time.Now(), 0
		for {
			select {
			case <-exited:
				return
			case <-time.After(100 * time.Millisecond):
			}
			br.mu.Lock()
			if br.calls != calls {
				last, calls = time.Now(), br.calls
			}
			br.mu.Unlock()
			if time.Since(last) > 2*time.Second {
				t.Logf("round %d: killed idle after %d calls", round, calls)
				cmd.Process.Kill()
				<-exited
				return
			}
		}
	}
	// converge runs the child until the records say every change is made.
	converge := func() {
		t.Helper()
		cmd, exited := start(0)
		defer func() { cmd.Process.Kill(); <-exited }()
		deadline := time.Now().Add(90 * time.Second)
		for {
			var waiting []string
			records(func(svc *latchkey.Service) {
				grants, err := svc.FindGrants(ctx, latchkey.GrantFilter{})
				must(t, err)
				for _, g := range grants {
					_, revoked := revokedAt[g.CodeID]
					if (revoked && g.Status != latchkey.GrantRemoved) || (!revoked && g.Status != latchkey.GrantSet) {
						waiting = append(waiting, fmt.Sprintf("code %d on lock %d: %s %s", g.CodeID, g.LockID, g.Status, g.Reason))
					}
				}
			})
			if len(waiting) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not converged after the crashes: %v", waiting)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for round := range 3 {
		crash(round)
	}
	converge()
	// While the server is down: three codes revoked (each lock keeps another way in:
	// make before break), two added.
	records(func(svc *latchkey.Service) {
		for _, i := range []int{0, 2, 4} {
			id := codeIDs[i]
			_, err := svc.RevokeCode(ctx, id)
			must(t, err)
			revokedAt[id] = time.Now()
		}
		addCodes(svc, 2)
	})
	for round := 3; round < 6; round++ {
		crash(round)
	}
	converge()

	// What the twins hold is what the records say.
	records(func(svc *latchkey.Service) {
		grants, err := svc.FindGrants(ctx, latchkey.GrantFilter{})
		must(t, err)
		slotCodes := map[string][]int64{} // the codes the records put in each slot, over time
		for _, g := range grants {
			l, err := svc.FindLockByID(ctx, g.LockID)
			must(t, err)
			key := fmt.Sprintf("%s/%d", l.Connection.Address, g.Slot)
			slotCodes[key] = append(slotCodes[key], g.CodeID)
			pin, present, err := d.ReadCode(ctx, l.Connection.Address, g.Slot)
			must(t, err)
			if _, revoked := revokedAt[g.CodeID]; revoked {
				if present && pin == pins[g.CodeID] {
					t.Errorf("%s: revoked code %d is still on the lock", key, g.CodeID)
				}
				continue
			}
			if !present || pin != pins[g.CodeID] {
				t.Errorf("%s: the lock does not hold code %d (present %v)", key, g.CodeID, present)
			}
		}
		// Every PIN written into a slot was that of a code the records gave the slot
		// (PINs repeat across locks, so a write is matched within its slot), and none
		// was a revoked code's written after its revocation.
		for key, ws := range br.writes {
			for _, wr := range ws {
				if wr.op != "set" {
					continue
				}
				var matched, live bool
				for _, id := range slotCodes[key] {
					if pins[id] != wr.pin {
						continue
					}
					matched = true
					if at, revoked := revokedAt[id]; !revoked || wr.when.Before(at) {
						live = true
					}
				}
				switch {
				case !matched:
					t.Errorf("%s: written a PIN of no code the records gave the slot", key)
				case !live:
					t.Errorf("%s: a revoked code written after its revocation", key)
				}
			}
			if len(ws) > 8 {
				t.Errorf("%s written %d times", key, len(ws))
			}
		}
	})
}
