package latchkey

import (
	"context"
	"slices"
	"strings"
	"time"
)

// UserRole is what a person may do in Latchkey itself (SPEC §4.9).
type UserRole string

// User roles, most powerful first.
const (
	UserOwner     UserRole = "owner"     // everything, including accounts and settings
	UserManager   UserRole = "manager"   // every record and procedure; reveals codes
	UserInstaller UserRole = "installer" // runs procedures and changes records; may not reveal codes
	UserViewer    UserRole = "viewer"    // reads
)

// Permission is a kind of act the roles allow or not.
type Permission string

// Permissions.
const (
	PermRead   Permission = "read records"
	PermWrite  Permission = "change records"
	PermReveal Permission = "reveal codes"
	PermAdmin  Permission = "manage accounts"
)

// rolePermissions is SPEC §4.9's role table. It is closed: a permission added later is
// allowed to no role until it is written here.
var rolePermissions = map[UserRole][]Permission{
	UserOwner:     {PermRead, PermWrite, PermReveal, PermAdmin},
	UserManager:   {PermRead, PermWrite, PermReveal},
	UserInstaller: {PermRead, PermWrite},
	UserViewer:    {PermRead},
}

// Allows reports whether the role may do p.
func (r UserRole) Allows(p Permission) bool {
	return slices.Contains(rolePermissions[r], p)
}

// Principal is who is acting: a signed-in user, a token's user, or the local command
// line (which acts as the owner of its data directory).
type Principal struct {
	UserID int64    `json:"user_id,omitempty"`
	Name   string   `json:"name"`
	Role   UserRole `json:"role"`
}

const principalKey contextKey = 1

// NewContextWithPrincipal returns a context carrying who is acting.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns who is acting, if anyone.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey).(Principal)
	return p, ok
}

// require refuses an act the acting principal's role does not allow.
func require(ctx context.Context, p Permission) error {
	who, ok := PrincipalFromContext(ctx)
	if !ok {
		return Errorf(EUNAUTHORIZED, "Sign in first.")
	}
	if !who.Role.Allows(p) {
		return Errorf(EFORBIDDEN, "A %s may not %s; ask an owner or a manager.", who.Role, p)
	}
	return nil
}

// User is an account in Latchkey.
type User struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Role         UserRole  `json:"role"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Validate checks a user's name and role.
func (u *User) Validate() error {
	if err := validateName("User name", u.Name); err != nil {
		return err
	}
	if strings.ContainsAny(u.Name, " \t") || len(u.Name) > 64 {
		return Errorf(EINVALID, "A user name is one word of at most 64 characters, such as ana or ana@example.com.")
	}
	switch u.Role {
	case UserOwner, UserManager, UserInstaller, UserViewer:
		return nil
	}
	return Errorf(EINVALID, "Unknown role %q; use owner, manager, installer or viewer.", u.Role)
}

// Session is a signed-in browser. ID is the hash of the cookie's secret, so a copy of
// the database holds no usable session.
type Session struct {
	ID        string    `json:"-"`
	UserID    int64     `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Token is an API token. Hash is the hash of the token's secret; the secret itself is
// shown once, when the token is made.
type Token struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateUser adds an account. The first account may be created by anyone (first run);
// later ones only by an owner.
func (s *Service) CreateUser(ctx context.Context, u *User) error {
	u.Name = strings.TrimSpace(u.Name)
	if err := u.Validate(); err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return Errorf(EINVALID, "A user needs a password.")
	}
	u.CreatedAt = s.now()
	return s.Store.Update(ctx, func(tx Tx) error {
		_, n, err := tx.FindUsers(ctx, Page{Limit: 1})
		if err != nil {
			return err
		}
		if n == 0 {
			if u.Role != UserOwner {
				return Errorf(EINVALID, "The first account must be an owner.")
			}
			ctx = NewContextWithPrincipal(ctx, Principal{Name: u.Name, Role: UserOwner})
		} else if err := require(ctx, PermAdmin); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, "user.create", "user", u.ID, map[string]any{"name": u.Name, "role": u.Role})
	})
}

// FindUserByName returns an account, for signing in (no permission needed: the caller
// is who is signing in).
func (s *Service) FindUserByName(ctx context.Context, name string) (u *User, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		u, err = tx.FindUserByName(ctx, name)
		return err
	})
	return u, err
}

// FindUserByID returns an account.
func (s *Service) FindUserByID(ctx context.Context, id int64) (u *User, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		u, err = tx.FindUserByID(ctx, id)
		return err
	})
	return u, err
}

// CountUsers reports how many accounts exist (zero before the first run is complete).
func (s *Service) CountUsers(ctx context.Context) (n int, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		_, n, err = tx.FindUsers(ctx, Page{Limit: 1})
		return err
	})
	return n, err
}

// FindUsers lists accounts (owners only).
func (s *Service) FindUsers(ctx context.Context, p Page) (users []*User, total int, err error) {
	if err := require(ctx, PermAdmin); err != nil {
		return nil, 0, err
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		users, total, err = tx.FindUsers(ctx, p)
		return err
	})
	return users, total, err
}

// CreateSession records a signed-in browser.
func (s *Service) CreateSession(ctx context.Context, sess *Session) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.CreateSession(ctx, sess) })
}

// FindSession returns a live session by its hashed id.
func (s *Service) FindSession(ctx context.Context, id string) (sess *Session, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		sess, err = tx.FindSession(ctx, id)
		return err
	})
	if err == nil && !s.now().Before(sess.ExpiresAt) {
		return nil, Errorf(EUNAUTHORIZED, "The session has expired; sign in again.")
	}
	return sess, err
}

// DeleteSession signs a browser out.
func (s *Service) DeleteSession(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.DeleteSession(ctx, id) })
}

// CreateToken records an API token for the acting user (or, for an owner, any user).
func (s *Service) CreateToken(ctx context.Context, t *Token) error {
	who, ok := PrincipalFromContext(ctx)
	if !ok {
		return Errorf(EUNAUTHORIZED, "Sign in first.")
	}
	if t.UserID != who.UserID {
		if err := require(ctx, PermAdmin); err != nil {
			return err
		}
	}
	if err := validateName("Token name", t.Name); err != nil {
		return err
	}
	t.CreatedAt = s.now()
	// Any signed-in user may make a token for themselves (a viewer's reads only), so this
	// is not a change to records and needs no write permission.
	return s.Store.Update(ctx, func(tx Tx) error {
		if _, err := tx.FindUserByID(ctx, t.UserID); err != nil {
			return err
		}
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, "token.create", "user", t.UserID, map[string]any{"token": t.Name})
	})
}

// FindTokenByHash returns the token with the given hashed secret.
func (s *Service) FindTokenByHash(ctx context.Context, hash string) (t *Token, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		t, err = tx.FindTokenByHash(ctx, hash)
		return err
	})
	return t, err
}
