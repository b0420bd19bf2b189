package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// auditLockKey is the advisory lock that serialises appends to the audit chain across
// processes; each batch holds it from its first statement to its end.
const auditLockKey = 0x4c61_7463_684b_6579 // "LatchKey"

// Update runs fn in a write transaction, shared with the other changes of this process
// waiting at the same moment (group commit), and returns once its change is durable or
// has failed. Changes from other processes are serialised by the audit chain's lock.
// fn may run more than once, in a new transaction each time, when a change before it
// fails late (see groupcommit.Writer.Update).
func (db *DB) Update(ctx context.Context, fn func(latchkey.Tx) error) error {
	return db.writer.Update(ctx, fn)
}

// WriteStats reports the group-commit writer's work: how many changes shared how many
// batches, and how many transactions were given up after a late failure.
func (db *DB) WriteStats() groupcommit.Stats { return db.writer.Stats() }

// beginBatch starts a shared write transaction for the group-commit writer. BEGIN and
// the audit lock are held, to travel with the batch's first statement.
func (db *DB) beginBatch() (groupcommit.Batch, error) {
	// The ids to number anew were left by a batch given up just before: this batch, which
	// the writer begins next, runs its other changes again. No later batch sees them.
	renumber := db.renumber
	db.renumber = nil
	conn, err := db.write.Acquire(context.Background())
	if err != nil {
		return nil, err
	}
	b := &batch{db: db, pooled: conn, pipeline: pipeline{conn: conn.Conn()}, ids: map[string]*ids{}, renumber: renumber}
	b.records = sqlstore.NewBatchTx(b, dialect{})
	b.lateFailure = b.givenUp
	b.hold(nil, `BEGIN`)
	b.hold(nil, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey))
	return b, nil
}

// batch is a shared write transaction on one connection; each change runs in a
// savepoint of it. A change costs one round trip for each statement whose answer it
// needs (a read, an update that must find its row): everything else travels with those
// (see pipeline), inserts too, for the batch numbers new rows itself (see ids).
type batch struct {
	pipeline
	db      *DB
	pooled  *pgxpool.Conn
	records *sqlstore.Tx
	ids     map[string]*ids // by table

	numbered []numbered     // the ids the batch gave, and to which change
	renumber map[rowID]bool // ids a given-up batch gave: a row that comes with one is numbered anew
}

var (
	_ sqlstore.Deferrer = (*batch)(nil)
	_ sqlstore.Numberer = (*batch)(nil)
)

func (b *batch) Savepoint() error {
	if b.broken != nil {
		return b.broken
	}
	b.records.BeginChange()
	b.current = &change{}
	b.hold(b.current, `SAVEPOINT change`)
	return nil
}

func (b *batch) Tx() latchkey.Tx { return b.records }

// EndSavepoint keeps or rolls back the change. A kept change's deferred statements and
// its RELEASE are held, to travel with the next change's first statement or the commit.
func (b *batch) EndSavepoint(keep bool, failed func(error)) error {
	c := b.current
	b.current = nil
	if b.broken != nil {
		return b.broken
	}
	aborted := b.conn.PgConn().TxStatus() == 'E'
	if keep && aborted {
		// The change returned no error, but one of its statements failed: nothing of it
		// can be kept.
		failed(errAborted)
		keep = false
	}
	b.records.EndChange(keep)
	switch i := b.savepointHeld(c); {
	case i >= 0 && (!keep || !b.holdsDeferred(c)):
		b.held = b.held[:i] // nothing of the change ran, and nothing will
	case keep:
		c.failed = failed
		b.hold(c, `RELEASE SAVEPOINT change`)
	case aborted:
		b.drop(c)
		return b.rollBack() // nothing else runs until this
	default:
		b.drop(c)
		b.hold(nil, `ROLLBACK TO SAVEPOINT change`)
		b.hold(nil, `RELEASE SAVEPOINT change`)
	}
	return b.broken
}

// savepointHeld returns the index in held of change c's SAVEPOINT while it waits to be
// sent, and -1 once it is sent. Until then nothing of the change ran, and everything
// held after it is the change's own.
func (b *batch) savepointHeld(c *change) int {
	for i, h := range b.held {
		if h.of == c && !h.deferred {
			return i
		}
	}
	return -1
}

// holdsDeferred reports whether change c has deferred statements waiting.
func (b *batch) holdsDeferred(c *change) bool {
	for _, h := range b.held {
		if h.of == c && h.deferred {
			return true
		}
	}
	return false
}

// Commit sends what is held with COMMIT, and returns once the commit is durable
// (synchronous_commit stays on). A batch that never sent a statement, and holds none of
// a change's, has nothing to commit.
func (b *batch) Commit() error {
	if b.sends == 0 && len(b.held) == 2 { // BEGIN and the lock
		return nil
	}
	b.holdSequences()
	br, err := b.send(`COMMIT`, nil)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" {
		// PostgreSQL answers COMMIT in a failed transaction with ROLLBACK.
		err = fmt.Errorf("the batch was rolled back at commit (%s)", tag)
	}
	return err
}

// Rollback ends the transaction if it is still open, and returns the connection to the
// pool, which closes a connection left in a broken state.
func (b *batch) Rollback() {
	if b.conn.PgConn().TxStatus() != 'I' {
		_, _ = b.conn.Exec(context.Background(), `ROLLBACK`)
	}
	b.pooled.Release()
}
