package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
)

// Update runs fn in a write transaction, shared with the other changes waiting at the
// same moment (group commit), and returns once its change is durable or has failed.
func (db *DB) Update(ctx context.Context, fn func(latchkey.Tx) error) error {
	return db.writer.Update(ctx, fn)
}

// WriteStats reports the group-commit writer's work: how many changes shared how many
// transactions.
func (db *DB) WriteStats() groupcommit.Stats { return db.writer.Stats() }

// beginBatch starts a shared write transaction for the group-commit writer.
func (db *DB) beginBatch() (groupcommit.Batch, error) {
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	return batch{tx}, nil
}

// batch is a shared write transaction. Its statements run on a context of their own:
// cancelling a caller's statement would interrupt SQLite, which then rolls back the whole
// transaction.
type batch struct {
	tx *sql.Tx
}

func (b batch) Savepoint() error {
	_, err := b.tx.ExecContext(context.Background(), `SAVEPOINT change`)
	return err
}

func (b batch) Tx() latchkey.Tx { return &Tx{tx: b} }

func (b batch) EndSavepoint(keep bool) error {
	end := `RELEASE change`
	if !keep {
		end = `ROLLBACK TO change; RELEASE change`
	}
	_, err := b.tx.ExecContext(context.Background(), end)
	return err
}

func (b batch) Commit() error { return b.tx.Commit() }

func (b batch) Rollback() { _ = b.tx.Rollback() }

func (b batch) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return b.tx.ExecContext(context.Background(), query, args...)
}

func (b batch) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return b.tx.QueryContext(context.Background(), query, args...)
}

func (b batch) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return b.tx.QueryRowContext(context.Background(), query, args...)
}
