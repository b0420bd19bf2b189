package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey"
)

var (
	insertServiceEntry = newInsertion("service_log", `lock_id, at, actor, kind, note, warranty_relevant`)
	insertReceipt      = newInsertion("receipts", `lock_id, name, content_type, size, sha256, added_at, data`)
)

// byLock returns the WHERE clause of a list of one lock's rows, or of every lock's for 0.
func byLock(lockID int64) filter {
	var w filter
	if lockID != 0 {
		w.add("lock_id = ?", lockID)
	}
	return w
}

// CreateServiceEntry appends to a lock's service log.
func (tx *Tx) CreateServiceEntry(ctx context.Context, e *latchkey.ServiceEntry) (err error) {
	e.ID, err = tx.insert(ctx, insertServiceEntry, e.ID, e.LockID, e.At, e.Actor, e.Kind, e.Note, e.WarrantyRelevant)
	return err
}

// FindServiceEntries returns a lock's service log (every lock's for 0), oldest first.
func (tx *Tx) FindServiceEntries(ctx context.Context, lockID int64) ([]*latchkey.ServiceEntry, error) {
	w := byLock(lockID)
	return queryAll(ctx, tx, `SELECT id, lock_id, at, actor, kind, note, warranty_relevant FROM service_log`+w.where()+` ORDER BY id`, w.args,
		func(r scanner) (*latchkey.ServiceEntry, error) {
			var e latchkey.ServiceEntry
			return &e, r.Scan(&e.ID, &e.LockID, tx.time(&e.At), &e.Actor, &e.Kind, &e.Note, &e.WarrantyRelevant)
		})
}

// CreateReceipt stores a receipt with its contents.
func (tx *Tx) CreateReceipt(ctx context.Context, r *latchkey.Receipt) (err error) {
	r.ID, err = tx.insert(ctx, insertReceipt, r.ID, r.LockID, r.Name, r.ContentType, r.Size, r.SHA256, r.AddedAt, r.Data)
	return err
}

// FindReceipts lists a lock's receipts (every lock's for 0), with their contents when asked.
func (tx *Tx) FindReceipts(ctx context.Context, lockID int64, withData bool) ([]*latchkey.Receipt, error) {
	columns := `id, lock_id, name, content_type, size, sha256, added_at`
	if withData {
		columns += `, data`
	}
	w := byLock(lockID)
	return queryAll(ctx, tx, `SELECT `+columns+` FROM receipts`+w.where()+` ORDER BY id`, w.args,
		func(r scanner) (*latchkey.Receipt, error) {
			var rc latchkey.Receipt
			dest := []any{&rc.ID, &rc.LockID, &rc.Name, &rc.ContentType, &rc.Size, &rc.SHA256, tx.time(&rc.AddedAt)}
			if withData {
				dest = append(dest, &rc.Data)
			}
			return &rc, r.Scan(dest...)
		})
}
