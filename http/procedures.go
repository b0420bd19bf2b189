package http

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// Procedures over the API: start a run, list and show runs, report on the current step,
// abort or escalate. The rules (which plan, which step may be reported, who may) are the
// domain's and the engine's; this file reads requests strictly and keeps the one secret
// a run can carry (a generated bitting, Run.Shown) to the one answer it belongs in.

// AbortInput stops a run where it stands.
type AbortInput struct {
	Why string `json:"why"`
}

// EscalateInput stops a run for a locksmith or Kwikset support.
type EscalateInput struct {
	To  string `json:"to"` // locksmith or support
	Why string `json:"why"`
}

// runFilter reads ?lock=, ?status= and ?kind=, refusing a status or kind that names
// nothing (a typo would otherwise list no runs and look like an answer).
func runFilter(r *http.Request) (latchkey.RunFilter, error) {
	var f latchkey.RunFilter
	var err error
	if f.LockID, err = queryID(r, "lock"); err != nil {
		return f, err
	}
	q := r.URL.Query()
	for _, name := range []string{"status", "kind"} {
		if vs := q[name]; len(vs) > 1 {
			return f, latchkey.Errorf(latchkey.EINVALID, "?%s= is given %d times; give it once.", name, len(vs))
		}
	}
	if v := q.Get("status"); v != "" {
		st := latchkey.RunStatus(v)
		switch st {
		case latchkey.RunActive, latchkey.RunDone, latchkey.RunAborted, latchkey.RunEscalated:
		default:
			return f, latchkey.Errorf(latchkey.EINVALID, "?status=%q is not a run status; use active, done, aborted or escalated.", v)
		}
		f.Status = &st
	}
	if v := q.Get("kind"); v != "" {
		k := latchkey.ProcedureKind(v)
		if err := k.Validate(); err != nil {
			return f, err
		}
		f.Kind = &k
	}
	return f, nil
}

// hidden returns a run without its one-time secret, for every answer but the step's
// that made it.
func hidden(r *latchkey.Run) *latchkey.Run {
	if r != nil {
		r.Shown = ""
	}
	return r
}

// withEngine answers 503 when no procedure engine runs on this server.
func (s *Server) withEngine(fn func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService) (int, any, error)) http.HandlerFunc {
	return handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		if s.Procedures == nil {
			return 0, nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "No procedure engine runs on this server, so procedures cannot be started or shown here; run them on a server started with 'latchkey serve' or 'latchkey demo'.")
		}
		return fn(w, r, s.Procedures)
	})
}

// runByID reads the run's path id and calls fn with it.
func (s *Server) runByID(fn func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService, id int64) (int, any, error)) http.HandlerFunc {
	return s.withEngine(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService) (int, any, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return 0, nil, err
		}
		return fn(w, r, ps, id)
	})
}

func (s *Server) procedureRoutes() []route {
	read, write := latchkey.PermRead, latchkey.PermWrite
	run := &latchkey.Run{}
	return []route{
		{Method: "POST", Pattern: "/api/v1/procedures", Summary: "Start a procedure run (kind: " + kindList() + "); the plan is made for the locks' exact model", Perm: write, Request: latchkey.ProcedureRequest{}, Response: run,
			handler: s.withEngine(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService) (int, any, error) {
				var in latchkey.ProcedureRequest
				if err := decode(w, r, &in); err != nil {
					return 0, nil, err
				}
				if err := in.Validate(); err != nil {
					return 0, nil, err
				}
				v, err := ps.StartProcedure(r.Context(), in)
				return http.StatusCreated, hidden(v), err
			})},
		{Method: "GET", Pattern: "/api/v1/procedures", Summary: "List procedure runs, newest first (?lock=ID&status=active|done|aborted|escalated&kind=K)", Perm: read, Response: List[*latchkey.Run]{},
			handler: s.withEngine(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService) (int, any, error) {
				p, err := page(r)
				if err != nil {
					return 0, nil, err
				}
				f, err := runFilter(r)
				if err != nil {
					return 0, nil, err
				}
				items, total, err := ps.FindRuns(r.Context(), f, p)
				for _, run := range items {
					hidden(run)
				}
				return http.StatusOK, listOf(items, total, p), err
			})},
		{Method: "GET", Pattern: "/api/v1/procedures/{id}", Summary: "Show a procedure run: its plan, the current step, what was reported, an escalation's report", Perm: read, Response: run,
			handler: s.runByID(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService, id int64) (int, any, error) {
				v, err := ps.FindRunByID(r.Context(), id)
				return http.StatusOK, hidden(v), err
			})},
		{Method: "POST", Pattern: "/api/v1/procedures/{id}/steps", Summary: "Report on the run's current step: done with its attestations and evidence, failed with a note, or skipped where the plan allows; a generated bitting is in this answer only (shown)", Perm: write, Request: latchkey.Advance{}, Response: run,
			handler: s.runByID(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService, id int64) (int, any, error) {
				var in latchkey.Advance
				if err := decode(w, r, &in); err != nil {
					return 0, nil, err
				}
				if in.Step == "" {
					return 0, nil, latchkey.Errorf(latchkey.EINVALID, "Say which step the report is on: {\"step\": \"...\"}, the id of the run's current step (GET /api/v1/procedures/%d shows it).", id)
				}
				if in.Failed && in.Skip {
					return 0, nil, latchkey.Errorf(latchkey.EINVALID, "A step is reported failed or skipped, not both.")
				}
				v, err := ps.AdvanceProcedure(r.Context(), id, in)
				return http.StatusOK, v, err
			})},
		{Method: "POST", Pattern: "/api/v1/procedures/{id}/abort", Summary: "Abort a run where it stands; the answer's outcome says how to leave the lock safe", Perm: write, Request: AbortInput{}, Response: run,
			handler: s.runByID(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService, id int64) (int, any, error) {
				var in AbortInput
				if err := decode(w, r, &in); err != nil {
					return 0, nil, err
				}
				v, err := ps.AbortProcedure(r.Context(), id, in.Why)
				return http.StatusOK, hidden(v), err
			})},
		{Method: "POST", Pattern: "/api/v1/procedures/{id}/escalate", Summary: "Stop a run for a locksmith or Kwikset support (to: locksmith or support), with what was tried and the state left behind", Perm: write, Request: EscalateInput{}, Response: run,
			handler: s.runByID(func(w http.ResponseWriter, r *http.Request, ps latchkey.ProcedureService, id int64) (int, any, error) {
				var in EscalateInput
				if err := decode(w, r, &in); err != nil {
					return 0, nil, err
				}
				v, err := ps.EscalateProcedure(r.Context(), id, in.To, in.Why)
				return http.StatusOK, hidden(v), err
			})},
	}
}

// kindList names the procedures a person can start.
func kindList() string {
	names := make([]string, len(latchkey.ProcedureKinds))
	for i, k := range latchkey.ProcedureKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
