package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	main "github.com/latchkey/latchkey/cmd/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/procedure"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// procedureHome records a 916 with a SmartKey cylinder keyed to the house key, held by
// Ana, in a fresh data directory, and returns the arguments that name it.
func procedureHome(t *testing.T) []string {
	t.Helper()
	local := []string{"--data", t.TempDir()}
	for _, s := range [][]string{{"site", "add", "Home"}, {"door", "add", "--site", "1", "Front"},
		{"lock", "add", "--door", "1", "Deadbolt", "--model", "916", "--smartkey"},
		{"person", "add", "Ana", "--role", "owner"},
		{"key", "add", "--site", "1", "--bitting", "35242", "--holder", "1", "House key"}, {"lock", "set", "1", "--key", "1"}} {
		if r := runCLI(t, "", append(s, local...)...); r.status != 0 {
			t.Fatalf("%v: %d %s", s, r.status, r.stderr)
		}
	}
	return local
}

// showRun reads a run with procedure show --json.
func showRun(t *testing.T, local []string, id int64) latchkey.Run {
	t.Helper()
	var r latchkey.Run
	decode(t, runCLI(t, "", append([]string{"procedure", "show", fmt.Sprint(id), "--json"}, local...)...), &r)
	return r
}

// lockOf reads lock 1 with lock show --json.
func lockOf(t *testing.T, local []string) *latchkey.Lock {
	t.Helper()
	return lockOfID(t, local, 1)
}

// lockOfID reads a lock with lock show --json.
func lockOfID(t *testing.T, local []string, id int64) *latchkey.Lock {
	t.Helper()
	var rec latchkey.LockRecord
	decode(t, runCLI(t, "", append([]string{"lock", "show", fmt.Sprint(id), "--json"}, local...)...), &rec)
	if rec.Lock == nil {
		t.Fatal("lock show --json shows no lock")
	}
	return rec.Lock
}

// The scriptable commands drive a rekey from start to end on local records, with the
// real engine's plan for the 916: the flags are checked before anything runs, a step is
// done only with what it asks for, a generated bitting is printed once with its warning,
// and the run is listed by its status.
func TestProcedureCommands(t *testing.T) {
	local := procedureHome(t)
	cli := func(stdin string, args ...string) result { return runCLI(t, stdin, append(args, local...)...) }
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"procedure", "start", "dance", "--lock", "1"}, "use one of: identify, rekey, code, reset, battery, lost_key, turnover"},
		{[]string{"procedure", "start", "rekey"}, "name the lock with --lock ID"},
		{[]string{"procedure", "start", "lost_key", "--key", "1", "--lock", "1"}, "finds every lock the key opens by itself"},
		{[]string{"procedure", "start", "lost_key", "--lock", "1"}, "needs the lost key: --key ID"},
		{[]string{"procedure", "start", "rekey", "--lock", "1", "--mistake", "wrong_way"}, "give --hands sim too"},
		{[]string{"procedure", "ls", "--status", "finished"}, "--status is active, done, aborted or escalated"},
		{[]string{"procedure", "ls", "--lock", "-3"}, "--lock -3 is not a lock id"},
		{[]string{"procedure", "ls", "--lock", "0"}, "--lock 0 is not a lock id"},
		{[]string{"procedure", "step", "1", "--evidence", "bitting"}, "not NAME=VALUE"},
		{[]string{"procedure", "escalate", "1", "--to", "plumber", "--why", "x"}, "--to is locksmith or support"},
		{[]string{"rekey", "--lock", "1", "--json"}, "asks questions as it goes"},
	} {
		r := cli("", c.args...)
		if r.status != 2 || !strings.Contains(r.stderr+r.stdout, c.says) {
			t.Errorf("%v: exit %d %q; want bad usage saying %q", c.args, r.status, r.stderr+r.stdout, c.says)
		}
	}
	// The engine's own refusals: virtual hands run on a server with twins only.
	if r := cli("", "procedure", "start", "rekey", "--lock", "1", "--hands", "sim"); r.status != 1 || !strings.Contains(r.stderr, `No virtual hands "sim"`) {
		t.Errorf("virtual hands on local records: %d %q", r.status, r.stderr)
	}

	r := cli("", "procedure", "start", "rekey", "--lock", "1", "--json")
	var run latchkey.Run
	decode(t, r, &run)
	if run.ID != 1 || run.Status != latchkey.RunActive || len(run.Steps) < 8 || run.Steps[0].ID != "ready" {
		t.Fatalf("a started rekey: %+v", run)
	}
	human := cli("", "procedure", "show", "1")
	for _, want := range []string{"Run 1: ", "active, step 1 of ", "Locks: Deadbolt (lock 1)", "Step 1 of ", "Get ready", "Confirm:",
		"The door is open, and stays open (door_open)", "Way out:", "latchkey procedure step 1 --attest working_key --attest smartkey_tool --attest new_key --attest door_open"} {
		if !strings.Contains(human.stdout, want) {
			t.Errorf("procedure show lacks %q:\n%s", want, human.stdout)
		}
	}
	if r := cli("", "procedure", "step", "1", "--attest", "working_key"); r.status != 1 || !strings.Contains(r.stderr, "missing: smartkey_tool, new_key, door_open") {
		t.Fatalf("a step without what it asks for: %d %q", r.status, r.stderr)
	}
	if r := cli("", "procedure", "step", "1", "--step", "rekey-3"); r.status != 1 || !strings.Contains(r.stderr, "not at \"rekey-3\"") {
		t.Fatalf("a report on a later step: %d %q", r.status, r.stderr)
	}
	args := []string{"procedure", "step", "1"}
	for _, a := range run.Steps[0].Attest {
		args = append(args, "--attest", a)
	}
	if r := cli("", append(args, "--json")...); r.status != 0 {
		t.Fatalf("ready: %d %s", r.status, r.stderr)
	}
	// The new key's cuts, generated: printed in this answer only, with the warning.
	gen := cli("", "procedure", "step", "1", "--evidence", "generate=yes")
	cuts := regexp.MustCompile(`The new key's cuts: ([1-7]{5})\n`).FindStringSubmatch(gen.stdout)
	if gen.status != 0 || cuts == nil || !strings.Contains(gen.stdout, "Shown once") {
		t.Fatalf("a generated bitting: %d %q %q", gen.status, gen.stdout, gen.stderr)
	}
	for _, again := range []result{cli("", "procedure", "show", "1", "--json"), cli("", "procedure", "show", "1"), cli("", "procedure", "ls", "--json")} {
		if strings.Contains(again.stdout, cuts[1]) {
			t.Fatalf("the cuts are shown again:\n%s", again.stdout)
		}
	}
	// The rest, step by step, each with what it asks for.
	for i := 0; i < 20; i++ {
		run = showRun(t, local, 1)
		st, ok := run.Step()
		if !ok {
			break
		}
		args := []string{"procedure", "step", "1", "--json"}
		for _, a := range st.Attest {
			args = append(args, "--attest", a)
		}
		if r := cli("", args...); r.status != 0 {
			t.Fatalf("step %s: %d %s", st.ID, r.status, r.stdout)
		}
	}
	if run.Status != latchkey.RunDone {
		t.Fatalf("the run after its steps: %s at %d", run.Status, run.Current)
	}
	lock := lockOf(t, local)
	if lock.KeyID != run.Params.NewKeyID || lock.KeyID == 1 {
		t.Fatalf("the lock takes key %d after the rekey to key %d", lock.KeyID, run.Params.NewKeyID)
	}
	var list struct {
		Items []latchkey.Run
		Total int
	}
	decode(t, cli("", "procedure", "ls", "--lock", "1", "--status", "done", "--json"), &list)
	if list.Total != 1 || list.Items[0].ID != 1 {
		t.Fatalf("done runs of lock 1: %+v", list)
	}
	if ls := cli("", "procedure", "ls"); !strings.Contains(ls.stdout, "rekey") || !strings.Contains(ls.stdout, "done") || !strings.Contains(ls.stdout, "Deadbolt (lock 1)") {
		t.Errorf("procedure ls:\n%s", ls.stdout)
	}
	if r := cli("", "procedure", "step", "1"); r.status != 1 || !strings.Contains(r.stderr, "Run 1 is done") {
		t.Errorf("a step on a finished run: %d %q", r.status, r.stderr)
	}
}

// answers for the rekey's plan on the 916: the four things at hand, the new key's cuts
// (g: generated), the door open, four steps done as described, the eight tests, the
// record.
const rekeyAnswers = "y\ny\ny\ny\ng\ny\ny\ny\ny\ny\n" + "y\ny\ny\ny\ny\ny\ny\ny\n" + "y\n"

// The interactive rekey, driven through a pipe of answers: every step shown with its
// progress, a "no" asked again, the cuts shown once with the warning; then a run left
// for later and resumed, one aborted with its way out, and one that fails at a learn step
// and stops for a locksmith with the report to hand over.
func TestInteractiveRekey(t *testing.T) {
	local := procedureHome(t)
	cli := func(stdin string, args ...string) result { return runCLI(t, stdin, append(args, local...)...) }
	// A "no" and a stray answer at the first question are asked again.
	r := cli("n\nmaybe\n"+rekeyAnswers, "rekey", "--lock", "1")
	if r.status != 0 {
		t.Fatalf("rekey: exit %d\n%s\n%s", r.status, r.stdout, r.stderr)
	}
	run := showRun(t, local, 1)
	n := len(run.Steps)
	for _, want := range []string{"Run 1: ", fmt.Sprintf("Step 1 of %d: Get ready", n), fmt.Sprintf("Step %d of %d: Record the new key", n, n),
		"The key that opens the lock today is at hand? [y yes, n not yet, f failed, a abort, q leave for later]",
		"Then do it first and answer y.", "Answer y, n, f, a or q.", "Try 3 from inside: the new key locks and unlocks the door?",
		"Done as described?", "Shown once", "Run 1 done", "every step confirmed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the walk lacks %q", want)
		}
	}
	cuts := regexp.MustCompile(`The new key's cuts: ([1-7]{5})\n`).FindAllStringSubmatch(r.stdout, -1)
	if len(cuts) != 1 || run.Status != latchkey.RunDone {
		t.Fatalf("cuts shown %d times; run %s:\n%s", len(cuts), run.Status, r.stdout)
	}
	if strings.Contains(r.stderr, cuts[0][1]) {
		t.Fatal("the cuts went to stderr")
	}

	// Left for later (q), then resumed where it stood and aborted there (a).
	r = cli("y\ny\nq\n", "rekey", "--lock", "1")
	if r.status != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Run 2 stays at step 1 of %d", n)) || !strings.Contains(r.stdout, "latchkey procedure resume 2") {
		t.Fatalf("leaving a run: %d\n%s", r.status, r.stdout)
	}
	if got := showRun(t, local, 2); got.Status != latchkey.RunActive || len(got.Records) != 0 {
		t.Fatalf("a run left at its first question: %s, %d records", got.Status, len(got.Records))
	}
	r = cli("a\nthe new key is not cut yet\n", "procedure", "resume", "2")
	if r.status != 0 || !strings.Contains(r.stdout, "Way out from here: Nothing changed yet.") || !strings.Contains(r.stdout, "Run 2 aborted") {
		t.Fatalf("aborting a resumed run: %d\n%s\n%s", r.status, r.stdout, r.stderr)
	}
	if got := showRun(t, local, 2); got.Status != latchkey.RunAborted || got.Records[0].Note != "the new key is not cut yet" {
		t.Fatalf("the aborted run: %+v", got)
	}

	// A learn step that fails stops the run for a locksmith: no second try on a cylinder.
	r = cli("y\ny\ny\ny\n46353\ny\ny\nf\nthe tool would not go in\n", "rekey", "--lock", "1")
	if r.status != 1 {
		t.Fatalf("a failed learn step: exit %d\n%s", r.status, r.stdout)
	}
	for _, want := range []string{"Run 3 escalated", "For a locksmith:", "Why: Step 5", "the tool would not go in", "What was tried:", "State left:", "Contacts:", "hand over the report"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the escalation lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	lock := lockOf(t, local)
	if lock.Status != latchkey.LockNeedsLocksmith || lock.KeyID != showRun(t, local, 1).Params.NewKeyID {
		t.Fatalf("after the escalation the lock is %s with key %d", lock.Status, lock.KeyID)
	}
	if r := cli("", "rekey", "--lock", "1"); r.status != 3 || !strings.Contains(r.stderr, "waiting for a locksmith") {
		t.Fatalf("a rekey of a lock waiting for a locksmith: %d %q", r.status, r.stderr)
	}
}

// Against a server, the commands go through the API with the token's role: a viewer
// lists and shows runs and is refused the rest; an installer runs a battery swap.
func TestProcedureCommandsAgainstServer(t *testing.T) {
	dir := procedureHome(t)[1]
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := vault.Open(filepath.Join(dir, "vault.key"))
	svc := &latchkey.Service{Store: db, Vault: v, Models: main.Rules(), Clock: latchkey.SystemClock{}}
	srv := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Procedures: procedure.New(svc, catalog.Default())}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	token := func(name, role string) []string {
		if r := runCLI(t, "a long enough password\n", "user", "add", name, "--role", role, "--data", dir); r.status != 0 {
			t.Fatal(r.stderr)
		}
		var tok struct{ Token string }
		decode(t, runCLI(t, "", "token", "create", "cli", "--user", name, "--json", "--data", dir), &tok)
		return []string{"--server", srv.URL(), "--token", tok.Token}
	}
	token("ana", "owner")
	installer, viewer := token("ian", "installer"), token("val", "viewer")
	as := func(who []string, args ...string) result { return runCLI(t, "", append(args, who...)...) }

	if r := as(viewer, "procedure", "start", "battery", "--lock", "1"); r.status != 1 || !strings.Contains(r.stderr, "A viewer may not change records; ask an owner, a manager or an installer.") {
		t.Fatalf("a viewer starting a run: %d %q", r.status, r.stderr)
	}
	var run latchkey.Run
	decode(t, as(installer, "procedure", "start", "battery", "--lock", "1", "--json"), &run)
	if run.Kind != latchkey.ProcedureBattery || run.StartedBy != "ian" {
		t.Fatalf("a battery run through the server: %+v", run)
	}
	for i := 0; run.Status == latchkey.RunActive && i < 10; i++ {
		st, _ := run.Step()
		args := []string{"procedure", "step", fmt.Sprint(run.ID), "--json"}
		for _, a := range st.Attest {
			args = append(args, "--attest", a)
		}
		r := as(installer, args...)
		if r.status != 0 {
			t.Fatalf("step %s: %d %s", st.ID, r.status, r.stdout)
		}
		run = latchkey.Run{}
		if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
			t.Fatal(err)
		}
	}
	if run.Status != latchkey.RunDone {
		t.Fatalf("the battery run: %s", run.Status)
	}
	if r := as(viewer, "procedure", "show", fmt.Sprint(run.ID)); r.status != 0 || !strings.Contains(r.stdout, "done") || !strings.Contains(r.stdout, "(ian)") {
		t.Fatalf("a viewer showing the run: %d\n%s", r.status, r.stdout)
	}
	if r := as(viewer, "procedure", "abort", fmt.Sprint(run.ID)); r.status != 1 || !strings.Contains(r.stderr, "A viewer may not change records") {
		t.Fatalf("a viewer aborting: %d %q", r.status, r.stderr)
	}
	if r := as(installer, "procedure", "escalate", fmt.Sprint(run.ID), "--to", "support", "--why", "x"); r.status != 1 || !strings.Contains(r.stderr, "already done") {
		t.Fatalf("escalating a finished run: %d %q", r.status, r.stderr)
	}
}

// An identify run walked on the terminal: what the lock looks like (an answer not among
// the choices asked again, one left out), then which of the models that fit it is; the
// lock's model is recorded.
func TestInteractiveIdentify(t *testing.T) {
	local := procedureHome(t)
	cli := func(stdin string, args ...string) result { return runCLI(t, stdin, append(args, local...)...) }
	if r := cli("", "lock", "add", "--door", "1", "Mystery"); r.status != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli("", "rekey", "--lock", "2"); r.status != 3 || !strings.Contains(r.stderr, "an identify procedure on lock 2") {
		t.Fatalf("a rekey of an unidentified lock: %d %q", r.status, r.stderr)
	}
	var run latchkey.Run
	decode(t, cli("", "procedure", "start", "identify", "--lock", "2", "--json"), &run)
	r := cli("touch\ntouchscreen\nzwave\n\ndeadbolt\n7000\n1\n", "procedure", "resume", fmt.Sprint(run.ID))
	if r.status != 0 {
		t.Fatalf("identify: exit %d\n%s\n%s", r.status, r.stdout, r.stderr)
	}
	run = showRun(t, local, run.ID)
	if run.Status != latchkey.RunDone || len(run.Steps[1].Choices) == 0 {
		t.Fatalf("the identify run: %s, choices %+v\n%s", run.Status, run.Steps[1].Choices, r.stdout)
	}
	for _, want := range []string{"Keypad? (5-button", "Answer one of: none, 5-button", "Which one is it? 1 to ", "answer with a number from 1 to", "1. " + run.Steps[1].Choices[0].Label} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the walk lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := lockOfID(t, local, 2); got.ModelID != run.Steps[1].Choices[0].Value {
		t.Fatalf("the lock's model after identify: %q, chose %q", got.ModelID, run.Steps[1].Choices[0].Value)
	}
}
