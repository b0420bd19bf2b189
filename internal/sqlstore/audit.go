package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/latchkey/latchkey"
)

const auditColumns = `seq, at, actor, action, entity, entity_id, detail, prev_hash, hash, mac`

func (tx *Tx) scanAudit(row scanner) (*latchkey.AuditEntry, error) {
	var e latchkey.AuditEntry
	return &e, row.Scan(&e.Seq, tx.time(&e.At), &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Detail, &e.PrevHash, &e.Hash, &e.MAC)
}

// AppendAudit stores a sealed entry. Nothing waits for its answer, so a querier that can
// defer it sends it with the change's next statement or when the change ends.
func (tx *Tx) AppendAudit(ctx context.Context, e *latchkey.AuditEntry) error {
	return tx.writeLater(ctx, `INSERT INTO audit (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.Actor, e.Action, e.Entity, e.EntityID, e.Detail, e.PrevHash, e.Hash, e.MAC)
}

// LastAudit returns the newest entry, or nil for an empty log.
func (tx *Tx) LastAudit(ctx context.Context) (*latchkey.AuditEntry, error) {
	e, err := tx.scanAudit(tx.queryRow(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	return e, nil
}

// FindAudit returns up to limit entries after seq, in order.
func (tx *Tx) FindAudit(ctx context.Context, after int64, limit int) ([]*latchkey.AuditEntry, error) {
	return queryAll(ctx, tx, `SELECT `+auditColumns+` FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, []any{after, limit}, tx.scanAudit)
}

// SetAuditHead records where the audit log ends: the one row of audit_head. Like the
// entry it follows, nothing waits for its answer.
func (tx *Tx) SetAuditHead(ctx context.Context, h *latchkey.AuditHead) error {
	err := tx.writeLater(ctx, `INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac`, h.Seq, h.Hash, h.MAC)
	if err == nil && tx.head != nil {
		tx.head.set(h)
	}
	return err
}

// FindAuditHead returns the recorded head, or nil when none was recorded. Within a batch
// it is read once and then remembered. The head remembered may be an earlier change's,
// not yet sent (see Deferrer): should that change fail late, the transaction is given
// up, and nothing sealed on top of its head is kept.
func (tx *Tx) FindAuditHead(ctx context.Context) (*latchkey.AuditHead, error) {
	if h, ok := tx.head.get(); ok {
		return h, nil
	}
	var h latchkey.AuditHead
	err := tx.queryRow(ctx, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash, &h.MAC)
	head := &h
	if errors.Is(err, sql.ErrNoRows) {
		head, err = nil, nil
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	if tx.head != nil {
		tx.head.set(head)
	}
	return head, nil
}

// auditHead remembers the audit log's recorded head in a transaction that holds the
// audit lock throughout, as it stands after each statement. A change rolled back to its
// savepoint takes back what it changed here too.
type auditHead struct {
	known bool
	last  *latchkey.AuditHead // nil: no head recorded
	// at the start of the current change
	knownBefore bool
	lastBefore  *latchkey.AuditHead
}

// get returns a copy of the head, and whether it is known.
func (h *auditHead) get() (*latchkey.AuditHead, bool) {
	if h == nil || !h.known {
		return nil, false
	}
	if h.last == nil {
		return nil, true
	}
	c := *h.last
	return &c, true
}

// set records the head (nil: none recorded).
func (h *auditHead) set(head *latchkey.AuditHead) {
	h.known, h.last = true, nil
	if head != nil {
		c := *head
		h.last = &c
	}
}

func (h *auditHead) begin() { h.knownBefore, h.lastBefore = h.known, h.last }

func (h *auditHead) end(kept bool) {
	if !kept {
		h.known, h.last = h.knownBefore, h.lastBefore
	}
}

// FindAuditEntries lists the entries a filter selects, newest first, with the total.
func (tx *Tx) FindAuditEntries(ctx context.Context, f latchkey.AuditFilter, p latchkey.Page) ([]*latchkey.AuditEntry, int, error) {
	var w filter
	switch {
	case f.Entity != "" && f.EntityID != 0 && len(f.Related) > 0:
		// The record's own entries, or those of the records that go with it.
		conds, args := []string{"(entity = ? AND entity_id = ?)"}, []any{f.Entity, f.EntityID}
		byEntity, order := map[string][]any{}, []string{}
		for _, r := range f.Related {
			if _, ok := byEntity[r.Entity]; !ok {
				order = append(order, r.Entity)
			}
			byEntity[r.Entity] = append(byEntity[r.Entity], r.ID)
		}
		for _, entity := range order {
			ids := byEntity[entity]
			conds = append(conds, "(entity = ? AND entity_id IN (?"+strings.Repeat(", ?", len(ids)-1)+"))")
			args = append(append(args, entity), ids...)
		}
		w.add("("+strings.Join(conds, " OR ")+")", args...)
	default:
		if f.Entity != "" {
			w.add("entity = ?", f.Entity)
		}
		if f.EntityID != 0 {
			w.add("entity_id = ?", f.EntityID)
		}
	}
	if f.Action != "" {
		w.add("(action = ? OR action LIKE ?)", f.Action, strings.NewReplacer("%", "", "_", "").Replace(f.Action)+".%")
	}
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	var total int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM audit`+w.where(), w.args...).Scan(&total); err != nil {
		return nil, 0, tx.fail(err)
	}
	args := append(append([]any{}, w.args...), p.PageLimit(), max(p.Offset, 0))
	entries, err := queryAll(ctx, tx, `SELECT `+auditColumns+` FROM audit`+w.where()+` ORDER BY seq DESC LIMIT ? OFFSET ?`, args, tx.scanAudit)
	return entries, total, err
}
