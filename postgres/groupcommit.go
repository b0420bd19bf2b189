package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
)

// Update runs fn in a write transaction, shared with the other changes of this process
// waiting at the same moment (group commit), and returns once its change is durable or
// has failed. Changes from other processes are serialised by the audit chain's lock.
func (db *DB) Update(ctx context.Context, fn func(latchkey.Tx) error) error {
	return db.writer.Update(ctx, fn)
}

// WriteStats reports the group-commit writer's work: how many changes shared how many
// transactions.
func (db *DB) WriteStats() groupcommit.Stats { return db.writer.Stats() }

// beginBatch starts a shared write transaction for the group-commit writer.
func (db *DB) beginBatch() (groupcommit.Batch, error) {
	tx, err := db.pool.BeginTx(context.Background(), pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	return batch{tx}, nil
}

// batch is a shared write transaction. Its statements run on a context of their own:
// pgx answers a cancelled context by cancelling the statement, which aborts the whole
// transaction the other callers share.
type batch struct {
	tx pgx.Tx
}

func (b batch) Savepoint() error {
	_, err := b.tx.Exec(context.Background(), `SAVEPOINT change`)
	return err
}

func (b batch) Tx() latchkey.Tx { return &Tx{tx: b} }

func (b batch) EndSavepoint(keep bool) error {
	end := `RELEASE SAVEPOINT change`
	if !keep {
		// After a failed statement PostgreSQL refuses everything until this rollback.
		if _, err := b.tx.Exec(context.Background(), `ROLLBACK TO SAVEPOINT change`); err != nil {
			return err
		}
	}
	_, err := b.tx.Exec(context.Background(), end)
	return err
}

func (b batch) Commit() error { return b.tx.Commit(context.Background()) }

func (b batch) Rollback() { _ = b.tx.Rollback(context.Background()) }

func (b batch) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return b.tx.Exec(context.Background(), sql, args...)
}

func (b batch) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	return b.tx.Query(context.Background(), sql, args...)
}

func (b batch) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	return b.tx.QueryRow(context.Background(), sql, args...)
}
