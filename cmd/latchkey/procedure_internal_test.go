package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// FuzzParseEvidence covers the reader of --evidence NAME=VALUE, which reads what a person
// types: it never panics, refuses as bad usage, and keeps each name once, unchanged.
func FuzzParseEvidence(f *testing.F) {
	for _, s := range []string{"bitting=35242", "generate=yes", "=x", "battery_mv", "a=1=2", " model = 916"} {
		f.Add(s, "model=916")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ev, err := parseEvidence([]string{a, b})
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q, %q: %v is not a usage error", a, b, err)
			}
			return
		}
		for k, v := range ev {
			if k == "" || k != strings.TrimSpace(k) || (!strings.HasSuffix(a, "="+v) && !strings.HasSuffix(b, "="+v) && v != "") {
				t.Fatalf("%q, %q gave %q=%q", a, b, k, v)
			}
		}
	})
}

// The flags of a run are checked against its kind before anything is asked of a server.
func TestStartFlags(t *testing.T) {
	for _, c := range []struct {
		kind latchkey.ProcedureKind
		sf   startFlags
		says string // "" when accepted
	}{
		{"rekey", startFlags{locks: []int64{1, 2}}, ""},
		{"lost_key", startFlags{key: 3}, ""},
		{"lost_key", startFlags{locks: []int64{1}, key: 3}, "leave out --lock"},
		{"code", startFlags{locks: []int64{1}, code: 2, op: "remove"}, ""},
		{"turnover", startFlags{locks: []int64{1}, rekey: true, hands: "sim", mistake: "key_not_in"}, ""},
		{"dance", startFlags{locks: []int64{1}}, "use one of: identify, rekey, code, reset, battery, lost_key, turnover"},
		{"rekey", startFlags{}, "name the lock with --lock"},
		{"rekey", startFlags{locks: []int64{0}}, "not a lock id"},
		{"lost_key", startFlags{locks: []int64{1}}, "needs the lost key"},
		{"rekey", startFlags{locks: []int64{1}, key: 3}, "--key is for a lost_key run only"},
		{"code", startFlags{locks: []int64{1}, code: 2, op: "change"}, "--op add|remove"},
		{"reset", startFlags{locks: []int64{1}, op: "add"}, "for a code run only"},
		{"reset", startFlags{locks: []int64{1}, rekey: true}, "for a turnover run only"},
		{"rekey", startFlags{locks: []int64{1}, hands: "robot"}, "--hands is sim"},
		{"rekey", startFlags{locks: []int64{1}, mistake: "key_not_in"}, "give --hands sim too"},
	} {
		req, err := c.sf.request(c.kind)
		if c.says == "" {
			if err != nil || req.Kind != c.kind || len(req.LockIDs) != len(c.sf.locks) || req.Mistake != c.sf.mistake {
				t.Errorf("%s %+v: %v %+v", c.kind, c.sf, err, req)
			}
			continue
		}
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s %+v: %v; want bad usage saying %q", c.kind, c.sf, err, c.says)
		}
	}
}

// A step says what a failure does as the run will do it: tried again while tries are
// left, the run stopped for help at the last; a run whose steps the virtual hands do
// does not tell the person to report them.
func TestWriteStepFailureAndHands(t *testing.T) {
	r := &latchkey.Run{ID: 9, Status: latchkey.RunActive, Steps: []latchkey.Step{
		{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready", Attest: []string{latchkey.AttestDoorOpen}, EscalateTo: latchkey.EscalateLocksmith, Abort: "Nothing changed."},
		{ID: "learn", Kind: latchkey.StepManual, Title: "Learn", Tries: 1, EscalateTo: latchkey.EscalateLocksmith, Abort: "Keys out."},
		{ID: "exclude", Kind: latchkey.StepAuto, Auto: latchkey.AutoExclude, Title: "Off the hub", EscalateTo: latchkey.EscalateSupport, Abort: "Skip it."},
	}}
	for _, c := range []struct {
		current, failures int
		says              string
	}{
		{0, 0, "report it failed and do it again; after 3 failed tries the run stops for a locksmith"},
		{0, 2, "stop and call a locksmith; do not force it (reporting it failed stops the run for one)"},
		{1, 0, "stop and call a locksmith; do not force it"},
		{2, 4, "Latchkey tries again by itself"},
	} {
		// The tries are counted over the run's records at the step (every pass through it),
		// not by Run.Failures, which starts again at each step.
		r.Current, r.Records = c.current, nil
		for range c.failures {
			r.Records = append(r.Records, latchkey.StepRecord{Step: r.Steps[c.current].ID, Outcome: latchkey.StepFailed})
		}
		var b strings.Builder
		writeStep(&b, r, &r.Steps[c.current])
		if !strings.Contains(b.String(), c.says) {
			t.Errorf("step %d after %d failures:\n%s\nwant %q", c.current+1, c.failures, b.String(), c.says)
		}
	}
	r.Current = 0
	if hint := stepHint(r, &r.Steps[0]); !strings.Contains(hint, "--attest door_open") {
		t.Errorf("a person's step: %q", hint)
	}
	r.Params.Hands = "sim"
	if hint := stepHint(r, &r.Steps[0]); strings.Contains(hint, "--attest") || !strings.Contains(hint, "The virtual hands (sim) do this step") {
		t.Errorf("a step the virtual hands do: %q", hint)
	}
}
