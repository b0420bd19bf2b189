package sqlite

import (
	"context"
	"database/sql"

	"github.com/latchkey/latchkey"
)

const userColumns = `id, name, role, password_hash, created_at`

func scanUser(row interface{ Scan(...any) error }) (*latchkey.User, error) {
	var u latchkey.User
	var created string
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	var err error
	u.CreatedAt, err = parseTime(created)
	return &u, err
}

// CreateUser inserts an account.
func (tx *Tx) CreateUser(ctx context.Context, u *latchkey.User) (err error) {
	u.ID, err = tx.insert(ctx, `INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		nullID(u.ID), u.Name, string(u.Role), u.PasswordHash, formatTime(u.CreatedAt))
	return err
}

// FindUserByID returns an account.
func (tx *Tx) FindUserByID(ctx context.Context, id int64) (*latchkey.User, error) {
	u, err := scanUser(tx.tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

// FindUserByName returns an account by name.
func (tx *Tx) FindUserByName(ctx context.Context, name string) (*latchkey.User, error) {
	u, err := scanUser(tx.tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err == sql.ErrNoRows {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "No user named %q.", name)
	}
	return u, FormatError(err)
}

// FindUsers lists accounts.
func (tx *Tx) FindUsers(ctx context.Context, p latchkey.Page) ([]*latchkey.User, int, error) {
	return list(ctx, tx, "users", userColumns, "", nil, p, func(r *sql.Rows) (*latchkey.User, error) { return scanUser(r) })
}

// CreateSession records a session.
func (tx *Tx) CreateSession(ctx context.Context, s *latchkey.Session) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		s.ID, s.UserID, formatTime(s.CreatedAt), formatTime(s.ExpiresAt))
	return FormatError(err)
}

// FindSession returns a session by its hashed id.
func (tx *Tx) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var s latchkey.Session
	var created, expires string
	err := tx.tx.QueryRowContext(ctx, `SELECT id, user_id, created_at, expires_at FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.UserID, &created, &expires)
	if err == sql.ErrNoRows {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The session is not known; sign in again.")
	}
	if err != nil {
		return nil, FormatError(err)
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	s.ExpiresAt, err = parseTime(expires)
	return &s, err
}

// DeleteSession removes a session.
func (tx *Tx) DeleteSession(ctx context.Context, id string) error {
	_, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return FormatError(err)
}

// CreateToken records an API token.
func (tx *Tx) CreateToken(ctx context.Context, t *latchkey.Token) (err error) {
	t.ID, err = tx.insert(ctx, `INSERT INTO tokens (id, user_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		nullID(t.ID), t.UserID, t.Name, t.Hash, formatTime(t.CreatedAt))
	return err
}

// FindTokenByHash returns a token by the hash of its secret.
func (tx *Tx) FindTokenByHash(ctx context.Context, hash string) (*latchkey.Token, error) {
	var t latchkey.Token
	var created string
	err := tx.tx.QueryRowContext(ctx, `SELECT id, user_id, name, hash, created_at FROM tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &created)
	if err == sql.ErrNoRows {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The API token is not known; make one with 'latchkey token create'.")
	}
	if err != nil {
		return nil, FormatError(err)
	}
	t.CreatedAt, err = parseTime(created)
	return &t, err
}
