package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

const auditColumns = `seq, at, actor, action, entity, entity_id, detail, prev_hash, hash`

const appendAudit = `INSERT INTO audit (` + auditColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (tx *Tx) scanAudit(row scanner) (*latchkey.AuditEntry, error) {
	var e latchkey.AuditEntry
	return &e, row.Scan(&e.Seq, tx.time(&e.At), &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.PrevHash, &e.Hash)
}

// AppendAudit stores a sealed entry. Nothing waits for its answer, so a querier that
// can defer it sends it with later statements; the entry is then kept, and sealed again
// should an earlier change fail late (see LateFailure).
func (tx *Tx) AppendAudit(ctx context.Context, e *latchkey.AuditEntry) error {
	if err := tx.writable(); err != nil {
		return err
	}
	args, err := tx.bind([]any{e.Seq, e.At, e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.PrevHash, e.Hash})
	if err != nil {
		return err
	}
	d, deferred := tx.q.(Deferrer)
	if !deferred {
		if _, err := tx.q.Exec(ctx, tx.d.Rebind(appendAudit), args...); err != nil {
			return tx.fail(err)
		}
	} else {
		d.Defer(tx.d.Rebind(appendAudit), args...)
	}
	if tx.head != nil {
		// Its Seq follows the last one's (the contract): it is the newest now.
		tx.head.appended(e, args, deferred)
	}
	return nil
}

// LastAudit returns the newest entry, or nil for an empty log. Within a batch it is read
// once and then remembered.
func (tx *Tx) LastAudit(ctx context.Context) (*latchkey.AuditEntry, error) {
	if e, ok := tx.head.get(); ok {
		return e, nil
	}
	e, err := tx.scanAudit(tx.queryRow(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		e, err = nil, nil
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	if tx.head != nil {
		tx.head.set(e)
	}
	return e, nil
}

// FindAudit returns up to limit entries after seq, in order.
func (tx *Tx) FindAudit(ctx context.Context, after int64, limit int) ([]*latchkey.AuditEntry, error) {
	return queryAll(ctx, tx, `SELECT `+auditColumns+` FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, []any{after, limit}, tx.scanAudit)
}
