package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey"
)

// FindReceipt returns one of a lock's receipts with its contents.
func (tx *Tx) FindReceipt(ctx context.Context, lockID, id int64) (*latchkey.Receipt, error) {
	var rc latchkey.Receipt
	err := tx.queryRow(ctx, `SELECT id, lock_id, name, content_type, size, sha256, added_at, data FROM receipts WHERE lock_id = ? AND id = ?`, lockID, id).
		Scan(&rc.ID, &rc.LockID, &rc.Name, &rc.ContentType, &rc.Size, &rc.SHA256, tx.time(&rc.AddedAt), &rc.Data)
	if err != nil {
		return nil, tx.notFound(err, "receipt of this lock", id)
	}
	return &rc, nil
}
