package http

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// Names of the session cookie and the token prefix.
const (
	SessionCookie = "latchkey_session"
	tokenPrefix   = "lk_"
	sessionLife   = 14 * 24 * time.Hour
)

// secret returns a new random secret with a prefix, and the hash stored for it.
func secret(prefix string) (plain, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	plain = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, hashSecret(plain)
}

// NewTokenSecret returns a new API token's secret and the hash to store for it.
func NewTokenSecret() (plain, hash string) { return secret(tokenPrefix) }

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// authorize puts the request's principal in its context (from a bearer token or a
// session cookie) and refuses the route when the principal's role does not allow it.
func (s *Server) authorize(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.principal(r)
		if err == nil {
			r = r.WithContext(latchkey.NewContextWithPrincipal(r.Context(), p))
		}
		if rt.Perm != "" {
			if err != nil {
				writeError(w, r, err)
				return
			}
			if !p.Role.Allows(rt.Perm) {
				writeError(w, r, latchkey.Forbidden(p.Role, rt.Perm))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// principal identifies the caller, or says how to sign in. A recently checked secret is
// answered from memory (for principalTTL), which spares every request two lookups;
// signing out, revoking a token and changing an account forget it at once.
func (s *Server) principal(r *http.Request) (latchkey.Principal, error) {
	ctx := r.Context()
	var hash string
	var find func() (latchkey.Principal, error)
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 200 {
			return latchkey.Principal{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "Send an API token as 'Authorization: Bearer lk_...'.")
		}
		hash = hashSecret(tok)
		find = func() (latchkey.Principal, error) { return s.Service.Authenticate(ctx, hash) }
	} else if c, err := r.Cookie(SessionCookie); err == nil && len(c.Value) <= 200 {
		hash = hashSecret(c.Value)
		find = func() (latchkey.Principal, error) {
			sess, err := s.Service.FindSession(ctx, hash)
			if err != nil {
				return latchkey.Principal{}, err
			}
			u, err := s.Service.FindUserByID(ctx, sess.UserID)
			if err != nil {
				return latchkey.Principal{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "The account is gone; sign in again.")
			}
			return latchkey.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: latchkey.ViaSession}, nil
		}
	} else {
		return latchkey.Principal{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "Sign in first (POST /api/v1/login), or send an API token.")
	}
	if p, ok := s.principals.get(hash); ok {
		return p, nil
	}
	p, err := find()
	if err != nil {
		return latchkey.Principal{}, err
	}
	s.principals.put(hash, p)
	return p, nil
}

// principalTTL is how long a checked session or token is trusted without asking the
// store again: a session ended on another replica, or a changed role, takes effect
// within it.
const principalTTL = 10 * time.Second

// principalCache remembers recently checked secrets (by their hash).
type principalCache struct {
	mu      sync.Mutex
	entries map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p       latchkey.Principal
	expires time.Time
}

func (c *principalCache) get(hash string) (latchkey.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || time.Now().After(e.expires) {
		return latchkey.Principal{}, false
	}
	return e.p, true
}

func (c *principalCache) put(hash string, p latchkey.Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]cachedPrincipal{}
	}
	c.entries[hash] = cachedPrincipal{p: p, expires: time.Now().Add(principalTTL)}
}

func (c *principalCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, hash)
}

// forgetUser forgets every remembered secret of an account whose access changed.
func (c *principalCache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for hash, e := range c.entries {
		if e.p.UserID == userID {
			delete(c.entries, hash)
		}
	}
}

// Credentials sign a person in, or set up the first account.
type Credentials struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Me describes the signed-in principal.
type Me struct {
	latchkey.Principal
	SetupNeeded bool `json:"setup_needed,omitempty"`
}

// setUp creates the first account, an owner, on a server with none.
func (s *Server) setUp(r *http.Request, name, password string) (*latchkey.User, error) {
	n, err := s.Service.CountUsers(r.Context())
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "Latchkey is already set up; sign in instead.")
	}
	var hash string
	var hashErr error
	if err := s.hashes.run(r.Context(), func() { hash, hashErr = HashPassword(password) }); err != nil {
		return nil, err
	}
	if hashErr != nil {
		return nil, hashErr
	}
	u := &latchkey.User{Name: name, Role: latchkey.UserOwner, PasswordHash: hash}
	return u, s.Service.CreateUser(r.Context(), u)
}

// signIn checks a name and password, throttling guesses (throttle.go) and bounding how
// many password checks run at once (each takes 64 MiB).
func (s *Server) signIn(r *http.Request, name, password string) (*latchkey.User, error) {
	if len(name) > 200 || len(password) > maxPassword {
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "Wrong name or password.")
	}
	addr := clientAddress(r, s.TrustedProxies)
	if wait := s.throttle.begin(addr, name); wait > 0 {
		return nil, throttled{wait}
	}
	u, err := s.Service.FindUserByName(r.Context(), name)
	hash := dummyHash // an unknown name costs a real check, so timing does not tell which names exist
	if err == nil {
		hash = u.PasswordHash
	} else if latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		s.throttle.undo(addr, name)
		return nil, err
	}
	var ok bool
	if err := s.hashes.run(r.Context(), func() { ok = CheckPassword(hash, password) }); err != nil {
		s.throttle.undo(addr, name)
		return nil, err
	}
	if u == nil || !ok {
		logger(r).Warn("sign-in failed", slog.String("user", name), slog.String("address", addr))
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "Wrong name or password.")
	}
	s.throttle.succeed(addr, name)
	return u, nil
}

var dummyHash, _ = HashPassword("not a real password at all")

// setSessionCookie starts a session for u and sets its cookie.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, u *latchkey.User) error {
	plain, hash := secret("s_")
	now := s.Service.Clock.Now()
	if err := s.Service.CreateSession(r.Context(), &latchkey.Session{ID: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(sessionLife)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: plain, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.SecureCookies || r.TLS != nil, Expires: now.Add(sessionLife)})
	return nil
}

// endSession ends the request's session and clears its cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.principals.forget(hashSecret(c.Value))
		_ = s.Service.DeleteSession(r.Context(), hashSecret(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// handleCredentials answers the API's setup and sign-in: authenticate checks the name and
// password (and, for setup, makes the account), then a session begins.
func (s *Server) handleCredentials(authenticate func(r *http.Request, name, password string) (*latchkey.User, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var c Credentials
		if err := decode(w, r, &c); err != nil {
			writeError(w, r, err)
			return
		}
		u, err := authenticate(r, c.Name, c.Password)
		if err == nil {
			err = s.setSessionCookie(w, r, u)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, Me{Principal: latchkey.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: latchkey.ViaSession}})
	}
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r)
	writeJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p, ok := latchkey.PrincipalFromContext(r.Context())
	if !ok {
		n, err := s.Service.CountUsers(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		if n == 0 {
			writeJSON(w, http.StatusOK, Me{SetupNeeded: true})
			return
		}
		writeError(w, r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "Sign in first."))
		return
	}
	writeJSON(w, http.StatusOK, Me{Principal: p})
}
