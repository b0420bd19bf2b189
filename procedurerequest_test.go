package latchkey_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// A request is refused for what it is before any record is read: an id that cannot be
// one, a field the kind does not take (never dropped), a mistake without the hands; the
// refusal names the request's field, never a command-line flag, since an API caller has
// none. Requests the kinds take pass.
func TestProcedureRequestValidate(t *testing.T) {
	for _, c := range []struct {
		req  latchkey.ProcedureRequest
		says string
	}{
		{latchkey.ProcedureRequest{Kind: "dance", LockIDs: []int64{1}}, "Unknown procedure"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey}, "lock_ids"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey, LockIDs: []int64{1, -2}}, "lock_ids: -2 is not an id"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureBattery, LockIDs: []int64{1}, Rekey: true}, "rekey is for a turnover run only"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureReset, LockIDs: []int64{1}, CodeID: 2}, "code_id and code_op are for a code run only"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureIdentify, LockIDs: []int64{1}, CodeOp: "add"}, "code_id and code_op are for a code run only"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureTurnover, LockIDs: []int64{1}, KeyID: 2}, "key_id is for a lost_key run only"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureLostKey}, "key_id"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureLostKey, KeyID: -1}, "key_id: -1 is not an id"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureLostKey, KeyID: 1, LockIDs: []int64{1}}, "leave lock_ids out"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureCode, LockIDs: []int64{1}, CodeID: 1, CodeOp: "change"}, `not "change"`},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureCode, LockIDs: []int64{1}, CodeOp: "add"}, "code_id"},
		{latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey, LockIDs: []int64{1}, Mistake: "key_not_full"}, `hands "sim"`},
	} {
		err := c.req.Validate()
		if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), c.says) {
			t.Errorf("%+v: %v; want invalid saying %q", c.req, err, c.says)
		}
		if strings.Contains(latchkey.ErrorMessage(err), "--") {
			t.Errorf("%+v: the refusal names a flag: %v", c.req, err)
		}
	}
	for _, req := range []latchkey.ProcedureRequest{
		{Kind: latchkey.ProcedureRekey, LockIDs: []int64{1, 2}},
		{Kind: latchkey.ProcedureLostKey, KeyID: 3},
		{Kind: latchkey.ProcedureCode, LockIDs: []int64{1}, CodeID: 4, CodeOp: "remove"},
		{Kind: latchkey.ProcedureTurnover, LockIDs: []int64{1}, Rekey: true, Hands: "sim", Mistake: "key_not_full"},
	} {
		if err := req.Validate(); err != nil {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

// A step's tries: its own, else three for a step a person does, none for an automatic
// one; the failures counted over every pass through it, as a run sent back to redo a
// sequence passes through its steps again (Run.Failures starts again at each step).
func TestStepTriesAndFailures(t *testing.T) {
	for _, tt := range []struct {
		st   latchkey.Step
		want int
	}{
		{latchkey.Step{Kind: latchkey.StepManual}, 3},
		{latchkey.Step{Kind: latchkey.StepVerify, Tries: 5}, 5},
		{latchkey.Step{Kind: latchkey.StepAuto}, 0},
	} {
		if got := tt.st.MaxTries(); got != tt.want {
			t.Errorf("%s step with Tries %d: %d tries, want %d", tt.st.Kind, tt.st.Tries, got, tt.want)
		}
	}
	r := &latchkey.Run{Failures: 0, Records: []latchkey.StepRecord{
		{Step: "reset-1", Outcome: latchkey.StepFailed}, {Step: "reset-2", Outcome: latchkey.StepDone},
		{Step: "reset-1", Outcome: latchkey.StepDone}, {Step: "reset-1", Outcome: latchkey.StepFailed},
	}}
	if got := r.FailedAt("reset-1"); got != 2 {
		t.Errorf("failed tries at reset-1: %d, want 2 (over both passes)", got)
	}
	if (&latchkey.Step{}).Escalation() != latchkey.EscalateSupport || (&latchkey.Step{EscalateTo: latchkey.EscalateLocksmith}).Escalation() != latchkey.EscalateLocksmith {
		t.Error("a step's escalation: its own, else Kwikset support")
	}
}
