package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// stepsBySelf is a procedure service whose automatic steps are done by itself after a few
// looks, as the engine of a server does them meanwhile: the hub step at the second look,
// the codes step failing once first.
type stepsBySelf struct {
	mu    sync.Mutex
	run   latchkey.Run
	looks int
	sent  []latchkey.Advance
	// hubGone: the hub step is never done by itself; only a skip moves it.
	hubGone bool
}

func newStepsBySelf() *stepsBySelf {
	return &stepsBySelf{run: latchkey.Run{ID: 7, Kind: latchkey.ProcedureReset, Title: "Reset", LockIDs: []int64{1}, Status: latchkey.RunActive, Version: 1,
		Steps: []latchkey.Step{
			{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready", Attest: []string{latchkey.AttestDoorOpen}, Abort: "Nothing changed."},
			{ID: "exclude", Kind: latchkey.StepAuto, Auto: latchkey.AutoExclude, Title: "Take it off the hub", Abort: "Skip it if the hub is gone."},
			{ID: "codes", Kind: latchkey.StepAuto, Auto: latchkey.AutoAwaitCodes, Title: "Codes read back", Abort: "The codes keep going on."},
		}}}
}

func (f *stepsBySelf) copyRun() *latchkey.Run {
	r := f.run
	r.Steps, r.Records = append([]latchkey.Step(nil), f.run.Steps...), append([]latchkey.StepRecord(nil), f.run.Records...)
	return &r
}

// move records the current step's outcome and goes on.
func (f *stepsBySelf) move(outcome latchkey.StepOutcome, note string) {
	st, _ := f.run.Step()
	f.run.Records = append(f.run.Records, latchkey.StepRecord{Step: st.ID, Outcome: outcome, Note: note})
	f.run.Version++
	if outcome == latchkey.StepFailed {
		f.run.Failures++
		return
	}
	f.run.Current, f.run.Failures = f.run.Current+1, 0
	if f.run.Current == len(f.run.Steps) {
		f.run.Status, f.run.Outcome = latchkey.RunDone, "Reset: done, every step confirmed."
	}
}

func (f *stepsBySelf) StartProcedure(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	return f.copyRun(), nil
}

func (f *stepsBySelf) AdvanceProcedure(ctx context.Context, id int64, a latchkey.Advance) (*latchkey.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, a)
	st, ok := f.run.Step()
	switch {
	case !ok || st.ID != a.Step:
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "Not at %q.", a.Step)
	case a.Skip && st.Auto == latchkey.AutoExclude:
		f.move(latchkey.StepSkipped, a.Note)
	case st.Kind == latchkey.StepAuto:
		return nil, latchkey.Errorf(latchkey.EINVALID, "Done by Latchkey.")
	default:
		f.move(latchkey.StepDone, "")
	}
	return f.copyRun(), nil
}

func (f *stepsBySelf) AbortProcedure(ctx context.Context, id int64, why string) (*latchkey.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.run.Status, f.run.Outcome = latchkey.RunAborted, "Aborted."
	return f.copyRun(), nil
}

func (f *stepsBySelf) EscalateProcedure(ctx context.Context, id int64, to, why string) (*latchkey.Run, error) {
	return nil, latchkey.Errorf(latchkey.EINVALID, "Not in this test.")
}

func (f *stepsBySelf) FindRuns(ctx context.Context, rf latchkey.RunFilter, p latchkey.Page) ([]*latchkey.Run, int, error) {
	return []*latchkey.Run{f.copyRun()}, 1, nil
}

// FindRunByID is where the automatic steps get done: the hub step at the second look, the
// codes step failed at its first look and done at its third.
func (f *stepsBySelf) FindRunByID(ctx context.Context, id int64) (*latchkey.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.run.Step(); ok && st.Kind == latchkey.StepAuto {
		f.looks++
		switch {
		case st.ID == "exclude" && f.looks == 2 && !f.hubGone:
			f.move(latchkey.StepDone, "")
			f.looks = 0
		case st.ID == "codes" && f.looks == 1:
			f.move(latchkey.StepFailed, "the hub did not answer")
		case st.ID == "codes" && f.looks == 3:
			f.move(latchkey.StepDone, "")
		}
	}
	return f.copyRun(), nil
}

// While Latchkey does an automatic step the walk waits, printing dots, and goes on when
// the run moves; a failed try is said; s skips the hub step where the plan allows it.
func TestWalkWaitsForAutomaticSteps(t *testing.T) {
	defer func(d time.Duration) { walkPoll = d }(walkPoll)
	walkPoll = time.Millisecond
	for _, c := range []struct {
		name, input string
		want        []string
		skipped     bool
	}{
		{"Waits", "y\n", []string{"Step 2 of 3: Take it off the hub", "Latchkey is doing this step [q leave it running, a abort, s skip: the hub cannot be reached] .",
			"Step 3 of 3: Codes read back", "That try failed: the hub did not answer; Latchkey tries again.", "Run 7 done"}, false},
		{"Skip", "y\ns\n", []string{"Step 3 of 3: Codes read back", "Run 7 done"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newStepsBySelf()
			f.hubGone = c.skipped
			var out bytes.Buffer
			m := &Main{Stdin: strings.NewReader(c.input), Stdout: &out, Stderr: &out}
			if err := m.walk(context.Background(), procedures{ProcedureService: f}, f.copyRun()); err != nil {
				t.Fatal(err)
			}
			for _, want := range c.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the walk lacks %q:\n%s", want, out.String())
				}
			}
			skipped := len(f.sent) == 2 && f.sent[1].Skip && f.sent[1].Step == "exclude"
			if skipped != c.skipped || f.run.Status != latchkey.RunDone {
				t.Fatalf("reports %+v; run %s", f.sent, f.run.Status)
			}
		})
	}
}

// A step reported failed says what happened: an empty answer is asked again, and the
// end of input then leaves the run as it stands rather than report it without a word.
func TestWalkFailureNeedsWords(t *testing.T) {
	for _, c := range []struct {
		name, input string
		sent        int
		note        string
	}{
		{"AskedAgain", "f\n\n  \nthe door sticks\nq\n", 1, "the door sticks"},
		{"NoAnswer", "f\n\n", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newStepsBySelf()
			var out bytes.Buffer
			m := &Main{Stdin: strings.NewReader(c.input), Stdout: &out, Stderr: &out}
			if err := m.walk(context.Background(), procedures{ProcedureService: f}, f.copyRun()); err != nil {
				t.Fatal(err)
			}
			if len(f.sent) != c.sent || c.sent > 0 && (!f.sent[0].Failed || f.sent[0].Note != c.note) {
				t.Fatalf("reports %+v", f.sent)
			}
			if !strings.Contains(out.String(), "Say in a few words what happened instead") {
				t.Errorf("an empty answer is not asked again:\n%s", out.String())
			}
		})
	}
}
