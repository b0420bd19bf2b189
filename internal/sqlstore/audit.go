package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

const auditColumns = `seq, at, actor, action, entity, entity_id, detail, prev_hash, hash`

func (tx *Tx) scanAudit(row scanner) (*latchkey.AuditEntry, error) {
	var e latchkey.AuditEntry
	return &e, row.Scan(&e.Seq, tx.time(&e.At), &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.PrevHash, &e.Hash)
}

// AppendAudit stores a sealed entry. It is the last statement of a change and nothing
// waits for its answer, so a querier that can defer it sends it when the change ends.
func (tx *Tx) AppendAudit(ctx context.Context, e *latchkey.AuditEntry) error {
	err := tx.writeLater(ctx, `INSERT INTO audit (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.PrevHash, e.Hash)
	if err == nil && tx.head != nil {
		// Its Seq follows the last one's (the contract): it is the newest now.
		tx.head.set(e)
	}
	return err
}

// LastAudit returns the newest entry, or nil for an empty log. Within a batch it is read
// once and then remembered.
func (tx *Tx) LastAudit(ctx context.Context) (*latchkey.AuditEntry, error) {
	if d, ok := tx.q.(Deferrer); ok && tx.head != nil && tx.head.known {
		// The entry remembered may be an earlier change's, not yet sent.
		if err := d.Settle(); err != nil {
			return nil, tx.fail(err)
		}
	}
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

// auditHead remembers the newest audit entry of a transaction that holds the audit lock
// throughout, as it stands after each statement. A change rolled back to its savepoint
// takes back what it changed here too.
type auditHead struct {
	known bool
	last  *latchkey.AuditEntry // nil for an empty log
	// at the start of the current change
	knownBefore bool
	lastBefore  *latchkey.AuditEntry
}

// get returns a copy of the newest entry, and whether it is known.
func (h *auditHead) get() (*latchkey.AuditEntry, bool) {
	if h == nil || !h.known {
		return nil, false
	}
	if h.last == nil {
		return nil, true
	}
	e := *h.last
	return &e, true
}

// set records e (nil: the log is empty) as the newest entry.
func (h *auditHead) set(e *latchkey.AuditEntry) {
	h.known, h.last = true, nil
	if e != nil {
		c := *e
		h.last = &c
	}
}

func (h *auditHead) begin() { h.knownBefore, h.lastBefore = h.known, h.last }

func (h *auditHead) end(kept bool) {
	if !kept {
		h.known, h.last = h.knownBefore, h.lastBefore
	}
}
