package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const keyColumns = `id, site_id, label, keyway, bitting, state, created_at`

func scanKey(row pgx.Row) (*latchkey.Key, error) {
	var k latchkey.Key
	if err := row.Scan(&k.ID, &k.SiteID, &k.Label, &k.Keyway, &k.Bitting, &k.State, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

func (tx *Tx) copies(ctx context.Context, k *latchkey.Key) error {
	rows, err := tx.tx.Query(ctx, `SELECT id, holder_id, location, state FROM key_copies WHERE key_id = $1 ORDER BY id`, k.ID)
	if err != nil {
		return FormatError(err)
	}
	defer rows.Close()
	k.Copies = nil
	for rows.Next() {
		var c latchkey.KeyCopy
		var holder *int64
		if err := rows.Scan(&c.ID, &holder, &c.Location, &c.State); err != nil {
			return FormatError(err)
		}
		if holder != nil {
			c.HolderID = *holder
		}
		k.Copies = append(k.Copies, c)
	}
	return FormatError(rows.Err())
}

// saveCopies writes a key's copies: new ones (id 0) get an id, known ones are updated,
// and ones with an id not yet stored (a restore) are inserted with it.
func (tx *Tx) saveCopies(ctx context.Context, k *latchkey.Key) error {
	for i := range k.Copies {
		c := &k.Copies[i]
		id, err := tx.insert(ctx, "key_copies", c.ID, `INSERT INTO key_copies (id, key_id, holder_id, location, state) VALUES (`+nextID("key_copies")+`, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET holder_id = excluded.holder_id, location = excluded.location, state = excluded.state
			WHERE key_copies.key_id = excluded.key_id RETURNING id`, k.ID, nullID(c.HolderID), c.Location, string(c.State))
		if err != nil {
			return notFound(err, "key copy", c.ID)
		}
		c.ID = id
	}
	return nil
}

// CreateKey inserts a key and its copies.
func (tx *Tx) CreateKey(ctx context.Context, k *latchkey.Key) (err error) {
	if k.ID, err = tx.insert(ctx, "keys", k.ID, `INSERT INTO keys (id, site_id, label, keyway, bitting, state, created_at) VALUES (`+nextID("keys")+`, $2, $3, $4, $5, $6, $7) RETURNING id`,
		k.SiteID, k.Label, k.Keyway, k.Bitting, string(k.State), k.CreatedAt); err != nil {
		return err
	}
	return tx.saveCopies(ctx, k)
}

// FindKeyByID returns a key with its copies.
func (tx *Tx) FindKeyByID(ctx context.Context, id int64) (*latchkey.Key, error) {
	k, err := scanKey(tx.tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = $1`, id))
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
		args = append(args, *f.SiteID)
		conds = append(conds, fmt.Sprintf("site_id = $%d", len(args)))
	}
	if f.State != nil {
		args = append(args, string(*f.State))
		conds = append(conds, fmt.Sprintf("state = $%d", len(args)))
	}
	keys, total, err := list(ctx, tx, "keys", keyColumns, conds, args, p, scanKey)
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
	if err := tx.exec(ctx, "key", k.ID, `UPDATE keys SET label = $1, keyway = $2, bitting = $3, state = $4 WHERE id = $5`,
		k.Label, k.Keyway, k.Bitting, string(k.State), k.ID); err != nil {
		return err
	}
	return tx.saveCopies(ctx, k)
}

const codeColumns = `id, person_id, label, sealed_pin, schedule, use_limit, one_time, revoked, created_at`

func scanCode(row pgx.Row) (*latchkey.Code, error) {
	var c latchkey.Code
	var schedule []byte
	if err := row.Scan(&c.ID, &c.PersonID, &c.Label, &c.SealedPIN, &schedule, &c.UseLimit, &c.OneTime, &c.Revoked, &c.CreatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, json.Unmarshal(schedule, &c.Schedule)
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
	return []any{c.PersonID, c.Label, sealed, schedule, c.UseLimit, c.OneTime, c.Revoked}, nil
}

// CreateCode inserts a code (its PIN sealed) and sets its id.
func (tx *Tx) CreateCode(ctx context.Context, c *latchkey.Code) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	c.ID, err = tx.insert(ctx, "codes", c.ID, `INSERT INTO codes (id, person_id, label, sealed_pin, schedule, use_limit, one_time, revoked, created_at)
		VALUES (`+nextID("codes")+`, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, append(args, c.CreatedAt)...)
	return err
}

// FindCodeByID returns a code.
func (tx *Tx) FindCodeByID(ctx context.Context, id int64) (*latchkey.Code, error) {
	c, err := scanCode(tx.tx.QueryRow(ctx, `SELECT `+codeColumns+` FROM codes WHERE id = $1`, id))
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
		args = append(args, *f.PersonID)
		conds = append(conds, fmt.Sprintf("person_id = $%d", len(args)))
	}
	if f.LockID != nil {
		args = append(args, *f.LockID)
		conds = append(conds, fmt.Sprintf("id IN (SELECT code_id FROM grants WHERE lock_id = $%d)", len(args)))
	}
	return list(ctx, tx, "codes", codeColumns, conds, args, p, scanCode)
}

// UpdateCode writes a code.
func (tx *Tx) UpdateCode(ctx context.Context, c *latchkey.Code) error {
	args, err := codeArgs(c)
	if err != nil {
		return err
	}
	return tx.exec(ctx, "code", c.ID, `UPDATE codes SET person_id = $1, label = $2, sealed_pin = $3, schedule = $4, use_limit = $5,
		one_time = $6, revoked = $7 WHERE id = $8`, append(args, c.ID)...)
}

const grantColumns = `id, code_id, lock_id, slot, status, reason, updated_at`

// CreateGrant inserts a grant and sets its id.
func (tx *Tx) CreateGrant(ctx context.Context, g *latchkey.Grant) (err error) {
	g.ID, err = tx.insert(ctx, "grants", g.ID, `INSERT INTO grants (id, code_id, lock_id, slot, status, reason, updated_at) VALUES (`+nextID("grants")+`, $2, $3, $4, $5, $6, $7) RETURNING id`,
		g.CodeID, g.LockID, g.Slot, string(g.Status), g.Reason, g.UpdatedAt)
	return err
}

// FindGrants lists grants by code or lock, by id.
func (tx *Tx) FindGrants(ctx context.Context, f latchkey.GrantFilter) ([]*latchkey.Grant, error) {
	var conds []string
	var args []any
	if f.CodeID != nil {
		args = append(args, *f.CodeID)
		conds = append(conds, fmt.Sprintf("code_id = $%d", len(args)))
	}
	if f.LockID != nil {
		args = append(args, *f.LockID)
		conds = append(conds, fmt.Sprintf("lock_id = $%d", len(args)))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := tx.tx.Query(ctx, `SELECT `+grantColumns+` FROM grants`+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, FormatError(err)
	}
	defer rows.Close()
	var out []*latchkey.Grant
	for rows.Next() {
		var g latchkey.Grant
		if err := rows.Scan(&g.ID, &g.CodeID, &g.LockID, &g.Slot, &g.Status, &g.Reason, &g.UpdatedAt); err != nil {
			return nil, FormatError(err)
		}
		g.UpdatedAt = g.UpdatedAt.UTC()
		out = append(out, &g)
	}
	return out, FormatError(rows.Err())
}

// UpdateGrant writes a grant's slot and status.
func (tx *Tx) UpdateGrant(ctx context.Context, g *latchkey.Grant) error {
	return tx.exec(ctx, "grant", g.ID, `UPDATE grants SET slot = $1, status = $2, reason = $3, updated_at = $4 WHERE id = $5`,
		g.Slot, string(g.Status), g.Reason, g.UpdatedAt, g.ID)
}
