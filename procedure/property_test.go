package procedure_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/keying"
	"github.com/latchkey/latchkey/sim"
)

// The property test: random sequences of what operators do (start any procedure on any
// locks, report steps done with whatever they confirm, failed, skipped, on stale steps,
// abort, escalate, let the engine and the virtual hands work with their mistakes, add
// and revoke codes, lose keys, run batteries down) never break invariants 1, 2, 3 and 5.
// The engines do not run by themselves here: their work is one of the actions
// (Engine.StepRun, codesync's SyncLock), so that a seed replays a sequence.

const propertySeedEnv = "LATCHKEY_PROPERTY_SEED" // replays one sequence

func TestRandomOperatorsKeepInvariants(t *testing.T) {
	sequences, steps := 6, 120
	if testing.Short() {
		sequences, steps = 2, 50
	}
	seeds := make([]uint64, sequences)
	for i := range seeds {
		seeds[i] = rand.Uint64()
	}
	if s := os.Getenv(propertySeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		must(t, err)
		seeds = []uint64{seed}
	}
	for _, seed := range seeds {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			p := newProperty(t, seed)
			for range steps {
				p.step()
			}
			t.Logf("seed %d: %s", seed, p.summary())
		})
	}
}

// property is one random sequence on a home of twins.
type property struct {
	t      *testing.T
	seed   uint64
	rng    *rand.Rand
	h      *home
	syncer interface {
		SyncLock(context.Context, int64) (bool, error)
	}
	guest   *latchkey.Person
	pins    map[int64]string // every code made, by id
	log     []string         // the actions so far, with what came of each
	outcome map[string]int   // how actions ended, for the summary
}

func newProperty(t *testing.T, seed uint64) *property {
	h, syncer := buildHome(t, 5, false)
	h.engine.StepTimeout = 300 * time.Millisecond // a hub step nobody presses for ends soon
	p := &property{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 11)), h: h, syncer: syncer, pins: map[int64]string{}, outcome: map[string]int{}}
	p.guest = &latchkey.Person{Name: "Gus", Role: latchkey.RoleGuest}
	must(t, h.svc.CreatePerson(h.ctx, p.guest))
	return p
}

// step does one random action and checks the invariants across it.
func (p *property) step() {
	before := p.snapshot()
	name, err := p.act()
	after := p.snapshot()
	result := "ok"
	if err != nil {
		result = latchkey.ErrorCode(err) + ": " + latchkey.ErrorMessage(err)
	}
	p.log = append(p.log, fmt.Sprintf("%d. %s -> %s", len(p.log)+1, name, result))
	p.outcome[strings.SplitN(name, " ", 2)[0]+" "+map[bool]string{true: "refused", false: "ok"}[err != nil]]++
	if latchkey.ErrorCode(err) == latchkey.EINTERNAL {
		p.fail("an internal error: %v", err)
	}
	p.check(before, after, name)
}

func (p *property) fail(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("%s\nseed %d (replay: %s=%d go test ./procedure -run TestRandomOperatorsKeepInvariants)\nactions:\n%s",
		fmt.Sprintf(format, args...), p.seed, propertySeedEnv, p.seed, strings.Join(p.log, "\n"))
}

func (p *property) summary() string {
	var out []string
	for k, n := range p.outcome {
		out = append(out, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// Kinds of action, and how often each is picked while a run is active and while none
// is: runs are worked on more than they are started, stopped or disturbed, so that
// sequences reach their later steps.
var (
	actions = []string{"start", "report", "engine", "sync", "abort", "escalate", "code", "revoke", "lose", "battery", "repair"}
	busy    = []int{4, 36, 30, 8, 2, 1, 6, 5, 2, 4, 2}
	idle    = []int{45, 0, 0, 10, 0, 0, 15, 10, 5, 10, 5}
)

// act does one random action and names it.
func (p *property) act() (string, error) {
	ctx := p.h.ctx
	weights := idle
	if p.activeRun() != nil {
		weights = busy
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	n, kind := p.rng.IntN(total), ""
	for i, w := range weights {
		if n < w {
			kind = actions[i]
			break
		}
		n -= w
	}
	switch kind {
	case "start":
		return p.start()
	case "report":
		return p.report()
	case "engine":
		r := p.activeRun()
		if r == nil {
			return "engine (no run)", nil
		}
		for range 1 + p.rng.IntN(6) {
			again, after, err := p.h.engine.StepRun(ctx, r.ID)
			if err != nil || !again || after > 0 {
				return fmt.Sprintf("engine works run %d", r.ID), err
			}
		}
		return fmt.Sprintf("engine works run %d", r.ID), nil
	case "sync":
		lock := pickOf(p.rng, []string{"front", "back"})
		_, err := p.syncer.SyncLock(ctx, p.h.locks[lock].ID)
		return "sync " + lock, err
	case "abort":
		r := p.activeRun()
		if r == nil {
			return "abort (no run)", nil
		}
		_, err := p.h.engine.AbortProcedure(ctx, r.ID, "changed my mind")
		return fmt.Sprintf("abort run %d", r.ID), err
	case "escalate":
		r := p.activeRun()
		if r == nil {
			return "escalate (no run)", nil
		}
		to := pickOf(p.rng, []string{latchkey.EscalateLocksmith, latchkey.EscalateSupport, "plumber"})
		_, err := p.h.engine.EscalateProcedure(ctx, r.ID, to, "it feels wrong")
		return fmt.Sprintf("escalate run %d to %s", r.ID, to), err
	case "code":
		var locks []int64
		names := p.subset([]string{"front", "back", "side"})
		for _, name := range names {
			locks = append(locks, p.h.locks[name].ID)
		}
		who := pickOf(p.rng, []*latchkey.Person{p.h.ana, p.guest})
		c, pin, err := p.h.svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: who.ID, Label: fmt.Sprintf("Code %d", len(p.pins)+1)}, LockIDs: locks})
		if err == nil {
			p.pins[c.ID] = pin
		}
		return fmt.Sprintf("code for %s on %v", who.Name, names), err
	case "revoke":
		id := p.codeID()
		_, err := p.h.svc.RevokeCode(ctx, id)
		return fmt.Sprintf("revoke code %d", id), err
	case "lose":
		keys, _, err := p.h.svc.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{Limit: 100})
		must(p.t, err)
		k := pickOf(p.rng, keys)
		_, err = p.h.svc.SetKeyState(ctx, k.ID, latchkey.KeyLost)
		return fmt.Sprintf("key %d (%s) lost", k.ID, k.Label), err
	case "battery":
		lock := pickOf(p.rng, []string{"front", "back"})
		mv := 4300 + p.rng.IntN(700)
		p.h.driver.Do(func(w *sim.World) {
			tw, _ := w.Twin(lock)
			tw.(*sim.Lock).SetBattery(mv)
		})
		_, err := p.h.svc.RecordDeviceEvent(ctx, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: lock, Kind: latchkey.EventLowBattery, BatteryMV: mv})
		return fmt.Sprintf("battery of %s runs down to %d mV", lock, mv), err
	case "repair":
		lock := pickOf(p.rng, []string{"front", "back", "side"})
		err := p.h.svc.AddServiceEntry(ctx, &latchkey.ServiceEntry{LockID: p.h.locks[lock].ID, Kind: latchkey.ServiceRepair, Note: "The locksmith repaired it."})
		return "repair recorded on " + lock, err
	}
	return "", fmt.Errorf("no action %q", kind)
}

// start starts any procedure on any locks, with or without hands and mistakes.
func (p *property) start() (string, error) {
	kinds := append(slices.Clone(latchkey.ProcedureKinds), "dance")
	req := latchkey.ProcedureRequest{Kind: pickOf(p.rng, kinds)}
	names := p.subset([]string{"front", "back", "side"})
	if p.rng.IntN(4) > 0 {
		names = names[:1]
	}
	for _, name := range names {
		req.LockIDs = append(req.LockIDs, p.h.locks[name].ID)
	}
	if p.rng.IntN(3) > 0 {
		req.Hands = "sim"
		if p.rng.IntN(3) == 0 {
			req.Mistake = pickOf(p.rng, append(p.h.hands.Mistakes(), "juggling"))
		}
	}
	switch req.Kind {
	case latchkey.ProcedureCode:
		req.CodeID, req.CodeOp = p.codeID(), pickOf(p.rng, []string{"add", "remove", "", "swap"})
	case latchkey.ProcedureLostKey:
		keys, _, err := p.h.svc.FindKeys(p.h.ctx, latchkey.KeyFilter{}, latchkey.Page{Limit: 100})
		must(p.t, err)
		req.KeyID = pickOf(p.rng, keys).ID
	case latchkey.ProcedureTurnover:
		req.Rekey = p.rng.IntN(2) == 0
	}
	r, err := p.h.engine.StartProcedure(p.h.ctx, req)
	what := fmt.Sprintf("start %s on %v hands %q mistake %q code %d %q key %d rekey %v", req.Kind, names, req.Hands, req.Mistake, req.CodeID, req.CodeOp, req.KeyID, req.Rekey)
	if err == nil {
		what += fmt.Sprintf(" (run %d)", r.ID)
	}
	return what, err
}

// report reports on a run's step as a person: mostly the current one, sometimes a stale
// or later one; with all it asks to confirm, some of it, or more; done, failed or skipped.
func (p *property) report() (string, error) {
	r := p.activeRun()
	if r == nil {
		return "report (no run)", nil
	}
	st, _ := r.Step()
	if p.rng.IntN(5) == 0 {
		st = &r.Steps[p.rng.IntN(len(r.Steps))]
	}
	a := latchkey.Advance{Step: st.ID}
	switch p.rng.IntN(4) {
	case 0, 1:
		a.Attest = slices.Clone(st.Attest)
	case 2:
		for _, name := range st.Attest {
			if p.rng.IntN(2) == 0 {
				a.Attest = append(a.Attest, name)
			}
		}
	default:
		a.Attest = append(slices.Clone(st.Attest), "test_outside_1", "test_inside_2", latchkey.AttestDoorOpen, "nothing_seen")
	}
	for _, name := range st.Evidence {
		if a.Evidence == nil {
			a.Evidence = map[string]string{}
		}
		switch name {
		case "bitting":
			switch p.rng.IntN(4) {
			case 0:
				a.Evidence["generate"] = "yes"
			case 1:
				a.Evidence["bitting"] = string(houseKey)
			case 2:
				a.Evidence["bitting"] = "99999"
			default:
				b, err := keying.KW1.Generate(1, keying.GenerateOptions{Avoid: []keying.Bitting{houseKey}})
				must(p.t, err)
				a.Evidence["bitting"] = string(b[0])
			}
		case "battery_mv":
			a.Evidence[name] = strconv.Itoa(4000 + p.rng.IntN(3000))
		case "model":
			a.Evidence[name] = pickOf(p.rng, []string{"916", "914", "smartkey", "nonesuch"})
		default:
			a.Evidence[name] = "yes"
		}
	}
	switch p.rng.IntN(10) {
	case 0:
		a.Failed, a.Note = true, "it did not go as described"
	case 1:
		a.Skip, a.Note = true, "the hub is down"
	}
	_, err := p.h.engine.AdvanceProcedure(p.h.ctx, r.ID, a)
	return fmt.Sprintf("report run %d step %s attest %v evidence %v failed %v skip %v", r.ID, st.ID, a.Attest, evidenceNames(a.Evidence), a.Failed, a.Skip), err
}

// evidenceNames names the evidence given, not its values (a bitting is a secret).
func evidenceNames(ev map[string]string) []string {
	var out []string
	for k := range ev {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func pickOf[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func (p *property) subset(xs []string) []string {
	var out []string
	for _, x := range xs {
		if p.rng.IntN(2) == 0 {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		out = []string{xs[p.rng.IntN(len(xs))]}
	}
	return out
}

func (p *property) activeRun() *latchkey.Run {
	active := latchkey.RunActive
	runs, _, err := p.h.svc.FindRuns(p.h.ctx, latchkey.RunFilter{Status: &active}, latchkey.Page{Limit: 100})
	must(p.t, err)
	if len(runs) == 0 {
		return nil
	}
	return pickOf(p.rng, runs)
}

// codeID is a code made, or one that does not exist.
func (p *property) codeID() int64 {
	ids := []int64{999}
	for id := range p.pins {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return pickOf(p.rng, ids)
}

// snapshot is what the records say, read between actions.
type snapshot struct {
	locks  map[int64]*latchkey.Lock
	ways   map[int64]int
	keys   map[int64]*latchkey.Key
	runs   map[int64]*latchkey.Run
	grants []*latchkey.Grant
	codes  map[int64]*latchkey.Code
}

func (p *property) snapshot() *snapshot {
	ctx, t := p.h.ctx, p.t
	s := &snapshot{locks: map[int64]*latchkey.Lock{}, ways: map[int64]int{}, keys: map[int64]*latchkey.Key{}, runs: map[int64]*latchkey.Run{}, codes: map[int64]*latchkey.Code{}}
	keys, _, err := p.h.svc.FindKeys(ctx, latchkey.KeyFilter{}, latchkey.Page{Limit: 100})
	must(t, err)
	for _, k := range keys {
		s.keys[k.ID] = k
	}
	runs, _, err := p.h.svc.FindRuns(ctx, latchkey.RunFilter{}, latchkey.Page{Limit: 1000})
	must(t, err)
	for _, r := range runs {
		s.runs[r.ID] = r
	}
	s.grants, err = p.h.svc.FindGrants(ctx, latchkey.GrantFilter{})
	must(t, err)
	for _, g := range s.grants {
		if s.codes[g.CodeID] == nil {
			c, err := p.h.svc.FindCodeByID(ctx, g.CodeID)
			must(t, err)
			s.codes[c.ID] = c
		}
	}
	for _, l := range p.h.locks {
		l, err := p.h.svc.FindLockByID(ctx, l.ID)
		must(t, err)
		s.locks[l.ID] = l
		// Invariant 1's ways in: the lock's key, active and held by a person, and every
		// reliable code the lock confirmed.
		if k := s.keys[l.KeyID]; k != nil && k.State == latchkey.KeyActive && k.HeldByPerson() {
			s.ways[l.ID]++
		}
		for _, g := range s.grants {
			if g.LockID == l.ID && g.Status == latchkey.GrantSet && s.codes[g.CodeID].Reliable() {
				s.ways[l.ID]++
			}
		}
	}
	return s
}

// doorHeldOpen reports whether an active run on the lock has the door attested open.
func (s *snapshot) doorHeldOpen(lockID int64) bool {
	for _, r := range s.runs {
		if r.Status != latchkey.RunActive || !slices.Contains(r.LockIDs, lockID) {
			continue
		}
		for _, rec := range r.Records {
			if rec.Outcome == latchkey.StepDone && slices.Contains(rec.Attested, latchkey.AttestDoorOpen) {
				return true
			}
		}
	}
	return false
}

// provenNewKey reports whether a run on the lock has a done step of the lock's that
// attests the door open and every test of the new key from both sides.
func (s *snapshot) provenNewKey(lockID int64) bool {
	want := []string{latchkey.AttestDoorOpen}
	for i := 1; i <= latchkey.RekeyTests; i++ {
		want = append(want, latchkey.AttestTestOutside+"_"+strconv.Itoa(i), latchkey.AttestTestInside+"_"+strconv.Itoa(i))
	}
	for _, r := range s.runs {
		if !slices.Contains(r.LockIDs, lockID) {
			continue
		}
		for _, rec := range r.Records {
			i := slices.IndexFunc(r.Steps, func(st latchkey.Step) bool { return st.ID == rec.Step })
			if rec.Outcome != latchkey.StepDone || i < 0 || r.Steps[i].LockID != lockID && r.Steps[i].LockID != 0 {
				continue
			}
			if !slices.ContainsFunc(want, func(a string) bool { return !slices.Contains(rec.Attested, a) }) {
				return true
			}
		}
	}
	return false
}

// check holds the records after an action to invariants 1, 2, 3 and 5.
func (p *property) check(before, after *snapshot, action string) {
	p.t.Helper()
	for id, l := range after.locks {
		was := before.locks[id]
		// 1. No lockout: a lock keeps a way in, unless it had none, its key was just
		// lost (nothing takes a lost key's place), or a run holds its door open.
		if before.ways[id] > 0 && after.ways[id] == 0 {
			lost := before.keys[was.KeyID] != nil && before.keys[was.KeyID].State != latchkey.KeyLost && after.keys[was.KeyID].State == latchkey.KeyLost
			p.outcome["~ last way in lost"]++
			if !lost && !after.doorHeldOpen(id) {
				p.fail("invariant 1: %s lost its last way in at %q", l.Name, action)
			}
		}
		// 2. A lost key's locks are exposed, and stay so until a rekey is recorded; one
		// reset meanwhile shows as quarantined (the more urgent news while its codes are
		// off it) and is exposed again when its codes are back.
		exposed := func(l *latchkey.Lock, s *snapshot) bool {
			k := s.keys[l.KeyID]
			return l.Status == latchkey.LockExposed || l.Status == latchkey.LockQuarantined && k != nil && k.State == latchkey.KeyLost
		}
		if k := after.keys[l.KeyID]; k != nil && k.State == latchkey.KeyLost && !exposed(l, after) {
			p.fail("invariant 2: %s takes lost key %d and is %s, not exposed, after %q", l.Name, k.ID, l.Status, action)
		}
		if exposed(was, before) && !exposed(l, after) && l.KeyID == was.KeyID {
			p.fail("invariant 2: %s is no longer exposed after %q, and no rekey was recorded", l.Name, action)
		}
		// 3. A lock's key changes only once the new key was proven, and the old key's
		// copies are then to be returned if no lock takes it.
		if l.KeyID != was.KeyID && was.KeyID != 0 {
			p.outcome["~ key changed"]++
			if !after.provenNewKey(id) {
				p.fail("invariant 3: %s takes key %d instead of %d after %q, with no step proving the new key", l.Name, l.KeyID, was.KeyID, action)
			}
			if !slices.ContainsFunc(mapsValues(after.locks), func(o *latchkey.Lock) bool { return o.KeyID == was.KeyID }) {
				for _, c := range after.keys[was.KeyID].Copies {
					if c.State == latchkey.CopyHeld {
						p.fail("invariant 3: no lock takes key %d any more, and a copy of it is still held (not to be returned), after %q", was.KeyID, action)
					}
				}
			}
		}
	}
	// 2. A revoked code is recorded gone only once its lock no longer holds it.
	for _, g := range after.grants {
		if g.Status != latchkey.GrantRemoved || !after.codes[g.CodeID].Revoked || p.wasRemoved(before, g) {
			continue
		}
		p.outcome["~ revoked code recorded gone"]++
		if p.twinHolds(after.locks[g.LockID], g.Slot, p.pins[g.CodeID]) {
			p.fail("invariant 2: code %d is recorded gone from lock %d after %q, and the lock still holds it", g.CodeID, g.LockID, action)
		}
	}
	// 5. No programming starts on a low battery.
	for id, r := range after.runs {
		if was := before.runs[id]; r.Status != latchkey.RunActive && (was == nil || was.Status == latchkey.RunActive) {
			p.outcome[fmt.Sprintf("~ %s run %s", r.Kind, r.Status)]++
		}
		if before.runs[id] != nil || r.Kind != latchkey.ProcedureCode && r.Kind != latchkey.ProcedureReset && r.Kind != latchkey.ProcedureTurnover {
			continue
		}
		for _, lockID := range r.LockIDs {
			if l := before.locks[lockID]; l.State.LowBattery() {
				p.fail("invariant 5: %s run %d started on %s, whose battery is low (%d mV)", r.Kind, id, l.Name, l.State.BatteryMV)
			}
		}
	}
}

func (p *property) wasRemoved(before *snapshot, g *latchkey.Grant) bool {
	return slices.ContainsFunc(before.grants, func(o *latchkey.Grant) bool {
		return o.CodeID == g.CodeID && o.LockID == g.LockID && o.Slot == g.Slot && o.Status == latchkey.GrantRemoved
	})
}

// twinHolds reports whether a lock's twin holds the PIN in the slot.
func (p *property) twinHolds(l *latchkey.Lock, slot int, pin string) bool {
	if l.Connection.Address == "" {
		return false // no keypad twin
	}
	set := ""
	p.h.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin(l.Connection.Address)
		set, _ = tw.Field(fmt.Sprintf("slot:%d", slot))
	})
	if set != "set" {
		return false
	}
	// The slot holds a code: the revoked one, or one given the slot since. Read it back.
	var err error
	for range 5 {
		ctx, cancel := context.WithTimeout(p.h.ctx, 3*time.Second)
		got, present, rerr := p.h.driver.ReadCode(ctx, l.Connection.Address, slot)
		cancel()
		if rerr == nil {
			return present && got == pin
		}
		err = rerr
	}
	p.t.Logf("slot %d of %s holds a code the radio does not read back (%v): not checked", slot, l.Name, err)
	return false
}

func mapsValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
