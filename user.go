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
	// PermSettings is managing Latchkey's own settings, such as webhooks: the owner's
	// ("everything, including accounts and settings").
	PermSettings Permission = "manage settings"
)

// rolePermissions is SPEC §4.9's role table. It is closed: a permission added later is
// allowed to no role until it is written here.
var rolePermissions = map[UserRole][]Permission{
	UserOwner:     {PermRead, PermWrite, PermReveal, PermAdmin, PermSettings},
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
	Via    AuthVia  `json:"via,omitempty"` // how the principal proved who it is
}

// AuthVia says how a principal authenticated.
type AuthVia string

// Ways to authenticate. A token acts for its user but may not make more tokens: a stolen
// token must not be able to outlive its own revocation.
const (
	ViaLocal   AuthVia = ""        // the command line on its own data directory, or Latchkey itself
	ViaSession AuthVia = "session" // a browser signed in with a password
	ViaToken   AuthVia = "token"   // an API token
)

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
		return Forbidden(who.Role, p)
	}
	return nil
}

// Forbidden is the refusal of an act a role does not allow, saying who may do it.
func Forbidden(r UserRole, p Permission) *Error {
	article := "A"
	if strings.ContainsRune("aeiou", rune(strings.ToLower(string(r) + "x")[0])) {
		article = "An"
	}
	// Name every role that may, so that the person knows whom to ask.
	var who []string
	for _, role := range []UserRole{UserOwner, UserManager, UserInstaller} {
		if role.Allows(p) {
			who = append(who, "an "+string(role))
		}
	}
	ask := strings.Join(who, " or ")
	if len(who) > 2 {
		ask = strings.Join(who[:len(who)-1], ", ") + " or " + who[len(who)-1]
	}
	ask = strings.ReplaceAll(ask, "an manager", "a manager")
	return Errorf(EFORBIDDEN, "%s %s may not %s; ask %s.", article, r, p, ask)
}

// requireAccountManager refuses to manage accounts unless the acting principal is an
// owner who proved it with a password (or the local command line): a stolen token, even
// an owner's, must not be able to make accounts, reset passwords or end other people's
// access, which would outlive its own revocation.
func requireAccountManager(ctx context.Context) error {
	if err := require(ctx, PermAdmin); err != nil {
		return err
	}
	if who, _ := PrincipalFromContext(ctx); who.Via == ViaToken {
		return Errorf(EFORBIDDEN, "Accounts are managed after signing in with a password (the settings page), or with 'latchkey user' on the server's data; an API token cannot.")
	}
	return nil
}

// requireSelfOrAdmin returns who is acting, refusing unless they act on their own
// account (userID 0 means their own) or manage accounts.
func requireSelfOrAdmin(ctx context.Context, userID int64) (Principal, error) {
	who, ok := PrincipalFromContext(ctx)
	if !ok {
		return Principal{}, Errorf(EUNAUTHORIZED, "Sign in first.")
	}
	if userID != 0 && userID != who.UserID {
		if err := requireAccountManager(ctx); err != nil {
			return Principal{}, err
		}
	}
	return who, nil
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

// SessionFilter narrows DeleteSessions. Nil fields do not filter.
type SessionFilter struct {
	UserID        *int64
	ExpiredBefore *time.Time // sessions that expired before this time
}

// Token is an API token. Hash is the hash of the token's secret; the secret itself is
// shown once, when the token is made.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"` // nil: it never expires
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Token lifetimes: a token lasts DefaultTokenLife unless its maker chooses another
// (never expiring, or up to MaxTokenLife).
const (
	DefaultTokenLife = 90 * 24 * time.Hour
	MaxTokenLife     = 5 * 365 * 24 * time.Hour
	// tokenUseGranularity is how stale a token's last-used time may be: recording every
	// use would make every read a write.
	tokenUseGranularity = time.Hour
)

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// userName is an account's name as kept: trimmed and in lower case, so that "Ana" and
// "ana" are one account (and one name to throttle).
func userName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreateUser adds an account. The first account may be created by anyone (first run);
// later ones only by an owner.
func (s *Service) CreateUser(ctx context.Context, u *User) error {
	u.ID, u.Name = 0, userName(u.Name)
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
		actor := ctx // a change may run more than once: ctx itself stays as the caller gave it
		if n == 0 {
			if u.Role != UserOwner {
				return Errorf(EINVALID, "The first account must be an owner.")
			}
			actor = NewContextWithPrincipal(ctx, Principal{Name: u.Name, Role: UserOwner})
		} else if err := requireAccountManager(ctx); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(actor, tx, "user.create", "user", u.ID, map[string]any{"name": u.Name, "role": u.Role})
	})
}

// FindUserByName returns an account, for signing in (no permission needed: the caller
// is who is signing in).
func (s *Service) FindUserByName(ctx context.Context, name string) (u *User, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		u, err = tx.FindUserByName(ctx, userName(name))
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

// UserUpdate changes an account. Nil fields stay as they are.
type UserUpdate struct {
	Role         *UserRole
	PasswordHash *string // a new password's hash: ends every session and token of the account
}

// UpdateUser changes an account's role or password (owners only). The last owner stays
// an owner, so that someone can always manage the accounts. A new password ends the
// account's sessions and tokens: whoever knew the old one is out.
func (s *Service) UpdateUser(ctx context.Context, id int64, upd UserUpdate) (u *User, err error) {
	err = s.account(ctx, "user.update", id, func(tx Tx, target *User) (any, error) {
		u = target
		detail := map[string]any{"name": u.Name}
		if upd.Role != nil && *upd.Role != u.Role {
			if u.Role == UserOwner {
				if err := keepAnOwner(ctx, tx, u.ID); err != nil {
					return nil, err
				}
			}
			detail["role"], detail["was"] = *upd.Role, u.Role
			u.Role = *upd.Role
		}
		if err := u.Validate(); err != nil {
			return nil, err
		}
		if upd.PasswordHash != nil {
			if *upd.PasswordHash == "" {
				return nil, Errorf(EINVALID, "A user needs a password.")
			}
			u.PasswordHash = *upd.PasswordHash
			detail["password"] = "reset; sessions and tokens ended"
			if err := endAccess(ctx, tx, u.ID); err != nil {
				return nil, err
			}
		}
		return detail, tx.UpdateUser(ctx, u)
	})
	return u, err
}

// ChangeOwnPassword sets the acting user's own password, after the HTTP layer or the
// command line has checked the current one. Every other session and every token of the
// account ends; the caller starts a new session for the browser in hand.
func (s *Service) ChangeOwnPassword(ctx context.Context, hash string) error {
	who, ok := PrincipalFromContext(ctx)
	if !ok || who.UserID == 0 {
		return Errorf(EUNAUTHORIZED, "Sign in first.")
	}
	if who.Via == ViaToken {
		return Errorf(EFORBIDDEN, "An API token cannot change its account's password; sign in with the password instead.")
	}
	if hash == "" {
		return Errorf(EINVALID, "A user needs a password.")
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.FindUserByID(ctx, who.UserID)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := endAccess(ctx, tx, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "user.password", "user", u.ID, map[string]any{"name": u.Name})
	})
}

// DeleteUser removes an account with its sessions and tokens (owners only); the last
// owner cannot be removed.
func (s *Service) DeleteUser(ctx context.Context, id int64) error {
	return s.account(ctx, "user.delete", id, func(tx Tx, u *User) (any, error) {
		if u.Role == UserOwner {
			if err := keepAnOwner(ctx, tx, u.ID); err != nil {
				return nil, err
			}
		}
		if err := endAccess(ctx, tx, u.ID); err != nil {
			return nil, err
		}
		return map[string]any{"name": u.Name, "role": u.Role}, tx.DeleteUser(ctx, u.ID)
	})
}

// RevokeAccess ends every session and token of an account (owners only, or the user
// themself): "sign me out everywhere", or a stolen device.
func (s *Service) RevokeAccess(ctx context.Context, id int64) error {
	if _, err := requireSelfOrAdmin(ctx, id); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.FindUserByID(ctx, id)
		if err != nil {
			return err
		}
		if err := endAccess(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "user.revoke", "user", id, map[string]any{"name": u.Name})
	})
}

// account runs an owner's change to another account, audited.
func (s *Service) account(ctx context.Context, action string, id int64, fn func(Tx, *User) (any, error)) error {
	if err := requireAccountManager(ctx); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.FindUserByID(ctx, id)
		if err != nil {
			return err
		}
		detail, err := fn(tx, u)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, action, "user", id, detail)
	})
}

// keepAnOwner refuses to take away the owner role of the last owner but one (id).
func keepAnOwner(ctx context.Context, tx Tx, id int64) error {
	users, err := all(func(p Page) ([]*User, int, error) { return tx.FindUsers(ctx, p) })
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role == UserOwner && u.ID != id {
			return nil
		}
	}
	return Errorf(ECONFLICT, "This is the last owner: someone must be able to manage the accounts. Make another account an owner first.")
}

// endAccess ends every session and token of an account.
func endAccess(ctx context.Context, tx Tx, userID int64) error {
	if err := tx.DeleteSessions(ctx, SessionFilter{UserID: &userID}); err != nil {
		return err
	}
	return tx.DeleteTokens(ctx, userID)
}

// CreateSession records a signed-in browser, and forgets sessions long expired.
func (s *Service) CreateSession(ctx context.Context, sess *Session) error {
	now := s.now()
	return s.Store.Update(ctx, func(tx Tx) error {
		if err := tx.DeleteSessions(ctx, SessionFilter{ExpiredBefore: &now}); err != nil {
			return err
		}
		return tx.CreateSession(ctx, sess)
	})
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

// NewToken asks for an API token: its name, its user (the acting user when 0), and how
// long it lasts (DefaultTokenLife when Life is nil; no expiry when *Life is 0).
type NewToken struct {
	UserID int64
	Name   string
	Hash   string // the hash of the secret the caller made and will show once
	Life   *time.Duration
}

// CreateToken records an API token for the acting user (or, for an owner, any user). A
// token cannot make tokens.
func (s *Service) CreateToken(ctx context.Context, req NewToken) (*Token, error) {
	who, err := requireSelfOrAdmin(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	if who.Via == ViaToken {
		return nil, Errorf(EFORBIDDEN, "An API token cannot make tokens; sign in (the settings page) or use 'latchkey token create' on the server's data.")
	}
	if req.UserID == 0 {
		req.UserID = who.UserID
	}
	if err := validateName("Token name", req.Name); err != nil {
		return nil, err
	}
	if req.Hash == "" {
		return nil, Errorf(EINTERNAL, "A token needs the hash of its secret.")
	}
	t := &Token{UserID: req.UserID, Name: strings.TrimSpace(req.Name), Hash: req.Hash, CreatedAt: s.now()}
	life := DefaultTokenLife
	if req.Life != nil {
		life = *req.Life
	}
	switch {
	case life < 0 || life > MaxTokenLife:
		return nil, Errorf(EINVALID, "A token lasts at most %d days, or never expires (0 days).", int(MaxTokenLife.Hours()/24))
	case life > 0:
		expires := t.CreatedAt.Add(life)
		t.ExpiresAt = &expires
	}
	// Any signed-in user may make a token for themselves (a viewer's reads only), so this
	// is not a change to records and needs no write permission.
	err = s.Store.Update(ctx, func(tx Tx) error {
		if _, err := tx.FindUserByID(ctx, t.UserID); err != nil {
			return err
		}
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, "token.create", "user", t.UserID, map[string]any{"token": t.Name, "token_id": t.ID, "expires_at": t.ExpiresAt})
	})
	return t, err
}

// FindTokens lists the API tokens of an account (the acting user's own when userID is
// 0; an owner may list anyone's, and every account's with -1), never their secrets.
func (s *Service) FindTokens(ctx context.Context, userID int64) (tokens []*Token, err error) {
	who, err := requireSelfOrAdmin(ctx, userID)
	if err != nil {
		return nil, err
	}
	if userID == 0 {
		userID = who.UserID
	}
	f := TokenFilter{}
	if userID > 0 {
		f.UserID = &userID
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		tokens, err = tx.FindTokens(ctx, f)
		return err
	})
	return tokens, err
}

// RevokeToken deletes an API token: the acting user's own, or, for an owner, anyone's.
func (s *Service) RevokeToken(ctx context.Context, id int64) (t *Token, err error) {
	if _, err := requireSelfOrAdmin(ctx, 0); err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if t, err = tx.FindTokenByID(ctx, id); err != nil {
			return err
		}
		if _, err := requireSelfOrAdmin(ctx, t.UserID); err != nil {
			// Someone else's token: as if there were none, so that ids tell nothing.
			return Errorf(ENOTFOUND, "No API token with id %d.", id)
		}
		if err := tx.DeleteToken(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "token.revoke", "user", t.UserID, map[string]any{"token": t.Name, "token_id": t.ID})
	})
	return t, err
}

// Authenticate returns the principal an API token's secret stands for: its user, unless
// the token or the account is gone or the token expired. It records when the token was
// last used, at most once an hour.
func (s *Service) Authenticate(ctx context.Context, hash string) (Principal, error) {
	var t *Token
	var u *User
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if t, err = tx.FindTokenByHash(ctx, hash); err != nil {
			return err
		}
		u, err = tx.FindUserByID(ctx, t.UserID)
		return err
	})
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Principal{}, Errorf(EUNAUTHORIZED, "The API token is not known (revoked, or never made); make one on the settings page or with 'latchkey token create'.")
		}
		return Principal{}, err
	}
	now := s.now()
	if t.Expired(now) {
		return Principal{}, Errorf(EUNAUTHORIZED, "The API token %q expired on %s; make a new one on the settings page or with 'latchkey token create'.",
			t.Name, t.ExpiresAt.Format(time.DateOnly))
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenUseGranularity {
		t.LastUsedAt = &now
		if err := s.Store.Update(ctx, func(tx Tx) error { return tx.UpdateToken(ctx, t) }); err != nil && ErrorCode(err) != ENOTFOUND {
			return Principal{}, err
		}
	}
	return Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: ViaToken}, nil
}
