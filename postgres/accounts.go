package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const userColumns = `id, name, role, password_hash, created_at`

func scanUser(row pgx.Row) (*latchkey.User, error) {
	var u latchkey.User
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.CreatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// CreateUser inserts an account.
func (tx *Tx) CreateUser(ctx context.Context, u *latchkey.User) (err error) {
	u.ID, err = tx.insert(ctx, "users", u.ID, `INSERT INTO users (id, name, role, password_hash, created_at) VALUES (`+nextID("users")+`, $2, $3, $4, $5) RETURNING id`,
		u.Name, string(u.Role), u.PasswordHash, u.CreatedAt)
	return err
}

// FindUserByID returns an account.
func (tx *Tx) FindUserByID(ctx context.Context, id int64) (*latchkey.User, error) {
	u, err := scanUser(tx.tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

// FindUserByName returns an account by name.
func (tx *Tx) FindUserByName(ctx context.Context, name string) (*latchkey.User, error) {
	u, err := scanUser(tx.tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "No user named %q.", name)
	}
	return u, FormatError(err)
}

// FindUsers lists accounts.
func (tx *Tx) FindUsers(ctx context.Context, p latchkey.Page) ([]*latchkey.User, int, error) {
	return list(ctx, tx, "users", userColumns, nil, nil, p, scanUser)
}

// CreateSession records a session.
func (tx *Tx) CreateSession(ctx context.Context, s *latchkey.Session) error {
	_, err := tx.tx.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.ID, s.UserID, s.CreatedAt, s.ExpiresAt)
	return FormatError(err)
}

// FindSession returns a session by its hashed id.
func (tx *Tx) FindSession(ctx context.Context, id string) (*latchkey.Session, error) {
	var s latchkey.Session
	err := tx.tx.QueryRow(ctx, `SELECT id, user_id, created_at, expires_at FROM sessions WHERE id = $1`, id).
		Scan(&s.ID, &s.UserID, &s.CreatedAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The session is not known; sign in again.")
	}
	return &s, FormatError(err)
}

// DeleteSession removes a session.
func (tx *Tx) DeleteSession(ctx context.Context, id string) error {
	_, err := tx.tx.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return FormatError(err)
}

// CreateToken records an API token.
func (tx *Tx) CreateToken(ctx context.Context, t *latchkey.Token) (err error) {
	t.ID, err = tx.insert(ctx, "tokens", t.ID, `INSERT INTO tokens (id, user_id, name, hash, created_at) VALUES (`+nextID("tokens")+`, $2, $3, $4, $5) RETURNING id`,
		t.UserID, t.Name, t.Hash, t.CreatedAt)
	return err
}

// FindTokenByHash returns a token by the hash of its secret.
func (tx *Tx) FindTokenByHash(ctx context.Context, hash string) (*latchkey.Token, error) {
	var t latchkey.Token
	err := tx.tx.QueryRow(ctx, `SELECT id, user_id, name, hash, created_at FROM tokens WHERE hash = $1`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The API token is not known; make one with 'latchkey token create'.")
	}
	return &t, FormatError(err)
}
