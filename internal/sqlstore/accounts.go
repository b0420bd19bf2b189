package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

const userColumns = `id, name, role, password_hash, created_at`

const tokenColumns = `id, user_id, name, hash, created_at, expires_at, last_used_at`

var (
	insertUser  = newInsertion("users", `name, role, password_hash, created_at`)
	insertToken = newInsertion("tokens", `user_id, name, hash, created_at, expires_at, last_used_at`)
)

func (tx *Tx) scanUser(row scanner) (*latchkey.User, error) {
	var u latchkey.User
	return &u, row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, tx.time(&u.CreatedAt))
}

// CreateUser inserts an account.
func (tx *Tx) CreateUser(ctx context.Context, u *latchkey.User) (err error) {
	u.ID, err = tx.insert(ctx, insertUser, u.ID, keyText(u.Name), u.Role, u.PasswordHash, u.CreatedAt)
	return err
}

// FindUserByID returns an account.
func (tx *Tx) FindUserByID(ctx context.Context, id int64) (*latchkey.User, error) {
	u, err := tx.scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "user", id)
	}
	return u, nil
}

// FindUserByName returns an account by name.
func (tx *Tx) FindUserByName(ctx context.Context, name string) (*latchkey.User, error) {
	u, err := tx.scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "No user named %q.", name)
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	return u, nil
}

// FindUsers lists accounts.
func (tx *Tx) FindUsers(ctx context.Context, p latchkey.Page) ([]*latchkey.User, int, error) {
	return list(ctx, tx, "users", userColumns, filter{}, p, tx.scanUser)
}

// UpdateUser writes an account's name, role and password hash.
func (tx *Tx) UpdateUser(ctx context.Context, u *latchkey.User) error {
	return tx.writeOne(ctx, "user", u.ID, `UPDATE users SET name = ?, role = ?, password_hash = ? WHERE id = ?`,
		keyText(u.Name), u.Role, u.PasswordHash, u.ID)
}

// DeleteUser removes an account; its sessions and tokens go with it.
func (tx *Tx) DeleteUser(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "user", id, `DELETE FROM users WHERE id = ?`, id)
}

// CreateSession records a session.
func (tx *Tx) CreateSession(ctx context.Context, s *latchkey.Session) error {
	_, err := tx.write(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		keyText(s.ID), s.UserID, s.CreatedAt, s.ExpiresAt)
	return err
}

// FindSession returns a session by its hashed id.
func (tx *Tx) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var s latchkey.Session
	err := tx.queryRow(ctx, `SELECT id, user_id, created_at, expires_at FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.UserID, tx.time(&s.CreatedAt), tx.time(&s.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The session is not known; sign in again.")
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	return &s, nil
}

// DeleteSession removes a session.
func (tx *Tx) DeleteSession(ctx context.Context, id string) error {
	_, err := tx.write(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

// DeleteSessions removes the sessions a filter selects: a user's, or those expired.
func (tx *Tx) DeleteSessions(ctx context.Context, f latchkey.SessionFilter) error {
	var w filter
	if f.UserID != nil {
		w.add("user_id = ?", *f.UserID)
	}
	if f.ExpiredBefore != nil {
		w.add("expires_at < ?", *f.ExpiredBefore)
	}
	if len(w.conds) == 0 {
		return latchkey.Errorf(latchkey.EINTERNAL, "Refusing to delete every session at once.")
	}
	_, err := tx.write(ctx, `DELETE FROM sessions`+w.where(), w.args...)
	return err
}

func (tx *Tx) scanToken(row scanner) (*latchkey.Token, error) {
	var t latchkey.Token
	return &t, row.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, tx.time(&t.CreatedAt), tx.nullTime(&t.ExpiresAt), tx.nullTime(&t.LastUsedAt))
}

// CreateToken records an API token.
func (tx *Tx) CreateToken(ctx context.Context, t *latchkey.Token) (err error) {
	t.ID, err = tx.insert(ctx, insertToken, t.ID, t.UserID, t.Name, keyText(t.Hash), t.CreatedAt, t.ExpiresAt, t.LastUsedAt)
	return err
}

// FindTokenByID returns a token.
func (tx *Tx) FindTokenByID(ctx context.Context, id int64) (*latchkey.Token, error) {
	t, err := tx.scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "API token", id)
	}
	return t, nil
}

// FindTokenByHash returns a token by the hash of its secret.
func (tx *Tx) FindTokenByHash(ctx context.Context, hash string) (*latchkey.Token, error) {
	t, err := tx.scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "No API token has that secret.")
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	return t, nil
}

// FindTokens lists tokens, by id.
func (tx *Tx) FindTokens(ctx context.Context, f latchkey.TokenFilter) ([]*latchkey.Token, error) {
	var w filter
	if f.UserID != nil {
		w.add("user_id = ?", *f.UserID)
	}
	return queryAll(ctx, tx, `SELECT `+tokenColumns+` FROM tokens`+w.where()+` ORDER BY id`, w.args, tx.scanToken)
}

// UpdateToken writes when a token was last used.
func (tx *Tx) UpdateToken(ctx context.Context, t *latchkey.Token) error {
	return tx.writeOne(ctx, "API token", t.ID, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, t.LastUsedAt, t.ID)
}

// DeleteToken removes a token.
func (tx *Tx) DeleteToken(ctx context.Context, id int64) error {
	return tx.writeOne(ctx, "API token", id, `DELETE FROM tokens WHERE id = ?`, id)
}

// DeleteTokens removes every token of a user.
func (tx *Tx) DeleteTokens(ctx context.Context, userID int64) error {
	_, err := tx.write(ctx, `DELETE FROM tokens WHERE user_id = ?`, userID)
	return err
}
