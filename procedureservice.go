package latchkey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The acts on procedure runs. Every rule a run obeys is checked here, whoever drives it
// (the web runner, the command line, the engine, the virtual hands): a plan that skips
// what the invariants require does not start, a step is done only with what it asks
// for, and a step's effect on the records is written in the transaction that records
// the step, so that a crash leaves both or neither.

const engineKey contextKey = 3

// NewEngineContext marks ctx as the procedure engine's own: only the engine reports
// automatic steps done, with the evidence it read from a device. Nothing a client sends
// can set it.
func NewEngineContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, engineKey, true)
}

func fromEngine(ctx context.Context) bool {
	v, _ := ctx.Value(engineKey).(bool)
	return v
}

// RunsChanged delivers a value after a run changes, so that the procedure engine looks
// for automatic steps to do without polling; a burst of changes is one value.
func (s *Service) RunsChanged() <-chan struct{} { return s.runSignal.channel() }

func (s *Service) kickRuns() {
	select {
	case s.runSignal.channel() <- struct{}{}:
	default:
	}
}

// StartRun checks a plan against the records and the invariants, and records the run.
// The plan comes from the procedure engine, which made it from the catalog for the
// lock's exact model; the checks here are the ones no plan may get around.
func (s *Service) StartRun(ctx context.Context, r *Run) error {
	if err := r.validate(); err != nil {
		return err
	}
	now := s.now()
	r.ID, r.Status, r.Current, r.Records, r.Failures, r.Escalation, r.Outcome = 0, RunActive, 0, []StepRecord{}, 0, nil, ""
	r.StartedBy, r.StartedAt, r.UpdatedAt, r.EndedAt, r.Version, r.Shown = ActorFromContext(ctx), now, now, nil, 1, ""
	err := s.change(ctx, "procedure.start", "procedure", func(tx Tx) (int64, any, error) {
		locks := make([]*Lock, 0, len(r.LockIDs))
		for _, id := range r.LockIDs {
			l, err := tx.FindLockByID(ctx, id)
			if err != nil {
				return 0, nil, err
			}
			if err := s.canStart(ctx, tx, r, l); err != nil {
				return 0, nil, err
			}
			locks = append(locks, l)
		}
		if err := checkPlan(r, locks); err != nil {
			return 0, nil, err
		}
		if err := tx.CreateRun(ctx, r); err != nil {
			return 0, nil, err
		}
		for _, l := range locks {
			if err := s.logRun(ctx, tx, r, l, fmt.Sprintf("Started: %s (procedure run %d).", r.Title, r.ID)); err != nil {
				return 0, nil, err
			}
		}
		return r.ID, map[string]any{"kind": r.Kind, "locks": r.LockIDs, "steps": len(r.Steps)}, nil
	})
	if err == nil {
		s.runChanged(r)
	}
	return err
}

// canStart refuses a run the lock's state forbids.
func (s *Service) canStart(ctx context.Context, tx Tx, r *Run, l *Lock) error {
	active := RunActive
	running, _, err := tx.FindRuns(ctx, RunFilter{LockID: &l.ID, Status: &active}, Page{Limit: 1})
	if err != nil {
		return err
	}
	switch {
	case len(running) > 0:
		o := running[0]
		return Errorf(ECONFLICT, "Lock %d (%s) is in the middle of another procedure (run %d, %s, step %d of %d). Finish it or abort run %d first.",
			l.ID, l.Name, o.ID, o.Kind, o.Current+1, len(o.Steps), o.ID)
	case r.Kind != ProcedureIdentify && l.ModelID == "":
		// Invariant 4: the right procedure for the exact model.
		return ErrUnidentified(l)
	case r.Kind.programs() && l.State.LowBattery():
		// Invariant 5: power first.
		return Errorf(EUNSAFE, "Lock %d (%s) reported a low battery (%.1f V). Swap its batteries first (a battery procedure on lock %d); programming on a weak battery can leave a code half-written or the lock reset.",
			l.ID, l.Name, float64(l.State.BatteryMV)/1000, l.ID)
	case r.rekeys() && l.Status == LockNeedsLocksmith:
		return Errorf(EUNSAFE, "Lock %d (%s) is waiting for a locksmith: a cylinder that was scrambled or forced does not learn a key again. Record the locksmith's repair in lock %d's service log first.", l.ID, l.Name, l.ID)
	case (r.Kind == ProcedureRekey || r.Kind == ProcedureLostKey) && !l.HasSmartKey:
		// (A turnover rekeys only its locks with a SmartKey cylinder.)
		return Errorf(EINVALID, "Lock %d (%s) has no SmartKey cylinder on record. If it has one (a small slot beside the keyway), record it on lock %d's record, then start again; otherwise a locksmith rekeys it, or the cylinder is replaced (then record lock %d's rekey as a replacement).", l.ID, l.Name, l.ID, l.ID)
	case r.Kind == ProcedureCode && l.Status == LockQuarantined:
		return Errorf(EUNSAFE, "Lock %d (%s) is quarantined: its codes are put back first (a reset procedure, or a reprovision of lock %d).", l.ID, l.Name, l.ID)
	}
	return nil
}

// ErrUnidentified refuses a procedure on a lock whose model is not known (invariant 4).
func ErrUnidentified(l *Lock) error {
	return Errorf(EUNSAFE, "Lock %d (%s) is unidentified, and every step depends on its exact model. Identify it first (an identify procedure on lock %d).", l.ID, l.Name, l.ID)
}

// checkPlan holds a plan to what the invariants require, whatever made it.
func checkPlan(r *Run, locks []*Lock) error {
	index := func(a StepAction) int {
		return slices.IndexFunc(r.Steps, func(st Step) bool { return st.Action == a })
	}
	switch {
	case r.rekeys():
		// Invariant 3: the new key is recorded, then proven, then the old one retired.
		nk, rk := index(ActionNewKey), index(ActionRecordRekey)
		if nk < 0 || rk < nk {
			return Errorf(EINTERNAL, "The %s plan does not record the new key before the rekey.", r.Kind)
		}
		var rekeyed []*Lock // a turnover rekeys its SmartKey locks only
		for _, l := range locks {
			if l.HasSmartKey {
				rekeyed = append(rekeyed, l)
			}
		}
		for _, l := range rekeyed[min(1, len(rekeyed)):] {
			if keyed := rekeyed[0].KeyID; l.KeyID != keyed {
				return Errorf(EINVALID, "Locks %d and %d take different keys today; a run rekeys locks keyed alike. Start one run per key.", rekeyed[0].ID, l.ID)
			}
		}
	case r.Kind == ProcedureReset:
		// Invariant 6: off the hub before the reset, codes back after it.
		reset := index(ActionResetDone)
		if reset < 0 {
			return Errorf(EINTERNAL, "The reset plan has no reset step.")
		}
		if locks[0].Connection.Driver != DriverNone {
			if off := index(ActionRemovedFromHub); off < 0 || off > reset {
				return Errorf(EINTERNAL, "The reset plan for a connected lock does not take it off its hub first.")
			}
			if re := index(ActionReprovision); re < reset {
				return Errorf(EINTERNAL, "The reset plan for a connected lock does not put its codes back.")
			}
		}
	}
	return nil
}

// AdvanceRun records a report on a run's current step. A report on a step already done
// changes nothing and returns the run (a retry after a lost answer); a report on any
// other step is refused, so two people at one run cannot skip each other's steps.
func (s *Service) AdvanceRun(ctx context.Context, runID int64, a Advance) (*Run, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	var r *Run
	var kick bool
	err := s.change(ctx, "procedure.step", "procedure", func(tx Tx) (int64, any, error) {
		var err error
		kick = false
		if r, err = tx.FindRunByID(ctx, runID); err != nil {
			return 0, nil, err
		}
		st, ok := r.Step()
		if !ok || st.ID != a.Step {
			if r.done(a.Step) {
				return 0, nil, errUnchanged
			}
			if !slices.ContainsFunc(r.Steps, func(o Step) bool { return o.ID == a.Step }) {
				// Not a step of this run at all: a mistake to fix, not a race to reload.
				return 0, nil, Errorf(EINVALID, "Run %d has no step %q; report on the step it is at (the run shows its steps' ids).", r.ID, a.Step)
			}
			if !ok {
				return 0, nil, Errorf(ECONFLICT, "Run %d is %s: it has no step to report on.", r.ID, r.Status)
			}
			return 0, nil, Errorf(ECONFLICT, "Run %d is at step %d (%s), not at %q; reload it and report on the step it shows.", r.ID, r.Current+1, st.Title, a.Step)
		}
		if st.Kind == StepAuto && !fromEngine(ctx) && !a.Skip {
			return 0, nil, Errorf(EINVALID, "Step %d (%s) is done by Latchkey itself through the hub; wait for it, or abort the run.", r.Current+1, st.Title)
		}
		if !fromEngine(ctx) {
			if err := st.checkEvidenceNames(a.Evidence); err != nil {
				return 0, nil, err
			}
			if err := st.checkAttestNames(a.Attest); err != nil {
				return 0, nil, err
			}
		}
		rec := StepRecord{Step: st.ID, At: s.now(), Actor: ActorFromContext(ctx), Attested: a.Attest, Evidence: publicEvidence(a.Evidence), Note: a.Note}
		switch {
		case a.Failed:
			rec.Outcome = StepFailed
			r.Records = append(r.Records, rec)
			r.Failures++
			tries := st.MaxTries()
			switch back := slices.IndexFunc(r.Steps[:r.Current], func(o Step) bool { return o.ID == st.Retry }); {
			case tries > 0 && r.FailedAt(st.ID) >= tries:
				why := fmt.Sprintf("Step %d (%s) failed", r.Current+1, st.Title)
				if a.Note != "" {
					why += ": " + a.Note
				}
				if err := s.escalate(ctx, tx, r, st.Escalation(), why); err != nil {
					return 0, nil, err
				}
			case back >= 0:
				// Do the sequence again from its start; the failures still count.
				r.Current = back
			}
		case a.Skip:
			if st.Auto != AutoExclude && st.Auto != AutoInclude {
				return 0, nil, Errorf(EINVALID, "Step %d (%s) cannot be skipped.", r.Current+1, st.Title)
			}
			// Kwikset: reset without excluding only when the hub is missing or not working.
			// A hub whose driver cannot add or remove locks from Latchkey has it done in its
			// own app; the lock stays quarantined until its codes are back on it.
			rec.Outcome = StepSkipped
			r.Records = append(r.Records, rec)
			r.Current, r.Failures = r.Current+1, 0
		default:
			if err := requireReport(st, &a); err != nil {
				return 0, nil, err
			}
			rec.Outcome = StepDone
			r.Records = append(r.Records, rec)
			if kick, err = s.applyStep(ctx, tx, r, st, &a); err != nil {
				return 0, nil, err
			}
			r.Current, r.Failures = r.Current+1, 0
			if len(a.Choices) > 0 && r.Current < len(r.Steps) {
				r.Steps[r.Current].Choices = a.Choices
			}
			if r.Current == len(r.Steps) {
				if err := s.finish(ctx, tx, r); err != nil {
					return 0, nil, err
				}
			}
		}
		r.UpdatedAt = s.now()
		if err := tx.UpdateRun(ctx, r); err != nil {
			return 0, nil, err
		}
		return r.ID, map[string]any{"step": st.ID, "outcome": rec.Outcome, "status": r.Status}, nil
	})
	if errors.Is(err, errUnchanged) {
		r.Shown = ""
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if kick {
		s.kickSync()
	}
	s.runChanged(r)
	return r, nil
}

// defaultTries is how often a person may report a manual step failed before the run
// stops for help: a step that fails three times is not going to work by trying harder.
const defaultTries = 3

// MaxTries is how often a step may be reported failed before the run stops for help:
// its own Tries, else defaultTries for a step a person does; 0 for an automatic step
// with none (the engine tries it again by itself).
func (st *Step) MaxTries() int {
	if st.Tries == 0 && st.Kind != StepAuto {
		return defaultTries
	}
	return st.Tries
}

// FailedAt counts the failed tries at a step, over every pass through it (a sequence
// done again from its start passes through its steps again): what MaxTries is held to.
func (r *Run) FailedAt(step string) int {
	n := 0
	for _, rec := range r.Records {
		if rec.Step == step && rec.Outcome == StepFailed {
			n++
		}
	}
	return n
}

// done reports whether the run has a step by that id that is behind it.
func (r *Run) done(step string) bool {
	for i, st := range r.Steps {
		if st.ID == step {
			return i < r.Current || r.Status == RunDone
		}
	}
	return false
}

// Escalation is who a step's failure is handed to: its EscalateTo, else Kwikset support.
func (st *Step) Escalation() string {
	if st.EscalateTo != "" {
		return st.EscalateTo
	}
	return EscalateSupport
}

// requireReport refuses a report that lacks what the step asks for.
func requireReport(st *Step, a *Advance) error {
	var missing []string
	for _, name := range st.Attest {
		if !slices.Contains(a.Attest, name) {
			missing = append(missing, name)
		}
	}
	for _, name := range st.Evidence {
		if name == "bitting" && a.Evidence["generate"] == "yes" {
			continue
		}
		if a.Evidence[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return Errorf(EINVALID, "Step %q is done only when all of this is confirmed: %s (missing: %s). If it did not go as described, report it as failed instead.",
			st.Title, strings.Join(append(slices.Clone(st.Attest), st.Evidence...), ", "), strings.Join(missing, ", "))
	}
	return nil
}

// checkEvidenceNames refuses evidence the step does not ask for: a report keeps only
// what its step is about, so nothing else (a PIN typed in the wrong place) is stored and
// shown to every reader of the run.
func (st *Step) checkEvidenceNames(ev map[string]string) error {
	for name := range ev {
		switch {
		case slices.Contains(st.Evidence, name):
		case name == "generate" && slices.Contains(st.Evidence, "bitting"):
			// Cuts typed and cuts asked for at once: which did the person mean to cut?
			switch {
			case ev[name] != "yes":
				return Errorf(EINVALID, "Evidence \"generate\" is \"yes\" (Latchkey makes the new key's cuts) or left out, not %q.", ev[name])
			case ev["bitting"] != "":
				return Errorf(EINVALID, "Give the new key's cuts (bitting) or have Latchkey generate them (generate), not both.")
			}
		case slices.Contains(st.Optional, name):
		default:
			want := "none"
			if len(st.Evidence) > 0 {
				want = strings.Join(st.Evidence, ", ")
			}
			return Errorf(EINVALID, "Step %q takes no evidence named %q (it takes: %s); say anything else in the note.", st.Title, name, want)
		}
	}
	return nil
}

// checkAttestNames refuses an attestation the step does not ask for: one misspelt
// ("door_opened") would otherwise be stored as confirmed while the one the step needs
// is missing, and a name from another step would read in the records as confirmed there.
func (st *Step) checkAttestNames(names []string) error {
	for i, name := range names {
		switch {
		case slices.Contains(names[:i], name):
			return Errorf(EINVALID, "Attestation %q is given twice; give each once.", name)
		case slices.Contains(st.Attest, name):
		case len(st.Attest) == 0:
			return Errorf(EINVALID, "Step %q asks for no attestation, so %q is not one it takes; leave attest out (say anything else in the note).", st.Title, name)
		default:
			return Errorf(EINVALID, "Step %q takes no attestation named %q; it takes: %s.", st.Title, name, strings.Join(st.Attest, ", "))
		}
	}
	return nil
}

// publicEvidence keeps what a run may record of a report's evidence: never a bitting.
func publicEvidence(ev map[string]string) map[string]string {
	if len(ev) == 0 {
		return nil
	}
	out := make(map[string]string, len(ev))
	for k, v := range ev {
		if k == "bitting" {
			v = "recorded (sealed)"
		}
		out[k] = v
	}
	return out
}

// AbortRun stops an active run where it stands. Nothing is undone behind the person's
// back: the records say what each step already changed, and the current step's way out
// says what to do at the door.
func (s *Service) AbortRun(ctx context.Context, runID int64, why string) (*Run, error) {
	why = plainLines(why)
	if err := validateText("Reason", why, maxLineLen, false); err != nil {
		return nil, err
	}
	var r *Run
	err := s.change(ctx, "procedure.abort", "procedure", func(tx Tx) (int64, any, error) {
		var err error
		if r, err = tx.FindRunByID(ctx, runID); err != nil {
			return 0, nil, err
		}
		st, ok := r.Step()
		if !ok {
			return 0, nil, Errorf(ECONFLICT, "Run %d is already %s.", r.ID, r.Status)
		}
		now := s.now()
		r.Records = append(r.Records, StepRecord{Step: st.ID, At: now, Actor: ActorFromContext(ctx), Outcome: StepAborted, Note: why})
		r.Status, r.EndedAt, r.UpdatedAt = RunAborted, &now, now
		r.Outcome = fmt.Sprintf("Aborted at step %d of %d (%s). %s", r.Current+1, len(r.Steps), st.Title, st.Abort)
		if err := s.dropUnusedKey(ctx, tx, r); err != nil {
			return 0, nil, err
		}
		for _, id := range r.LockIDs {
			l, err := tx.FindLockByID(ctx, id)
			if err != nil {
				return 0, nil, err
			}
			if err := s.logRun(ctx, tx, r, l, r.Outcome); err != nil {
				return 0, nil, err
			}
		}
		return r.ID, map[string]any{"step": st.ID, "why": why}, tx.UpdateRun(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	s.runChanged(r)
	return r, nil
}

// EscalateRun stops an active run for a locksmith or support, as a person decided at the
// door (a run also escalates by itself when a step fails as often as it may).
func (s *Service) EscalateRun(ctx context.Context, runID int64, to, why string) (*Run, error) {
	if to != EscalateLocksmith && to != EscalateSupport {
		return nil, Errorf(EINVALID, "Escalate to locksmith or support, not %q.", to)
	}
	why = plainLines(why)
	if err := validateText("Reason", why, maxLineLen, true); err != nil {
		return nil, err
	}
	if strings.TrimSpace(why) == "" {
		// The hand-over's first line: whoever is called reads it before coming.
		return nil, Errorf(EINVALID, "Say what went wrong (the key does not turn, the light stays red): the %s reads it first.", map[string]string{EscalateLocksmith: "locksmith", EscalateSupport: "support line"}[to])
	}
	var r *Run
	err := s.change(ctx, "procedure.escalate", "procedure", func(tx Tx) (int64, any, error) {
		var err error
		if r, err = tx.FindRunByID(ctx, runID); err != nil {
			return 0, nil, err
		}
		if _, ok := r.Step(); !ok {
			return 0, nil, Errorf(ECONFLICT, "Run %d is already %s.", r.ID, r.Status)
		}
		if err := s.escalate(ctx, tx, r, to, why); err != nil {
			return 0, nil, err
		}
		r.UpdatedAt = s.now()
		return r.ID, map[string]any{"to": to, "why": why}, tx.UpdateRun(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	s.runChanged(r)
	return r, nil
}

// escalate stops the run and marks its locks as needing a locksmith or support
// (invariant 8), with what was tried and the state left behind.
func (s *Service) escalate(ctx context.Context, tx Tx, r *Run, to, why string) error {
	now := s.now()
	e := &Escalation{To: to, Why: why, Contacts: r.Contacts}
	for _, rec := range r.Records {
		if rec.Outcome != StepDone && rec.Outcome != StepFailed && rec.Outcome != StepSkipped {
			continue
		}
		title := rec.Step
		if i := slices.IndexFunc(r.Steps, func(st Step) bool { return st.ID == rec.Step }); i >= 0 {
			title = r.Steps[i].Title
		}
		line := fmt.Sprintf("%s: %s", title, rec.Outcome)
		if rec.Note != "" {
			line += " (" + rec.Note + ")"
		}
		e.Tried = append(e.Tried, line)
	}
	status := LockNeedsSupport
	if to == EscalateLocksmith {
		status = LockNeedsLocksmith
	}
	for _, id := range r.LockIDs {
		l, err := tx.FindLockByID(ctx, id)
		if err != nil {
			return err
		}
		left, err := stateLeft(ctx, tx, l)
		if err != nil {
			return err
		}
		e.StateLeft = append(e.StateLeft, left...)
		if l.Status != LockExposed && l.Status != LockQuarantined {
			// An exposed or quarantined lock says so still: that is the more urgent news.
			l.Status = status
			if err := tx.UpdateLock(ctx, l); err != nil {
				return err
			}
		}
		if err := s.logRun(ctx, tx, r, l, fmt.Sprintf("Stopped for %s: %s", map[string]string{EscalateLocksmith: "a locksmith", EscalateSupport: "Kwikset support"}[to], why)); err != nil {
			return err
		}
	}
	if err := s.dropUnusedKey(ctx, tx, r); err != nil {
		return err
	}
	r.Status, r.Escalation, r.EndedAt = RunEscalated, e, &now
	r.Outcome = fmt.Sprintf("Stopped at step %d of %d for %s.", r.Current+1, len(r.Steps), map[string]string{EscalateLocksmith: "a locksmith", EscalateSupport: "Kwikset support"}[to])
	return nil
}

// stateLeft says which ways in a lock has on record now: its key and its codes.
func stateLeft(ctx context.Context, tx Tx, l *Lock) ([]string, error) {
	var out []string
	if l.KeyID != 0 {
		k, err := tx.FindKeyByID(ctx, l.KeyID)
		if err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s: the records still name key %q (%s) as its key; the rekey was not recorded.", l.Name, k.Label, k.State))
	} else {
		out = append(out, fmt.Sprintf("%s: no key on record.", l.Name))
	}
	grants, err := tx.FindGrants(ctx, GrantFilter{LockID: &l.ID})
	if err != nil {
		return nil, err
	}
	set, pending := 0, 0
	for _, g := range grants {
		switch g.Status {
		case GrantSet:
			set++
		case GrantRemoved:
		default:
			pending++
		}
	}
	if set+pending > 0 {
		out = append(out, fmt.Sprintf("%s: %s confirmed on it, %s on the way on or off.", l.Name, countOf(set, "code"), countOf(pending, "code")))
	}
	if l.Status == LockQuarantined {
		out = append(out, fmt.Sprintf("%s: quarantined: it was reset and its codes are not back yet.", l.Name))
	}
	return out, nil
}

// dropUnusedKey retires a new key a run recorded that no lock came to take.
func (s *Service) dropUnusedKey(ctx context.Context, tx Tx, r *Run) error {
	if r.Params.NewKeyID == 0 || r.Params.NewKeyID == r.Params.OldKeyID {
		return nil
	}
	if users, err := locksKeyedTo(ctx, tx, r.Params.NewKeyID); err != nil || len(users) > 0 {
		return err
	}
	k, err := tx.FindKeyByID(ctx, r.Params.NewKeyID)
	if err != nil || k.State != KeyActive || !strings.HasSuffix(k.Label, runKeySuffix(r.ID)) {
		return err // a key recorded before the run stays as it was
	}
	k.State = KeyRetired
	return tx.UpdateKey(ctx, k)
}

func runKeySuffix(runID int64) string { return " (run " + strconv.FormatInt(runID, 10) + ")" }

// finish closes a run whose last step is done.
func (s *Service) finish(ctx context.Context, tx Tx, r *Run) error {
	now := s.now()
	r.Status, r.EndedAt = RunDone, &now
	if r.Outcome == "" {
		r.Outcome = fmt.Sprintf("%s: done, every step confirmed.", r.Title)
	}
	for _, id := range r.LockIDs {
		l, err := tx.FindLockByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.logRun(ctx, tx, r, l, "Done: "+r.Title+"."); err != nil {
			return err
		}
	}
	return nil
}

// logRun writes a line about the run in a lock's service log (invariant 9).
func (s *Service) logRun(ctx context.Context, tx Tx, r *Run, l *Lock, note string) error {
	kind := map[ProcedureKind]ServiceKind{ProcedureRekey: ServiceRekey, ProcedureLostKey: ServiceRekey, ProcedureReset: ServiceReset,
		ProcedureBattery: ServiceBattery, ProcedureCode: ServiceCodes, ProcedureTurnover: ServiceCodes}[r.Kind]
	if kind == "" {
		kind = ServiceNote
	}
	note = plainLines(fmt.Sprintf("Procedure run %d: %s", r.ID, note))
	if len(note) > maxNoteLen {
		note = note[:maxNoteLen]
	}
	return tx.CreateServiceEntry(ctx, &ServiceEntry{LockID: l.ID, At: s.now(), Actor: ActorFromContext(ctx), Kind: kind, Note: note})
}

// FindRuns lists runs, newest first.
func (s *Service) FindRuns(ctx context.Context, f RunFilter, p Page) (runs []*Run, total int, err error) {
	err = s.view(ctx, func(tx Tx) error {
		runs, total, err = tx.FindRuns(ctx, f, p)
		return err
	})
	return runs, total, err
}

// FindRunByID returns a run.
func (s *Service) FindRunByID(ctx context.Context, id int64) (r *Run, err error) {
	err = s.view(ctx, func(tx Tx) error {
		r, err = tx.FindRunByID(ctx, id)
		return err
	})
	return r, err
}
