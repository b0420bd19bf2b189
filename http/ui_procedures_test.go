package http_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/procedure"
	"github.com/latchkey/latchkey/storetest"
)

// idleHands stand for the virtual hands on a server whose engine is not running, so
// that a run can be started with them and its page shown as it waits for them.
type idleHands struct{}

func (idleHands) Do(ctx context.Context, r *latchkey.Run, st *latchkey.Step) (latchkey.Advance, error) {
	return latchkey.Advance{}, latchkey.Errorf(latchkey.EUNAVAILABLE, "These hands do nothing: the tests do the steps.")
}

func (idleHands) Mistakes() []string { return []string{"key_not_full"} }

// openRunnerServer starts a web UI server with the procedure engine's plans from the
// catalog, the engine itself not running: the tests do every step, the automatic ones
// included (as the engine would, or by skipping where the plan allows it).
func openRunnerServer(t *testing.T) (*lkhttp.Server, *latchkey.Service) {
	t.Helper()
	svc := storetest.NewService(t, openStore(t, "sqlite"))
	svc.Clock = latchkey.SystemClock{}
	engine := procedure.New(svc, catalog.Default())
	engine.Hands["sim"] = idleHands{}
	s := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Catalog: fakeCatalog{}, Procedures: engine, Hands: "sim", Mistakes: idleHands{}.Mistakes()}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, svc
}

// asEngine is the procedure engine acting, to report an automatic step as it would.
func asEngine() context.Context {
	ctx := latchkey.NewContextWithPrincipal(context.Background(), latchkey.Principal{Name: "procedure engine", Role: latchkey.UserOwner})
	return latchkey.NewEngineContext(ctx)
}

// smartKeyLock records that lock 1 has a SmartKey cylinder and takes a house key.
func smartKeyLock(t *testing.T, svc *latchkey.Service) *latchkey.Key {
	t.Helper()
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
	return old
}

// step posts a report on a run's step: done with its boxes and evidence, and more.
func step(id string, more ...string) url.Values {
	v := url.Values{"step": {id}, "outcome": {"done"}}
	for i := 0; i+1 < len(more); i += 2 {
		v[more[i]] = append(v[more[i]], more[i+1])
	}
	return v
}

// A rekey from the lock's page to its end, on the engine's plan for the model: each step
// on a screen of its own with what to tick and what to give, refused without it; the
// generated cuts shown once; the step's picture, caution and unconfirmed note; the
// outcome with the new key. A second device reporting a step already done is shown who
// did it and the current step; a viewer follows without a button; a cross-site form is
// refused; no page shows a PIN.
func TestUIProcedureRekey(t *testing.T) {
	ui, svc := openRunnerServer(t)
	owner, pin := setupWithPIN(t, ui.URL()) // ana; lock 1, the Deadbolt (916), with code 1
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	old := smartKeyLock(t, svc)
	installer := signIn(t, ui, svc, "sam", latchkey.UserInstaller)
	viewer := signIn(t, ui, svc, "vic", latchkey.UserViewer)
	var seen []string
	keep := func(p page) page { seen = append(seen, p.body); return p }
	ready := step("ready", "attest", "working_key", "attest", "smartkey_tool", "attest", "new_key", "attest", "door_open")

	p := keep(uiGet(t, owner, "/locks/1"))
	mustContain(t, "the lock's page", p.body, `id="procedures"`, `action="/locks/1/procedures"`, `value="rekey"`, "Rekey to a new key", `value="reset"`, `href="/procedures"`,
		`name="hands" value="sim"> Virtual hands`, `<option value="key_not_full">key not full</option>`)
	if strings.Contains(p.body, `value="identify"`) {
		t.Error("an identified lock offers to identify its model")
	}
	p = keep(uiGet(t, viewer, "/locks/1"))
	if strings.Contains(p.body, `action="/locks/1/procedures"`) {
		t.Error("a viewer is offered to start a procedure")
	}
	p = keep(uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"rekey"}}, "/procedures/1"))
	mustContain(t, "the first step", p.body, "Step 1 of 9", `<progress max="9" value="1">`, "Get ready", "the SmartKey tool",
		`name="attest" value="door_open" required> <span>The door is open, and stays open</span>`, "The SmartKey tool is at hand", "The new key is at hand",
		`id="caution"`, "Without the working key", `value="done" class="big" id="done">Done</button>`, "It didn't work", "Stop here", "Nothing changed yet.",
		"Call for help", `href="tel:18003275625">Call 1-800-327-5625</a>`, `href="tel:18668636584">Call 1-866-863-6584</a>`, "A locksmith: for a scrambled",
		`data-version="1"`, "runner.", `<a href="/procedures" aria-current="page">Procedures</a>`)
	if strings.Contains(p.body, `http-equiv="refresh"`) || strings.Contains(p.body, `id="skip"`) {
		t.Error("a person's step reloads itself, or offers to skip")
	}
	// One procedure at a time on a lock: the lock's page goes back to the run.
	p = keep(uiGet(t, owner, "/locks/1"))
	mustContain(t, "the lock's page during the run", p.body, `href="/procedures/1" id="continue-run">Go on with it</a>`, "step 1 of 9: Get ready")

	// Done without everything ticked: refused, on the same step, saying what is missing.
	p = keep(uiDo(t, owner, "POST", "/procedures/1/step", step("ready", "attest", "door_open")))
	if p.status != http.StatusBadRequest {
		t.Fatalf("a step done without all it asks for: %d", p.status)
	}
	mustContain(t, "the refused step", p.body, `role="alert"`, "Not done yet: “The key that opens the lock today is at hand”, “The SmartKey tool is at hand”, “The new key is at hand”", "Step 1 of 9")
	if strings.Contains(p.body, "working_key,") || strings.Contains(p.body, "missing: ") {
		t.Error("the refusal names the attestations by their ids, not their words")
	}
	keep(uiPostOK(t, owner, "/procedures/1/step", ready, "/procedures/1"))

	// The phone reports the step the laptop already did: who did it, and the current step.
	p = keep(uiPostOK(t, installer, "/procedures/1/step", ready, "/procedures/1?already=ready"))
	mustContain(t, "a late report", p.body, `id="already"`, "“Get ready” was already done by ana at", "Here is the step the run is at now.", "Step 2 of 9", "The new key&#39;s cuts")
	if run, _ := svc.FindRunByID(ctx, 1); run.Current != 1 || len(run.Records) != 1 {
		t.Fatalf("a late report moved the run: step %d, %d records", run.Current, len(run.Records))
	}

	// The new key: read off the key, or generated and shown once.
	p = keep(uiGet(t, owner, "/procedures/1"))
	mustContain(t, "the new-key step", p.body, `name="bitting_from" value="generate"`, `name="ev_bitting" inputmode="numeric" autocomplete="off"`, "from the bow to the tip",
		`id="key-picture"`, `data-blank="KW1"`)
	p = uiDo(t, owner, "POST", "/procedures/1/step", step("new-key", "bitting_from", "generate"))
	if p.status != http.StatusOK {
		t.Fatalf("generating the new key: %d\n%s", p.status, p.body)
	}
	mustContain(t, "the generated key", p.body, `id="shown"`, "Note the new key's cuts now", "only this once", "Step 3 of 9")
	shown := regexp.MustCompile(`id="shown-bitting">(\d{5})<`).FindStringSubmatch(p.body)
	if shown == nil {
		t.Fatalf("no bitting shown:\n%s", p.body)
	}
	p = keep(uiGet(t, owner, "/procedures/1"))
	if strings.Contains(p.body, shown[1]) || strings.Contains(p.body, `id="shown"`) {
		t.Fatal("the generated bitting is shown again")
	}
	// The same report again (a reload of the answer) changes nothing and shows nothing.
	p = keep(uiPostOK(t, owner, "/procedures/1/step", step("new-key", "bitting_from", "generate"), "/procedures/1?already=new-key"))
	if strings.Contains(p.body, shown[1]) {
		t.Fatal("a repeated report shows the bitting again")
	}
	mustContain(t, "the first rekey step", p.body, "Step 3 of 9", "Door open, bolt out (Deadbolt)", `id="key-picture"`, `id="unconfirmed"`,
		`<span class="badge warn">unconfirmed</span> Whether the bolt must be extended`)

	// A viewer follows the run without a button, and may post nothing.
	p = keep(uiGet(t, viewer, "/procedures/1"))
	mustContain(t, "the viewer's runner", p.body, `id="read-only"`, "Door open, bolt out")
	for _, form := range []string{`action="/procedures/1/step"`, `action="/procedures/1/abort"`, `action="/procedures/1/escalate"`} {
		if strings.Contains(p.body, form) {
			t.Errorf("the viewer's runner has %s", form)
		}
	}
	if p := uiDo(t, viewer, "POST", "/procedures/1/step", step("rekey-1", "attest", "door_open")); p.status != http.StatusForbidden {
		t.Fatalf("a viewer's report: %d", p.status)
	}
	// A form posted from another site is refused.
	p = uiDo(t, owner, "POST", "/procedures/1/step", step("rekey-1", "attest", "door_open"), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Cross-site request refused") {
		t.Fatalf("a cross-site report: %d", p.status)
	}
	if run, _ := svc.FindRunByID(ctx, 1); run.Current != 2 {
		t.Fatalf("a refused report moved the run to step %d", run.Current+1)
	}

	keep(uiPostOK(t, installer, "/procedures/1/step", step("rekey-1", "attest", "door_open"), "/procedures/1"))
	keep(uiPostOK(t, installer, "/procedures/1/step", step("rekey-2"), "/procedures/1"))
	p = keep(uiGet(t, installer, "/procedures/1"))
	mustContain(t, "a step that may not fail twice", p.body, "SmartKey tool in, and out (Deadbolt)", `id="caution"`, "A tool not fully inserted",
		"Reporting it stops the procedure here and calls for a locksmith. Do not force anything.")
	for _, id := range []string{"rekey-3", "rekey-4", "rekey-5"} {
		keep(uiPostOK(t, installer, "/procedures/1/step", step(id), "/procedures/1"))
	}
	p = keep(uiGet(t, installer, "/procedures/1"))
	mustContain(t, "the test step", p.body, "Step 8 of 9", "Try 1 from outside: the new key locks and unlocks the door", "Try 3 from inside: the new key locks and unlocks the door",
		"The old key no longer turns the lock")
	run, _ := svc.FindRunByID(ctx, 1)
	keep(uiPostOK(t, installer, "/procedures/1/step", url.Values{"step": {"rekey-6"}, "outcome": {"done"}, "attest": run.Steps[7].Attest}, "/procedures/1"))
	p = keep(uiPostOK(t, installer, "/procedures/1/step", step("rekey-record"), "/procedures/1"))
	mustContain(t, "the finished run", p.body, `id="outcome"`, "Finished", "Rekey Deadbolt: done, every step confirmed.", `href="/locks/1">Back to Deadbolt</a>`,
		`id="history" open`, "Try 2 from inside: the new key locks and unlocks the door", "the new key&#39;s cuts: made by Latchkey",
		`Deadbolt takes the new key now: <a href="/keys/2">New key for Deadbolt (run 1)</a>. The old key, <a href="/keys/1">House key</a>, is retired: its copies are listed to be returned.`)
	if strings.Contains(p.body, `action="/procedures/1/`) || strings.Contains(p.body, "runner.") {
		t.Error("a finished run still has a form or the runner's script")
	}
	if l, _ := svc.FindLockByID(ctx, 1); l.KeyID == old.ID {
		t.Fatal("the finished rekey did not record the new key")
	}
	p = keep(uiGet(t, owner, "/procedures"))
	mustContain(t, "the procedures page", p.body, `id="none-active"`, `id="ended"`, `href="/procedures/1">Rekey Deadbolt</a> <span class="badge ok">done</span>`)

	// A code on its way to the lock can be put on at the keypad, step by step.
	p = keep(uiGet(t, owner, "/locks/1"))
	mustContain(t, "a lock whose codes are all on", p.body, `value="code" required disabled`, "No code is waiting to go on this lock or come off it.")
	guest, guestPIN, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: 1, Label: "Guest"}, LockIDs: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	p = keep(uiGet(t, owner, "/locks/1"))
	mustContain(t, "a lock with a code to put on", p.body, `<option value="2:add">Put on Guest (Ana)</option>`)
	p = keep(uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"code"}, "code": {"2:add"}}, "/procedures/2"))
	mustContain(t, "the code procedure", p.body, "Add &#34;Guest&#34; on Deadbolt", "Step 1 of")
	if p := uiDo(t, owner, "POST", "/locks/1/procedures", url.Values{"kind": {"code"}, "code": {"2:sideways"}}); p.status != http.StatusBadRequest {
		t.Fatalf("a code procedure neither on nor off: %d", p.status)
	}
	if guest.ID != 2 {
		t.Fatalf("the guest's code is %d", guest.ID)
	}
	for _, secret := range []string{pin, guestPIN} {
		for _, body := range seen {
			if strings.Contains(body, secret) {
				t.Fatalf("a page shows the PIN %s:\n%s", secret, body)
			}
		}
	}
}

// When a step fails as often as it may, the run stops for help and its page becomes the
// hand-over: why, what was tried, how the lock was left, whom to call (numbers to tap).
// A step Latchkey does through the hub waits by itself, says why it has not worked yet,
// and may be skipped only where the hub takes the lock off; "Call for help" stops a run
// at any step, and "Stop here" once the person confirmed the step's way out. A report on
// a run that ended says how it ended; a run with virtual hands is watched.
func TestUIProcedureWaysOut(t *testing.T) {
	ui, svc := openRunnerServer(t)
	owner := setup(t, ui.URL())
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	smartKeyLock(t, svc)
	uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"rekey"}}, "/procedures/1")
	uiPostOK(t, owner, "/procedures/1/step", step("ready", "attest", "working_key", "attest", "smartkey_tool", "attest", "new_key", "attest", "door_open"), "/procedures/1")
	uiPostOK(t, owner, "/procedures/1/step", step("new-key", "ev_bitting", "24353"), "/procedures/1")
	uiPostOK(t, owner, "/procedures/1/step", step("rekey-1", "attest", "door_open"), "/procedures/1")
	uiPostOK(t, owner, "/procedures/1/step", step("rekey-2"), "/procedures/1")
	p := uiDo(t, owner, "POST", "/procedures/1/step", url.Values{"step": {"rekey-3"}, "outcome": {"failed"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Say in a few words what happened") {
		t.Fatalf("a failure without a word: %d", p.status)
	}
	p = uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"rekey-3"}, "outcome": {"failed"}, "note": {"the plug will not turn back"}}, "/procedures/1")
	mustContain(t, "the escalated run", p.body, `id="escalation"`, "Call a locksmith", "Stopped at step 5 of 9 for a locksmith.",
		"Step 5 (SmartKey tool in, and out (Deadbolt)) failed: the plug will not turn back", "What was tried", "Get ready: done",
		"How the lock was left", `the records still name key &#34;House key&#34; (active) as its key`,
		`href="tel:18003275625">Call 1-800-327-5625</a>`, "A locksmith: for a scrambled or forced cylinder")
	if l, _ := svc.FindLockByID(ctx, 1); l.Status != latchkey.LockNeedsLocksmith {
		t.Fatalf("the lock after the escalation: %s", l.Status)
	}
	p = uiGet(t, owner, "/locks/1")
	mustContain(t, "the lock waiting for a locksmith", p.body, "It is waiting for a locksmith", `value="rekey" required disabled`)
	// The phone, still on that step, reports it done: the run has ended.
	p = uiPostOK(t, owner, "/procedures/1/step", step("rekey-3"), "/procedures/1?already=rekey-3")
	mustContain(t, "a report on an ended run", p.body, `id="already"`, "“SmartKey tool in, and out (Deadbolt)” was reported not working by ana",
		"The run has ended", `id="escalation"`)

	// A reset of a lock on a hub: the hub's step waits by itself and may be skipped only
	// because the hub is unreachable.
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"reset"}}, "/procedures/2")
	p = uiPostOK(t, owner, "/procedures/2/step", step("ready", "attest", "door_open", "attest", "working_key"), "/procedures/2")
	mustContain(t, "an automatic step", p.body, `id="auto"`, "Latchkey is doing this through the hub.", `<noscript><meta http-equiv="refresh" content="3"></noscript>`,
		`id="skip"`, "Skip (hub unreachable)", `action="/procedures/2/abort"`, "Take it off the hub")
	if strings.Contains(p.body, `id="step-form"`) {
		t.Error("an automatic step offers to report it done")
	}
	if p := uiDo(t, owner, "POST", "/procedures/2/step", step("exclude")); p.status != http.StatusBadRequest || !strings.Contains(p.body, "done by Latchkey itself") {
		t.Fatalf("a person reporting an automatic step done: %d", p.status)
	}
	// The engine's failed try at the hub says why the step waits.
	if _, err := svc.AdvanceRun(asEngine(), 2, latchkey.Advance{Step: "exclude", Failed: true, Note: "The hub does not answer."}); err != nil {
		t.Fatal(err)
	}
	p = uiGet(t, owner, "/procedures/2")
	mustContain(t, "an automatic step that failed once", p.body, `id="failures"`, "Not done yet</strong> (1 try): The hub does not answer. Latchkey tries again by itself.", "Step 2 of 11")
	p = uiPostOK(t, owner, "/procedures/2/step", url.Values{"step": {"exclude"}, "outcome": {"skip"}}, "/procedures/2")
	mustContain(t, "the reset's first step", p.body, "Step 3 of 11", "step 1")
	if strings.Contains(p.body, `id="skip"`) {
		t.Error("a person's step offers to skip")
	}
	uiPostOK(t, owner, "/procedures/2/step", step("reset-1"), "/procedures/2")
	p = uiPostOK(t, owner, "/procedures/2/step", step("reset-2"), "/procedures/2")
	mustContain(t, "a step that waits", p.body, `data-seconds="30"`, "Wait 30 seconds.")
	// A stop sent from a page of an earlier step shows the current step's way out first.
	uiPostOK(t, owner, "/procedures/2/abort", url.Values{"step": {"reset-2"}, "confirm": {"1"}}, "/procedures/2?already=reset-2")
	p = uiPostOK(t, owner, "/procedures/2/escalate", url.Values{"step": {"reset-3"}, "to": {"support"}, "why": {"the LED never flashes red"}}, "/procedures/2")
	mustContain(t, "the run stopped for support", p.body, "Call Kwikset support", "the LED never flashes red", "Take it off the hub: failed (The hub does not answer.)", "Take it off the hub: skipped")
	p = uiDo(t, owner, "POST", "/procedures/2/escalate", url.Values{"step": {"reset-3"}, "to": {"the neighbour"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("calling for help on an ended run: %d", p.status)
	}

	// "Stop here", once confirmed; with the virtual hands, the page watches them.
	p = uiDo(t, owner, "POST", "/locks/1/procedures", url.Values{"kind": {"battery"}, "mistake": {"key_not_full"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "made by the virtual hands") {
		t.Fatalf("a mistake without the hands: %d", p.status)
	}
	p = uiDo(t, owner, "POST", "/locks/1/procedures", url.Values{"kind": {"battery"}, "hands": {"sim"}, "mistake": {"sneeze"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Choose the mistake from the list") {
		t.Fatalf("an unknown mistake: %d", p.status)
	}
	p = uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"battery"}, "hands": {"sim"}, "mistake": {"key_not_full"}}, "/procedures/3")
	if run, _ := svc.FindRunByID(ctx, 3); run.Params.Hands != "sim" || run.Params.Mistake != "key_not_full" {
		t.Fatalf("the run with the hands: %+v", run.Params)
	}
	mustContain(t, "a step the virtual hands do", p.body, `id="hands"`, "The virtual hands are doing this at the twin.", `<noscript><meta http-equiv="refresh" content="3"></noscript>`, `id="stop"`, `id="help"`)
	if strings.Contains(p.body, `id="step-form"`) {
		t.Error("a step the virtual hands do offers to report it")
	}
	p = uiDo(t, owner, "POST", "/procedures/3/abort", url.Values{"step": {"ready"}, "why": {"no batteries"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Tick the box") {
		t.Fatalf("stopping without confirming: %d", p.status)
	}
	p = uiPostOK(t, owner, "/procedures/3/abort", url.Values{"step": {"ready"}, "why": {"no batteries"}, "confirm": {"1"}}, "/procedures/3")
	mustContain(t, "the stopped run", p.body, "Stopped before the end", "Aborted at step 1 of 3 (Get ready). Nothing changed.")
}

// An unidentified lock offers only to identify it: what the person sees is asked as
// taps from the catalog's questions, each one optional, and the models that fit are the
// choices of the next step; the one chosen is recorded. The dashboard offers the
// procedure that answers what a lock needs, and a lost key's page the lost-key procedure.
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
	mustContain(t, "the dashboard during the run", p.body, `id="runs"`, `href="/procedures/1">Go on with: Identify Side door</a>`)
	p = uiPostOK(t, owner, "/procedures/1/step", step("look", "ev_keypad", "touchscreen", "ev_smartkey_hole", ""), "/procedures/1")
	if run, _ := svc.FindRunByID(ctx, 1); len(run.Records) != 1 || len(run.Records[0].Evidence) != 1 || run.Records[0].Evidence["keypad"] != "touchscreen" {
		t.Fatalf("the answers recorded: %+v (only those given)", run.Records)
	}
	mustContain(t, "the models that fit", p.body, "Which model is it?", `name="ev_model" value="916" required>`, "keypad touchscreen: matches")
	p = uiPostOK(t, owner, "/procedures/1/step", step("choose", "ev_model", "916"), "/procedures/1")
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
	p = uiPostOK(t, owner, "/keys/1/procedures", url.Values{}, "/procedures/2")
	mustContain(t, "the lost-key procedure", p.body, "Record the key lost", "Step 1 of 10", `href="/locks/2">Side door</a>`)
	// A key no SmartKey lock takes has no lock to rekey: refused on its page, saying why.
	spare := &latchkey.Key{SiteID: 1, Label: "Shed key", Keyway: "KW1", Bitting: "46353", Copies: []latchkey.KeyCopy{{HolderID: 1}}}
	if err := svc.CreateKey(ctx, spare); err != nil {
		t.Fatal(err)
	}
	p = uiDo(t, owner, "POST", "/keys/2/procedures", url.Values{})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "No lock with a SmartKey cylinder takes key 2") || !strings.Contains(p.body, "Shed key") {
		t.Fatalf("a lost-key procedure with no lock to rekey: %d\n%s", p.status, p.body)
	}
	// One run at a time: a second start is refused on the key's page, saying why.
	p = uiDo(t, owner, "POST", "/keys/1/procedures", url.Values{})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "in the middle of another procedure") || !strings.Contains(p.body, "Side key") {
		t.Fatalf("a second lost-key procedure: %d\n%s", p.status, p.body)
	}
}

// Without an engine the runs can be read, and nothing offers to start or move one.
func TestUIProcedureNoEngine(t *testing.T) {
	ui, _ := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	p := uiGet(t, owner, "/procedures")
	mustContain(t, "the procedures page", p.body, "No procedure engine runs on this server")
	p = uiGet(t, owner, "/locks/1")
	if strings.Contains(p.body, `action="/locks/1/procedures"`) || strings.Contains(p.body, `name="hands"`) {
		t.Error("a server without an engine offers to start a procedure, or virtual hands")
	}
	p = uiDo(t, owner, "POST", "/locks/1/procedures", url.Values{"kind": {"battery"}})
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "No procedure engine runs on this server") {
		t.Fatalf("starting a procedure without an engine: %d", p.status)
	}
}

// A page made for a step the run has not reached (it went back, to do a sequence again,
// since the page was made) has its report refused, saying so, not dropped without a
// word; the "rekey as well" box goes with a turnover only.
func TestUIProcedureReportAheadOfRun(t *testing.T) {
	ui, svc := openRunnerServer(t)
	owner := setup(t, ui.URL())
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	p := uiDo(t, owner, "POST", "/locks/1/procedures", url.Values{"kind": {"battery"}, "rekey": {"1"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "goes with a rental turnover") {
		t.Fatalf("a battery swap with the turnover's rekey box ticked: %d", p.status)
	}
	uiPostOK(t, owner, "/locks/1/procedures", url.Values{"kind": {"reset"}}, "/procedures/1")
	for {
		run, err := svc.FindRunByID(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := run.Step()
		if !ok {
			t.Fatal("the reset ended before its check")
		}
		if st.ID == "reset-check" {
			break
		}
		if _, err := svc.AdvanceRun(ctx, 1, latchkey.Advance{Step: st.ID, Attest: st.Attest}); err != nil {
			t.Fatal(err)
		}
	}
	// The laptop says the reset did not take: the run goes back to the sequence's start.
	uiPostOK(t, owner, "/procedures/1/step", url.Values{"step": {"reset-check"}, "outcome": {"failed"}, "note": {"the old code still works"}}, "/procedures/1")
	before, _ := svc.FindRunByID(ctx, 1)
	// The phone, still on the check, says it took.
	p = uiDo(t, owner, "POST", "/procedures/1/step", step("reset-check", "attest", "code_fails"))
	if p.status != http.StatusConflict {
		t.Fatalf("a report on a step ahead of the run: %d", p.status)
	}
	mustContain(t, "a report ahead of the run", p.body, `role="alert"`, "Your report was not recorded: the run went back to this step", before.Steps[before.Current].Title)
	if after, _ := svc.FindRunByID(ctx, 1); after.Current != before.Current || len(after.Records) != len(before.Records) {
		t.Fatalf("a report ahead of the run moved it: step %d, %d records", after.Current, len(after.Records))
	}
}
