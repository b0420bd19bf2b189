package http_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/storetest"
)

// handPlans is a procedure service with hand-made plans of the shapes the procedure
// engine makes, over the real domain: the pages are tested against the domain's rules
// (a step done only with what it asks for, a stale report refused, escalation), not
// against the catalog's sequences.
type handPlans struct{ svc *latchkey.Service }

var _ latchkey.ProcedureService = handPlans{}

// testContact is the maker's number the plans carry, to be offered as a number to tap.
const testContact = "Kwikset support: 1-800-327-5625"

func (h handPlans) StartProcedure(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	r := &latchkey.Run{Kind: req.Kind, LockIDs: req.LockIDs, Params: latchkey.RunParams{Hands: req.Hands, CodeID: req.CodeID, CodeOp: req.CodeOp},
		Contacts: []string{testContact}}
	switch req.Kind {
	case latchkey.ProcedureRekey:
		l, err := h.svc.FindLockByID(ctx, req.LockIDs[0])
		if err != nil {
			return nil, err
		}
		r.Title, r.Params.OldKeyID = "Rekey "+l.Name, l.KeyID
		tests := []string{latchkey.AttestOldKeyFails}
		for _, side := range []string{latchkey.AttestTestOutside, latchkey.AttestTestInside} {
			for i := 1; i <= latchkey.RekeyTests; i++ {
				tests = append(tests, side+"_"+string(rune('0'+i)))
			}
		}
		r.Steps = []latchkey.Step{
			{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready", Do: "Open the door and keep it open.",
				Attest: []string{latchkey.AttestDoorOpen, latchkey.AttestWorkingKey, latchkey.AttestTool}, Abort: "Nothing changed yet."},
			{ID: "new-key", Kind: latchkey.StepManual, Title: "The new key", Do: "Take the new key.", Evidence: []string{"bitting"},
				Action: latchkey.ActionNewKey, Abort: "Nothing changed on the lock."},
			{ID: "learn", Kind: latchkey.StepManual, Title: "Teach the cylinder the new key", Do: "Insert the working key and turn it a quarter turn clockwise.",
				Expect: "The key stops at 90 degrees.", Caution: "A key that is not all the way in scrambles the cylinder.",
				Unconfirmed: "Sources differ on how long to hold the tool.", WaitS: 75, Picture: "key", Tries: 1,
				EscalateTo: latchkey.EscalateLocksmith, Abort: "Take the tool out and test both keys from outside."},
			{ID: "test", Kind: latchkey.StepVerify, Title: "Test the new key", Attest: tests, Tries: 1, EscalateTo: latchkey.EscalateLocksmith,
				Abort: "Keep the door open; keep the old key."},
			{ID: "retire", Kind: latchkey.StepVerify, Title: "Retire the old key", Action: latchkey.ActionRecordRekey, Abort: "Keep the old key."},
		}
	case latchkey.ProcedureReset:
		r.Title = "Factory reset"
		r.Steps = []latchkey.Step{
			{ID: "exclude", Kind: latchkey.StepAuto, Title: "Off the hub", Do: "Latchkey removes the lock from its hub.", Auto: latchkey.AutoExclude,
				Action: latchkey.ActionRemovedFromHub, Abort: "Nothing changed."},
			{ID: "reset", Kind: latchkey.StepManual, Title: "Reset the lock", Do: "Hold the program button while putting the battery pack back.",
				Attest: []string{latchkey.AttestDoorOpen}, Action: latchkey.ActionResetDone, Abort: "Put the battery pack back and pair the lock again."},
			{ID: "codes-back", Kind: latchkey.StepAuto, Title: "Codes back", Auto: latchkey.AutoReprovision, Action: latchkey.ActionReprovision,
				Abort: "The lock stays quarantined until its codes are back."},
		}
	case latchkey.ProcedureIdentify:
		r.Title = "Identify the model"
		r.Steps = []latchkey.Step{
			{ID: "look", Kind: latchkey.StepManual, Title: "Look at the lock", Do: "Answer what you can see.", Picture: "keypad", Abort: "Nothing changed."},
			{ID: "model", Kind: latchkey.StepManual, Title: "The model", Do: "Choose the model that fits.", Evidence: []string{"model"}, Action: latchkey.ActionIdentify,
				Choices: []latchkey.Choice{{Value: "916", Label: "SmartCode 916", Note: "touchscreen deadbolt"}, {Value: "910", Label: "SmartCode 910"}}, Abort: "Nothing changed."},
		}
	case latchkey.ProcedureCode:
		r.Title = "Program a code"
		r.Steps = []latchkey.Step{{ID: "program", Kind: latchkey.StepManual, Title: "At the keypad", Do: "Press the Kwikset button, then the code.",
			Picture: "keypad", Attest: []string{latchkey.AttestCodeWorks}, Action: latchkey.ActionConfirmCode, Abort: "Nothing changed."}}
	default:
		return nil, latchkey.Errorf(latchkey.EINVALID, "No hand-made plan for %s.", req.Kind)
	}
	return r, h.svc.StartRun(ctx, r)
}

func (h handPlans) AdvanceProcedure(ctx context.Context, id int64, a latchkey.Advance) (*latchkey.Run, error) {
	return h.svc.AdvanceRun(ctx, id, a)
}

func (h handPlans) AbortProcedure(ctx context.Context, id int64, why string) (*latchkey.Run, error) {
	return h.svc.AbortRun(ctx, id, why)
}

func (h handPlans) EscalateProcedure(ctx context.Context, id int64, to, why string) (*latchkey.Run, error) {
	return h.svc.EscalateRun(ctx, id, to, why)
}

func (h handPlans) FindRuns(ctx context.Context, f latchkey.RunFilter, p latchkey.Page) ([]*latchkey.Run, int, error) {
	return h.svc.FindRuns(ctx, f, p)
}

func (h handPlans) FindRunByID(ctx context.Context, id int64) (*latchkey.Run, error) {
	return h.svc.FindRunByID(ctx, id)
}

// openRunnerServer starts a web UI server whose procedures follow hand-made plans.
func openRunnerServer(t *testing.T) (*lkhttp.Server, *latchkey.Service) {
	t.Helper()
	svc := storetest.NewService(t, openStore(t, "sqlite"))
	svc.Clock = latchkey.SystemClock{}
	s := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Catalog: fakeCatalog{}, Procedures: handPlans{svc}}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, svc
}

// A rekey from the lock's page to its end: each step on a screen of its own with what
// to tick and what to give, refused without it; a generated bitting shown once; the
// step's caution, wait, picture and unconfirmed note; the outcome once done. A second
// device reporting a step already done is shown who did it and the current step; a
// viewer follows without a button; a cross-site form is refused; no page shows a PIN.
func TestUIProcedureRekey(t *testing.T) {
	ui, svc := openRunnerServer(t)
	owner, pin := setupWithPIN(t, ui.URL()) // ana; lock 1, the Deadbolt (916), with code 1
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	old := &latchkey.Key{SiteID: 1, Label: "House key", Keyway: "KW1", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: 1}}}
	if err := svc.CreateKey(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetLockKey(ctx, 1, old.ID); err != nil {
		t.Fatal(err)
	}
	smartKey := true
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{HasSmartKey: &smartKey}); err != nil {
		t.Fatal(err)
	}
	installer := signIn(t, ui, svc, "sam", latchkey.UserInstaller)
	viewer := signIn(t, ui, svc, "vic", latchkey.UserViewer)
	var seen []string
	keep := func(p page) page { seen = append(seen, p.body); return p }

	p := keep(uiGet(t, owner, "/locks/1"))
	mustContain(t, "the lock's page", p.body, `id="procedures"`, `action="/locks/1/procedures"`, `value="rekey"`, "Rekey to a new key", `value="reset"`, `href="/procedures"`)
	if strings.Contains(p.body, `value="identify"`) {
		t.Error("an identified lock offers to identify its model")
	}
	p = keep(uiGet(t, viewer, "/locks/1"))
	if strings.Contains(p.body, `action="/locks/1/procedures"`) {
		t.Error("a viewer is offered to start a procedure")
	}
	p = keep(uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"rekey"}}, "/procedures/1"))
	mustContain(t, "the first step", p.body, "Step 1 of 5", `<progress max="5" value="1">`, "Get ready", "Open the door and keep it open.",
		`name="attest" value="door_open" required> <span>The door is open and stays open</span>`, "I have the SmartKey tool",
		`value="done" class="big" id="done">Done</button>`, "It didn't work", "Stop here", "Nothing changed yet.", "Call for help",
		`href="tel:18003275625">Call 1-800-327-5625</a>`, `data-version="1"`, "runner.", `<a href="/procedures" aria-current="page">Procedures</a>`)
	if strings.Contains(p.body, `http-equiv="refresh"`) || strings.Contains(p.body, `id="skip"`) {
		t.Error("a manual step reloads itself, or offers to skip")
	}
	// One procedure at a time on a lock: the lock's page goes back to the run.
	p = keep(uiGet(t, owner, "/locks/1"))
	mustContain(t, "the lock's page during the run", p.body, `href="/procedures/1" id="continue-run">Go on with it</a>`, "step 1 of 5: Get ready")

	// Done without everything ticked: refused, on the same step, saying what is missing.
	p = keep(uiDo(t, owner, "POST", "/procedures/1/step", url.Values{"step": {"ready"}, "outcome": {"done"}, "attest": {"door_open"}}))
	if p.status != http.StatusBadRequest {
		t.Fatalf("a step done without all it asks for: %d", p.status)
	}
	mustContain(t, "the refused step", p.body, `role="alert"`, "missing: working_key, smartkey_tool", "Step 1 of 5")
	keep(uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"ready"}, "outcome": {"done"}, "attest": {"door_open", "working_key", "smartkey_tool"}}, "/procedures/1"))

	// The phone reports the step the laptop already did: who did it, and the current step.
	p = keep(uiPostOK(t, installer, "/procedures/1/step", url.Values{"step": {"ready"}, "outcome": {"done"}, "attest": {"door_open", "working_key", "smartkey_tool"}}, "/procedures/1?already=ready"))
	mustContain(t, "a late report", p.body, `id="already"`, "“Get ready” was already done by ana at", "Here is the step the run is at now.", "Step 2 of 5", "The new key")
	if run, _ := svc.FindRunByID(ctx, 1); run.Current != 1 || len(run.Records) != 1 {
		t.Fatalf("a late report moved the run: step %d, %d records", run.Current, len(run.Records))
	}

	// The new key: read off the key, or generated and shown once.
	p = keep(uiGet(t, owner, "/procedures/1"))
	mustContain(t, "the new-key step", p.body, `name="bitting_from" value="generate"`, `name="ev_bitting" inputmode="numeric" autocomplete="off"`, "from the bow to the tip")
	p = uiDo(t, owner, "POST", "/procedures/1/step", url.Values{"step": {"new-key"}, "outcome": {"done"}, "bitting_from": {"generate"}})
	if p.status != http.StatusOK {
		t.Fatalf("generating the new key: %d\n%s", p.status, p.body)
	}
	mustContain(t, "the generated key", p.body, `id="shown"`, "Note the new key's cuts now", "only this once", "Step 3 of 5")
	shown := regexp.MustCompile(`id="shown-bitting">(\d{5})<`).FindStringSubmatch(p.body)
	if shown == nil {
		t.Fatalf("no bitting shown:\n%s", p.body)
	}
	p = keep(uiGet(t, owner, "/procedures/1"))
	if strings.Contains(p.body, shown[1]) || strings.Contains(p.body, `id="shown"`) {
		t.Fatal("the generated bitting is shown again")
	}
	// The same report again (a reload of the answer) changes nothing and shows nothing.
	p = keep(uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"new-key"}, "outcome": {"done"}, "bitting_from": {"generate"}}, "/procedures/1?already=new-key"))
	if strings.Contains(p.body, shown[1]) {
		t.Fatal("a repeated report shows the bitting again")
	}
	mustContain(t, "the learn step", p.body, "Step 3 of 5", `id="key-picture"`, `data-blank="KW1"`, `id="caution"`, "scrambles the cylinder",
		`id="unconfirmed"`, `<span class="badge warn">unconfirmed</span> Sources differ`, `data-seconds="75"`, "Wait 1 minute 15 seconds.",
		"What you should see:", "Reporting it stops the procedure here and calls for a locksmith")

	// A viewer follows the run without a button, and may post nothing.
	p = keep(uiGet(t, viewer, "/procedures/1"))
	mustContain(t, "the viewer's runner", p.body, `id="read-only"`, "Teach the cylinder the new key")
	for _, form := range []string{`action="/procedures/1/step"`, `action="/procedures/1/abort"`, `action="/procedures/1/escalate"`} {
		if strings.Contains(p.body, form) {
			t.Errorf("the viewer's runner has %s", form)
		}
	}
	if p := uiDo(t, viewer, "POST", "/procedures/1/step", url.Values{"step": {"learn"}, "outcome": {"done"}}); p.status != http.StatusForbidden {
		t.Fatalf("a viewer's report: %d", p.status)
	}
	// A form posted from another site is refused.
	p = uiDo(t, owner, "POST", "/procedures/1/step", url.Values{"step": {"learn"}, "outcome": {"done"}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Cross-site request refused") {
		t.Fatalf("a cross-site report: %d", p.status)
	}
	if run, _ := svc.FindRunByID(ctx, 1); run.Current != 2 {
		t.Fatalf("a refused report moved the run to step %d", run.Current+1)
	}

	keep(uiPostOK(t, installer, "/procedures/1/step", url.Values{"step": {"learn"}, "outcome": {"done"}}, "/procedures/1"))
	p = keep(uiGet(t, installer, "/procedures/1"))
	mustContain(t, "the test step", p.body, "Step 4 of 5", "Test 1 from outside: the new key locks and unlocks", "Test 3 from inside: the new key locks and unlocks",
		"The old key no longer turns")
	run, _ := svc.FindRunByID(ctx, 1)
	keep(uiPostOK(t, installer, "/procedures/1/step", url.Values{"step": {"test"}, "outcome": {"done"}, "attest": run.Steps[3].Attest}, "/procedures/1"))
	p = keep(uiPostOK(t, installer, "/procedures/1/step", url.Values{"step": {"retire"}, "outcome": {"done"}}, "/procedures/1"))
	mustContain(t, "the finished run", p.body, `id="outcome"`, "Finished", "Rekey Deadbolt: done, every step confirmed.", `href="/locks/1">Back to Deadbolt</a>`,
		`id="history" open`, "Test 2 from inside: the new key locks and unlocks", "the new key&#39;s cuts: made by Latchkey",
		`Deadbolt takes the new key now: <a href="/keys/2">New key for Deadbolt (run 1)</a>. The old key, <a href="/keys/1">House key</a>, is retired: its copies are listed to be returned.`)
	if strings.Contains(p.body, `action="/procedures/1/`) || strings.Contains(p.body, "runner.") {
		t.Error("a finished run still has a form or the runner's script")
	}
	if l, _ := svc.FindLockByID(ctx, 1); l.KeyID == old.ID {
		t.Fatal("the finished rekey did not record the new key")
	}
	p = keep(uiGet(t, owner, "/procedures"))
	mustContain(t, "the procedures page", p.body, `id="none-active"`, `id="ended"`, `href="/procedures/1">Rekey Deadbolt</a> <span class="badge ok">done</span>`)
	for _, body := range seen {
		if strings.Contains(body, pin) {
			t.Fatalf("a page shows the code's PIN %s:\n%s", pin, body)
		}
	}
}

// When a step fails as often as it may, the run stops for help and its page becomes the
// hand-over: why, what was tried, how the lock was left, whom to call (a number to tap).
// "Call for help" does the same at any step, and "Stop here" stops the run once the
// person confirmed the step's way out; a report on a run that ended says how it ended.
func TestUIProcedureWaysOut(t *testing.T) {
	ui, svc := openRunnerServer(t)
	owner := setup(t, ui.URL())
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	smartKey := true
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{HasSmartKey: &smartKey}); err != nil {
		t.Fatal(err)
	}
	uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"rekey"}}, "/procedures/1")
	uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"ready"}, "outcome": {"done"}, "attest": {"door_open", "working_key", "smartkey_tool"}}, "/procedures/1")
	uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"new-key"}, "outcome": {"done"}, "ev_bitting": {"24353"}}, "/procedures/1")
	p := uiDo(t, owner, "POST", "/procedures/1/step", url.Values{"step": {"learn"}, "outcome": {"failed"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Say in a few words what happened") {
		t.Fatalf("a failure without a word: %d", p.status)
	}
	p = uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"learn"}, "outcome": {"failed"}, "note": {"the new key does not turn"}}, "/procedures/1")
	mustContain(t, "the escalated run", p.body, `id="escalation"`, "Call a locksmith", "Stopped at step 3 of 5 for a locksmith.",
		"Step 3 (Teach the cylinder the new key) failed: the new key does not turn", "What was tried", "Get ready: done",
		"How the lock was left", "Deadbolt: no key on record.", `href="tel:18003275625">Call 1-800-327-5625</a>`, testContact)
	if l, _ := svc.FindLockByID(ctx, 1); l.Status != latchkey.LockNeedsLocksmith {
		t.Fatalf("the lock after the escalation: %s", l.Status)
	}
	p = uiGet(t, owner, "/locks/1")
	mustContain(t, "the lock waiting for a locksmith", p.body, "It is waiting for a locksmith", `value="rekey" required disabled`)
	// The phone, still on the learn step, reports it done: the run has ended.
	p = uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"learn"}, "outcome": {"done"}}, "/procedures/1?already=learn")
	mustContain(t, "a report on an ended run", p.body, `id="already"`, "“Teach the cylinder the new key” was reported not working by ana", "The run has ended", `id="escalation"`)

	// A reset of a lock on a hub: the hub's step waits by itself and may be skipped only
	// because the hub is unreachable; then "Stop here", confirmed.
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	p = uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"reset"}}, "/procedures/2")
	mustContain(t, "an automatic step", p.body, `id="auto"`, "Latchkey is doing this through the hub.", `<noscript><meta http-equiv="refresh" content="3"></noscript>`,
		`id="skip"`, "Skip (hub unreachable)", `action="/procedures/2/abort"`)
	if strings.Contains(p.body, `id="step-form"`) {
		t.Error("an automatic step offers to report it done")
	}
	// The engine's failed try at the hub says why the step waits.
	engine := latchkey.NewEngineContext(latchkey.NewContextWithPrincipal(ctx, latchkey.Principal{Name: "procedure engine", Role: latchkey.UserOwner}))
	if _, err := svc.AdvanceRun(engine, 2, latchkey.Advance{Step: "exclude", Failed: true, Note: "The hub does not answer."}); err != nil {
		t.Fatal(err)
	}
	p = uiGet(t, owner, "/procedures/2")
	mustContain(t, "an automatic step that failed once", p.body, `id="failures"`, "Not done yet</strong> (1 try): The hub does not answer. Latchkey tries again by itself.", "Step 1 of 3")
	if p := uiDo(t, owner, "POST", "/procedures/2/step", url.Values{"step": {"exclude"}, "outcome": {"done"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "done by Latchkey itself") {
		t.Fatalf("a person reporting an automatic step done: %d", p.status)
	}
	p = uiPostOK(t, owner, "/procedures/2/step", url.Values{"step": {"exclude"}, "outcome": {"skip"}}, "/procedures/2")
	mustContain(t, "the reset step", p.body, "Step 2 of 3", "Reset the lock", "Put the battery pack back and pair the lock again.")
	if strings.Contains(p.body, `id="skip"`) {
		t.Error("a manual step offers to skip")
	}
	p = uiDo(t, owner, "POST", "/procedures/2/abort", url.Values{"step": {"reset"}, "why": {"no time"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Tick the box") {
		t.Fatalf("stopping without confirming: %d", p.status)
	}
	// A stop sent from a page of an earlier step shows the current step's way out first.
	uiPostOK(t, owner, "/procedures/2/abort", url.Values{"step": {"exclude"}, "confirm": {"1"}}, "/procedures/2?already=exclude")
	if run, _ := svc.FindRunByID(ctx, 2); run.Status != latchkey.RunActive {
		t.Fatalf("a stop sent from an earlier step's page stopped the run: %s", run.Status)
	}
	p = uiPostOK(t, owner, "/procedures/2/abort", url.Values{"step": {"reset"}, "why": {"no time"}, "confirm": {"1"}}, "/procedures/2")
	mustContain(t, "the stopped run", p.body, "Stopped before the end", "Aborted at step 2 of 3 (Reset the lock). Put the battery pack back and pair the lock again.")

	// "Call for help" at any step.
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{}}); err != nil {
		t.Fatal(err)
	}
	uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"code"}, "code": {"1:add"}}, "/procedures/3")
	p = uiGet(t, owner, "/procedures/3")
	mustContain(t, "a keypad step", p.body, `id="keypad-picture"`, "The code opens the lock at the keypad")
	p = uiDo(t, owner, "POST", "/procedures/3/escalate", url.Values{"step": {"program"}, "to": {"the neighbour"}, "why": {"x"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Escalate to locksmith or support") {
		t.Fatalf("calling for help from nobody: %d", p.status)
	}
	p = uiPostOK(t, owner, "/procedures/3/escalate", url.Values{"step": {"program"}, "to": {"support"}, "why": {"the keypad stays dark"}}, "/procedures/3")
	mustContain(t, "the run stopped for support", p.body, "Call Kwikset support", "the keypad stays dark")

	// With the virtual hands, the page watches them: no step to report, the ways out kept.
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	p = uiGet(t, owner, "/locks/1")
	mustContain(t, "a twin's page", p.body, `name="hands" value="sim"`)
	p = uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"reset"}, "hands": {"sim"}}, "/procedures/4")
	uiPostOK(t, owner, "/procedures/4/step", url.Values{"step": {"exclude"}, "outcome": {"skip"}}, "/procedures/4")
	p = uiGet(t, owner, "/procedures/4")
	mustContain(t, "a step the virtual hands do", p.body, `id="hands"`, "The virtual hands are doing this at the twin.", `<noscript><meta http-equiv="refresh" content="3"></noscript>`, `id="stop"`, `id="help"`)
	if strings.Contains(p.body, `id="step-form"`) {
		t.Error("a step the virtual hands do offers to report it")
	}
	if l, _ := svc.FindLockByID(ctx, 1); l.Status != latchkey.LockNeedsSupport && l.Status != latchkey.LockNeedsLocksmith {
		t.Fatalf("the lock after calling support: %s", l.Status)
	}
}

// An unidentified lock offers only to identify it; the answers are choices to tap, and
// the model chosen is recorded. The dashboard offers the procedure that answers what a
// lock needs, and a lost key's page the lost-key procedure.
func TestUIProcedureIdentify(t *testing.T) {
	ui, svc := openRunnerServer(t)
	owner := setup(t, ui.URL())
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	l := &latchkey.Lock{DoorID: 1, Name: "Side door"}
	if err := svc.CreateLock(ctx, l); err != nil {
		t.Fatal(err)
	}
	p := uiGet(t, owner, "/")
	mustContain(t, "the dashboard", p.body, `action="/locks/2/procedures"><input type="hidden" name="kind" value="identify"><button type="submit" class="start-fix">Start: Identify the model</button>`)
	p = uiGet(t, owner, "/locks/2")
	mustContain(t, "the unidentified lock", p.body, `value="identify"`)
	if strings.Contains(p.body, `value="rekey"`) || strings.Contains(p.body, `value="reset"`) {
		t.Error("an unidentified lock offers a procedure that depends on its model")
	}
	p = uiPostOK(t, owner, "/locks/2/procedures", url.Values{"kind": {"identify"}}, "/procedures/1")
	mustContain(t, "the questions", p.body, `<legend>What is on the outside?</legend>`, `name="ev_keypad" value="touchscreen"> <span>A touchscreen</span>`,
		`name="ev_smartkey_hole" value="" checked> <span>I don't know</span>`, `id="keypad-picture"`)
	p = uiGet(t, owner, "/")
	mustContain(t, "the dashboard during the run", p.body, `id="runs"`, `href="/procedures/1">Go on with: Identify the model</a>`)
	uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"look"}, "outcome": {"done"}, "ev_keypad": {"touchscreen"}, "ev_smartkey_hole": {""}, "ev_radio": {"zwave"}}, "/procedures/1")
	if run, _ := svc.FindRunByID(ctx, 1); len(run.Records) != 1 || len(run.Records[0].Evidence) != 1 || run.Records[0].Evidence["keypad"] != "touchscreen" {
		t.Fatalf("the answers recorded: %+v (only those asked and given)", run.Records)
	}
	p = uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"model"}, "outcome": {"done"}, "ev_model": {"916"}}, "/procedures/1")
	mustContain(t, "the identified lock's run", p.body, "Finished", "keypad: touchscreen", "model: 916")
	if got, _ := svc.FindLockByID(ctx, 2); got.ModelID != "916" {
		t.Fatalf("the model recorded: %q", got.ModelID)
	}

	// A lost key: its page offers the lost-key procedure, and a rekey of each exposed lock.
	k := &latchkey.Key{SiteID: 1, Label: "Side key", Keyway: "KW1", Bitting: "35242", Copies: []latchkey.KeyCopy{{HolderID: 1}}}
	if err := svc.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	smartKey := true
	if _, err := svc.UpdateLock(ctx, 2, latchkey.LockUpdate{HasSmartKey: &smartKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetLockKey(ctx, 2, k.ID); err != nil {
		t.Fatal(err)
	}
	p = uiGet(t, owner, "/keys/1")
	mustContain(t, "the key's page", p.body, `action="/keys/1/procedures"`, "guides the rekey of its lock")
	uiPostOK(t, owner, "/keys/1/lost", url.Values{}, "/keys/1?done=key-lost")
	p = uiGet(t, owner, "/keys/1")
	mustContain(t, "the lost key's page", p.body, `<form method="post" action="/locks/2/procedures"><input type="hidden" name="kind" value="rekey"><button type="submit" class="start-rekey">`)
	p = uiGet(t, owner, "/")
	mustContain(t, "the dashboard", p.body, `action="/locks/2/procedures"><input type="hidden" name="kind" value="rekey"><button type="submit" class="start-fix">Start: Rekey to a new key</button>`)
	// The hand-made plans have no lost-key plan: the refusal is shown on the key's page.
	p = uiDo(t, owner, "POST", "/keys/1/procedures", url.Values{})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "No hand-made plan for lost_key") || !strings.Contains(p.body, "Side key") {
		t.Fatalf("a refused lost-key procedure: %d\n%s", p.status, p.body)
	}
}

// Without an engine the runs can be read, and nothing offers to start or move one.
func TestUIProcedureNoEngine(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	p := uiGet(t, owner, "/procedures")
	mustContain(t, "the procedures page", p.body, "No procedure engine runs on this server")
	p = uiGet(t, owner, "/locks/1")
	if strings.Contains(p.body, `action="/locks/1/procedures"`) {
		t.Error("a server without an engine offers to start a procedure")
	}
	p = uiDo(t, owner, "POST", "/locks/1/procedures", url.Values{"kind": {"battery"}})
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "No procedure engine runs on this server") {
		t.Fatalf("starting a procedure without an engine: %d", p.status)
	}
}
