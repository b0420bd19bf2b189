package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey"
)

var insertEvent = newInsertion("events", `lock_id, kind, source, slot, person_id, actor, detail, at`)

// CreateEvent appends an event.
func (tx *Tx) CreateEvent(ctx context.Context, e *latchkey.Event) (err error) {
	e.ID, err = tx.insert(ctx, insertEvent, e.ID, nullID(e.LockID), e.Kind, e.Source, e.Slot, nullID(e.PersonID), e.Actor, e.Detail, e.At)
	return err
}

// FindEvents lists a lock's events (every lock's for 0), newest first.
func (tx *Tx) FindEvents(ctx context.Context, lockID int64, limit int) ([]*latchkey.Event, error) {
	w := byLock(lockID)
	return queryAll(ctx, tx, `SELECT id, lock_id, kind, source, slot, person_id, actor, detail, at FROM events`+w.where()+` ORDER BY id DESC LIMIT ?`,
		append(w.args, latchkey.Page{Limit: limit}.PageLimit()), func(r scanner) (*latchkey.Event, error) {
			var e latchkey.Event
			return &e, r.Scan(&e.ID, idDest{&e.LockID}, &e.Kind, &e.Source, &e.Slot, idDest{&e.PersonID}, &e.Actor, &e.Detail, tx.time(&e.At))
		})
}
