package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// Accounts and API tokens over the API: people manage their own tokens and password;
// owners manage every account. The rules (the last owner stays, a token makes no tokens,
// a new password ends sessions and tokens) are the domain's.

// TokenRequest asks for a new API token.
type TokenRequest struct {
	Name string `json:"name"`
	// ExpiresInDays is how long the token lasts: 90 days when absent, never when 0.
	ExpiresInDays *int `json:"expires_in_days,omitempty"`
}

// life is the token's lifetime as the domain takes it.
func (req TokenRequest) life() *time.Duration {
	if req.ExpiresInDays == nil {
		return nil
	}
	d := time.Duration(*req.ExpiresInDays) * 24 * time.Hour
	if *req.ExpiresInDays < 0 || *req.ExpiresInDays > 100*365 {
		d = -1 // refused by the domain with the rule in words (and no overflow)
	}
	return &d
}

// TokenResponse carries a new token's secret, shown once.
type TokenResponse struct {
	latchkey.Token
	Secret string `json:"secret"`
}

// UserInput adds an account.
type UserInput struct {
	Name     string            `json:"name"`
	Role     latchkey.UserRole `json:"role"`
	Password string            `json:"password"`
}

// UserPatch changes an account: its role, or its password (which ends its sessions and
// tokens).
type UserPatch struct {
	Role     *latchkey.UserRole `json:"role,omitempty"`
	Password *string            `json:"password,omitempty"`
}

// PasswordChange changes the signed-in user's own password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// makeToken makes a token for the acting user (or, for an owner, userID) and returns it
// with its secret, to be shown once.
func (s *Server) makeToken(r *http.Request, userID int64, req TokenRequest) (TokenResponse, error) {
	plain, hash := secret(tokenPrefix)
	t, err := s.Service.CreateToken(r.Context(), latchkey.NewToken{UserID: userID, Name: req.Name, Hash: hash, Life: req.life()})
	if err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{Token: *t, Secret: plain}, nil
}

// hashNewPassword hashes a new password within the server's bound on hashes.
func (s *Server) hashNewPassword(r *http.Request, password string) (string, error) {
	var hash string
	var hashErr error
	if err := s.hashes.run(r.Context(), func() { hash, hashErr = HashPassword(password) }); err != nil {
		return "", err
	}
	return hash, hashErr
}

func (s *Server) accountRoutes() []route {
	svc := s.Service
	read, admin := latchkey.PermRead, latchkey.PermAdmin
	user := &latchkey.User{}
	return []route{
		{Method: "POST", Pattern: "/api/v1/tokens", Summary: "Make an API token for the signed-in user (its secret is shown once; not with a token)", Perm: read, Request: TokenRequest{}, Response: TokenResponse{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var req TokenRequest
			if err := decode(w, r, &req); err != nil {
				return 0, nil, err
			}
			resp, err := s.makeToken(r, 0, req)
			return http.StatusCreated, resp, err
		})},
		{Method: "GET", Pattern: "/api/v1/tokens", Summary: "List API tokens, never their secrets (yours; an owner's ?user=ID for another account's)", Perm: read, Response: []latchkey.Token{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			userID, err := queryID(r, "user")
			if err != nil {
				return 0, nil, err
			}
			var id int64
			if userID != nil {
				id = *userID
			}
			v, err := svc.FindTokens(r.Context(), id)
			if v == nil {
				v = []*latchkey.Token{}
			}
			return http.StatusOK, v, err
		})},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Summary: "Revoke an API token (yours, or as an owner anyone's)", Perm: read, Response: latchkey.Token{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			t, err := svc.RevokeToken(r.Context(), id)
			if err != nil {
				return 0, nil, err
			}
			s.principals.forget(t.Hash)
			return http.StatusOK, t, nil
		}))},
		{Method: "POST", Pattern: "/api/v1/me/password", Summary: "Change your password (ends your other sessions and your tokens)", Perm: read, Request: PasswordChange{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var req PasswordChange
			if err := decode(w, r, &req); err != nil {
				return 0, nil, err
			}
			return http.StatusOK, map[string]bool{"changed": true}, s.changeOwnPassword(w, r, req)
		})},
		{Method: "GET", Pattern: "/api/v1/users", Summary: "List accounts", Perm: admin, Response: List[*latchkey.User]{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindUsers(r.Context(), p)
			return http.StatusOK, listOf(items, total, p), err
		})},
		{Method: "POST", Pattern: "/api/v1/users", Summary: "Add an account", Perm: admin, Request: UserInput{}, Response: user, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var in UserInput
			if err := decode(w, r, &in); err != nil {
				return 0, nil, err
			}
			hash, err := s.hashNewPassword(r, in.Password)
			if err != nil {
				return 0, nil, err
			}
			u := &latchkey.User{Name: in.Name, Role: in.Role, PasswordHash: hash}
			return http.StatusCreated, u, svc.CreateUser(r.Context(), u)
		})},
		{Method: "PATCH", Pattern: "/api/v1/users/{id}", Summary: "Change an account's role, or reset its password (which ends its sessions and tokens)", Perm: admin, Request: UserPatch{}, Response: user, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in UserPatch
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			upd := latchkey.UserUpdate{Role: in.Role}
			if in.Password != nil {
				hash, err := s.hashNewPassword(r, *in.Password)
				if err != nil {
					return 0, nil, err
				}
				upd.PasswordHash = &hash
			}
			u, err := svc.UpdateUser(r.Context(), id, upd)
			s.principals.forgetUser(id)
			return http.StatusOK, u, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/users/{id}", Summary: "Remove an account, its sessions and its tokens (never the last owner)", Perm: admin, handler: handle(deleted(func(r *http.Request, id int64) error {
			err := svc.DeleteUser(r.Context(), id)
			s.principals.forgetUser(id)
			return err
		}))},
		{Method: "POST", Pattern: "/api/v1/users/{id}/revoke", Summary: "End every session and token of an account", Perm: admin, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			err := svc.RevokeAccess(r.Context(), id)
			s.principals.forgetUser(id)
			return http.StatusOK, map[string]int64{"revoked": id}, err
		}))},
		{Method: "POST", Pattern: "/api/v1/me/revoke", Summary: "Sign out everywhere: end every session and token of your account, this one included", Perm: read, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			p, _ := latchkey.PrincipalFromContext(r.Context())
			if err := svc.RevokeAccess(r.Context(), p.UserID); err != nil {
				return 0, nil, err
			}
			s.principals.forgetUser(p.UserID)
			s.endSession(w, r)
			return http.StatusOK, map[string]int64{"revoked": p.UserID}, nil
		})},
	}
}

// changeOwnPassword checks the current password, sets the new one (which ends every
// session and token of the account) and starts a new session for this browser.
func (s *Server) changeOwnPassword(w http.ResponseWriter, r *http.Request, req PasswordChange) error {
	p, _ := latchkey.PrincipalFromContext(r.Context())
	if p.Via == latchkey.ViaToken {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "An API token cannot change its account's password; sign in with the password instead.")
	}
	if _, err := s.signIn(r, p.Name, req.Current); err != nil {
		if latchkey.ErrorCode(err) == latchkey.EUNAUTHORIZED && !errors.As(err, new(throttled)) {
			return latchkey.Errorf(latchkey.EINVALID, "The current password is not right.")
		}
		return err
	}
	hash, err := s.hashNewPassword(r, req.New)
	if err != nil {
		return err
	}
	if err := s.Service.ChangeOwnPassword(r.Context(), hash); err != nil {
		return err
	}
	s.principals.forgetUser(p.UserID)
	u, err := s.Service.FindUserByID(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	return s.setSessionCookie(w, r, u)
}
