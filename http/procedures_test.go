package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// handPlans is a procedure service with a hand-made rekey plan of the engine's shape
// over the domain, so that these tests check the API and not the catalog's plans: the
// door open, the new key, the learn step, the tests, the rekey recorded.
type handPlans struct{ *latchkey.Service }

func (h handPlans) StartProcedure(ctx context.Context, req latchkey.ProcedureRequest) (*latchkey.Run, error) {
	if len(req.LockIDs) == 0 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Name a lock.")
	}
	l, err := h.FindLockByID(ctx, req.LockIDs[0])
	if err != nil {
		return nil, err
	}
	tests := []string{latchkey.AttestDoorOpen, latchkey.AttestOldKeyFails}
	for _, side := range []string{latchkey.AttestTestOutside, latchkey.AttestTestInside} {
		for i := 1; i <= latchkey.RekeyTests; i++ {
			tests = append(tests, side+"_"+strconv.Itoa(i))
		}
	}
	r := &latchkey.Run{Kind: req.Kind, Title: "Rekey " + l.Name, LockIDs: req.LockIDs, Params: latchkey.RunParams{OldKeyID: l.KeyID},
		Contacts: []string{"Kwikset support: 1-800-327-5625"}, Steps: []latchkey.Step{
			{ID: "ready", Kind: latchkey.StepManual, Title: "Get ready", Attest: []string{latchkey.AttestDoorOpen, latchkey.AttestWorkingKey}, Abort: "Nothing changed."},
			{ID: "new-key", Kind: latchkey.StepManual, Title: "The new key", Evidence: []string{"bitting"}, Action: latchkey.ActionNewKey, Abort: "Nothing changed on the lock."},
			{ID: "learn", Kind: latchkey.StepManual, Title: "Learn", Tries: 1, EscalateTo: latchkey.EscalateLocksmith, Abort: "Take the keys out with the plug at vertical."},
			{ID: "test", Kind: latchkey.StepVerify, Title: "Test", Attest: tests, Tries: 1, EscalateTo: latchkey.EscalateLocksmith, Abort: "Keep the door open."},
			{ID: "retire", Kind: latchkey.StepVerify, Title: "Retire the old key", Action: latchkey.ActionRecordRekey, Abort: "Keep the old key."},
		}}
	return r, h.StartRun(ctx, r)
}

func (h handPlans) AdvanceProcedure(ctx context.Context, id int64, a latchkey.Advance) (*latchkey.Run, error) {
	return h.AdvanceRun(ctx, id, a)
}

func (h handPlans) AbortProcedure(ctx context.Context, id int64, why string) (*latchkey.Run, error) {
	return h.AbortRun(ctx, id, why)
}

func (h handPlans) EscalateProcedure(ctx context.Context, id int64, to, why string) (*latchkey.Run, error) {
	return h.EscalateRun(ctx, id, to, why)
}

// A rekey run driven through the API from start to end, on both stores: viewers read and
// are refused the rest with a message naming who may; bodies and filters are strict; a
// generated bitting is in the answer of its step and nowhere else; a repeated report
// changes nothing and a report on another step is refused; the client implements the
// procedure service; abort and escalate end a run with its way out and its report.
func TestProcedureAPI(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, svc := MustOpenServer(t, kind)
			s.Procedures = handPlans{svc}
			owner := setup(t, s.URL())
			var key latchkey.Key
			owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "House key", "bitting": "35242"}, &key, 201)
			owner.must("PUT", "/api/v1/locks/1/key", lkhttp.KeyIDRequest{KeyID: key.ID}, nil, 200)
			owner.must("PATCH", "/api/v1/locks/1", map[string]any{"has_smartkey": true}, nil, 200)
			viewer := signIn(t, s, svc, "val", latchkey.UserViewer)
			installer := signIn(t, s, svc, "ian", latchkey.UserInstaller)

			start := map[string]any{"kind": "rekey", "lock_ids": []int64{1}}
			if got := newClient(t, s.URL()).do("GET", "/api/v1/procedures", nil, nil); got != 401 {
				t.Fatalf("anonymous list: %d", got)
			}
			var refused lkhttp.ErrorBody
			if got := viewer.do("POST", "/api/v1/procedures", start, &refused); got != 403 || refused.Error.Message != "A viewer may not change records; ask an owner, a manager or an installer." {
				t.Fatalf("a viewer starting a run: %d %q", got, refused.Error.Message)
			}
			for _, c := range []struct{ body, says string }{
				{`{"kind":"rekey","lock_ids":[1],"steps":[]}`, `Unknown field "steps"`},
				{`{"kind":"rekey","lock_ids":[1],"hands":"sim","hands":"sim"}`, "given twice"},
				{`{"kind":"dance","lock_ids":[1]}`, "use one of: identify, rekey, code, reset, battery, lost_key, turnover"},
				{`{"kind":"escalation","lock_ids":[1]}`, "Unknown procedure"},
				{`{"kind":"rekey","lock_ids":"1"}`, `"lock_ids" must be a list`},
				// What the kind does not take is refused, not dropped; a body's bad id is
				// refused as the path's is, and no message names a command-line flag.
				{`{"kind":"battery","lock_ids":[1],"rekey":true}`, "rekey is for a turnover run only"},
				{`{"kind":"battery","lock_ids":[1],"code_op":"remove"}`, "code_id and code_op are for a code run only"},
				{`{"kind":"rekey","lock_ids":[1],"key_id":3}`, "key_id is for a lost_key run only"},
				{`{"kind":"lost_key","key_id":1,"lock_ids":[1]}`, "leave lock_ids out"},
				{`{"kind":"lost_key"}`, "needs the lost key (key_id)"},
				{`{"kind":"code","lock_ids":[1],"code_id":1}`, `code_op "add" or "remove"`},
				{`{"kind":"rekey","lock_ids":[1],"mistake":"key_not_full"}`, `hands "sim"`},
				{`{"kind":"rekey","lock_ids":[-1]}`, "lock_ids: -1 is not an id"},
				{`{"kind":"rekey","lock_ids":[0]}`, "lock_ids: 0 is not an id"},
				{`{"kind":"lost_key","key_id":-5}`, "key_id: -5 is not an id"},
				{`{"kind":"rekey","lock_ids":[]}`, "Name the lock (lock_ids"},
				{`{"kind":"rekey","lock_ids":[99999999999999999999]}`, "whole number in range"},
			} {
				st, body := installer.raw("POST", "/api/v1/procedures", c.body)
				wantRefused(t, c.body, st, body, 400, c.says)
			}
			for _, q := range []struct{ query, says string }{
				{"?status=finished", "not a run status"}, {"?kind=dance", "Unknown procedure"}, {"?lock=01", "not an id"}, {"?status=done&status=active", "given 2 times"},
			} {
				st, body := viewer.raw("GET", "/api/v1/procedures"+q.query, "")
				wantRefused(t, q.query, st, body, 400, q.says)
			}
			st, body := viewer.raw("GET", "/api/v1/procedures/77", "")
			wantRefused(t, "an unknown run", st, body, 404, "")

			var r latchkey.Run
			installer.must("POST", "/api/v1/procedures", start, &r, 201)
			if r.ID == 0 || r.Status != latchkey.RunActive || len(r.Steps) != 5 || r.StartedBy != "ian" {
				t.Fatalf("a started run: %+v", r)
			}
			st, body = installer.raw("POST", "/api/v1/procedures", `{"kind":"rekey","lock_ids":[1]}`)
			wantRefused(t, "a second run on the lock", st, body, 409, "in the middle of another procedure")
			steps := "/api/v1/procedures/" + strconv.FormatInt(r.ID, 10) + "/steps"
			for _, c := range []struct {
				body, says string
				status     int
			}{
				{`{"attest":["door_open"]}`, "Say which step", 400},
				{`{"step":"ready","failed":true,"skip":true}`, "not both", 400},
				{`{"step":"ready","choices":[{"value":"916"}]}`, `Unknown field "choices"`, 400},
				{`{"step":"ready","attest":["door_open"]}`, "missing: working_key", 400},
				{`{"step":"ready","attest":["door_open","working_key","door_opened"]}`, `no attestation named "door_opened"; it takes: door_open, working_key`, 400},
				{`{"step":"ready","attest":["door_open","door_open","working_key"]}`, "given twice", 400},
				{`{"step":"learn"}`, "not at \"learn\"", 409},
				{`{"step":"dance"}`, `Run 1 has no step "dance"`, 400},
			} {
				st, body := installer.raw("POST", steps, c.body)
				wantRefused(t, c.body, st, body, c.status, c.says)
			}
			st, body = viewer.raw("POST", steps, `{"step":"ready","attest":["door_open","working_key"]}`)
			wantRefused(t, "a viewer reporting a step", st, body, 403, "A viewer may not change records")

			installer.must("POST", steps, latchkey.Advance{Step: "ready", Attest: []string{"door_open", "working_key"}}, &r, 200)
			for _, c := range []struct{ body, says string }{
				{`{"step":"new-key","evidence":{"generate":"yes","bitting":"35242"}}`, "not both"},
				{`{"step":"new-key","evidence":{"generate":"maybe"}}`, `not "maybe"`},
			} {
				st, body := installer.raw("POST", steps, c.body)
				wantRefused(t, c.body, st, body, 400, c.says)
			}
			var raw json.RawMessage
			installer.must("POST", steps, latchkey.Advance{Step: "new-key", Evidence: map[string]string{"generate": "yes"}}, &raw, 200)
			json.Unmarshal(raw, &r)
			if !regexp.MustCompile(`^[1-7]{5}$`).MatchString(r.Shown) || r.Current != 2 {
				t.Fatalf("the generated bitting's step answered shown=%q at step %d", r.Shown, r.Current)
			}
			bitting := r.Shown
			// The cuts are in that answer only: not in the run, the list, a repeated report.
			for _, path := range []string{"/api/v1/procedures/" + strconv.FormatInt(r.ID, 10), "/api/v1/procedures?lock=1&status=active&kind=rekey"} {
				installer.must("GET", path, nil, &raw, 200)
				if strings.Contains(string(raw), bitting) || strings.Contains(string(raw), `"shown"`) {
					t.Fatalf("GET %s shows the generated bitting: %s", path, raw)
				}
			}
			installer.must("POST", steps, latchkey.Advance{Step: "new-key", Evidence: map[string]string{"generate": "yes"}}, &raw, 200)
			if strings.Contains(string(raw), bitting) {
				t.Fatalf("a repeated report shows the bitting again: %s", raw)
			}
			installer.must("POST", steps, latchkey.Advance{Step: "learn"}, &r, 200)
			installer.must("POST", steps, latchkey.Advance{Step: "test", Attest: r.Steps[3].Attest}, &r, 200)
			installer.must("POST", steps, latchkey.Advance{Step: "retire"}, &r, 200)
			if r.Status != latchkey.RunDone || len(r.Records) != 5 {
				t.Fatalf("the run after its last step: %s, %d records", r.Status, len(r.Records))
			}
			var lock latchkey.Lock
			viewer.must("GET", "/api/v1/locks/1", nil, &lock, 200)
			if lock.KeyID != r.Params.NewKeyID || lock.KeyID == key.ID {
				t.Fatalf("the lock takes key %d after the rekey; the run recorded key %d", lock.KeyID, r.Params.NewKeyID)
			}
			var list lkhttp.List[*latchkey.Run]
			viewer.must("GET", "/api/v1/procedures?status=done&limit=1", nil, &list, 200)
			if list.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != r.ID || list.Limit != 1 {
				t.Fatalf("done runs: %+v", list)
			}
			viewer.must("GET", "/api/v1/procedures?status=active", nil, &list, 200)
			if list.Total != 0 || list.Items == nil {
				t.Fatalf("active runs after the end: %+v", list)
			}

			// The client does the same through a token.
			var tok lkhttp.TokenResponse
			installer.must("POST", "/api/v1/tokens", lkhttp.TokenRequest{Name: "cli"}, &tok, 201)
			ps := lkhttp.NewClient(s.URL(), tok.Secret)
			ctx := context.Background()
			aborted, err := ps.StartProcedure(ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey, LockIDs: []int64{1}})
			if err != nil {
				t.Fatal(err)
			}
			if aborted, err = ps.AdvanceProcedure(ctx, aborted.ID, latchkey.Advance{Step: "ready", Attest: []string{"door_open", "working_key"}}); err != nil || aborted.Current != 1 {
				t.Fatalf("advance through the client: %v %+v", err, aborted)
			}
			if aborted, err = ps.AbortProcedure(ctx, aborted.ID, "the new key is not cut yet"); err != nil || aborted.Status != latchkey.RunAborted || !strings.Contains(aborted.Outcome, "Nothing changed on the lock.") {
				t.Fatalf("abort through the client: %v %+v", err, aborted)
			}
			if _, err := ps.AbortProcedure(ctx, aborted.ID, ""); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
				t.Fatalf("aborting an aborted run: %v", err)
			}
			escalated, err := ps.StartProcedure(ctx, latchkey.ProcedureRequest{Kind: latchkey.ProcedureRekey, LockIDs: []int64{1}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ps.EscalateProcedure(ctx, escalated.ID, "plumber", "x"); latchkey.ErrorCode(err) != latchkey.EINVALID {
				t.Fatalf("escalating to a plumber: %v", err)
			}
			if _, err := ps.EscalateProcedure(ctx, escalated.ID, latchkey.EscalateSupport, " "); latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "Say what went wrong") {
				t.Fatalf("escalating without saying why: %v", err)
			}
			if escalated, err = ps.EscalateProcedure(ctx, escalated.ID, latchkey.EscalateLocksmith, "the working key does not turn"); err != nil || escalated.Escalation == nil ||
				escalated.Escalation.To != latchkey.EscalateLocksmith || len(escalated.Escalation.StateLeft) == 0 || len(escalated.Escalation.Contacts) != 1 {
				t.Fatalf("escalate through the client: %v %+v", err, escalated)
			}
			escalatedStatus, rekey := latchkey.RunEscalated, latchkey.ProcedureRekey
			lockID := int64(1)
			runs, total, err := ps.FindRuns(ctx, latchkey.RunFilter{LockID: &lockID, Status: &escalatedStatus, Kind: &rekey}, latchkey.Page{})
			if err != nil || total != 1 || runs[0].ID != escalated.ID {
				t.Fatalf("escalated runs through the client: %v %d", err, total)
			}
			if got, err := ps.FindRunByID(ctx, escalated.ID); err != nil || got.Escalation == nil || got.Escalation.Why != "the working key does not turn" {
				t.Fatalf("the escalated run through the client: %v %+v", err, got)
			}
			if _, err := ps.FindRunByID(ctx, 999); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
				t.Fatalf("an unknown run through the client: %v", err)
			}
			viewer.must("GET", "/api/v1/locks/1", nil, &lock, 200)
			if lock.Status != latchkey.LockNeedsLocksmith {
				t.Fatalf("the lock after the escalation: %s", lock.Status)
			}
		})
	}
}

// Without a procedure engine the routes say so, after the usual checks of who calls.
func TestProcedureAPIWithoutEngine(t *testing.T) {
	s, _ := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	for _, route := range [][2]string{{"GET", "/api/v1/procedures"}, {"GET", "/api/v1/procedures/1"}, {"POST", "/api/v1/procedures/1/abort"}} {
		st, body := owner.raw(route[0], route[1], `{"why":"x"}`)
		wantRefused(t, route[0]+" "+route[1], st, body, 503, "No procedure engine runs on this server")
	}
	if got := newClient(t, s.URL()).do("GET", "/api/v1/procedures", nil, nil); got != 401 {
		t.Fatalf("anonymous, without an engine: %d", got)
	}
}

// The live stream carries every change of a run as a run_status event (where it stands,
// never the generated bitting), so that a phone following a run reloads it only when it
// moved.
func TestProcedureRunsOnEventStream(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	s.Procedures = handPlans{svc}
	owner := setup(t, s.URL())
	var key latchkey.Key
	owner.must("POST", "/api/v1/keys", map[string]any{"site_id": 1, "label": "House key", "bitting": "35242"}, &key, 201)
	owner.must("PUT", "/api/v1/locks/1/key", lkhttp.KeyIDRequest{KeyID: key.ID}, nil, 200)
	owner.must("PATCH", "/api/v1/locks/1", map[string]any{"has_smartkey": true}, nil, 200)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/events/stream", nil)
	resp, err := owner.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	// The opening comment and its blank line: the subscription exists once they arrive.
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), ":") || !lines.Scan() {
		t.Fatal("the stream did not open")
	}
	next := func() (latchkey.Event, string) {
		t.Helper()
		for lines.Scan() {
			data, ok := strings.CutPrefix(lines.Text(), "data: ")
			if !ok {
				continue
			}
			var e latchkey.Event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatal(err)
			}
			if e.Kind == latchkey.EventRunStatus {
				return e, data
			}
		}
		t.Fatal("the stream ended")
		return latchkey.Event{}, ""
	}
	var r latchkey.Run
	owner.must("POST", "/api/v1/procedures", map[string]any{"kind": "rekey", "lock_ids": []int64{1}}, &r, 201)
	if e, _ := next(); e.LockID != 1 || e.Run == nil || e.Run.ID != r.ID || e.Run.Status != latchkey.RunActive || e.Run.Current != 0 || e.Run.Steps != 5 || e.Run.Version != 1 {
		t.Fatalf("the start on the stream: %+v %+v", e, e.Run)
	}
	steps := "/api/v1/procedures/" + strconv.FormatInt(r.ID, 10) + "/steps"
	owner.must("POST", steps, latchkey.Advance{Step: "ready", Attest: []string{"door_open", "working_key"}}, nil, 200)
	owner.must("POST", steps, latchkey.Advance{Step: "new-key", Evidence: map[string]string{"generate": "yes"}}, &r, 200)
	next()
	if e, data := next(); e.Run.Current != 2 || e.Run.Version != 3 || strings.Contains(data, r.Shown) {
		t.Fatalf("the new key's step on the stream: %s", data)
	}
	owner.must("POST", "/api/v1/procedures/"+strconv.FormatInt(r.ID, 10)+"/abort", lkhttp.AbortInput{Why: "not today"}, nil, 200)
	if e, _ := next(); e.Run.Status != latchkey.RunAborted {
		t.Fatalf("the abort on the stream: %+v", e.Run)
	}
}
