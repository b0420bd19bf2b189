package latchkey

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A procedure is a risky change to one or more locks done the safe way (SPEC §4.4): a
// plan of steps, made for the exact model from the catalog by the procedure engine, that
// a person and the engine work through one at a time. This file holds what a run is and
// the rules every run obeys, whoever drives it; procedureservice.go holds the acts.

// ProcedureKind names a procedure.
type ProcedureKind string

// Procedures (SPEC §4.4, issue 11).
const (
	ProcedureIdentify ProcedureKind = "identify"   // find the lock's exact model
	ProcedureRekey    ProcedureKind = "rekey"      // a SmartKey cylinder learns a new key
	ProcedureCode     ProcedureKind = "code"       // add, change or remove a code at the keypad or through the hub
	ProcedureReset    ProcedureKind = "reset"      // factory reset, pair again, codes put back
	ProcedureBattery  ProcedureKind = "battery"    // fresh batteries before any programming
	ProcedureLostKey  ProcedureKind = "lost_key"   // a key is lost: its locks rekeyed
	ProcedureTurnover ProcedureKind = "turnover"   // a rental changes hands
	ProcedureEscalate ProcedureKind = "escalation" // not started: what a run becomes when it stops for help
)

// ProcedureKinds lists the procedures a person can start, in the order menus show them.
var ProcedureKinds = []ProcedureKind{ProcedureIdentify, ProcedureRekey, ProcedureCode, ProcedureReset, ProcedureBattery, ProcedureLostKey, ProcedureTurnover}

// Validate reports whether k names a procedure a person can start.
func (k ProcedureKind) Validate() error {
	if slices.Contains(ProcedureKinds, k) {
		return nil
	}
	names := make([]string, len(ProcedureKinds))
	for i, p := range ProcedureKinds {
		names[i] = string(p)
	}
	return Errorf(EINVALID, "Unknown procedure %q; use one of: %s.", k, strings.Join(names, ", "))
}

// rekeys reports whether the run rekeys cylinders: a rekey, a lost key, or a turnover
// asked to rekey as well. Every such run obeys the rekey's rules.
func (r *Run) rekeys() bool {
	return r.Kind == ProcedureRekey || r.Kind == ProcedureLostKey || r.Kind == ProcedureTurnover && r.Params.Rekey
}

// programs reports whether the procedure writes to an electronic lock's memory, which
// invariant 5 forbids on a low battery.
func (k ProcedureKind) programs() bool {
	return k == ProcedureCode || k == ProcedureReset || k == ProcedureTurnover
}

// RunStatus is where a run stands.
type RunStatus string

// Run statuses. Only an active run has a current step.
const (
	RunActive    RunStatus = "active"    // waiting for its current step
	RunDone      RunStatus = "done"      // every step done and verified
	RunAborted   RunStatus = "aborted"   // stopped by a person, safely
	RunEscalated RunStatus = "escalated" // stopped for a locksmith or support (invariant 8)
)

// StepKind is who does a step and how it is proven.
type StepKind string

// Step kinds.
const (
	StepAuto   StepKind = "automatic"    // done by the engine through a driver or the sync engine
	StepManual StepKind = "manual"       // done by a person, who confirms it
	StepVerify StepKind = "verification" // a check with recorded evidence
)

// StepAction is what the records do when a step is done: applied by the domain in the
// transaction that records the step, so the step and its effect are durable together.
type StepAction string

// Step actions.
const (
	ActionNone           StepAction = ""
	ActionIdentify       StepAction = "identify"        // evidence model: the lock's model is recorded
	ActionNewKey         StepAction = "new_key"         // evidence bitting (read off the key) or generate: the new key is recorded
	ActionRecordRekey    StepAction = "record_rekey"    // the locks take the new key; the old one's copies are to be returned
	ActionMarkKeyLost    StepAction = "mark_key_lost"   // the lost key is recorded lost; its locks are exposed
	ActionBatterySwapped StepAction = "battery_swapped" // the swap goes in the service log; a reading must not be low
	ActionRemovedFromHub StepAction = "removed_from_hub"
	ActionResetDone      StepAction = "reset_done"    // the lock was factory reset: quarantined until its codes are back
	ActionReprovision    StepAction = "reprovision"   // every desired code is to be put back
	ActionCodesSet       StepAction = "codes_set"     // every code on the locks is confirmed set
	ActionRevokeGuests   StepAction = "revoke_guests" // turnover: guests' and service people's codes revoked
	ActionCodesGone      StepAction = "codes_gone"    // every revoked code confirmed gone
	ActionConfirmCode    StepAction = "confirm_code"  // a code programmed or removed at the keypad is confirmed
	ActionReport         StepAction = "report"        // the run's report goes in the service log
)

// AutoOp is what the engine does for an automatic step.
type AutoOp string

// Automatic operations.
const (
	AutoExclude     AutoOp = "exclude"      // take the lock off its hub
	AutoInclude     AutoOp = "include"      // put the hub in add mode and wait for the lock
	AutoReprovision AutoOp = "reprovision"  // ask for every desired code to be put back
	AutoAwaitCodes  AutoOp = "await_codes"  // wait until every code on the locks is confirmed
	AutoRevoke      AutoOp = "revoke"       // revoke the guests' codes
	AutoAwaitGone   AutoOp = "await_gone"   // wait until every revoked code is confirmed gone
	AutoReadBattery AutoOp = "read_battery" // wake the lock and read its battery
)

// Attestations: what a person confirms at a step, by name. The domain checks the ones
// its rules rest on (invariants 1 and 3); the others are recorded as given.
const (
	AttestDoorOpen    = "door_open"   // the door is open and stays open
	AttestWorkingKey  = "working_key" // the key that opens the lock today is at hand
	AttestTool        = "smartkey_tool"
	AttestNewKey      = "new_key"       // the new key is at hand
	AttestBatteries   = "batteries"     // fresh batteries are at hand
	AttestTestOutside = "test_outside"  // one test of the new key from outside; three needed
	AttestTestInside  = "test_inside"   // one test from inside
	AttestOldKeyFails = "old_key_fails" // the old key no longer turns
	AttestBoltMoved   = "bolt_moved"    // door handing: the bolt moved by itself
	AttestCodeWorks   = "code_works"    // the code opens the lock at the keypad
	AttestCodeFails   = "code_fails"    // the removed code no longer opens it
	AttestHubReady    = "hub_ready"
)

// Step is one step of a run's plan: what to do, what to see, what to confirm, and how
// to get out safely from here.
type Step struct {
	ID     string   `json:"id"` // unique within the run: "door-open", "learn-2"
	Kind   StepKind `json:"kind"`
	LockID int64    `json:"lock_id,omitempty"`
	Title  string   `json:"title"`
	Do     string   `json:"do"`
	Expect string   `json:"expect,omitempty"`
	// Caution is the classic mistake at this step and what it costs.
	Caution     string `json:"caution,omitempty"`
	Unconfirmed string `json:"unconfirmed,omitempty"` // where the maker's sources disagree or are silent
	WaitS       int    `json:"wait_s,omitempty"`
	// Attest lists what the person must confirm for the step to count as done.
	Attest []string `json:"attest,omitempty"`
	// Evidence names what the step asks for besides attestations: bitting, battery_mv,
	// model, answers.
	Evidence []string `json:"evidence,omitempty"`
	// Optional names evidence the step takes but does not require (identify's answers).
	Optional []string   `json:"optional,omitempty"`
	Action   StepAction `json:"action,omitempty"`
	Auto     AutoOp     `json:"auto,omitempty"`
	// Abort says how to leave the lock safe if the run stops at this step.
	Abort string `json:"abort"`
	// EscalateTo is who is called when the step cannot be done: locksmith or support.
	EscalateTo string `json:"escalate_to,omitempty"`
	// Tries is how many failed verifications the step allows before the run escalates
	// (1: the first failure escalates; a cylinder that does not turn is never forced).
	Tries int `json:"tries,omitempty"`
	// Retry is the step a failure goes back to, to do the sequence again (a reset that
	// did not take); without it a failed step is tried again where it is.
	Retry string `json:"retry,omitempty"`
	// Sequence and Sources name the catalog sequence and sources the step comes from;
	// Warranty is set when the step departs from the maker's instructions (invariant 9).
	Sequence string   `json:"sequence,omitempty"`
	Sources  []string `json:"sources,omitempty"`
	Warranty string   `json:"warranty,omitempty"`
	Picture  string   `json:"picture,omitempty"` // a drawing that helps: "key", "keypad"
	// Choices are the answers the person picks from (identify: candidate models).
	Choices []Choice `json:"choices,omitempty"`
}

// Choice is one answer a step offers.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Note  string `json:"note,omitempty"`
}

// StepRecord is what happened at a step: who, when, what they confirmed, the evidence,
// and how it ended. A step can have several records: failed tries before the one that
// passed.
type StepRecord struct {
	Step     string            `json:"step"`
	At       time.Time         `json:"at"`
	Actor    string            `json:"actor"`
	Outcome  StepOutcome       `json:"outcome"`
	Attested []string          `json:"attested,omitempty"`
	Evidence map[string]string `json:"evidence,omitempty"` // never a PIN or a bitting
	Note     string            `json:"note,omitempty"`
}

// StepOutcome is how a try at a step ended.
type StepOutcome string

// Step outcomes.
const (
	StepDone    StepOutcome = "done"
	StepFailed  StepOutcome = "failed"
	StepSkipped StepOutcome = "skipped" // allowed only where the plan says so: the hub is unreachable
	StepAborted StepOutcome = "aborted"
)

// Escalation is the hand-over when a run stops for help (invariant 8): who to call, why,
// what was tried, and the state the lock was left in.
type Escalation struct {
	To        string   `json:"to"` // locksmith or support
	Why       string   `json:"why"`
	Tried     []string `json:"tried"`
	StateLeft []string `json:"state_left"`
	Contacts  []string `json:"contacts,omitempty"`
}

// Escalation targets.
const (
	EscalateLocksmith = "locksmith"
	EscalateSupport   = "support"
)

// RunParams are what a run was started with.
type RunParams struct {
	ModelID  string `json:"model_id,omitempty"`
	OldKeyID int64  `json:"old_key_id,omitempty"` // the key the locks take before a rekey, or the lost key
	NewKeyID int64  `json:"new_key_id,omitempty"` // the key they take after, once recorded
	CodeID   int64  `json:"code_id,omitempty"`    // the code a code procedure adds or removes
	CodeOp   string `json:"code_op,omitempty"`    // add or remove
	Rekey    bool   `json:"rekey,omitempty"`      // a turnover that rekeys as well
	// Revoked are the codes a turnover revoked, to be confirmed gone.
	Revoked []int64 `json:"revoked,omitempty"`
	// Hands is who does the manual steps: "" a person, "sim" the twins' virtual hands;
	// Mistake is the classic mistake the virtual hands make on purpose.
	Hands   string `json:"hands,omitempty"`
	Mistake string `json:"mistake,omitempty"`
}

// Run is one procedure being done, or done, on one or more locks (several locks keyed
// alike are rekeyed in one run).
type Run struct {
	ID         int64         `json:"id"`
	Kind       ProcedureKind `json:"kind"`
	Title      string        `json:"title"`
	LockIDs    []int64       `json:"lock_ids"`
	Status     RunStatus     `json:"status"`
	Current    int           `json:"current"` // index of the current step while active
	Steps      []Step        `json:"steps"`
	Records    []StepRecord  `json:"records"`
	Params     RunParams     `json:"params"`
	Failures   int           `json:"failures"` // failed tries at the current step
	Escalation *Escalation   `json:"escalation,omitempty"`
	Outcome    string        `json:"outcome,omitempty"`
	Contacts   []string      `json:"contacts,omitempty"` // the maker's, for an escalation
	StartedBy  string        `json:"started_by"`
	StartedAt  time.Time     `json:"started_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
	EndedAt    *time.Time    `json:"ended_at,omitempty"`
	// Version counts the run's changes; a change made from a stale copy is refused.
	Version int `json:"version"`
	// Shown is a secret shown once, in the answer to the step that made it (a generated
	// bitting for the person to cut the key from); never stored.
	Shown string `json:"shown,omitempty"`
}

// Step returns the current step of an active run.
func (r *Run) Step() (*Step, bool) {
	if r.Status != RunActive || r.Current < 0 || r.Current >= len(r.Steps) {
		return nil, false
	}
	return &r.Steps[r.Current], true
}

// attested reports whether name was confirmed at any done step of the run, and how many
// times.
func (r *Run) attested(name string) int {
	n := 0
	for _, rec := range r.Records {
		if rec.Outcome != StepDone {
			continue
		}
		for _, a := range rec.Attested {
			if a == name {
				n++
			}
		}
	}
	return n
}

// RunFilter selects runs; nil fields do not filter.
type RunFilter struct {
	LockID *int64
	Status *RunStatus
	Kind   *ProcedureKind
}

// maxRunSteps bounds a plan: the longest (a lost key rekeying many locks) stays far below.
const maxRunSteps = 400

// validate checks a plan's shape: every step named once, of a known kind, with a way out.
func (r *Run) validate() error {
	if err := r.Kind.Validate(); err != nil {
		return err
	}
	switch {
	case len(r.LockIDs) == 0:
		return Errorf(EINVALID, "A procedure runs on at least one lock; name the lock.")
	case len(r.Steps) == 0:
		return Errorf(EINVALID, "The procedure has no steps for this lock.")
	case len(r.Steps) > maxRunSteps:
		return Errorf(EINVALID, "A procedure has at most %d steps; this one would have %d. Run it on fewer locks at once.", maxRunSteps, len(r.Steps))
	}
	for i, id := range r.LockIDs {
		if slices.Contains(r.LockIDs[:i], id) {
			return Errorf(EINVALID, "Lock %d is named twice; name each lock of the run once.", id)
		}
	}
	seen := map[string]bool{}
	for i, st := range r.Steps {
		switch {
		case st.ID == "" || seen[st.ID]:
			return Errorf(EINTERNAL, "Step %d of the %s plan has no id or repeats one.", i+1, r.Kind)
		case st.Kind != StepAuto && st.Kind != StepManual && st.Kind != StepVerify:
			return Errorf(EINTERNAL, "Step %s of the %s plan has an unknown kind %q.", st.ID, r.Kind, st.Kind)
		case st.Kind == StepAuto && st.Auto == "":
			return Errorf(EINTERNAL, "Automatic step %s of the %s plan says nothing to do.", st.ID, r.Kind)
		case st.Abort == "":
			return Errorf(EINTERNAL, "Step %s of the %s plan has no way out.", st.ID, r.Kind)
		}
		seen[st.ID] = true
	}
	return nil
}

// ProcedureService starts and drives runs: the procedure engine implements it over
// Service (the engine makes the plans from the catalog), and the HTTP client for the
// command line. Errors: EINVALID for a bad request, ENOTFOUND, EUNSAFE when a safety
// invariant refuses it, ECONFLICT when the run moved on meanwhile.
type ProcedureService interface {
	StartProcedure(ctx context.Context, req ProcedureRequest) (*Run, error)
	AdvanceProcedure(ctx context.Context, runID int64, a Advance) (*Run, error)
	AbortProcedure(ctx context.Context, runID int64, why string) (*Run, error)
	EscalateProcedure(ctx context.Context, runID int64, to, why string) (*Run, error)
	FindRuns(ctx context.Context, f RunFilter, p Page) ([]*Run, int, error)
	FindRunByID(ctx context.Context, id int64) (*Run, error)
}

// ProcedureRequest asks for a run.
type ProcedureRequest struct {
	Kind    ProcedureKind `json:"kind"`
	LockIDs []int64       `json:"lock_ids"`
	KeyID   int64         `json:"key_id,omitempty"`  // lost_key: the lost key
	CodeID  int64         `json:"code_id,omitempty"` // code: the code to program or remove
	CodeOp  string        `json:"code_op,omitempty"` // code: add or remove
	Rekey   bool          `json:"rekey,omitempty"`   // turnover: rekey as well
	Hands   string        `json:"hands,omitempty"`
	Mistake string        `json:"mistake,omitempty"`
}

// Validate checks a request for what it is, before any record is read: a kind that
// exists, ids that can be ids, and only the fields the kind takes. A field that does not
// belong to the kind is refused rather than dropped: whoever sent it meant something by
// it (a rekey asked of a battery swap is a mistake to point out, not to ignore). The
// messages name the request's fields, as an API caller sends them; the command line
// checks its flags before it sends.
func (req *ProcedureRequest) Validate() error {
	if err := req.Kind.Validate(); err != nil {
		return err
	}
	for _, id := range req.LockIDs {
		if id < 1 {
			return Errorf(EINVALID, "lock_ids: %d is not an id; ids are whole numbers from 1.", id)
		}
	}
	for _, f := range []struct {
		name string
		id   int64
	}{{"key_id", req.KeyID}, {"code_id", req.CodeID}} {
		if f.id < 0 {
			return Errorf(EINVALID, "%s: %d is not an id; ids are whole numbers from 1.", f.name, f.id)
		}
	}
	switch k := req.Kind; {
	case k == ProcedureLostKey && req.KeyID == 0:
		return Errorf(EINVALID, "A lost_key run needs the lost key (key_id); its locks are found from it.")
	case k == ProcedureLostKey && len(req.LockIDs) > 0:
		return Errorf(EINVALID, "A lost_key run finds every lock the key opens by itself: leave lock_ids out.")
	case k != ProcedureLostKey && len(req.LockIDs) == 0:
		return Errorf(EINVALID, "Name the lock (lock_ids; several locks keyed alike for a rekey) the %s run is on.", k)
	case k != ProcedureLostKey && req.KeyID != 0:
		return Errorf(EINVALID, "key_id is for a lost_key run only; a %s run finds the lock's key in the records. Leave it out.", k)
	case k != ProcedureCode && (req.CodeID != 0 || req.CodeOp != ""):
		return Errorf(EINVALID, "code_id and code_op are for a code run only; leave them out of a %s run.", k)
	case k == ProcedureCode && req.CodeOp != "add" && req.CodeOp != "remove":
		return Errorf(EINVALID, "A code run says whether the code is to be added or removed: code_op \"add\" or \"remove\", not %q.", req.CodeOp)
	case k == ProcedureCode && req.CodeID == 0:
		return Errorf(EINVALID, "A code run needs the code to add or remove (code_id).")
	case k != ProcedureTurnover && req.Rekey:
		return Errorf(EINVALID, "rekey is for a turnover run only (guests' codes off, then a rekey); start a rekey run to rekey, or leave it out.")
	case req.Mistake != "" && req.Hands == "":
		return Errorf(EINVALID, "A mistake on purpose is made by virtual hands: ask for them (hands \"sim\") as well, or leave mistake out.")
	}
	return nil
}

// Advance is a person's (or the engine's) report on the current step.
type Advance struct {
	// Step is the id of the step reported on: a report on a step that is already done
	// changes nothing (a retry), one on another step is refused.
	Step     string            `json:"step"`
	Attest   []string          `json:"attest,omitempty"`
	Evidence map[string]string `json:"evidence,omitempty"`
	// Failed says the step did not go as described (the key did not turn, the LED is
	// solid red); Note says what happened.
	Failed bool   `json:"failed,omitempty"`
	Skip   bool   `json:"skip,omitempty"` // the hub is unreachable: go on without it
	Note   string `json:"note,omitempty"`
	// Choices, given by the engine only, are the answers offered at the next step
	// (identify: the models that fit the answers given).
	Choices []Choice `json:"-"`
}

// maxEvidence bounds a report's evidence.
const (
	maxEvidenceItems = 16
	maxEvidenceLen   = 200
	maxAttestations  = 16
)

func (a *Advance) validate() error {
	if len(a.Attest) > maxAttestations || len(a.Evidence) > maxEvidenceItems {
		return Errorf(EINVALID, "A step takes at most %d attestations and %d pieces of evidence.", maxAttestations, maxEvidenceItems)
	}
	for _, name := range a.Attest {
		if err := validateText("Attestation", name, 40, true); err != nil {
			return err
		}
	}
	for k, v := range a.Evidence {
		if err := validateText("Evidence name", k, 40, true); err != nil {
			return err
		}
		if err := validateText(fmt.Sprintf("Evidence %q", k), v, maxEvidenceLen, false); err != nil {
			return err
		}
	}
	a.Note = plainLines(a.Note)
	return validateText("Note", a.Note, maxNoteLen/4, false)
}

// HubPairing is a driver that can take a lock off its hub and add it again, for the
// factory reset (invariant 6). Each call puts the hub in remove or add mode, waits until
// the hub reports the lock gone or added (a person presses the lock's button meanwhile),
// and leaves the hub's mode as it was; it returns EUNAVAILABLE when the hub cannot be
// reached, and ctx's error when nobody pressed the button in time.
type HubPairing interface {
	RemoveFromHub(ctx context.Context, address string) error
	AddToHub(ctx context.Context, address string) error
}

// BatteryReader is a driver that can read a lock's battery on demand, in millivolts.
type BatteryReader interface {
	ReadBattery(ctx context.Context, address string) (mv int, err error)
}
