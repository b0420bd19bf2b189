package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/latchkey/latchkey"
)

const keyColumns = `id, site_id, label, keyway, bitting, sealed_bitting, state, created_at`

var (
	insertKey  = newInsertion("keys", `site_id, label, keyway, bitting, sealed_bitting, state, created_at`)
	insertCopy = newInsertion("key_copies", `key_id, holder_id, location, state`)
)

func (tx *Tx) scanKey(row scanner) (*latchkey.Key, error) {
	var k latchkey.Key
	return &k, row.Scan(&k.ID, &k.SiteID, &k.Label, &k.Keyway, &k.Bitting, &k.SealedBitting, &k.State, tx.time(&k.CreatedAt))
}

// copies loads a key's copies.
func (tx *Tx) copies(ctx context.Context, k *latchkey.Key) (err error) {
	k.Copies, err = queryAll(ctx, tx, `SELECT id, holder_id, location, state FROM key_copies WHERE key_id = ? ORDER BY id`, []any{k.ID},
		func(r scanner) (latchkey.KeyCopy, error) {
			var c latchkey.KeyCopy
			err := r.Scan(&c.ID, idDest{&c.HolderID}, &c.Location, &c.State)
			return c, err
		})
	return err
}

// saveCopies writes a key's copies: new ones (id 0) get an id, known ones are updated,
// and ones with an id not yet stored (a restore) are inserted with it; an id that is
// another key's copy is a conflict.
func (tx *Tx) saveCopies(ctx context.Context, k *latchkey.Key) error {
	for i := range k.Copies {
		c := &k.Copies[i]
		if c.ID != 0 {
			n, err := tx.write(ctx, `UPDATE key_copies SET holder_id = ?, location = ?, state = ? WHERE id = ? AND key_id = ?`,
				nullID(c.HolderID), c.Location, c.State, c.ID, k.ID)
			if err != nil {
				return err
			}
			if n == 1 {
				continue
			}
		}
		id, err := tx.insert(ctx, insertCopy, c.ID, k.ID, nullID(c.HolderID), c.Location, c.State)
		if err != nil {
			return err
		}
		c.ID = id
	}
	return nil
}

// sealedBytes stores a missing sealed secret as an empty blob (the columns are NOT NULL).
func sealedBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateKey inserts a key and its copies.
func (tx *Tx) CreateKey(ctx context.Context, k *latchkey.Key) (err error) {
	if k.ID, err = tx.insert(ctx, insertKey, k.ID, k.SiteID, k.Label, k.Keyway, k.Bitting, sealedBytes(k.SealedBitting), k.State, k.CreatedAt); err != nil {
		return err
	}
	return tx.saveCopies(ctx, k)
}

// FindKeyByID returns a key with its copies.
func (tx *Tx) FindKeyByID(ctx context.Context, id int64) (*latchkey.Key, error) {
	k, err := tx.scanKey(tx.queryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "key", id)
	}
	return k, tx.copies(ctx, k)
}

// FindKeys lists keys with their copies.
func (tx *Tx) FindKeys(ctx context.Context, f latchkey.KeyFilter, p latchkey.Page) ([]*latchkey.Key, int, error) {
	var w filter
	if f.SiteID != nil {
		w.add("site_id = ?", *f.SiteID)
	}
	if f.State != nil {
		w.add("state = ?", *f.State)
	}
	if f.Unsealed {
		w.add("length(sealed_bitting) = 0")
	}
	keys, total, err := list(ctx, tx, "keys", keyColumns, w, p, tx.scanKey)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range keys {
		if err := tx.copies(ctx, k); err != nil {
			return nil, 0, err
		}
	}
	return keys, total, nil
}

// UpdateKey writes a key and its copies.
func (tx *Tx) UpdateKey(ctx context.Context, k *latchkey.Key) error {
	if err := tx.writeOne(ctx, "key", k.ID, `UPDATE keys SET label = ?, keyway = ?, bitting = ?, sealed_bitting = ?, state = ? WHERE id = ?`,
		k.Label, k.Keyway, k.Bitting, sealedBytes(k.SealedBitting), k.State, k.ID); err != nil {
		return err
	}
	return tx.saveCopies(ctx, k)
}

const codeColumns = `id, person_id, label, sealed_pin, schedule, use_limit, one_time, revoked, created_at`

var insertCode = newInsertion("codes", `person_id, label, sealed_pin, schedule, use_limit, one_time, revoked, created_at`)

func (tx *Tx) scanCode(row scanner) (*latchkey.Code, error) {
	var c latchkey.Code
	var schedule string
	if err := row.Scan(&c.ID, &c.PersonID, &c.Label, &c.SealedPIN, &schedule, &c.UseLimit, &c.OneTime, &c.Revoked, tx.time(&c.CreatedAt)); err != nil {
		return nil, err
	}
	return &c, json.Unmarshal([]byte(schedule), &c.Schedule)
}

// codeArgs are a code's columns from person_id to revoked.
func codeArgs(c *latchkey.Code) ([]any, error) {
	// The schedule is stored as JSON, where a NUL would be escaped out of checkText's
	// sight and then refused by PostgreSQL's JSONB alone.
	if err := checkText(string(c.Schedule.Kind)); err != nil {
		return nil, err
	}
	schedule, err := json.Marshal(c.Schedule)
	if err != nil {
		return nil, err
	}
	sealed := sealedBytes(c.SealedPIN)
	return []any{c.PersonID, c.Label, sealed, string(schedule), c.UseLimit, c.OneTime, c.Revoked}, nil
}

// CreateCode inserts a code (its PIN sealed) and sets its id.
func (tx *Tx) CreateCode(ctx context.Context, c *latchkey.Code) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	c.ID, err = tx.insert(ctx, insertCode, c.ID, append(args, c.CreatedAt)...)
	return err
}

// FindCodeByID returns a code.
func (tx *Tx) FindCodeByID(ctx context.Context, id int64) (*latchkey.Code, error) {
	c, err := tx.scanCode(tx.queryRow(ctx, `SELECT `+codeColumns+` FROM codes WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "code", id)
	}
	return c, nil
}

// FindCodes lists codes, by person or by a lock they are placed on.
func (tx *Tx) FindCodes(ctx context.Context, f latchkey.CodeFilter, p latchkey.Page) ([]*latchkey.Code, int, error) {
	var w filter
	if f.PersonID != nil {
		w.add("person_id = ?", *f.PersonID)
	}
	if f.LockID != nil {
		w.add("id IN (SELECT code_id FROM grants WHERE lock_id = ?)", *f.LockID)
	}
	return list(ctx, tx, "codes", codeColumns, w, p, tx.scanCode)
}

// UpdateCode writes a code.
func (tx *Tx) UpdateCode(ctx context.Context, c *latchkey.Code) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	return tx.writeOne(ctx, "code", c.ID, `UPDATE codes SET person_id = ?, label = ?, sealed_pin = ?, schedule = ?, use_limit = ?,
		one_time = ?, revoked = ? WHERE id = ?`, append(args, c.ID)...)
}

const grantColumns = `id, code_id, lock_id, slot, status, problem, problem_slot, reason, alert, next_attempt, uses, attempts, delay_noted_at, updated_at`

var insertGrant = newInsertion("grants", `code_id, lock_id, slot, status, problem, problem_slot, reason, alert, next_attempt, uses, attempts, delay_noted_at, updated_at`)

// CreateGrant inserts a grant and sets its id.
func (tx *Tx) CreateGrant(ctx context.Context, g *latchkey.Grant) (err error) {
	g.ID, err = tx.insert(ctx, insertGrant, g.ID, g.CodeID, g.LockID, g.Slot, g.Status, g.Problem, g.ProblemSlot, g.Reason, g.Alert, g.NextAttempt, g.Uses, g.Attempts, g.DelayNotedAt, g.UpdatedAt)
	return err
}

// FindGrants lists grants by code or lock, by id.
func (tx *Tx) FindGrants(ctx context.Context, f latchkey.GrantFilter) ([]*latchkey.Grant, error) {
	var w filter
	if f.CodeID != nil {
		w.add("code_id = ?", *f.CodeID)
	}
	if f.LockID != nil {
		w.add("lock_id = ?", *f.LockID)
	}
	if f.LockIDs != nil {
		if err := w.addIn("lock_id", f.LockIDs); err != nil {
			return nil, err
		}
	}
	return queryAll(ctx, tx, `SELECT `+grantColumns+` FROM grants`+w.where()+` ORDER BY id`, w.args,
		func(r scanner) (*latchkey.Grant, error) {
			var g latchkey.Grant
			return &g, r.Scan(&g.ID, &g.CodeID, &g.LockID, &g.Slot, &g.Status, &g.Problem, &g.ProblemSlot, &g.Reason, &g.Alert,
				tx.nullTime(&g.NextAttempt), &g.Uses, &g.Attempts, tx.nullTime(&g.DelayNotedAt), tx.time(&g.UpdatedAt))
		})
}

// UpdateGrant writes a grant's slot, status, problem, alert, next attempt and uses.
func (tx *Tx) UpdateGrant(ctx context.Context, g *latchkey.Grant) error {
	return tx.writeOne(ctx, "grant", g.ID, `UPDATE grants SET slot = ?, status = ?, problem = ?, problem_slot = ?, reason = ?, alert = ?,
		next_attempt = ?, uses = ?, attempts = ?, delay_noted_at = ?, updated_at = ? WHERE id = ?`,
		g.Slot, g.Status, g.Problem, g.ProblemSlot, g.Reason, g.Alert, g.NextAttempt, g.Uses, g.Attempts, g.DelayNotedAt, g.UpdatedAt, g.ID)
}

const foreignColumns = `id, lock_id, slot, source, seen_at, clearing, reason`

var insertForeign = newInsertion("foreign_codes", `lock_id, slot, source, seen_at, clearing, reason`)

// CreateForeignCode inserts a code found in a slot Latchkey does not own.
func (tx *Tx) CreateForeignCode(ctx context.Context, f *latchkey.ForeignCode) (err error) {
	f.ID, err = tx.insert(ctx, insertForeign, f.ID, f.LockID, f.Slot, f.Source, f.SeenAt, f.Clearing, f.Reason)
	return err
}

// FindForeignCodes lists a lock's foreign codes (every lock's for 0) by lock and slot.
func (tx *Tx) FindForeignCodes(ctx context.Context, lockID int64) ([]*latchkey.ForeignCode, error) {
	return tx.findForeign(ctx, byLock(lockID))
}

// FindForeignCodesOn lists the foreign codes on any of the locks given, by lock and slot.
func (tx *Tx) FindForeignCodesOn(ctx context.Context, lockIDs []int64) ([]*latchkey.ForeignCode, error) {
	var w filter
	if err := w.addIn("lock_id", lockIDs); err != nil {
		return nil, err
	}
	return tx.findForeign(ctx, w)
}

func (tx *Tx) findForeign(ctx context.Context, w filter) ([]*latchkey.ForeignCode, error) {
	return queryAll(ctx, tx, `SELECT `+foreignColumns+` FROM foreign_codes`+w.where()+` ORDER BY lock_id, slot`, w.args,
		func(r scanner) (*latchkey.ForeignCode, error) {
			var f latchkey.ForeignCode
			return &f, r.Scan(&f.ID, &f.LockID, &f.Slot, &f.Source, tx.time(&f.SeenAt), &f.Clearing, &f.Reason)
		})
}

// UpdateForeignCode writes whether a foreign code is being cleared, and why not yet.
func (tx *Tx) UpdateForeignCode(ctx context.Context, f *latchkey.ForeignCode) error {
	return tx.writeOne(ctx, "foreign code", f.ID, `UPDATE foreign_codes SET clearing = ?, reason = ? WHERE id = ?`, f.Clearing, f.Reason, f.ID)
}

// DeleteForeignCode removes a foreign code from the list.
func (tx *Tx) DeleteForeignCode(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "foreign code", id, `DELETE FROM foreign_codes WHERE id = ?`, id)
}
