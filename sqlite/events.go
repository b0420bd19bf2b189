package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
)

// CreateEvent appends an event.
func (tx *Tx) CreateEvent(ctx context.Context, e *latchkey.Event) (err error) {
	e.ID, err = tx.insert(ctx, `INSERT INTO events (id, lock_id, kind, source, slot, person_id, actor, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullID(e.ID), nullID(e.LockID), string(e.Kind), string(e.Source), e.Slot, nullID(e.PersonID), e.Actor, e.Detail, formatTime(e.At))
	return err
}

// FindEvents lists a lock's events (every lock's for 0), newest first.
func (tx *Tx) FindEvents(ctx context.Context, lockID int64, limit int) ([]*latchkey.Event, error) {
	q, args := `SELECT id, lock_id, kind, source, slot, person_id, actor, detail, at FROM events`, []any{}
	if lockID != 0 {
		q, args = q+` WHERE lock_id = ?`, append(args, lockID)
	}
	return queryAll(ctx, tx, q+` ORDER BY id DESC LIMIT ?`, append(args, latchkey.Page{Limit: limit}.PageLimit()), func(r *sql.Rows) (*latchkey.Event, error) {
		var e latchkey.Event
		var lock, person sql.NullInt64
		var at string
		if err := r.Scan(&e.ID, &lock, &e.Kind, &e.Source, &e.Slot, &person, &e.Actor, &e.Detail, &at); err != nil {
			return nil, err
		}
		e.LockID, e.PersonID = lock.Int64, person.Int64
		var err error
		e.At, err = parseTime(at)
		return &e, err
	})
}
