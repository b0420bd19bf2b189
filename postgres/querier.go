package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// poolQuerier runs a View's statements on the read pool, each on a connection of its
// own for as long as it runs, outside any explicit transaction.
type poolQuerier struct {
	pool *pgxpool.Pool
}

var _ sqlstore.Querier = poolQuerier{}

// Exec runs a statement and returns how many rows it changed.
func (q poolQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.pool.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

// Query runs a statement that returns rows.
func (q poolQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// QueryRow runs a statement that returns at most one row.
func (q poolQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.pool.QueryRow(ctx, query, args...)
}
