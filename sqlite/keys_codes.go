package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/latchkey/latchkey"
)

const keyColumns = `id, site_id, label, keyway, bitting, state, created_at`

func scanKey(row interface{ Scan(...any) error }) (*latchkey.Key, error) {
	var k latchkey.Key
	var created string
	if err := row.Scan(&k.ID, &k.SiteID, &k.Label, &k.Keyway, &k.Bitting, &k.State, &created); err != nil {
		return nil, err
	}
	var err error
	k.CreatedAt, err = parseTime(created)
	return &k, err
}

// copies loads a key's copies.
func (tx *Tx) copies(ctx context.Context, k *latchkey.Key) error {
	rows, err := tx.tx.QueryContext(ctx, `SELECT id, holder_id, location, state FROM key_copies WHERE key_id = ? ORDER BY id`, k.ID)
	if err != nil {
		return FormatError(err)
	}
	defer rows.Close()
	k.Copies = nil
	for rows.Next() {
		var c latchkey.KeyCopy
		var holder sql.NullInt64
		if err := rows.Scan(&c.ID, &holder, &c.Location, &c.State); err != nil {
			return FormatError(err)
		}
		c.HolderID = holder.Int64
		k.Copies = append(k.Copies, c)
	}
	return FormatError(rows.Err())
}

// saveCopies writes a key's copies: new ones (id 0) get an id, known ones are updated,
// and ones with an id not yet stored (a restore) are inserted with it.
func (tx *Tx) saveCopies(ctx context.Context, k *latchkey.Key) error {
	for i := range k.Copies {
		c := &k.Copies[i]
		var id int64
		err := tx.tx.QueryRowContext(ctx, `INSERT INTO key_copies (id, key_id, holder_id, location, state) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET holder_id = excluded.holder_id, location = excluded.location, state = excluded.state
			WHERE key_copies.key_id = excluded.key_id RETURNING id`,
			nullID(c.ID), k.ID, nullID(c.HolderID), c.Location, string(c.State)).Scan(&id)
		if err != nil {
			return notFound(err, "key copy", c.ID)
		}
		c.ID = id
	}
	return nil
}

// CreateKey inserts a key and its copies.
func (tx *Tx) CreateKey(ctx context.Context, k *latchkey.Key) (err error) {
	if k.ID, err = tx.insert(ctx, `INSERT INTO keys (id, site_id, label, keyway, bitting, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		nullID(k.ID), k.SiteID, k.Label, k.Keyway, k.Bitting, string(k.State), formatTime(k.CreatedAt)); err != nil {
		return err
	}
	return tx.saveCopies(ctx, k)
}

// FindKeyByID returns a key with its copies.
func (tx *Tx) FindKeyByID(ctx context.Context, id int64) (*latchkey.Key, error) {
	k, err := scanKey(tx.tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "key", id)
	}
	return k, tx.copies(ctx, k)
}

// FindKeys lists keys with their copies.
func (tx *Tx) FindKeys(ctx context.Context, f latchkey.KeyFilter, p latchkey.Page) ([]*latchkey.Key, int, error) {
	var conds []string
	var args []any
	if f.SiteID != nil {
		conds, args = append(conds, "site_id = ?"), append(args, *f.SiteID)
	}
	if f.State != nil {
		conds, args = append(conds, "state = ?"), append(args, string(*f.State))
	}
	keys, total, err := list(ctx, tx, "keys", keyColumns, where(conds), args, p, func(r *sql.Rows) (*latchkey.Key, error) { return scanKey(r) })
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
	if err := tx.exec(ctx, "key", k.ID, `UPDATE keys SET label = ?, keyway = ?, bitting = ?, state = ? WHERE id = ?`,
		k.Label, k.Keyway, k.Bitting, string(k.State), k.ID); err != nil {
		return err
	}
	return tx.saveCopies(ctx, k)
}

const codeColumns = `id, person_id, label, sealed_pin, schedule, use_limit, one_time, revoked, created_at`

func scanCode(row interface{ Scan(...any) error }) (*latchkey.Code, error) {
	var c latchkey.Code
	var schedule, created string
	if err := row.Scan(&c.ID, &c.PersonID, &c.Label, &c.SealedPIN, &schedule, &c.UseLimit, &c.OneTime, &c.Revoked, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(schedule), &c.Schedule); err != nil {
		return nil, err
	}
	var err error
	c.CreatedAt, err = parseTime(created)
	return &c, err
}

func codeArgs(c *latchkey.Code) ([]any, error) {
	schedule, err := json.Marshal(c.Schedule)
	if err != nil {
		return nil, err
	}
	sealed := c.SealedPIN
	if sealed == nil {
		sealed = []byte{}
	}
	return []any{c.PersonID, c.Label, sealed, string(schedule), c.UseLimit, c.OneTime, c.Revoked}, nil
}

// CreateCode inserts a code (its PIN sealed) and sets its id.
func (tx *Tx) CreateCode(ctx context.Context, c *latchkey.Code) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	c.ID, err = tx.insert(ctx, `INSERT INTO codes (id, person_id, label, sealed_pin, schedule, use_limit, one_time, revoked, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(append([]any{nullID(c.ID)}, args...), formatTime(c.CreatedAt))...)
	return err
}

// FindCodeByID returns a code.
func (tx *Tx) FindCodeByID(ctx context.Context, id int64) (*latchkey.Code, error) {
	c, err := scanCode(tx.tx.QueryRowContext(ctx, `SELECT `+codeColumns+` FROM codes WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "code", id)
	}
	return c, nil
}

// FindCodes lists codes, by person or by a lock they are placed on.
func (tx *Tx) FindCodes(ctx context.Context, f latchkey.CodeFilter, p latchkey.Page) ([]*latchkey.Code, int, error) {
	var conds []string
	var args []any
	if f.PersonID != nil {
		conds, args = append(conds, "person_id = ?"), append(args, *f.PersonID)
	}
	if f.LockID != nil {
		conds, args = append(conds, "id IN (SELECT code_id FROM grants WHERE lock_id = ?)"), append(args, *f.LockID)
	}
	return list(ctx, tx, "codes", codeColumns, where(conds), args, p, func(r *sql.Rows) (*latchkey.Code, error) { return scanCode(r) })
}

// UpdateCode writes a code.
func (tx *Tx) UpdateCode(ctx context.Context, c *latchkey.Code) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	return tx.exec(ctx, "code", c.ID, `UPDATE codes SET person_id = ?, label = ?, sealed_pin = ?, schedule = ?, use_limit = ?,
		one_time = ?, revoked = ? WHERE id = ?`, append(args, c.ID)...)
}

const grantColumns = `id, code_id, lock_id, slot, status, reason, updated_at`

// CreateGrant inserts a grant and sets its id.
func (tx *Tx) CreateGrant(ctx context.Context, g *latchkey.Grant) (err error) {
	g.ID, err = tx.insert(ctx, `INSERT INTO grants (id, code_id, lock_id, slot, status, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		nullID(g.ID), g.CodeID, g.LockID, g.Slot, string(g.Status), g.Reason, formatTime(g.UpdatedAt))
	return err
}

// FindGrants lists grants by code or lock, by id.
func (tx *Tx) FindGrants(ctx context.Context, f latchkey.GrantFilter) ([]*latchkey.Grant, error) {
	var conds []string
	var args []any
	if f.CodeID != nil {
		conds, args = append(conds, "code_id = ?"), append(args, *f.CodeID)
	}
	if f.LockID != nil {
		conds, args = append(conds, "lock_id = ?"), append(args, *f.LockID)
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+grantColumns+` FROM grants`+where(conds)+` ORDER BY id`, args...)
	if err != nil {
		return nil, FormatError(err)
	}
	defer rows.Close()
	var out []*latchkey.Grant
	for rows.Next() {
		var g latchkey.Grant
		var updated string
		if err := rows.Scan(&g.ID, &g.CodeID, &g.LockID, &g.Slot, &g.Status, &g.Reason, &updated); err != nil {
			return nil, FormatError(err)
		}
		if g.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, &g)
	}
	return out, FormatError(rows.Err())
}

// UpdateGrant writes a grant's slot and status.
func (tx *Tx) UpdateGrant(ctx context.Context, g *latchkey.Grant) error {
	return tx.exec(ctx, "grant", g.ID, `UPDATE grants SET slot = ?, status = ?, reason = ?, updated_at = ? WHERE id = ?`,
		g.Slot, string(g.Status), g.Reason, formatTime(g.UpdatedAt), g.ID)
}
