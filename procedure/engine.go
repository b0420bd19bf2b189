// Package procedure is the procedure engine (SPEC §4.4): it makes each run's plan for
// the exact model of its locks from the catalog, does the automatic steps through the
// device drivers and the sync engine, and lets virtual hands do the manual ones on the
// twins. Every rule a run obeys, and every change it makes to the records, is the
// domain's (latchkey.Service): the engine only proposes plans and reports steps.
package procedure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// Hands do the manual steps of a run as a person at the door would: the twins' virtual
// hands, for the demo and for tests, including the classic mistakes on purpose.
type Hands interface {
	// Do performs the step on the run's locks and reports it: done with what was
	// confirmed, or failed with what was seen.
	Do(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, error)
	// Mistakes lists the mistakes the hands can make on purpose.
	Mistakes() []string
}

// Planner makes plans from the catalog.
type Planner struct {
	Catalog *catalog.Catalog
}

// contacts are the maker's, for an escalation.
func (p *Planner) contacts() []string {
	c, _ := p.Catalog.Warranty.Contact.Get("Kwikset support")
	return []string{c, "A locksmith: for a scrambled or forced cylinder, or a lock that will not open."}
}

// Engine starts and drives runs. It satisfies latchkey.ProcedureService.
type Engine struct {
	Service *latchkey.Service
	Planner Planner
	// Drivers reach the connected locks, by driver name.
	Drivers map[latchkey.Driver]latchkey.DeviceDriver
	// Hands are the virtual hands by name ("sim"); a run asks for them when started.
	Hands  map[string]Hands
	Logger *slog.Logger
	// Interval is how often a step that waits (for codes to be confirmed, for a hub) is
	// looked at again; StepTimeout bounds one try at an automatic step, a person
	// pressing the lock's button included.
	Interval    time.Duration
	StepTimeout time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	busy   map[int64]bool      // runs a goroutine is working on
	later  map[int64]time.Time // runs that wait, and until when
	noted  map[int64]string    // the last failure recorded per run, not recorded twice
}

var _ latchkey.ProcedureService = (*Engine)(nil)

// New returns an engine over the service and the catalog.
func New(svc *latchkey.Service, cat *catalog.Catalog) *Engine {
	return &Engine{Service: svc, Planner: Planner{Catalog: cat}, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{},
		Hands: map[string]Hands{}, Logger: slog.New(slog.DiscardHandler), Interval: 2 * time.Second, StepTimeout: 2 * time.Minute}
}

// engineCtx is the engine acting: a principal of its own, marked as the engine so that
// the domain takes its reports of automatic steps.
func engineCtx(ctx context.Context) context.Context {
	ctx = latchkey.NewContextWithPrincipal(ctx, latchkey.Principal{Name: "procedure engine", Role: latchkey.UserOwner})
	return latchkey.NewEngineContext(ctx)
}

// handsCtx is the virtual hands acting: a person at the door, as an installer is.
func handsCtx(ctx context.Context, name string) context.Context {
	return latchkey.NewContextWithPrincipal(ctx, latchkey.Principal{Name: "virtual hands (" + name + ")", Role: latchkey.UserInstaller})
}

// StartProcedure makes the plan for the request and starts the run.
func (e *Engine) StartProcedure(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if req.Hands != "" {
		h, ok := e.Hands[req.Hands]
		switch {
		case !ok:
			return nil, latchkey.Errorf(latchkey.EINVALID, "No virtual hands %q on this server (they work the twins of a demo or a test); do the steps yourself, without them%s.", req.Hands, e.handsNames())
		case req.Mistake != "" && !slices.Contains(h.Mistakes(), req.Mistake):
			return nil, latchkey.Errorf(latchkey.EINVALID, "Unknown mistake %q; the %s hands can make: %s.", req.Mistake, req.Hands, strings.Join(h.Mistakes(), ", "))
		}
	} else if req.Mistake != "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "A mistake on purpose is made by virtual hands: ask for the hands (sim) as well.")
	}
	r, err := e.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := e.Service.StartRun(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (e *Engine) handsNames() string {
	if len(e.Hands) == 0 {
		return ""
	}
	var names []string
	for n := range e.Hands {
		names = append(names, n)
	}
	slices.Sort(names)
	return " (hands here: " + strings.Join(names, ", ") + ")"
}

// plan reads what the request names and makes the run's plan.
func (e *Engine) plan(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	in := planInput{req: req}
	ids := req.LockIDs
	if req.Kind == latchkey.ProcedureLostKey {
		if req.KeyID == 0 {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Name the lost key; its locks are found from it.")
		}
		locks, _, err := e.Service.FindLocks(ctx, latchkey.LockFilter{KeyID: &req.KeyID}, latchkey.Page{Limit: 1000})
		if err != nil {
			return nil, err
		}
		ids = nil
		var other []string
		for _, l := range locks {
			if l.HasSmartKey {
				ids = append(ids, l.ID)
			} else {
				other = append(other, l.Name)
			}
		}
		if len(ids) == 0 {
			return nil, latchkey.Errorf(latchkey.EINVALID, "No lock with a SmartKey cylinder takes key %d; mark key %d lost, and have a locksmith rekey or replace the cylinders of %s.", req.KeyID, req.KeyID, strings.Join(append(other, "its locks"), ", "))
		}
	}
	if len(ids) == 0 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Name the lock (or the locks keyed alike) the procedure runs on.")
	}
	if len(ids) > 20 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "A run takes at most 20 locks; %d were named.", len(ids))
	}
	for _, id := range ids {
		l, err := e.Service.FindLockByID(ctx, id)
		if err != nil {
			return nil, err
		}
		in.locks = append(in.locks, l)
	}
	first := in.locks[0]
	if first.ModelID != "" {
		m, err := e.Planner.Catalog.Model(first.ModelID)
		if err != nil {
			return nil, err
		}
		in.model = m
	} else if req.Kind != latchkey.ProcedureIdentify {
		return nil, latchkey.ErrUnidentified(first)
	}
	if err := e.readKeys(ctx, &in, req); err != nil {
		return nil, err
	}
	r := &latchkey.Run{Kind: req.Kind, LockIDs: ids, Contacts: e.Planner.contacts(),
		Params: latchkey.RunParams{Hands: req.Hands, Mistake: req.Mistake, Rekey: req.Rekey, CodeID: req.CodeID, CodeOp: req.CodeOp, OldKeyID: first.KeyID}}
	if in.model != nil {
		r.Params.ModelID = in.model.ID
	}
	var err error
	switch req.Kind {
	case latchkey.ProcedureIdentify:
		r.Title = "Identify " + first.Name
		r.Steps = e.Planner.identifyPlan(in)
	case latchkey.ProcedureRekey:
		if hole, known := in.model.SmartKeyHole.Get(true); known && !hole {
			return nil, latchkey.Errorf(latchkey.EINVALID, "The %s has no SmartKey cylinder: a locksmith rekeys it, or the cylinder is replaced (then record lock %d's rekey as a replacement).", in.model.Name, first.ID)
		}
		r.Title = "Rekey " + lockNames(in.locks)
		r.Steps, err = e.Planner.rekeyPlan(in, false)
	case latchkey.ProcedureLostKey:
		r.Title = fmt.Sprintf("Lost key %q: rekey %s", in.oldKey.Label, lockNames(in.locks))
		r.Params.OldKeyID = req.KeyID
		r.Steps, err = e.Planner.rekeyPlan(in, true)
	case latchkey.ProcedureBattery:
		r.Title = "Fresh batteries for " + first.Name
		r.Steps = e.Planner.batteryPlan(in)
	case latchkey.ProcedureReset:
		grants, gerr := e.Service.FindGrants(ctx, latchkey.GrantFilter{LockID: &first.ID})
		if gerr != nil {
			return nil, gerr
		}
		for _, g := range grants {
			if g.Status != latchkey.GrantRemoved && g.Status != latchkey.GrantRemoving {
				in.codes++
			}
		}
		r.Title = "Factory reset of " + first.Name
		r.Steps, err = e.Planner.resetPlan(in)
	case latchkey.ProcedureCode:
		if err := e.readCode(ctx, &in, req); err != nil {
			return nil, err
		}
		r.Title = fmt.Sprintf("%s %q on %s", map[bool]string{true: "Add", false: "Remove"}[req.CodeOp != "remove"], in.code.Label, first.Name)
		r.Steps, err = e.Planner.codePlan(in)
	case latchkey.ProcedureTurnover:
		r.Title = "Turnover of " + lockNames(in.locks)
		r.Steps, err = e.Planner.turnoverPlan(in)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// readKeys reads the key the locks take now (or the lost key) and who holds its copies.
func (e *Engine) readKeys(ctx context.Context, in *planInput, req latchkey.ProcedureRequest) error {
	keyID := in.locks[0].KeyID
	if req.Kind == latchkey.ProcedureLostKey {
		keyID = req.KeyID
	}
	if keyID == 0 {
		return nil
	}
	k, err := e.Service.FindKeyByID(ctx, keyID)
	if err != nil {
		return err
	}
	in.oldKey = k
	for _, c := range k.Copies {
		if c.State != latchkey.CopyHeld {
			continue
		}
		if c.HolderID == 0 {
			in.holders = append(in.holders, c.Location)
			continue
		}
		p, err := e.Service.FindPersonByID(ctx, c.HolderID)
		if err != nil {
			return err
		}
		in.holders = append(in.holders, p.Name)
	}
	return nil
}

// readCode finds the code of a code procedure, and checks it stands where the operation
// needs it: on its way on (add), or revoked and on its way off (remove).
func (e *Engine) readCode(ctx context.Context, in *planInput, req latchkey.ProcedureRequest) error {
	switch req.CodeOp {
	case "add", "remove":
	case "":
		return latchkey.Errorf(latchkey.EINVALID, "Say whether the code is to be added or removed (add or remove).")
	default:
		return latchkey.Errorf(latchkey.EINVALID, "Unknown operation %q; use add or remove.", req.CodeOp)
	}
	if req.CodeID == 0 {
		return latchkey.Errorf(latchkey.EINVALID, "Name the code to add or remove.")
	}
	c, err := e.Service.FindCodeByID(ctx, req.CodeID)
	if err != nil {
		return err
	}
	l := in.locks[0]
	grants, err := e.Service.FindGrants(ctx, latchkey.GrantFilter{CodeID: &c.ID, LockID: &l.ID})
	if err != nil {
		return err
	}
	if len(grants) == 0 {
		return latchkey.Errorf(latchkey.EINVALID, "Code %d is not given on %s; give it on lock %d first.", c.ID, l.Name, l.ID)
	}
	g := grants[len(grants)-1]
	switch {
	case req.CodeOp == "add" && g.Status == latchkey.GrantSet:
		return latchkey.Errorf(latchkey.ECONFLICT, "Code %d is already confirmed on %s.", c.ID, l.Name)
	case req.CodeOp == "add" && g.Status == latchkey.GrantRemoving || c.Revoked && req.CodeOp == "add":
		return latchkey.Errorf(latchkey.EINVALID, "Code %d is revoked; it is removed, not added.", c.ID)
	case req.CodeOp == "remove" && g.Status != latchkey.GrantRemoving:
		return latchkey.Errorf(latchkey.EINVALID, "Code %d is %s on %s, not being removed: revoke code %d first, then remove it here.", c.ID, g.Status, l.Name, c.ID)
	}
	in.code, in.slot = c, g.Slot
	return nil
}

// AdvanceProcedure reports on the current step. On identify's first step the engine
// ranks the models that fit the answers and offers them at the next.
func (e *Engine) AdvanceProcedure(ctx context.Context, runID int64, a latchkey.Advance) (*latchkey.Run, error) {
	r, err := e.Service.FindRunByID(ctx, runID)
	if err != nil {
		return nil, err
	}
	if st, ok := r.Step(); ok && r.Kind == latchkey.ProcedureIdentify && st.ID == a.Step && st.ID == "look" && !a.Failed {
		answers := catalog.Answers{Keypad: a.Evidence["keypad"], Radio: a.Evidence["radio"], SmartKeyHole: a.Evidence["smartkey_hole"], Handle: a.Evidence["handle"]}
		cands, err := e.Planner.Catalog.Identify(answers)
		if err != nil {
			return nil, err
		}
		if len(cands) == 0 {
			return nil, latchkey.Errorf(latchkey.EINVALID, "No model in the catalog fits these answers; check them, or leave out the ones you are not sure of.")
		}
		for _, c := range cands {
			a.Choices = append(a.Choices, latchkey.Choice{Value: c.ID, Label: c.Name, Note: strings.Join(c.Reasons, "; ")})
		}
	}
	r, err = e.Service.AdvanceRun(ctx, runID, a)
	return r, err
}

// AbortProcedure stops a run where it stands.
func (e *Engine) AbortProcedure(ctx context.Context, runID int64, why string) (*latchkey.Run, error) {
	return e.Service.AbortRun(ctx, runID, why)
}

// EscalateProcedure stops a run for a locksmith or support.
func (e *Engine) EscalateProcedure(ctx context.Context, runID int64, to, why string) (*latchkey.Run, error) {
	return e.Service.EscalateRun(ctx, runID, to, why)
}

// FindRuns lists runs, newest first.
func (e *Engine) FindRuns(ctx context.Context, f latchkey.RunFilter, p latchkey.Page) ([]*latchkey.Run, int, error) {
	return e.Service.FindRuns(ctx, f, p)
}

// FindRunByID returns a run.
func (e *Engine) FindRunByID(ctx context.Context, id int64) (*latchkey.Run, error) {
	return e.Service.FindRunByID(ctx, id)
}

// Open starts the engine: whenever a run changes, and at least every Interval, each
// active run whose step is the engine's (or its virtual hands') is worked on, one
// goroutine per run. Runs live in the records, so a restart picks up where the last
// process stopped: a step is reported once it is done, and doing it again changes
// nothing (a hub asked to remove a lock that is gone answers at once; a code already
// confirmed is confirmed).
func (e *Engine) Open(ctx context.Context) error {
	ctx, e.cancel = context.WithCancel(ctx)
	e.busy, e.later, e.noted = map[int64]bool{}, map[int64]time.Time{}, map[int64]string{}
	events, stop := e.Service.SubscribeEvents()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer stop()
		tick := time.NewTicker(e.Interval)
		defer tick.Stop()
		for {
			e.pass(ctx)
			select {
			case <-ctx.Done():
				return
			case <-e.Service.RunsChanged():
			case ev := <-events:
				// A code confirmed or a lock heard from may be what a waiting step waits for.
				if ev.Kind != latchkey.EventCodeStatus && ev.Kind != latchkey.EventChange {
					continue
				}
				e.wakeAll()
			case <-tick.C:
			}
		}
	}()
	return nil
}

// Close stops the engine and waits for its goroutines.
func (e *Engine) Close() error {
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	return nil
}

func (e *Engine) wakeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.later)
}

// pass starts work on every active run that has a step for the engine.
func (e *Engine) pass(ctx context.Context) {
	active := latchkey.RunActive
	runs, _, err := e.Service.FindRuns(engineCtx(ctx), latchkey.RunFilter{Status: &active}, latchkey.Page{Limit: 1000})
	if err != nil {
		if ctx.Err() == nil {
			e.Logger.Warn("procedure runs not read", slog.String("error", err.Error()))
		}
		return
	}
	now := time.Now()
	for _, r := range runs {
		if !engineStep(r) {
			continue
		}
		e.mu.Lock()
		if e.busy[r.ID] || now.Before(e.later[r.ID]) {
			e.mu.Unlock()
			continue
		}
		e.busy[r.ID] = true
		e.mu.Unlock()
		e.wg.Add(1)
		go func(r *latchkey.Run) {
			defer e.wg.Done()
			wait := e.work(ctx, r)
			e.mu.Lock()
			delete(e.busy, r.ID)
			if wait > 0 {
				e.later[r.ID] = time.Now().Add(wait)
			} else {
				delete(e.later, r.ID)
			}
			e.mu.Unlock()
		}(r)
	}
}

// engineStep reports whether an active run's current step is the engine's to do: an
// automatic one, or a manual one for the run's virtual hands.
func engineStep(r *latchkey.Run) bool {
	st, ok := r.Step()
	return ok && (st.Kind == latchkey.StepAuto || r.Params.Hands != "")
}

// work does the run's current step: an automatic one through the hub, or a manual one
// with the run's virtual hands. It returns how long to wait before looking again (0:
// the run moved on, or cannot be worked on now).
func (e *Engine) work(ctx context.Context, r *latchkey.Run) time.Duration {
	// Read the run again now that this goroutine holds it: the list it came from may
	// predate a step another goroutine has just reported, and a manual step done twice
	// by the hands is not harmless (a key turned again).
	r, err := e.Service.FindRunByID(engineCtx(ctx), r.ID)
	if err != nil {
		return e.Interval
	}
	st, ok := r.Step()
	if !ok || st.Kind != latchkey.StepAuto && r.Params.Hands == "" {
		return 0
	}
	if st.Kind != latchkey.StepAuto {
		return e.handsDo(ctx, r, st)
	}
	a, wait, err := e.auto(ctx, r, st)
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		e.note(ctx, r, st, err)
		return wait
	}
	if _, err := e.Service.AdvanceRun(engineCtx(ctx), r.ID, a); err != nil {
		if latchkey.ErrorCode(err) == latchkey.ECONFLICT {
			return e.Interval // not yet (codes still on their way), or moved on meanwhile
		}
		e.note(ctx, r, st, err)
		return e.Interval
	}
	return 0
}

// note records a failed try at an automatic step in the run, once per distinct failure,
// so that the person sees why it waits; a step with Tries escalates after that many.
func (e *Engine) note(ctx context.Context, r *latchkey.Run, st *latchkey.Step, err error) {
	msg := latchkey.ErrorMessage(err)
	e.mu.Lock()
	if e.noted == nil {
		e.noted = map[int64]string{}
	}
	same := e.noted[r.ID] == st.ID+": "+msg
	e.noted[r.ID] = st.ID + ": " + msg
	e.mu.Unlock()
	if same && st.Tries == 0 {
		return
	}
	e.Logger.Info("procedure step not done yet", slog.Int64("run", r.ID), slog.String("step", st.ID), slog.String("why", msg))
	if _, err := e.Service.AdvanceRun(engineCtx(ctx), r.ID, latchkey.Advance{Step: st.ID, Failed: true, Note: msg}); err != nil && ctx.Err() == nil {
		e.Logger.Warn("procedure step failure not recorded", slog.Int64("run", r.ID), slog.String("error", err.Error()))
	}
}

// auto does an automatic step and returns the report to make.
func (e *Engine) auto(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, time.Duration, error) {
	a := latchkey.Advance{Step: st.ID}
	switch st.Auto {
	case latchkey.AutoReprovision, latchkey.AutoRevoke, latchkey.AutoAwaitCodes, latchkey.AutoAwaitGone:
		return a, 0, nil // the domain does it, or says it is not yet time
	}
	lockID := st.LockID
	if lockID == 0 {
		lockID = r.LockIDs[0]
	}
	l, err := e.Service.FindLockByID(engineCtx(ctx), lockID)
	if err != nil {
		return a, e.Interval, err
	}
	d, ok := e.Drivers[l.Connection.Driver]
	if !ok {
		return a, time.Minute, latchkey.Errorf(latchkey.EUNAVAILABLE, "No %s driver runs on this server, so Latchkey cannot reach %s's hub.", l.Connection.Driver, l.Name)
	}
	timeout := e.StepTimeout
	if dl, ok := ctx.Deadline(); ok {
		// A job's deadline (StepRun): the step ends first, with time left to record it.
		timeout = min(timeout, time.Until(dl)*9/10)
	}
	stepCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch st.Auto {
	case latchkey.AutoExclude, latchkey.AutoInclude:
		p, ok := d.(latchkey.HubPairing)
		if !ok {
			return a, time.Minute, latchkey.Errorf(latchkey.EUNAVAILABLE, "The %s driver cannot add or remove locks on its hub: do it in the hub's own app, then skip this step.", l.Connection.Driver)
		}
		pair := p.RemoveFromHub
		if st.Auto == latchkey.AutoInclude {
			pair = p.AddToHub
		}
		done := make(chan error, 1)
		go func() { done <- pair(stepCtx, l.Connection.Address) }()
		var err error
		if h := e.Hands[r.Params.Hands]; h != nil {
			// The hub waits in its mode; the hands press the lock's button meanwhile. A
			// hub that gives up first (it is not answering) stops the hands waiting for it.
			handsCtx, stopHands := context.WithCancel(stepCtx)
			pressed := make(chan error, 1)
			go func() { _, err := h.Do(handsCtx, r, st); pressed <- err }()
			select {
			case err = <-done:
				stopHands()
				<-pressed
			case herr := <-pressed:
				stopHands()
				if herr != nil {
					cancel()
					<-done
					return a, e.Interval, herr
				}
				err = <-done
			}
		} else {
			err = <-done
		}
		if err != nil {
			return a, e.backoff(r), err
		}
		a.Evidence = map[string]string{"hub": map[latchkey.AutoOp]string{latchkey.AutoExclude: "removed", latchkey.AutoInclude: "added"}[st.Auto]}
		return a, 0, nil
	case latchkey.AutoReadBattery:
		br, ok := d.(latchkey.BatteryReader)
		if !ok {
			return a, time.Minute, latchkey.Errorf(latchkey.EUNAVAILABLE, "The %s driver cannot read a battery on demand.", l.Connection.Driver)
		}
		mv, err := br.ReadBattery(stepCtx, l.Connection.Address)
		if err != nil {
			return a, e.backoff(r), err
		}
		if mv <= latchkey.LowBatteryMV {
			return a, e.Interval, latchkey.Errorf(latchkey.EUNSAFE, "%s still reads %.1f V: the batteries are not fresh, or one is in the wrong way round.", l.Name, float64(mv)/1000)
		}
		a.Evidence = map[string]string{"battery_mv": fmt.Sprint(mv)}
		return a, 0, nil
	}
	return a, time.Minute, latchkey.Errorf(latchkey.EINTERNAL, "Unknown automatic step %q.", st.Auto)
}

// backoff is how long to wait after a failed try at reaching a hub: doubling from the
// interval, capped at 5 minutes, by the failures recorded at the step.
func (e *Engine) backoff(r *latchkey.Run) time.Duration {
	d := e.Interval
	for i := 0; i < r.Failures && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// handsDo has the run's virtual hands do a manual step and reports it.
func (e *Engine) handsDo(ctx context.Context, r *latchkey.Run, st *latchkey.Step) time.Duration {
	h, ok := e.Hands[r.Params.Hands]
	if !ok {
		return time.Minute // hands of another server, or gone: a person can go on
	}
	a, err := h.Do(ctx, r, st)
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		a = latchkey.Advance{Step: st.ID, Failed: true, Note: latchkey.ErrorMessage(err)}
	}
	a.Step = st.ID
	if _, err := e.AdvanceProcedure(handsCtx(ctx, r.Params.Hands), r.ID, a); err != nil {
		var le *latchkey.Error
		if errors.As(err, &le) && le.Code == latchkey.ECONFLICT {
			return 0
		}
		e.Logger.Warn("virtual hands' report refused", slog.Int64("run", r.ID), slog.String("step", st.ID), slog.String("error", latchkey.ErrorMessage(err)))
		// Report it failed, so that the run does not wait on hands that cannot go on.
		if _, err := e.Service.AdvanceRun(handsCtx(ctx, r.Params.Hands), r.ID, latchkey.Advance{Step: st.ID, Failed: true, Note: latchkey.ErrorMessage(err)}); err != nil {
			return e.Interval
		}
	}
	return 0
}
