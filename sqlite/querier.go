package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// querier runs the shared layer's statements on a database/sql transaction: a View's,
// or the write transaction of a batch.
type querier struct {
	tx    *sql.Tx
	stmts *stmtCache // nil: nothing kept prepared
	// detached statements run on a context of their own: cancelling a caller's statement
	// would interrupt SQLite, which then rolls back the whole transaction a batch shares.
	detached bool
}

var _ sqlstore.Querier = querier{}

func (q querier) ctx(ctx context.Context) context.Context {
	if q.detached {
		return context.Background()
	}
	return ctx
}

// Exec runs a statement and returns how many rows it changed.
func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var res sql.Result
	var err error
	if s, ok := q.stmts.get(q.ctx(ctx), query); ok {
		res, err = s.ExecContext(q.ctx(ctx), args...)
	} else {
		res, err = q.tx.ExecContext(q.ctx(ctx), query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Query runs a statement that returns rows.
func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	var r *sql.Rows
	var err error
	if s, ok := q.stmts.get(q.ctx(ctx), query); ok {
		r, err = s.QueryContext(q.ctx(ctx), args...)
	} else {
		r, err = q.tx.QueryContext(q.ctx(ctx), query, args...)
	}
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// QueryRow runs a statement that returns at most one row.
func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if s, ok := q.stmts.get(q.ctx(ctx), query); ok {
		return s.QueryRowContext(q.ctx(ctx), args...)
	}
	return q.tx.QueryRowContext(q.ctx(ctx), query, args...)
}

// rows is a database/sql result as package sqlstore reads it.
type rows struct{ *sql.Rows }

// Close closes the result. The shared layer has read it to the end or stopped at an
// error it reports; database/sql's Close adds nothing to either.
func (r rows) Close() { r.Rows.Close() }
