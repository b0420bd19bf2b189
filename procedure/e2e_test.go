package procedure_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/keying"
	"github.com/latchkey/latchkey/procedure"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

var houseKey = keying.Bitting("35242")

// home is a house of twins, recorded as the records would have it: the front door a 916
// on Z-Wave and the back door a 914 on Zigbee, each with a SmartKey cylinder, the side
// door a SmartKey knob; every cylinder keyed to the house key, held by Ana. The sync
// engine and the procedure engine run, with the twins' virtual hands.
type home struct {
	svc    *latchkey.Service
	driver *simdriver.Driver
	engine *procedure.Engine
	hands  *simdriver.Hands
	ctx    context.Context
	cancel context.CancelFunc
	ana    *latchkey.Person
	key    *latchkey.Key
	locks  map[string]*latchkey.Lock
}

func newHome(t *testing.T) *home {
	t.Helper()
	h, syncer := buildHome(t, 5, true) // the hands' own waits take no real time (Driver.Sleep)
	syncDone := make(chan struct{})
	go func() { syncer.Run(h.ctx); close(syncDone) }()
	must(t, h.engine.Open(h.ctx))
	t.Cleanup(func() { h.cancel(); h.engine.Close(); <-syncDone })
	return h
}

// newHomeOn is newHome with the engines' work as durable jobs on the queue open starts:
// the sync engine's and the procedure engine's planners queue it.
func newHomeOn(t *testing.T, open func(t *testing.T, cfg jobs.Config) *jobs.Queue) *home {
	t.Helper()
	h, syncer := buildHome(t, 5, true)
	q := open(t, jobs.Config{Sync: syncer, Procedures: h.engine, JobTimeout: 20 * time.Second,
		FirstBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, PollInterval: 50 * time.Millisecond})
	planned := make(chan struct{}, 2)
	go func() { syncer.Plan(h.ctx, q); planned <- struct{}{} }()
	go func() { h.engine.Plan(h.ctx, q); planned <- struct{}{} }()
	t.Cleanup(func() {
		h.cancel()
		<-planned
		<-planned
		stop, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		q.Close(stop)
	})
	return h
}

// buildHome makes the home, its records and its twins running at speed, with the
// procedure engine and the sync engine made but not started; with events, what the
// twins report is recorded.
func buildHome(t *testing.T, speed float64, events bool) (*home, *codesync.Engine) {
	t.Helper()
	driver := simdriver.New(homeWorld(t))
	driver.Speed = speed
	var svc *latchkey.Service
	recorded := make(chan struct{})
	if events {
		driver.Subscribe(func(e latchkey.DeviceEvent) {
			<-recorded
			if _, err := svc.RecordDeviceEvent(context.Background(), e); err != nil {
				t.Errorf("recording %s from %s: %v", e.Kind, e.Address, err)
			}
		})
	}
	driver.Start()
	t.Cleanup(driver.Close)

	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	svc = storetest.NewService(t, db)
	svc.Clock = latchkey.SystemClock{}
	ctx, cancel := context.WithTimeout(latchkey.NewContextWithActor(context.Background(), "ana"), 60*time.Second)
	t.Cleanup(cancel)
	h := &home{svc: svc, driver: driver, ctx: ctx, cancel: cancel}
	h.hands = &simdriver.Hands{Driver: driver}
	h.ana, h.key, h.locks = recordHome(t, ctx, svc, h.hands)
	close(recorded)

	drivers := map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: driver}
	syncer := &codesync.Engine{Service: svc, Drivers: drivers, Interval: 100 * time.Millisecond, Timeout: 3 * time.Second,
		FirstBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	h.engine = procedure.New(svc, catalog.Default())
	h.engine.Drivers, h.engine.Hands["sim"] = drivers, h.hands
	h.engine.Interval, h.engine.StepTimeout = 50*time.Millisecond, 5*time.Second
	return h, syncer
}

// homeWorld makes the home's twins: the front door a 916 on Z-Wave and the back door a
// 914 on Zigbee, each with a SmartKey cylinder, the side door a SmartKey knob, every
// cylinder keyed to the house key, and the shed a 910 keypad on no hub.
func homeWorld(t *testing.T) *sim.World {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: 7})
	for _, d := range []struct{ name, model, radio string }{{"front", "916", "zwave"}, {"back", "914", "zigbee"}} {
		l, err := w.AddLock(d.name, sim.LockOptions{Model: d.model, Radio: d.radio, Locked: true})
		must(t, err)
		must(t, l.JoinHub())
		_, err = w.AddCylinder(d.name+"-cylinder", sim.CylinderOptions{Bitting: houseKey})
		must(t, err)
	}
	_, err := w.AddCylinder("side", sim.CylinderOptions{Bitting: houseKey})
	must(t, err)
	_, err = w.AddLock("shed", sim.LockOptions{Model: "910", Locked: true}) // a keypad on no hub
	must(t, err)
	return w
}

// recordHome records the home's site, its owner Ana, the house key (Ana holds a copy),
// the three locks keyed to it and the shed's keypad, and tells the hands which twins each
// lock is.
func recordHome(t *testing.T, ctx context.Context, svc *latchkey.Service, hands *simdriver.Hands) (ana *latchkey.Person, key *latchkey.Key, locks map[string]*latchkey.Lock) {
	t.Helper()
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	ana = &latchkey.Person{Name: "Ana", Role: latchkey.RoleOwner}
	must(t, svc.CreatePerson(ctx, ana))
	key = &latchkey.Key{SiteID: site.ID, Label: "House key", Bitting: string(houseKey), Copies: []latchkey.KeyCopy{{HolderID: ana.ID}}}
	must(t, svc.CreateKey(ctx, key))
	hands.Locks, hands.Cylinders, hands.PINs = map[int64]string{}, map[int64]string{}, map[int64]string{}
	locks = map[string]*latchkey.Lock{}
	for _, d := range []struct{ name, model string }{{"front", "916"}, {"back", "914"}, {"side", "smartkey"}} {
		door := &latchkey.Door{SiteID: site.ID, Name: d.name + " door"}
		must(t, svc.CreateDoor(ctx, door))
		l := &latchkey.Lock{DoorID: door.ID, Name: d.name, ModelID: d.model, HasSmartKey: true}
		if d.model != "smartkey" {
			l.Connection = latchkey.Connection{Driver: latchkey.DriverSim, Address: d.name}
		}
		must(t, svc.CreateLock(ctx, l))
		l, err := svc.SetLockKey(ctx, l.ID, key.ID)
		must(t, err)
		locks[d.name] = l
		if d.model == "smartkey" {
			hands.Cylinders[l.ID] = d.name
		} else {
			hands.Locks[l.ID], hands.Cylinders[l.ID] = d.name, d.name+"-cylinder"
		}
	}
	shedDoor := &latchkey.Door{SiteID: site.ID, Name: "shed door"}
	must(t, svc.CreateDoor(ctx, shedDoor))
	shed := &latchkey.Lock{DoorID: shedDoor.ID, Name: "shed", ModelID: "910"}
	must(t, svc.CreateLock(ctx, shed))
	locks["shed"], hands.Locks[shed.ID] = shed, "shed"
	return ana, key, locks
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// start starts a procedure done by the virtual hands.
func (h *home) start(t *testing.T, kind latchkey.ProcedureKind, mistake string, locks ...string) *latchkey.Run {
	t.Helper()
	req := latchkey.ProcedureRequest{Kind: kind, Hands: "sim", Mistake: mistake}
	for _, name := range locks {
		req.LockIDs = append(req.LockIDs, h.locks[name].ID)
	}
	r, err := h.engine.StartProcedure(h.ctx, req)
	must(t, err)
	return r
}

// wait waits until the run has ended, and returns it.
func (h *home) wait(t *testing.T, r *latchkey.Run) *latchkey.Run {
	t.Helper()
	for {
		got, err := h.svc.FindRunByID(h.ctx, r.ID)
		must(t, err)
		if got.Status != latchkey.RunActive {
			return got
		}
		select {
		case <-h.ctx.Done():
			st, _ := got.Step()
			t.Fatalf("run %d (%s) still at step %d of %d (%s): %+v", got.ID, got.Kind, got.Current+1, len(got.Steps), st.ID, got.Records[max(0, len(got.Records)-3):])
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cylinder reads a cylinder twin's field.
func (h *home) field(twin, name string) string {
	var v string
	h.driver.Do(func(w *sim.World) {
		t, _ := w.Twin(twin)
		v, _ = t.Field(name)
	})
	return v
}

func (h *home) lock(t *testing.T, name string) *latchkey.Lock {
	t.Helper()
	l, err := h.svc.FindLockByID(h.ctx, h.locks[name].ID)
	must(t, err)
	return l
}

// A rekey done right: the cylinder learns the new key, the records say so only after
// the tests, and the old key's copies are listed to be returned once no lock takes it.
func TestRekey(t *testing.T) {
	h := newHome(t)
	r := h.wait(t, h.start(t, latchkey.ProcedureRekey, "", "side"))
	if r.Status != latchkey.RunDone {
		t.Fatalf("rekey ended %s: %s %+v", r.Status, r.Outcome, r.Escalation)
	}
	side := h.lock(t, "side")
	if side.KeyID == h.key.ID || side.KeyID != r.Params.NewKeyID {
		t.Fatalf("the side door takes key %d after its rekey (house key %d, new %d)", side.KeyID, h.key.ID, r.Params.NewKeyID)
	}
	bitting, err := h.svc.RevealBitting(h.ctx, side.KeyID)
	must(t, err)
	if got := h.field("side", "bitting"); got != bitting || got == string(houseKey) {
		t.Fatalf("the cylinder takes %s; the records say %s", got, bitting)
	}
	if k, _ := h.svc.FindKeyByID(h.ctx, h.key.ID); k.State != latchkey.KeyActive {
		t.Fatalf("the house key is %s; the front and back doors still take it", k.State)
	}
	for _, rec := range r.Records {
		for _, v := range rec.Evidence {
			if v == bitting {
				t.Fatalf("the run recorded the bitting: %+v", rec)
			}
		}
	}
}

// The classic mistakes at the learn steps: the run stops for a locksmith at once, the
// records keep the old key, the door stayed open, and the escalation says what was tried
// and what state the lock was left in.
func TestRekeyMistakesEscalate(t *testing.T) {
	for _, tc := range []struct {
		mistake, state string
		oldWorks       bool
	}{
		{simdriver.MistakeKeyNotFull, sim.CylinderScrambled, false},
		{simdriver.MistakeToolPartial, sim.CylinderScrambled, false},
		{simdriver.MistakeToolLate, sim.CylinderOperate, true},
	} {
		t.Run(tc.mistake, func(t *testing.T) {
			h := newHome(t)
			r := h.wait(t, h.start(t, latchkey.ProcedureRekey, tc.mistake, "side"))
			side := h.lock(t, "side")
			if r.Status != latchkey.RunEscalated || r.Escalation.To != latchkey.EscalateLocksmith || side.Status != latchkey.LockNeedsLocksmith {
				t.Fatalf("after %s: run %s, lock %s", tc.mistake, r.Status, side.Status)
			}
			if side.KeyID != h.key.ID || h.field("side", "door") != "open" || h.field("side", "state") != tc.state {
				t.Fatalf("after %s: the lock takes key %d (house %d), door %s, cylinder %s", tc.mistake, side.KeyID, h.key.ID, h.field("side", "door"), h.field("side", "state"))
			}
			if works := h.field("side", "bitting") == string(houseKey) && tc.state == sim.CylinderOperate; works != tc.oldWorks {
				t.Fatalf("after %s the old key works: %v", tc.mistake, works)
			}
			if !strings.Contains(r.Escalation.Why, "does not turn") && !strings.Contains(r.Escalation.Why, "does not match") {
				t.Fatalf("the escalation's reason: %q", r.Escalation.Why)
			}
			left := strings.Join(r.Escalation.StateLeft, " ")
			if !strings.Contains(left, "House key") || len(r.Escalation.Tried) < 4 || len(r.Escalation.Contacts) == 0 {
				t.Fatalf("the escalation report: %+v", r.Escalation)
			}
			if k, _ := h.svc.FindKeyByID(h.ctx, r.Params.NewKeyID); k.State != latchkey.KeyRetired {
				t.Fatalf("the new key of a stopped rekey is %s", k.State)
			}
			// Nobody forces it again: a second rekey is refused until a repair is recorded.
			_, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey, LockIDs: []int64{side.ID}})
			if latchkey.ErrorCode(err) != latchkey.EUNSAFE {
				t.Fatalf("a rekey of a lock waiting for a locksmith: %v", err)
			}
		})
	}
}

// The new key turned the wrong way first: the cylinder refuses, the person turns it
// the right way, and the rekey goes through.
func TestRekeyWrongWayRecovers(t *testing.T) {
	h := newHome(t)
	r := h.wait(t, h.start(t, latchkey.ProcedureRekey, simdriver.MistakeWrongWay, "side"))
	if r.Status != latchkey.RunDone || h.field("side", "bitting") == string(houseKey) {
		t.Fatalf("a rekey with a wrong turn first: %s, cylinder %s", r.Status, h.field("side", "bitting"))
	}
}

// A lost key: every lock it opens is exposed, and each stays exposed until its own
// rekey is recorded; the locks keyed alike learn one new key in one run, and Ana's copy
// of the old key is to be returned.
func TestLostKey(t *testing.T) {
	h := newHome(t)
	r, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureLostKey, KeyID: h.key.ID})
	must(t, err)
	if len(r.LockIDs) != 3 {
		t.Fatalf("a lost key's run covers %d locks; the key opens 3", len(r.LockIDs))
	}
	// Mark it lost, then stop before any rekey: every lock stays exposed.
	_, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "lost"})
	must(t, err)
	for _, name := range []string{"front", "back", "side"} {
		if got := h.lock(t, name); got.Status != latchkey.LockExposed {
			t.Fatalf("%s is %s after its key was lost", name, got.Status)
		}
	}
	_, err = h.engine.AbortProcedure(h.ctx, r.ID, "the locksmith comes tomorrow")
	must(t, err)
	if got := h.lock(t, "side"); got.Status != latchkey.LockExposed {
		t.Fatalf("an aborted rekey cleared the exposure: %s", got.Status)
	}
	// Rekeyed by the virtual hands, all three.
	r, err = h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureLostKey, KeyID: h.key.ID, Hands: "sim"})
	must(t, err)
	r = h.wait(t, r)
	if r.Status != latchkey.RunDone {
		h.driver.Do(func(w *sim.World) {
			for _, e := range w.Trace() {
				if strings.Contains(e.Twin, "cylinder") && e.Kind != "bolt" {
					t.Log(e)
				}
			}
		})
		t.Fatalf("lost key run: %s %+v", r.Status, r.Escalation)
	}
	for _, name := range []string{"front", "back", "side"} {
		got := h.lock(t, name)
		if got.Status == latchkey.LockExposed || got.KeyID != r.Params.NewKeyID {
			t.Fatalf("%s after the rekey: %s, key %d", name, got.Status, got.KeyID)
		}
	}
	old, err := h.svc.FindKeyByID(h.ctx, h.key.ID)
	must(t, err)
	newKey, err := h.svc.FindKeyByID(h.ctx, r.Params.NewKeyID)
	must(t, err)
	if old.State != latchkey.KeyLost || old.Copies[0].State != latchkey.CopyToReturn || newKey.Copies[0].HolderID != h.ana.ID {
		t.Fatalf("old key %s (copy %s), new key's copies %+v", old.State, old.Copies[0].State, newKey.Copies)
	}
}

// Power first: a reset of a lock with a low battery is refused until the battery swap is
// done (a code cannot even be recorded on it meanwhile); the swap is read back through
// the hub.
func TestBatteryFirst(t *testing.T) {
	h := newHome(t)
	h.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		tw.(*sim.Lock).SetBattery(4500)
	})
	_, err := h.svc.RecordDeviceEvent(h.ctx, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventLowBattery, BatteryMV: 4500})
	must(t, err)
	_, err = h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureReset, LockIDs: []int64{h.locks["front"].ID}})
	// The refusal says what to do in words any caller can act on: no command line flag.
	if latchkey.ErrorCode(err) != latchkey.EUNSAFE || !strings.Contains(latchkey.ErrorMessage(err), "a battery procedure on lock") || strings.Contains(latchkey.ErrorMessage(err), "--") {
		t.Fatalf("a reset of a lock with a low battery: %v", err)
	}
	r := h.wait(t, h.start(t, latchkey.ProcedureBattery, "", "front"))
	if r.Status != latchkey.RunDone || h.lock(t, "front").State.LowBattery() {
		t.Fatalf("battery run %s, battery %d", r.Status, h.lock(t, "front").State.BatteryMV)
	}
	// Now the reset may start.
	r = h.wait(t, h.start(t, latchkey.ProcedureReset, "", "front"))
	if r.Status != latchkey.RunDone {
		t.Fatalf("the reset after the battery swap: %s", r.Status)
	}
}

// waitGrant waits until a code stands as want on a lock.
func (h *home) waitGrant(t *testing.T, codeID int64, lock string, want latchkey.GrantStatus) {
	t.Helper()
	for {
		gs, err := h.svc.FindGrants(h.ctx, latchkey.GrantFilter{CodeID: &codeID, LockID: &h.locks[lock].ID})
		must(t, err)
		if len(gs) > 0 && gs[len(gs)-1].Status == want {
			return
		}
		select {
		case <-h.ctx.Done():
			t.Fatalf("code %d on %s never became %s: %+v", codeID, lock, want, gs[len(gs)-1])
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// codes counts the codes a lock twin holds.
func (h *home) codes(twin string) string { return h.field(twin, "codes") }

// A factory reset done right: off the hub first, the model's sequence, the door handing,
// back on the hub, every code put back from the records and read back.
func TestReset(t *testing.T) {
	for _, lock := range []string{"front", "back"} {
		t.Run(lock, func(t *testing.T) {
			h := newHome(t)
			c, _, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks[lock].ID}})
			must(t, err)
			h.waitGrant(t, c.ID, lock, latchkey.GrantSet)
			r := h.wait(t, h.start(t, latchkey.ProcedureReset, "", lock))
			if r.Status != latchkey.RunDone {
				t.Fatalf("reset of %s: %s %+v %+v", lock, r.Status, r.Escalation, r.Records[len(r.Records)-1])
			}
			if l := h.lock(t, lock); l.Status != latchkey.LockOK || h.codes(lock) != "1" || h.field(lock, "handing") != "set" {
				t.Fatalf("after the reset: lock %s, twin holds %s codes, handing %s", l.Status, h.codes(lock), h.field(lock, "handing"))
			}
			h.waitGrant(t, c.ID, lock, latchkey.GrantSet)
			var ids []string
			for _, st := range r.Steps {
				ids = append(ids, st.ID)
			}
			if strings.Index(strings.Join(ids, " "), "exclude") > strings.Index(strings.Join(ids, " "), "reset-1") {
				t.Fatalf("the reset plan does not take the lock off its hub first: %v", ids)
			}
		})
	}
}

// The hub cannot be reached: the person goes on without it (Kwikset allows a reset
// when the controller is missing), the reset quarantines the lock, and its codes go back
// once the hub answers again.
func TestResetHubUnreachable(t *testing.T) {
	h := newHome(t)
	c, _, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks["front"].ID}})
	must(t, err)
	h.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	h.driver.Do(func(w *sim.World) { w.Hub("zwave").Restart(20 * time.Minute) })
	r, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureReset, LockIDs: []int64{h.locks["front"].ID}})
	must(t, err)
	r, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "ready", Attest: r.Steps[0].Attest})
	must(t, err)
	// The engine tries, records why it cannot, and waits; the person skips.
	for len(r.Records) < 2 {
		time.Sleep(20 * time.Millisecond)
		r, err = h.svc.FindRunByID(h.ctx, r.ID)
		must(t, err)
	}
	if rec := r.Records[1]; rec.Outcome != latchkey.StepFailed || !strings.Contains(rec.Note, "not answering") {
		t.Fatalf("the exclusion with the hub down: %+v", rec)
	}
	_, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "exclude", Skip: true, Note: "the hub is down"})
	must(t, err)
	// The hands do the rest; the reset leaves the lock quarantined while the hub is down.
	hands := h.engine.Hands["sim"]
	for {
		r, err = h.svc.FindRunByID(h.ctx, r.ID)
		must(t, err)
		st, ok := r.Step()
		if !ok || st.ID == "include" {
			break
		}
		a, err := hands.Do(h.ctx, r, st)
		must(t, err)
		_, err = h.engine.AdvanceProcedure(h.ctx, r.ID, a)
		must(t, err)
	}
	if l := h.lock(t, "front"); l.Status != latchkey.LockQuarantined {
		t.Fatalf("after a reset with the hub down the lock is %s", l.Status)
	}
	// Its codes say the run reset it, not that it was reset behind Latchkey's back.
	gs, err := h.svc.FindGrants(h.ctx, latchkey.GrantFilter{LockID: &h.locks["front"].ID})
	must(t, err)
	for _, g := range gs {
		if g.Status != latchkey.GrantRemoved && (g.Problem != latchkey.ProblemLockQuarantined ||
			!strings.Contains(g.Reason, fmt.Sprintf("procedure run %d", r.ID)) || strings.Contains(g.Reason, "behind")) {
			t.Fatalf("a code on the lock reset by the run: %s %q", g.Problem, g.Reason)
		}
	}
	// The hub is back: the lock joins again and its code goes back on.
	h.driver.Do(func(w *sim.World) { w.Hub("zwave").Restart(0) })
	go func() {
		for h.ctx.Err() == nil {
			h.driver.Do(func(w *sim.World) {
				if w.Hub("zwave").Mode() == sim.HubInclusion {
					tw, _ := w.Twin("front")
					_ = tw.(*sim.Lock).PressA()
				}
			})
			time.Sleep(20 * time.Millisecond)
		}
	}()
	r = h.wait(t, r)
	if r.Status != latchkey.RunDone || h.codes("front") != "1" {
		t.Fatalf("after the hub came back: run %s, twin holds %s codes", r.Status, h.codes("front"))
	}
}

// A bolt that cannot move fails the door handing every time: the run stops for Kwikset
// support instead of trying forever.
func TestResetJamEscalates(t *testing.T) {
	h := newHome(t)
	h.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		tw.(*sim.Lock).SetStuckBolt(true)
	})
	r := h.wait(t, h.start(t, latchkey.ProcedureReset, "", "front"))
	if r.Status != latchkey.RunEscalated || r.Escalation.To != latchkey.EscalateSupport || !strings.Contains(r.Escalation.Why, "door handing") {
		t.Fatalf("a jammed bolt at the door handing: %s %+v", r.Status, r.Escalation)
	}
	if l := h.lock(t, "front"); l.Status != latchkey.LockNeedsSupport {
		t.Fatalf("the lock is %s", l.Status)
	}
}

// The Program button let go early: the reset does not take, the check says so, the
// sequence is done again from its start, and the second time it takes.
func TestResetReleasedEarlyRetries(t *testing.T) {
	h := newHome(t)
	c, _, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks["front"].ID}})
	must(t, err)
	h.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	r := h.wait(t, h.start(t, latchkey.ProcedureReset, simdriver.MistakeEarlyRelease, "front"))
	failed := 0
	for _, rec := range r.Records {
		if rec.Step == "reset-check" && rec.Outcome == latchkey.StepFailed {
			failed++
		}
	}
	if r.Status != latchkey.RunDone || failed != 1 {
		t.Fatalf("a reset released early: %s, %d failed checks", r.Status, failed)
	}
}

// A turnover: the guest's code is revoked and stays "revocation pending" while the
// lock cannot be reached (retried, never recorded gone); once the lock answers it is
// confirmed gone and the run ends with its report.
func TestTurnover(t *testing.T) {
	h := newHome(t)
	guest := &latchkey.Person{Name: "Gus", Role: latchkey.RoleGuest}
	must(t, h.svc.CreatePerson(h.ctx, guest))
	c, _, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: guest.ID, Label: "Gus's code"}, LockIDs: []int64{h.locks["front"].ID, h.locks["back"].ID}})
	must(t, err)
	h.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	h.waitGrant(t, c.ID, "back", latchkey.GrantSet)
	h.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("back")
		tw.(*sim.Lock).DropRadio(10 * time.Minute)
	})
	r := h.start(t, latchkey.ProcedureTurnover, "", "front", "back")
	h.waitGrant(t, c.ID, "front", latchkey.GrantRemoved)
	time.Sleep(300 * time.Millisecond)
	gs, err := h.svc.FindGrants(h.ctx, latchkey.GrantFilter{CodeID: &c.ID, LockID: &h.locks["back"].ID})
	must(t, err)
	r, _ = h.svc.FindRunByID(h.ctx, r.ID)
	if st, _ := r.Step(); gs[0].Status != latchkey.GrantRemoving || st == nil || st.ID != "gone" || h.codes("back") != "1" {
		t.Fatalf("with the back lock out of reach: grant %s, run at %+v, twin holds %s codes", gs[0].Status, st, h.codes("back"))
	}
	// Retried, and said: the lock does not answer.
	for gs[0].Problem == "" || gs[0].Attempts == 0 {
		time.Sleep(20 * time.Millisecond)
		gs, err = h.svc.FindGrants(h.ctx, latchkey.GrantFilter{CodeID: &c.ID, LockID: &h.locks["back"].ID})
		must(t, err)
	}
	if gs[0].Problem != latchkey.ProblemLockUnreachable || gs[0].Status != latchkey.GrantRemoving {
		t.Fatalf("the revoked code on the unreachable lock: %s, %s", gs[0].Status, gs[0].Problem)
	}
	h.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("back")
		tw.(*sim.Lock).DropRadio(0)
	})
	r = h.wait(t, r)
	if r.Status != latchkey.RunDone || h.codes("back") != "0" || h.codes("front") != "0" {
		t.Fatalf("turnover: %s; codes left front %s back %s", r.Status, h.codes("front"), h.codes("back"))
	}
	log, err := h.svc.FindServiceEntries(h.ctx, h.locks["back"].ID)
	must(t, err)
	if !strings.Contains(r.Outcome, `"Gus's code"`) || !strings.Contains(log[len(log)-2].Note, "confirmed gone") {
		t.Fatalf("the turnover's report: %q; the back lock's log ends %q", r.Outcome, log[len(log)-2].Note)
	}
}

// Identify: the answers a person gives narrow the catalog, and the model chosen is
// recorded; before that, nothing else can be started on the lock.
func TestIdentify(t *testing.T) {
	h := newHome(t)
	door := h.locks["front"].DoorID
	l := &latchkey.Lock{DoorID: door, Name: "Mystery"}
	must(t, h.svc.CreateLock(h.ctx, l))
	_, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureBattery, LockIDs: []int64{l.ID}})
	if latchkey.ErrorCode(err) != latchkey.EUNSAFE || !strings.Contains(latchkey.ErrorMessage(err), "an identify procedure on lock") || strings.Contains(latchkey.ErrorMessage(err), "--") {
		t.Fatalf("a battery swap on an unidentified lock: %v", err)
	}
	r, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureIdentify, LockIDs: []int64{l.ID}})
	must(t, err)
	r, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "look", Evidence: map[string]string{"keypad": "touchscreen", "radio": "zwave"}})
	must(t, err)
	if len(r.Steps[1].Choices) == 0 || r.Steps[1].Choices[0].Value != "916" {
		t.Fatalf("models offered for a Z-Wave touchscreen: %+v", r.Steps[1].Choices)
	}
	_, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "choose", Evidence: map[string]string{"model": "smartkey"}})
	if latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("a model that does not fit the answers: %v", err)
	}
	// None of them is it: the questions again, and the models that fit the new answers.
	r, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "choose", Failed: true, Note: "none of these"})
	must(t, err)
	if r.Status != latchkey.RunActive || r.Steps[r.Current].ID != "look" {
		t.Fatalf("none fits: the run is %s at %q, not back at the questions", r.Status, r.Steps[r.Current].ID)
	}
	r, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "look", Evidence: map[string]string{"keypad": "touchscreen", "radio": "zwave"}})
	must(t, err)
	r, err = h.engine.AdvanceProcedure(h.ctx, r.ID, latchkey.Advance{Step: "choose", Evidence: map[string]string{"model": "916"}})
	must(t, err)
	if got, _ := h.svc.FindLockByID(h.ctx, l.ID); r.Status != latchkey.RunDone || got.ModelID != "916" || got.Status != latchkey.LockOK {
		t.Fatalf("identified: run %s, lock %+v", r.Status, got)
	}
}

// A code programmed at a keypad on no hub, with the model's button sequence: the wrong
// buttons first (nothing stored, the test fails, the sequence again from its start),
// then right; confirmed by a test at the door. Removing it overwrites its position.
func TestKeypadCode(t *testing.T) {
	h := newHome(t)
	c, pin, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks["shed"].ID}})
	must(t, err)
	h.hands.PINs[c.ID] = pin
	r, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureCode, LockIDs: []int64{h.locks["shed"].ID},
		CodeID: c.ID, CodeOp: "add", Hands: "sim", Mistake: simdriver.MistakeWrongButtons})
	must(t, err)
	for _, st := range r.Steps {
		if strings.Contains(st.Do, pin) {
			t.Fatalf("a step shows the code: %q", st.Do)
		}
	}
	r = h.wait(t, r)
	failed := 0
	for _, rec := range r.Records {
		if rec.Step == "test" && rec.Outcome == latchkey.StepFailed {
			failed++
		}
	}
	if r.Status != latchkey.RunDone || failed != 1 {
		t.Fatalf("keypad add with the wrong buttons first: %s, %d failed tests: %+v", r.Status, failed, r.Records)
	}
	h.waitGrant(t, c.ID, "shed", latchkey.GrantSet)
	// A second code, so that removing the first leaves a way in.
	c2, pin2, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Spare"}, LockIDs: []int64{h.locks["shed"].ID}})
	must(t, err)
	h.hands.PINs[c2.ID] = pin2
	r = h.wait(t, h.startCode(t, c2.ID, "add"))
	must(t, errIf(r.Status != latchkey.RunDone, "second code: "+string(r.Status)))
	_, err = h.svc.RevokeCode(h.ctx, c.ID)
	must(t, err)
	r = h.wait(t, h.startCode(t, c.ID, "remove"))
	if r.Status != latchkey.RunDone {
		t.Fatalf("keypad remove: %s %+v", r.Status, r.Escalation)
	}
	h.waitGrant(t, c.ID, "shed", latchkey.GrantRemoved)
	if h.codes("shed") != "2" { // the spare and the throwaway that overwrote Ana's position
		t.Fatalf("the shed holds %s codes", h.codes("shed"))
	}
}

func (h *home) startCode(t *testing.T, codeID int64, op string) *latchkey.Run {
	t.Helper()
	r, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureCode, LockIDs: []int64{h.locks["shed"].ID},
		CodeID: codeID, CodeOp: op, Hands: "sim"})
	must(t, err)
	return r
}

func errIf(bad bool, msg string) error {
	if bad {
		return latchkey.Errorf(latchkey.EINTERNAL, "%s", msg)
	}
	return nil
}

// A factory reset does not clear a lost key's exposure: the lock shows quarantined while
// its codes are off it, and exposed again once they are back, until it is rekeyed.
func TestResetKeepsExposure(t *testing.T) {
	h := newHome(t)
	c, _, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks["front"].ID}})
	must(t, err)
	h.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	_, err = h.svc.SetKeyState(h.ctx, h.key.ID, latchkey.KeyLost)
	must(t, err)
	r := h.wait(t, h.start(t, latchkey.ProcedureReset, "", "front"))
	if r.Status != latchkey.RunDone || h.codes("front") != "1" {
		t.Fatalf("the reset of an exposed lock: %s, the twin holds %s codes", r.Status, h.codes("front"))
	}
	if l := h.lock(t, "front"); l.Status != latchkey.LockExposed {
		t.Fatalf("after its reset a lock whose key is lost is %s, not exposed", l.Status)
	}
}

// A turnover that rekeys as well: its own steps and the rekey's, each named once, done
// by the virtual hands; the lock takes the new key.
func TestTurnoverWithRekey(t *testing.T) {
	h := newHome(t)
	r, err := h.engine.StartProcedure(h.ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureTurnover, LockIDs: []int64{h.locks["front"].ID}, Rekey: true, Hands: "sim"})
	must(t, err)
	r = h.wait(t, r)
	if r.Status != latchkey.RunDone || h.lock(t, "front").KeyID != r.Params.NewKeyID || h.field("front-cylinder", "bitting") == string(houseKey) {
		t.Fatalf("a turnover with a rekey: %s %+v; the lock takes key %d (new %d)", r.Status, r.Escalation, h.lock(t, "front").KeyID, r.Params.NewKeyID)
	}
}

// A factory reset of a lock on no hub ends with its codes recorded as to program again,
// out of quarantine: each goes back on with a code procedure at the keypad, confirmed by
// its test. (It used to end quarantined with its codes recorded set: no code procedure,
// confirmation or reprovision could then put them back.)
func TestResetWithoutHub(t *testing.T) {
	h := newHome(t)
	c, pin, err := h.svc.CreateCode(h.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: h.ana.ID, Label: "Ana's code"}, LockIDs: []int64{h.locks["shed"].ID}})
	must(t, err)
	h.hands.PINs[c.ID] = pin
	r := h.wait(t, h.startCode(t, c.ID, "add"))
	must(t, errIf(r.Status != latchkey.RunDone, "the code on: "+string(r.Status)))
	h.waitGrant(t, c.ID, "shed", latchkey.GrantSet)

	r = h.wait(t, h.start(t, latchkey.ProcedureReset, "", "shed"))
	if r.Status != latchkey.RunDone {
		t.Fatalf("the reset of a lock on no hub: %s %+v", r.Status, r.Escalation)
	}
	if l := h.lock(t, "shed"); l.Status == latchkey.LockQuarantined {
		t.Fatalf("the lock after its reset is still %s", l.Status)
	}
	h.waitGrant(t, c.ID, "shed", latchkey.GrantPending)
	r = h.wait(t, h.startCode(t, c.ID, "add"))
	if r.Status != latchkey.RunDone {
		t.Fatalf("the code put back at the keypad: %s %+v", r.Status, r.Escalation)
	}
	h.waitGrant(t, c.ID, "shed", latchkey.GrantSet)
}
