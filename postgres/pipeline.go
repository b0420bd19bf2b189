package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// pipeline runs a batch's statements on its connection so that the ones nobody waits
// for cost no round trip of their own: BEGIN, the audit lock, savepoints and their
// release, and the statements a change defers (its inserts, its audit entry and head) are
// held, and sent in one pipelined round trip with the next statement whose answer is
// needed, or with the commit.
//
// Every statement runs on a context of its own: pgx answers a cancelled context by
// cancelling the statement, which would abort the transaction the batch's callers share.
type pipeline struct {
	conn    *pgx.Conn
	held    []heldStatement
	sends   int     // round trips so far
	current *change // the change running now
	// broken is set once the transaction cannot go on: a statement of the batch's own
	// (BEGIN, the lock, a savepoint) failed, or a change failed late.
	broken error
	// lateFailure is told when a kept change's deferred statement fails.
	lateFailure func(*change)
}

// change is one change of a batch, as far as its held statements are concerned.
type change struct {
	failed func(error) // how to report a late failure, once the change is kept
}

// heldStatement is a statement waiting to be sent.
type heldStatement struct {
	query string
	args  []any
	of    *change // the change it belongs to; nil for the batch's own
	// deferred marks a change's own statement: its failure is the change's. The failure
	// of any other statement (a savepoint, BEGIN) breaks the batch.
	deferred bool
}

var (
	_ sqlstore.Querier  = (*pipeline)(nil)
	_ sqlstore.Deferrer = (*pipeline)(nil)
)

// hold queues a statement that is not a change's own: c is the change whose savepoint
// it sets or ends, or nil.
func (p *pipeline) hold(c *change, query string, args ...any) {
	p.held = append(p.held, heldStatement{query: query, args: args, of: c})
}

// Defer queues the current change's statement whose only answer is its error.
func (p *pipeline) Defer(query string, args ...any) {
	p.held = append(p.held, heldStatement{query: query, args: args, of: p.current, deferred: true})
}

// drop forgets the held statements of change c.
func (p *pipeline) drop(c *change) {
	kept := make([]heldStatement, 0, len(p.held))
	for _, h := range p.held {
		if h.of != c {
			kept = append(kept, h)
		}
	}
	p.held = kept
}

// send sends the held statements and then query in one round trip, and reads the held
// statements' answers. The results it returns stand at query's answer; the caller reads
// it and closes them.
//
// Should a deferred statement of a change that ended fail, the changes after it ran on
// rows that will not be kept, and their audit entries are sealed on its own. Nothing of
// that is repaired: the change is told of its failure, and the transaction is given up
// (package groupcommit runs the other changes again, in a new one).
func (p *pipeline) send(query string, args []any) (pgx.BatchResults, error) {
	switch {
	case p.broken != nil:
		return nil, p.broken
	case p.conn.PgConn().TxStatus() == 'E':
		// The running change's statement failed; it answers for that, and nothing more
		// runs until it is rolled back.
		return nil, errAborted
	}
	held := p.held
	p.held = nil
	br := p.conn.SendBatch(context.Background(), batchOf(held, query, args))
	i, err := readHeld(br, held)
	if err == nil {
		p.sends++
		return br, nil
	}
	br.Close()
	var pre pgx.ErrPreprocessingBatch
	if errors.As(err, &pre) {
		// Nothing ran. Only a statement the shared layer got wrong fails here.
		p.held = held
		if pre.SQL() != query {
			p.broken = err
		}
		return nil, err
	}
	p.sends++
	switch h := held[i]; {
	case !h.deferred:
		p.broken = err
	case h.of != p.current: // a change that ended: a late failure
		h.of.failed(err)
		p.lateFailure(h.of)
		p.broken = errGivenUp
		return nil, errGivenUp
	}
	return nil, err // the running change's own failure: it answers for it
}

var (
	// errAborted refuses a statement after the change's earlier one failed, as
	// PostgreSQL would.
	errAborted = errors.New("an earlier statement of the change failed; it must be rolled back")
	// errGivenUp refuses every statement after a late failure.
	errGivenUp = errors.New("a change of the batch failed after it ended; the transaction is given up, and its other changes run again")
)

// rollBack rolls the failed transaction back to its innermost savepoint, and releases
// it. It runs by the simple protocol: in a failed transaction PostgreSQL refuses to
// prepare statements, which pgx does for a pipeline.
func (p *pipeline) rollBack() error {
	_, err := p.conn.PgConn().Exec(context.Background(), `ROLLBACK TO SAVEPOINT change; RELEASE SAVEPOINT change`).ReadAll()
	if err != nil {
		p.broken = err
	}
	return err
}

// batchOf returns the pgx batch of held statements followed by query.
func batchOf(held []heldStatement, query string, args []any) *pgx.Batch {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(held)+1)}
	for _, h := range held {
		b.Queue(h.query, h.args...)
	}
	b.Queue(query, args...)
	return b
}

// readHeld reads the answers of the held statements, and returns the index of the first
// that failed, with its error.
func readHeld(br pgx.BatchResults, held []heldStatement) (int, error) {
	for i := range held {
		if _, err := br.Exec(); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// Exec runs a statement and returns how many rows it changed.
func (p *pipeline) Exec(_ context.Context, query string, args ...any) (int64, error) {
	br, err := p.send(query, args)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag.RowsAffected(), err
}

// Query runs a statement that returns rows.
func (p *pipeline) Query(_ context.Context, query string, args ...any) (sqlstore.Rows, error) {
	br, err := p.send(query, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &pipelinedRows{Rows: rows, results: br}, nil
}

// QueryRow runs a statement that returns at most one row; it is sent when the row is
// scanned.
func (p *pipeline) QueryRow(_ context.Context, query string, args ...any) sqlstore.Row {
	return pipelinedRow{p: p, query: query, args: args}
}

// pipelinedRows are the rows of a statement sent with held ones: the round trip's
// results are closed with them.
type pipelinedRows struct {
	pgx.Rows
	results pgx.BatchResults
	err     error
	closed  bool
}

// Next advances to the next row; after the last it closes the rows.
func (r *pipelinedRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// Err returns the error that ended the rows, if any.
func (r *pipelinedRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// Close closes the rows and the round trip's results.
func (r *pipelinedRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.results.Close()
}

// pipelinedRow is one row of a statement sent with held ones.
type pipelinedRow struct {
	p     *pipeline
	query string
	args  []any
}

// Scan sends the statement and scans its row.
func (r pipelinedRow) Scan(dest ...any) error {
	br, err := r.p.send(r.query, r.args)
	if err != nil {
		return err
	}
	err = br.QueryRow().Scan(dest...)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}
