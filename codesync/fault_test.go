package codesync_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// faultFleet is a few Z-Wave twins recorded as connected locks, worked by the engine
// pass by pass (not Run), so that tests count passes and read the twins' virtual clock.
type faultFleet struct {
	svc    *latchkey.Service
	world  *sim.World
	driver *simdriver.Driver
	slots  *slotLog
	engine *codesync.Engine
	ctx    context.Context
	person *latchkey.Person
	names  []string
	locks  map[string]int64 // lock ids by twin name
}

// newFaultFleet makes n twins, each on a hub of its own unless sharedHub, with the
// radio model given.
func newFaultFleet(t *testing.T, radio sim.RadioConfig, n int, sharedHub bool) *faultFleet {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: 7, Radio: radio, NoTrace: true})
	f := &faultFleet{world: w, locks: map[string]int64{}}
	for i := range n {
		name := fmt.Sprintf("lock-%d", i+1)
		opt := sim.LockOptions{Model: "916", Radio: "zwave", Locked: true}
		if !sharedHub {
			opt.Hub = "home-" + name
			if _, err := w.AddHub(opt.Hub, "zwave"); err != nil {
				t.Fatal(err)
			}
		}
		l, err := w.AddLock(name, opt)
		if err != nil {
			t.Fatal(err)
		}
		must(t, l.JoinHub())
		f.names = append(f.names, name)
	}
	w.Advance(time.Minute) // inclusion ends; the locks fall asleep
	f.driver = simdriver.New(w)
	f.driver.Speed = 50
	f.driver.Start()
	t.Cleanup(f.driver.Close)
	f.slots = &slotLog{inner: f.driver, writes: map[string]int{}, confirmed: map[string]bool{}, late: map[string]int{},
		doneAt: map[string]time.Duration{}, failedAt: map[string]time.Duration{}}

	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	f.svc = storetest.NewService(t, db)
	f.svc.Clock = latchkey.SystemClock{}
	ctx, cancel := context.WithTimeout(latchkey.NewContextWithActor(context.Background(), "ana"), 2*time.Minute)
	t.Cleanup(cancel)
	f.ctx = ctx
	site := &latchkey.Site{Name: "Fleet", TimeZone: "UTC"}
	must(t, f.svc.CreateSite(ctx, site))
	for _, name := range f.names {
		door := &latchkey.Door{SiteID: site.ID, Name: name}
		must(t, f.svc.CreateDoor(ctx, door))
		l := &latchkey.Lock{DoorID: door.ID, Name: name, ModelID: "916", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: name}}
		must(t, f.svc.CreateLock(ctx, l))
		f.locks[name] = l.ID
	}
	f.person = &latchkey.Person{Name: "Sam", Role: latchkey.RoleFamily}
	must(t, f.svc.CreatePerson(ctx, f.person))
	// Short waits, so that a lost frame costs the test a fraction of a second: the hub
	// gives up after 10 virtual seconds, 0.2 s at 50 times the wall clock.
	f.engine = &codesync.Engine{Service: f.svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: f.slots},
		Timeout: 2 * time.Second, FirstBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	return f
}

// addCodes adds k codes, each on every lock named (every lock when none is).
func (f *faultFleet) addCodes(t *testing.T, k int, names ...string) []int64 {
	t.Helper()
	if len(names) == 0 {
		names = f.names
	}
	var ids []int64
	for _, n := range names {
		ids = append(ids, f.locks[n])
	}
	var codes []int64
	for i := range k {
		c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: fmt.Sprintf("Code %d", i+1)}, LockIDs: ids})
		must(t, err)
		codes = append(codes, c.ID)
	}
	return codes
}

// converge runs passes until the records want nothing more of any lock but those
// skipped, and returns how many it took.
func (f *faultFleet) converge(t *testing.T, most int, skip ...string) int {
	t.Helper()
	skipped := map[int64]bool{}
	for _, n := range skip {
		skipped[f.locks[n]] = true
	}
	for pass := 1; pass <= most; pass++ {
		if wait := f.engine.Pass(latchkey.NewContextWithActor(f.ctx, "sync engine")); wait > 0 {
			time.Sleep(wait)
		}
		tasks, err := f.svc.SyncTasks(f.ctx)
		must(t, err)
		left := 0
		for _, task := range tasks {
			if !skipped[task.LockID] {
				left++
			}
		}
		// A code put off until its next attempt is not done either: wait for it.
		grants, err := f.svc.FindGrants(f.ctx, latchkey.GrantFilter{})
		must(t, err)
		for _, g := range grants {
			if g.NextAttempt != nil && !skipped[g.LockID] {
				left++
				time.Sleep(min(time.Until(*g.NextAttempt), 50*time.Millisecond))
			}
		}
		if left == 0 {
			return pass
		}
	}
	tasks, _ := f.svc.SyncTasks(f.ctx)
	t.Fatalf("not converged after %d passes: %d changes left, first %+v", most, len(tasks), tasks[0])
	return 0
}

// expect checks that every code stands as want on every lock named, in the records
// and on the twin: a set code's slot holds a code, a removed code's slot is empty.
func (f *faultFleet) expect(t *testing.T, codes []int64, want latchkey.GrantStatus, names ...string) {
	t.Helper()
	if len(names) == 0 {
		names = f.names
	}
	for _, name := range names {
		id := f.locks[name]
		for _, c := range codes {
			gs, err := f.svc.FindGrants(f.ctx, latchkey.GrantFilter{CodeID: &c, LockID: &id})
			must(t, err)
			if len(gs) != 1 || gs[0].Status != want {
				t.Fatalf("code %d on %s: %+v, want %s", c, name, gs, want)
			}
			var held string
			f.driver.Do(func(w *sim.World) {
				tw, _ := w.Twin(name)
				held, _ = tw.Field(fmt.Sprintf("slot:%d", gs[0].Slot))
			})
			if (want == latchkey.GrantSet) != (held == "set") {
				t.Fatalf("code %d is %s on %s, but its slot %d is %s on the twin", c, want, name, gs[0].Slot, held)
			}
		}
	}
}

// checkWrites checks that no slot was written again once it was read back holding its
// code, and that no slot was written more often than the engine worked its lock.
func (f *faultFleet) checkWrites(t *testing.T, passes int) {
	t.Helper()
	f.slots.mu.Lock()
	defer f.slots.mu.Unlock()
	for slot, n := range f.slots.late {
		t.Errorf("%s written %d times after it was read back holding its code", slot, n)
	}
	for slot, n := range f.slots.writes {
		if n > passes {
			t.Errorf("%s written %d times in %d passes", slot, n, passes)
		}
	}
	if len(f.slots.writes) == 0 {
		t.Error("no slot written at all")
	}
}

// slotLog wraps the twins' driver and counts, per lock and slot, the engine's writes,
// whether a read-back found the slot holding a code, and writes after that; and when
// each lock last had a slot confirmed, in virtual time.
type slotLog struct {
	inner     *simdriver.Driver
	mu        sync.Mutex
	writes    map[string]int
	confirmed map[string]bool
	late      map[string]int
	doneAt    map[string]time.Duration // by address: the last read-back, in virtual time
	failedAt  map[string]time.Duration // by address: the first command it did not answer
}

func (s *slotLog) Name() latchkey.Driver { return s.inner.Name() }
func (s *slotLog) Subscribe(f func(latchkey.DeviceEvent)) {
	s.inner.Subscribe(f)
}
func (s *slotLog) Lock(ctx context.Context, address string) error {
	return s.inner.Lock(ctx, address)
}
func (s *slotLog) Unlock(ctx context.Context, address string) error {
	return s.inner.Unlock(ctx, address)
}

func (s *slotLog) SetCode(ctx context.Context, address string, slot int, pin string) error {
	key := fmt.Sprintf("%s slot %d", address, slot)
	s.mu.Lock()
	s.writes[key]++
	if s.confirmed[key] {
		s.late[key]++
	}
	s.mu.Unlock()
	err := s.inner.SetCode(ctx, address, slot, pin)
	if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
		var at time.Duration
		s.inner.Do(func(w *sim.World) { at = w.Elapsed() })
		s.mu.Lock()
		if _, ok := s.failedAt[address]; !ok {
			s.failedAt[address] = at
		}
		s.mu.Unlock()
	}
	return err
}

func (s *slotLog) ClearCode(ctx context.Context, address string, slot int) error {
	s.mu.Lock()
	delete(s.confirmed, fmt.Sprintf("%s slot %d", address, slot))
	s.mu.Unlock()
	return s.inner.ClearCode(ctx, address, slot)
}

func (s *slotLog) ReadCode(ctx context.Context, address string, slot int) (string, bool, error) {
	pin, present, err := s.inner.ReadCode(ctx, address, slot)
	if err == nil {
		var at time.Duration
		s.inner.Do(func(w *sim.World) { at = w.Elapsed() })
		s.mu.Lock()
		if present {
			s.confirmed[fmt.Sprintf("%s slot %d", address, slot)] = true
		}
		s.doneAt[address] = max(s.doneAt[address], at)
		s.mu.Unlock()
	}
	return pin, present, err
}

var _ latchkey.CodeReader = (*slotLog)(nil)

// 30% of frames lost, 20% duplicated, 30% held back so that later ones overtake them:
// every code still reaches every lock and leaves it when revoked, confirmed by reading
// the slot back, and no slot is written again once it holds its code.
func TestConvergesThroughLossDuplicatesAndReordering(t *testing.T) {
	f := newFaultFleet(t, sim.RadioConfig{Loss: 0.3, Duplicate: 0.2, Reorder: 0.3}, 3, false)
	codes := f.addCodes(t, 3) // the test models hold three codes
	passes := f.converge(t, 60)
	f.expect(t, codes, latchkey.GrantSet)
	f.checkWrites(t, passes)
	if passes < 2 {
		t.Fatalf("converged in %d pass with 30%% of frames lost: the loss was not in play", passes)
	}

	_, err := f.svc.RevokeCode(f.ctx, codes[0])
	must(t, err)
	f.converge(t, 60)
	f.expect(t, codes[:1], latchkey.GrantRemoved)
	f.expect(t, codes[1:], latchkey.GrantSet)
}

// A hub that restarts while the engine writes a batch through it: what it had not
// answered fails as unreachable (not as refused, which would wait for a person), the
// locks back off, and once the hub is back every code is put on and confirmed.
func TestConvergesThroughHubRestart(t *testing.T) {
	f := newFaultFleet(t, sim.RadioConfig{}, 3, true)
	codes := f.addCodes(t, 3)
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		for f.driver.RadioStats().Commands < 4 && f.ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		f.driver.Do(func(w *sim.World) { w.Hub("zwave").Restart(20 * time.Second) })
	}()
	passes := f.converge(t, 200)
	<-restarted
	f.expect(t, codes, latchkey.GrantSet)
	f.checkWrites(t, passes)
	if passes < 2 {
		t.Fatalf("converged in %d pass though the hub restarted mid-batch", passes)
	}
	entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Actor: "sync engine"}, latchkey.Page{Limit: 1000})
	must(t, err)
	sawRestart := false
	for _, e := range entries {
		sawRestart = sawRestart || (e.Action == "code.sync" && strings.Contains(e.Detail, "restarting"))
	}
	if !sawRestart {
		t.Fatal("no recorded outcome says the hub was restarting")
	}
}

// A lock that never answers, among live ones: the live ones are all done in the first
// pass, as they are without it, and before the hub has even given up on the dead one;
// the dead one's codes are failed with the reason, never set; a code revoked on all of
// them leaves the live ones and stays removing (not removed) on the dead one.
func TestDeadLockAmongLiveOnesIsIsolated(t *testing.T) {
	for _, withDead := range []bool{false, true} {
		n := 4
		if withDead {
			n = 5
		}
		f := newFaultFleet(t, sim.RadioConfig{}, n, false)
		live := f.names[:4]
		if withDead {
			f.driver.Do(func(w *sim.World) {
				tw, _ := w.Twin("lock-5")
				tw.(*sim.Lock).DropRadio(1000 * time.Hour)
			})
		}
		codes := f.addCodes(t, 3)
		// Passes, not wall or virtual time, are compared: the twins' clock runs fifty
		// times as fast as the wall clock, so the engine's own milliseconds weigh there.
		if passes := f.converge(t, 1, "lock-5"); passes != 1 {
			t.Fatalf("dead lock %v: the live locks converged in %d passes", withDead, passes)
		}
		f.expect(t, codes, latchkey.GrantSet, live...)
		if !withDead {
			continue
		}
		f.slots.mu.Lock()
		gaveUp := f.slots.failedAt["lock-5"]
		for _, name := range live {
			if done := f.slots.doneAt[name]; gaveUp == 0 || done >= gaveUp {
				t.Errorf("%s was done at %v, the dead lock given up on at %v: the live one waited for it", name, done, gaveUp)
			}
		}
		f.slots.mu.Unlock()
		id := f.locks["lock-5"]
		gs, err := f.svc.FindGrants(f.ctx, latchkey.GrantFilter{LockID: &id})
		must(t, err)
		for _, g := range gs {
			if g.Status != latchkey.GrantFailed || g.Reason == "" {
				t.Fatalf("a code on the dead lock: %s (%q), want failed with the reason", g.Status, g.Reason)
			}
		}
		_, err = f.svc.RevokeCode(f.ctx, codes[0])
		must(t, err)
		f.converge(t, 20, "lock-5")
		f.expect(t, codes[:1], latchkey.GrantRemoved, live...)
		f.expect(t, codes[:1], latchkey.GrantRemoving, "lock-5")
	}
}
