package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// CreateEvent appends an event.
func (tx *Tx) CreateEvent(ctx context.Context, e *latchkey.Event) (err error) {
	e.ID, err = tx.insert(ctx, "events", e.ID, `INSERT INTO events (id, lock_id, kind, source, slot, person_id, actor, detail, at)
		VALUES (`+nextID("events")+`, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		nullID(e.LockID), string(e.Kind), string(e.Source), e.Slot, nullID(e.PersonID), e.Actor, e.Detail, e.At)
	return err
}

// FindEvents lists a lock's events (every lock's for 0), newest first.
func (tx *Tx) FindEvents(ctx context.Context, lockID int64, limit int) ([]*latchkey.Event, error) {
	q, args := `SELECT id, lock_id, kind, source, slot, person_id, actor, detail, at FROM events`, []any{}
	if lockID != 0 {
		q, args = q+` WHERE lock_id = $1`, append(args, lockID)
	}
	args = append(args, latchkey.Page{Limit: limit}.PageLimit())
	q += ` ORDER BY id DESC LIMIT $` + string(rune('0'+len(args)))
	return queryAll(ctx, tx, q, args, func(r pgx.Rows) (*latchkey.Event, error) {
		var e latchkey.Event
		var lock, person *int64
		if err := r.Scan(&e.ID, &lock, &e.Kind, &e.Source, &e.Slot, &person, &e.Actor, &e.Detail, &e.At); err != nil {
			return nil, err
		}
		if lock != nil {
			e.LockID = *lock
		}
		if person != nil {
			e.PersonID = *person
		}
		e.At = e.At.UTC()
		return &e, nil
	})
}
