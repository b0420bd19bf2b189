package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

const userColumns = `id, name, role, password_hash, created_at`

var (
	insertUser  = newInsertion("users", `name, role, password_hash, created_at`)
	insertToken = newInsertion("tokens", `user_id, name, hash, created_at`)
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

// CreateToken records an API token.
func (tx *Tx) CreateToken(ctx context.Context, t *latchkey.Token) (err error) {
	t.ID, err = tx.insert(ctx, insertToken, t.ID, t.UserID, t.Name, keyText(t.Hash), t.CreatedAt)
	return err
}

// FindTokenByHash returns a token by the hash of its secret.
func (tx *Tx) FindTokenByHash(ctx context.Context, hash string) (*latchkey.Token, error) {
	var t latchkey.Token
	err := tx.queryRow(ctx, `SELECT id, user_id, name, hash, created_at FROM tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, tx.time(&t.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The API token is not known; make one with 'latchkey token create'.")
	}
	if err != nil {
		return nil, tx.fail(err)
	}
	return &t, nil
}
