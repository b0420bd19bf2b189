package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// Update runs fn in a write transaction, shared with the other changes waiting at the
// same moment (group commit), and returns once its change is durable or has failed.
func (db *DB) Update(ctx context.Context, fn func(latchkey.Tx) error) error {
	return db.writer.Update(ctx, fn)
}

// WriteStats reports the group-commit writer's work: how many changes shared how many
// transactions.
func (db *DB) WriteStats() groupcommit.Stats { return db.writer.Stats() }

// beginBatch starts a shared write transaction for the group-commit writer. It begins
// IMMEDIATE, taking SQLite's write lock at once, so that no other process appends to the
// audit log while the batch runs.
func (db *DB) beginBatch() (groupcommit.Batch, error) {
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	return &batch{tx: tx, records: sqlstore.NewBatchTx(querier{tx: tx, stmts: &stmtCache{tx: tx, stmts: map[string]*sql.Stmt{}}, detached: true}, dialect{})}, nil
}

// batch is a shared write transaction; each change runs in a savepoint of it. Its
// statements run on a context of their own (see querier).
type batch struct {
	tx      *sql.Tx
	records *sqlstore.Tx
}

func (b *batch) exec(query string) error {
	_, err := b.tx.ExecContext(context.Background(), query)
	return err
}

func (b *batch) Savepoint() error {
	b.records.BeginChange()
	return b.exec(`SAVEPOINT change`)
}

func (b *batch) Tx() latchkey.Tx { return b.records }

// EndSavepoint keeps or rolls back the change. SQLite runs every statement at once, so
// nothing is held back to fail late.
func (b *batch) EndSavepoint(keep bool, _ func(error)) error {
	b.records.EndChange(keep)
	if keep {
		return b.exec(`RELEASE change`)
	}
	return b.exec(`ROLLBACK TO change; RELEASE change`)
}

func (b *batch) Commit() error { return b.tx.Commit() }

func (b *batch) Rollback() { _ = b.tx.Rollback() }
