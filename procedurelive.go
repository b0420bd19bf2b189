package latchkey

// RunProgress is where a procedure run stands, as live subscribers are told it (a phone
// following a run, the pages that refresh on events): enough to know whether to read the
// run again, and nothing secret.
type RunProgress struct {
	ID      int64         `json:"id"`
	Kind    ProcedureKind `json:"kind"`
	Title   string        `json:"title"`
	Status  RunStatus     `json:"status"`
	Current int           `json:"current"` // index of the current step while active
	Steps   int           `json:"steps"`
	Version int           `json:"version"`
}

// runChanged tells the procedure engine and the live subscribers that a run changed.
func (s *Service) runChanged(r *Run) {
	s.kickRuns()
	e := Event{Kind: EventRunStatus, At: r.UpdatedAt, Run: &RunProgress{ID: r.ID, Kind: r.Kind, Title: r.Title, Status: r.Status,
		Current: r.Current, Steps: len(r.Steps), Version: r.Version}}
	if len(r.LockIDs) > 0 {
		e.LockID = r.LockIDs[0]
	}
	s.live.publish(e)
}
