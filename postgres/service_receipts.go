package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// CreateServiceEntry appends to a lock's service log.
func (tx *Tx) CreateServiceEntry(ctx context.Context, e *latchkey.ServiceEntry) (err error) {
	e.ID, err = tx.insert(ctx, "service_log", e.ID, `INSERT INTO service_log (id, lock_id, at, actor, kind, note, warranty_relevant)
		VALUES (`+nextID("service_log")+`, $2, $3, $4, $5, $6, $7) RETURNING id`,
		e.LockID, e.At, e.Actor, string(e.Kind), e.Note, e.WarrantyRelevant)
	return err
}

// FindServiceEntries returns a lock's service log (every lock's for 0), oldest first.
func (tx *Tx) FindServiceEntries(ctx context.Context, lockID int64) ([]*latchkey.ServiceEntry, error) {
	q, args := `SELECT id, lock_id, at, actor, kind, note, warranty_relevant FROM service_log`, []any{}
	if lockID != 0 {
		q, args = q+` WHERE lock_id = $1`, append(args, lockID)
	}
	return queryAll(ctx, tx, q+` ORDER BY id`, args, func(r pgx.Rows) (*latchkey.ServiceEntry, error) {
		var e latchkey.ServiceEntry
		if err := r.Scan(&e.ID, &e.LockID, &e.At, &e.Actor, &e.Kind, &e.Note, &e.WarrantyRelevant); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		return &e, nil
	})
}

// CreateReceipt stores a receipt with its contents.
func (tx *Tx) CreateReceipt(ctx context.Context, r *latchkey.Receipt) (err error) {
	r.ID, err = tx.insert(ctx, "receipts", r.ID, `INSERT INTO receipts (id, lock_id, name, content_type, size, sha256, added_at, data)
		VALUES (`+nextID("receipts")+`, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		r.LockID, r.Name, r.ContentType, r.Size, r.SHA256, r.AddedAt, r.Data)
	return err
}

// FindReceipts lists a lock's receipts (every lock's for 0), with their contents when asked.
func (tx *Tx) FindReceipts(ctx context.Context, lockID int64, withData bool) ([]*latchkey.Receipt, error) {
	data := `''::bytea`
	if withData {
		data = `data`
	}
	q, args := `SELECT id, lock_id, name, content_type, size, sha256, added_at, `+data+` FROM receipts`, []any{}
	if lockID != 0 {
		q, args = q+` WHERE lock_id = $1`, append(args, lockID)
	}
	return queryAll(ctx, tx, q+` ORDER BY id`, args, func(r pgx.Rows) (*latchkey.Receipt, error) {
		var rc latchkey.Receipt
		if err := r.Scan(&rc.ID, &rc.LockID, &rc.Name, &rc.ContentType, &rc.Size, &rc.SHA256, &rc.AddedAt, &rc.Data); err != nil {
			return nil, err
		}
		if !withData {
			rc.Data = nil
		}
		rc.AddedAt = rc.AddedAt.UTC()
		return &rc, nil
	})
}

// queryAll runs a query and scans every row.
func queryAll[T any](ctx context.Context, tx *Tx, q string, args []any, scan func(pgx.Rows) (T, error)) ([]T, error) {
	rows, err := tx.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, FormatError(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, FormatError(err)
		}
		out = append(out, v)
	}
	return out, FormatError(rows.Err())
}
