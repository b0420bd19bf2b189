package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// fleetConfig is one fleet benchmark: N twins, each alone on its hub (a home), driven
// by the real sync engine through simdriver, on the embedded SQLite in a temporary
// directory.
type fleetConfig struct {
	Locks    int
	Codes    int    // provision: codes put on every lock; churn: windows that open and close
	Profile  string // zwave, zigbee or zero
	Scenario string // provision, revoke or churn
	Runs     int
	Seed     uint64
}

// Fleet benchmark scenarios and radio profiles.
var (
	fleetScenarios = []string{"provision", "revoke", "churn"}
	fleetProfiles  = []string{"zwave", "zigbee", "zero"}
)

func (c fleetConfig) check() error {
	switch {
	case !slices.Contains(fleetScenarios, c.Scenario):
		return usagef("unknown scenario %q: use provision, revoke or churn", c.Scenario)
	case !slices.Contains(fleetProfiles, c.Profile):
		return usagef("unknown profile %q: use zwave, zigbee or zero", c.Profile)
	case c.Locks < 1 || c.Locks > 100000:
		return usagef("--locks must be from 1 to 100000, not %d", c.Locks)
	case c.Codes < 1 || c.Codes > 30:
		return usagef("--codes must be from 1 to 30 (the smallest keypad the twins model holds 30), not %d", c.Codes)
	case c.Runs < 1 || c.Runs > 100:
		return usagef("--runs must be from 1 to 100, not %d", c.Runs)
	}
	return nil
}

// fleetRun is what one run measured.
type fleetRun struct {
	// Wall is the wall time from the engine's first pass until every code stood where
	// the records want it (the end of the last pass that sent anything). The twins' clock runs in step with the wall clock, so this is
	// also the virtual time the run took.
	Wall time.Duration `json:"wall_ns"`
	// Radio is the time spent waiting on the radio model. With latencies (zwave,
	// zigbee) it is the part of Wall during which at least one command was on its way
	// to a lock or back. With the zero profile nothing waits on a latency, and it is the
	// time the twins spent computing their answers (simdriver's Simulating). Engine is
	// Wall less Radio: with latencies, the time nothing waited on a radio because the
	// engine (the records, the vault, the audit log) had not sent anything yet; with the
	// zero profile, everything but the twins' own work.
	Radio  time.Duration `json:"radio_ns"`
	Engine time.Duration `json:"engine_ns"`
	// CPU is the process's CPU time over Wall (user and system, all cores): the engine,
	// the records and the twins' simulation together. Unlike Wall it hardly moves when
	// other processes share the machine.
	CPU time.Duration `json:"cpu_ns"`
	// Bound is the lower bound the radio model implies (fleetBound).
	Bound time.Duration `json:"bound_ns"`
	// Changes is how many (code, lock) changes were confirmed by reading the slot back.
	Changes  int   `json:"changes"`
	Commands int64 `json:"commands"`
	Passes   int   `json:"passes"`
	// HeapPerLock is the Go heap the records and the engine hold per lock once the
	// fleet is idle: the heap after garbage collection, less the heap before any record
	// was made (the twins are built before, and are not the server's), divided by N.
	HeapPerLock float64 `json:"heap_per_lock_bytes"`
	// Path is where the time of the lock that finished last went (summed over the
	// steps of a churn).
	Path criticalPath `json:"critical_path"`
}

// fleetResult is a benchmark's result: every run, and the medians.
type fleetResult struct {
	Config fleetConfig `json:"config"`
	Runs   []fleetRun  `json:"runs"`
	// Medians over the runs, and ratios of the medians.
	Wall        time.Duration `json:"wall_ns"`
	Engine      time.Duration `json:"engine_ns"`
	CPU         time.Duration `json:"cpu_ns"`
	Bound       time.Duration `json:"bound_ns"`
	WallRatio   float64       `json:"wall_over_bound,omitempty"`   // completion / bound; 1 is the radio's pace
	EngineRatio float64       `json:"engine_over_bound,omitempty"` // the engine's own time / bound
	Throughput  float64       `json:"changes_per_second"`
	HeapPerLock float64       `json:"heap_per_lock_bytes"`
}

// fleetRadio is the radio model of a profile. "zero" is the Z-Wave twin with every
// latency 1 ns: what is left is the engine's own time.
func fleetRadio(profile string) (radio, model string, cfg sim.RadioConfig) {
	switch profile {
	case "zigbee":
		return "zigbee", "914", sim.RadioConfig{}
	case "zero":
		ns := time.Nanosecond
		return "zwave", "916", sim.RadioConfig{ZWaveBeamMin: ns, ZWaveBeamMax: ns, ZWaveAwakeMin: ns, ZWaveAwakeMax: ns, ZWaveAwakeWindow: ns}
	}
	return "zwave", "916", sim.RadioConfig{}
}

// benchFleet runs the benchmark cfg.Runs times, each on a fresh fleet and store.
func benchFleet(ctx context.Context, cfg fleetConfig) (*fleetResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	var runs []fleetRun
	for i := range cfg.Runs {
		r, err := fleetOnce(ctx, cfg, cfg.Seed+uint64(i))
		if err != nil {
			return nil, err
		}
		runs = append(runs, *r)
	}
	return summarise(cfg, runs), nil
}

// summarise takes the medians of runs.
func summarise(cfg fleetConfig, runs []fleetRun) *fleetResult {
	res := &fleetResult{Config: cfg, Runs: runs}
	med := func(f func(fleetRun) float64) float64 {
		v := make([]float64, len(res.Runs))
		for i, r := range res.Runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	res.Wall = time.Duration(med(func(r fleetRun) float64 { return float64(r.Wall) }))
	res.Engine = time.Duration(med(func(r fleetRun) float64 { return float64(r.Engine) }))
	res.CPU = time.Duration(med(func(r fleetRun) float64 { return float64(r.CPU) }))
	res.Bound = time.Duration(med(func(r fleetRun) float64 { return float64(r.Bound) }))
	if res.Bound >= time.Millisecond {
		res.WallRatio = float64(res.Wall) / float64(res.Bound)
		res.EngineRatio = float64(res.Engine) / float64(res.Bound)
	}
	res.Throughput = med(func(r fleetRun) float64 { return float64(r.Changes) / r.Wall.Seconds() })
	res.HeapPerLock = med(func(r fleetRun) float64 { return r.HeapPerLock })
	return res
}

// fleet is one run's world, store and engine.
type fleet struct {
	cfg    fleetConfig
	svc    *latchkey.Service
	clock  *benchClock
	world  *sim.World
	driver *simdriver.Driver
	engine *codesync.Engine
	trace  *tracedDriver
	locks  []int64
}

// benchClock is the records' clock: the wall clock, moved on by hours at once where the
// churn scenario opens and closes windows.
type benchClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *benchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *benchClock) skip(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// The codes the revoke scenario finds on every lock: the owner's, which stays, and the
// person's, which is revoked.
const (
	ownerPIN  = "739104"
	personPIN = "582617"
)

// churnStep is how far apart the churn scenario's windows open: more than the lead
// time, so that each step opens one window and closes the one before.
const (
	churnStep   = 3 * time.Hour
	churnWindow = 2 * time.Hour
)

func fleetOnce(ctx context.Context, cfg fleetConfig, seed uint64) (*fleetRun, error) {
	dir, err := os.MkdirTemp("", "latchkey-bench-")
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot make a temporary directory for the benchmark's records: %v.", err)
	}
	defer os.RemoveAll(dir)
	f := &fleet{cfg: cfg, clock: &benchClock{}}
	if err := f.buildWorld(seed); err != nil {
		return nil, err
	}
	heapBefore := heapInUse()

	store, err := sqlite.Open(ctx, filepath.Join(dir, "latchkey.db"))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	v, err := vault.Open(filepath.Join(dir, "vault.key"))
	if err != nil {
		return nil, err
	}
	f.svc = &latchkey.Service{Store: store, Vault: v, Models: Rules(), Clock: f.clock}
	ctx = latchkey.NewContextWithActor(ctx, "bench")
	codes, err := f.records(ctx)
	if err != nil {
		return nil, err
	}
	f.driver = simdriver.New(f.world)
	f.driver.Start()
	defer f.driver.Close()
	f.trace = newTracedDriver(f.driver)
	f.engine = &codesync.Engine{Service: f.svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: f.trace}}
	engineCtx := latchkey.NewContextWithActor(ctx, "sync engine")

	run := &fleetRun{}
	steps := 1
	if cfg.Scenario == "churn" {
		steps = cfg.Codes
	}
	for step := range steps {
		switch cfg.Scenario {
		case "revoke":
			for _, c := range codes {
				if _, err := f.svc.RevokeCode(ctx, c); err != nil {
					return nil, err
				}
			}
		case "churn":
			// The window of code step opens (within the lead time) and the one before closes.
			if step == 0 {
				f.clock.skip(churnStep - 30*time.Minute)
			} else {
				f.clock.skip(churnStep)
			}
		}
		f.trace.reset()
		radio0 := f.driver.RadioStats()
		cpu0 := processCPU()
		start := time.Now()
		// The step is done when the last pass that sent anything ends: its outcomes are
		// recorded then. The pass after it, which finds nothing to send, only says so.
		wall, cpu, radio := time.Duration(0), time.Duration(0), radio0
		for {
			sent := f.driver.RadioStats().Commands
			if f.engine.Pass(engineCtx); ctx.Err() != nil {
				return nil, ctx.Err()
			}
			run.Passes++
			if f.driver.RadioStats().Commands == sent {
				break // a pass with nothing to send: every code stands where it should
			}
			wall, cpu, radio = time.Since(start), processCPU()-cpu0, f.driver.RadioStats()
		}
		run.Wall += wall
		run.Path.add(f.trace.path(start, start.Add(wall)))
		run.CPU += cpu
		if cfg.Profile == "zero" {
			run.Radio += radio.Simulating - radio0.Simulating
		} else {
			run.Radio += radio.Waiting - radio0.Waiting
		}
		run.Commands += radio.Commands - radio0.Commands
	}
	run.Engine = run.Wall - run.Radio
	if run.Changes, err = f.check(ctx, codes); err != nil {
		return nil, err
	}
	f.driver.Close()
	run.HeapPerLock = float64(int64(heapInUse())-int64(heapBefore)) / float64(cfg.Locks)
	runtime.KeepAlive(f)
	run.Bound = fleetBound(cfg, seed)
	return run, nil
}

// heapInUse returns the Go heap in use after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// buildWorld makes the twins: each lock alone on a hub of its own, paired.
func (f *fleet) buildWorld(seed uint64) error {
	radio, model, rc := fleetRadio(f.cfg.Profile)
	f.world = sim.NewWorld(sim.Config{Seed: seed, Radio: rc, NoTrace: true})
	for i := range f.cfg.Locks {
		hub := fmt.Sprintf("home-%d", i+1)
		if _, err := f.world.AddHub(hub, radio); err != nil {
			return err
		}
		opt := sim.LockOptions{Model: model, Radio: radio, Hub: hub, Locked: true}
		if f.cfg.Scenario == "revoke" {
			opt.Codes = map[int]string{1: ownerPIN, 2: personPIN}
		}
		l, err := f.world.AddLock(fmt.Sprintf("lock-%d", i+1), opt)
		if err != nil {
			return err
		}
		if err := l.JoinHub(); err != nil {
			return err
		}
	}
	f.world.Advance(time.Minute) // the hubs' inclusion modes time out; the locks fall asleep
	return nil
}

// records makes the fleet's records: a site, a door and a connected lock per twin, and
// the scenario's codes. It returns the codes the scenario works on.
func (f *fleet) records(ctx context.Context) ([]int64, error) {
	_, model, _ := fleetRadio(f.cfg.Profile)
	site := &latchkey.Site{Name: "Fleet", TimeZone: "UTC"}
	if err := f.svc.CreateSite(ctx, site); err != nil {
		return nil, err
	}
	f.locks = make([]int64, f.cfg.Locks)
	// Many at once, so that the store's group commit takes them together.
	if err := parallel(f.cfg.Locks, func(i int) error {
		door := &latchkey.Door{SiteID: site.ID, Name: fmt.Sprintf("Door %d", i+1)}
		if err := f.svc.CreateDoor(ctx, door); err != nil {
			return err
		}
		l := &latchkey.Lock{DoorID: door.ID, Name: fmt.Sprintf("lock-%d", i+1), ModelID: model,
			Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: fmt.Sprintf("lock-%d", i+1)}}
		if err := f.svc.CreateLock(ctx, l); err != nil {
			return err
		}
		f.locks[i] = l.ID
		return nil
	}); err != nil {
		return nil, err
	}
	owner := &latchkey.Person{Name: "Owner", Role: latchkey.RoleFamily}
	person := &latchkey.Person{Name: "Sam", Role: latchkey.RoleFamily}
	for _, p := range []*latchkey.Person{owner, person} {
		if err := f.svc.CreatePerson(ctx, p); err != nil {
			return nil, err
		}
	}
	var codes []int64
	add := func(c latchkey.Code, pin string, confirmed bool) error {
		// A code goes on at most MaxLocksPerChange locks in one change.
		for from := 0; from < len(f.locks); from += latchkey.MaxLocksPerChange {
			ids := f.locks[from:min(from+latchkey.MaxLocksPerChange, len(f.locks))]
			made, _, err := f.svc.CreateCode(ctx, latchkey.NewCode{Code: c, PIN: pin, LockIDs: ids, Confirmed: confirmed})
			if err != nil {
				return err
			}
			if c.PersonID == person.ID {
				codes = append(codes, made.ID)
			}
		}
		return nil
	}
	switch f.cfg.Scenario {
	case "provision":
		for i := range f.cfg.Codes {
			if err := add(latchkey.Code{PersonID: person.ID, Label: fmt.Sprintf("Code %d", i+1)}, "", false); err != nil {
				return nil, err
			}
		}
	case "revoke":
		// What the twins hold already, recorded as set.
		if err := add(latchkey.Code{PersonID: owner.ID, Label: "Owner"}, ownerPIN, true); err != nil {
			return nil, err
		}
		if err := add(latchkey.Code{PersonID: person.ID, Label: "Sam"}, personPIN, true); err != nil {
			return nil, err
		}
	case "churn":
		start := f.clock.Now()
		for i := range f.cfg.Codes {
			from := start.Add(time.Duration(i+1) * churnStep)
			to := from.Add(churnWindow)
			c := latchkey.Code{PersonID: person.ID, Label: fmt.Sprintf("Guest %d", i+1),
				Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &from, End: &to}}
			// Chosen codes: generating one for many locks counts every lock's codes
			// against one lock's capacity (CreateCode passes them all to GenerateCode).
			if err := add(c, pinFor(i+1), false); err != nil {
				return nil, err
			}
		}
	}
	return codes, nil
}

// check verifies that every code stands where the scenario wants it, on the records
// and on the twins, and returns how many changes were confirmed.
func (f *fleet) check(ctx context.Context, codes []int64) (int, error) {
	want := map[int64]latchkey.GrantStatus{}
	changes := 0
	for i, id := range codes {
		switch f.cfg.Scenario {
		case "provision":
			want[id] = latchkey.GrantSet
			changes += f.grantsPerCode(i)
		case "revoke":
			want[id] = latchkey.GrantRemoved
			changes += f.grantsPerCode(i)
		case "churn":
			step := i / f.chunks()
			switch {
			case step == f.cfg.Codes-1:
				want[id] = latchkey.GrantSet
				changes += f.grantsPerCode(i)
			default:
				want[id] = latchkey.GrantRemoved
				changes += 2 * f.grantsPerCode(i)
			}
		}
	}
	for id, status := range want {
		grants, err := f.svc.FindGrants(ctx, latchkey.GrantFilter{CodeID: &id})
		if err != nil {
			return 0, err
		}
		for _, g := range grants {
			if g.Status != status {
				return 0, latchkey.Errorf(latchkey.EINTERNAL, "The benchmark did not converge: code %d on lock %d is %s (%s), not %s.", id, g.LockID, g.Status, g.Reason, status)
			}
		}
	}
	return changes, nil
}

// chunks is how many codes stand for one code on every lock (MaxLocksPerChange each).
func (f *fleet) chunks() int {
	return (f.cfg.Locks + latchkey.MaxLocksPerChange - 1) / latchkey.MaxLocksPerChange
}

// grantsPerCode is how many locks the i-th code record is on.
func (f *fleet) grantsPerCode(i int) int {
	chunk := i % f.chunks()
	return min(latchkey.MaxLocksPerChange, f.cfg.Locks-chunk*latchkey.MaxLocksPerChange)
}

// parallel runs f for 0..n-1, 64 at a time, and returns the first error.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, 64)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				first = cmp(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
