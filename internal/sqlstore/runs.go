package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// A run is stored as one row: the columns runs are listed by, and the plan, records and
// outcome as one JSON document, read and written whole with the run and never queried
// apart. Its locks are kept as ",1,2," so that a run is found by any of them.

const runColumns = `id, kind, status, lock_ids, body, version, started_at, updated_at, ended_at`

var insertRun = newInsertion("procedure_runs", `kind, status, lock_ids, body, version, started_at, updated_at, ended_at`)

// runBody is what the JSON document holds.
type runBody struct {
	Title      string                `json:"title"`
	Current    int                   `json:"current"`
	Steps      []latchkey.Step       `json:"steps"`
	Records    []latchkey.StepRecord `json:"records"`
	Params     latchkey.RunParams    `json:"params"`
	Failures   int                   `json:"failures"`
	Escalation *latchkey.Escalation  `json:"escalation,omitempty"`
	Outcome    string                `json:"outcome,omitempty"`
	Contacts   []string              `json:"contacts,omitempty"`
	StartedBy  string                `json:"started_by"`
}

func encodeRun(r *latchkey.Run) (lockIDs, body string, err error) {
	ids := make([]string, len(r.LockIDs))
	for i, id := range r.LockIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	b, err := json.Marshal(runBody{Title: r.Title, Current: r.Current, Steps: r.Steps, Records: r.Records, Params: r.Params,
		Failures: r.Failures, Escalation: r.Escalation, Outcome: r.Outcome, Contacts: r.Contacts, StartedBy: r.StartedBy})
	return "," + strings.Join(ids, ",") + ",", string(b), err
}

func (tx *Tx) scanRun(row scanner) (*latchkey.Run, error) {
	var r latchkey.Run
	var locks, body string
	if err := row.Scan(&r.ID, &r.Kind, &r.Status, &locks, &body, &r.Version, tx.time(&r.StartedAt), tx.time(&r.UpdatedAt), tx.nullTime(&r.EndedAt)); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(strings.Trim(locks, ","), ",") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("the locks of procedure run %d: %w", r.ID, err)
		}
		r.LockIDs = append(r.LockIDs, id)
	}
	var b runBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("procedure run %d: %w", r.ID, err)
	}
	r.Title, r.Current, r.Steps, r.Records, r.Params, r.Failures = b.Title, b.Current, b.Steps, b.Records, b.Params, b.Failures
	r.Escalation, r.Outcome, r.Contacts, r.StartedBy = b.Escalation, b.Outcome, b.Contacts, b.StartedBy
	if r.Records == nil {
		r.Records = []latchkey.StepRecord{}
	}
	return &r, nil
}

// CreateRun inserts a run and sets its id.
func (tx *Tx) CreateRun(ctx context.Context, r *latchkey.Run) (err error) {
	locks, body, err := encodeRun(r)
	if err != nil {
		return err
	}
	r.ID, err = tx.insert(ctx, insertRun, r.ID, string(r.Kind), string(r.Status), locks, body, r.Version, r.StartedAt, r.UpdatedAt, r.EndedAt)
	return err
}

// FindRunByID returns a run.
func (tx *Tx) FindRunByID(ctx context.Context, id int64) (*latchkey.Run, error) {
	r, err := tx.scanRun(tx.queryRow(ctx, `SELECT `+runColumns+` FROM procedure_runs WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "procedure run", id)
	}
	return r, nil
}

// FindRuns lists runs, newest first, with the total.
func (tx *Tx) FindRuns(ctx context.Context, f latchkey.RunFilter, p latchkey.Page) ([]*latchkey.Run, int, error) {
	var w filter
	if f.LockID != nil {
		w.add("lock_ids LIKE ?", "%,"+strconv.FormatInt(*f.LockID, 10)+",%")
	}
	if f.Status != nil {
		w.add("status = ?", string(*f.Status))
	}
	if f.Kind != nil {
		w.add("kind = ?", string(*f.Kind))
	}
	var total int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM procedure_runs`+w.where(), w.args...).Scan(&total); err != nil {
		return nil, 0, tx.fail(err)
	}
	items, err := queryAll(ctx, tx, `SELECT `+runColumns+` FROM procedure_runs`+w.where()+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(w.args, p.PageLimit(), max(p.Offset, 0)), tx.scanRun)
	if items == nil {
		items = []*latchkey.Run{}
	}
	return items, total, err
}

// UpdateRun writes a run read at its version, and moves the version on. A run another
// change wrote meanwhile is a conflict: the caller read a stale copy.
func (tx *Tx) UpdateRun(ctx context.Context, r *latchkey.Run) error {
	locks, body, err := encodeRun(r)
	if err != nil {
		return err
	}
	n, err := tx.write(ctx, `UPDATE procedure_runs SET status = ?, lock_ids = ?, body = ?, version = ?, updated_at = ?, ended_at = ? WHERE id = ? AND version = ?`,
		string(r.Status), locks, body, r.Version+1, r.UpdatedAt, r.EndedAt, r.ID, r.Version)
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.FindRunByID(ctx, r.ID); err != nil {
			return err
		}
		return latchkey.Errorf(latchkey.ECONFLICT, "Procedure run %d changed meanwhile (someone else reported a step); reload it and try again.", r.ID)
	}
	r.Version++
	return nil
}
