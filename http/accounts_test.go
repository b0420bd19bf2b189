package http_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// Finding 2 over the API, on both stores: tokens expire, are listed without secrets and
// revoked (refused at once after); a token cannot make tokens; owners manage accounts
// (never removing or demoting the last owner); a password reset and "sign out
// everywhere" end the account's sessions and tokens at once.
func TestAccountsAndTokens(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			s, _ := MustOpenServer(t, kind)
			owner := setup(t, s.URL())

			// The owner adds a manager, who signs in and makes a token.
			var mgr latchkey.User
			owner.must("POST", "/api/v1/users", map[string]any{"name": "maria", "role": "manager", "password": "a long enough password"}, &mgr, 201)
			maria := newClient(t, s.URL())
			maria.must("POST", "/api/v1/login", lkhttp.Credentials{Name: "maria", Password: "a long enough password"}, nil, 200)
			var tok lkhttp.TokenResponse
			maria.must("POST", "/api/v1/tokens", map[string]any{"name": "laptop"}, &tok, 201)
			if tok.ExpiresAt == nil || tok.Secret == "" {
				t.Fatalf("a new token: %+v; want an expiry (90 days by default) and its secret", tok)
			}
			bearer := newClient(t, s.URL())
			bearer.token = tok.Secret
			bearer.must("GET", "/api/v1/locks", nil, nil, 200)

			// A token cannot make tokens, nor change the password.
			st, eb := bearer.raw("POST", "/api/v1/tokens", `{"name":"minted"}`)
			wantRefused(t, "a token making a token", st, eb, 403, "cannot make tokens")
			st, eb = bearer.raw("POST", "/api/v1/me/password", `{"current":"a long enough password","new":"another long password"}`)
			wantRefused(t, "a token changing the password", st, eb, 403, "cannot change")

			// Listed without secrets; revoked, refused at once.
			var list []latchkey.Token
			maria.must("GET", "/api/v1/tokens", nil, &list, 200)
			if len(list) != 1 || list[0].Name != "laptop" || list[0].LastUsedAt == nil {
				t.Fatalf("maria's tokens: %+v; want laptop, used once", list)
			}
			st, eb = maria.raw("GET", fmt.Sprintf("/api/v1/tokens?user=%d", 1), "")
			wantRefused(t, "a manager listing the owner's tokens", st, eb, 403, "may not")
			maria.must("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil, nil, 200)
			if got := bearer.do("GET", "/api/v1/locks", nil, nil); got != 401 {
				t.Fatalf("a revoked token still reads: %d", got)
			}

			// Accounts: roles, the last owner, password resets, removal.
			var users lkhttp.List[latchkey.User]
			owner.must("GET", "/api/v1/users", nil, &users, 200)
			if users.Total != 2 {
				t.Fatalf("%d accounts listed, want 2", users.Total)
			}
			st, eb = maria.raw("GET", "/api/v1/users", "")
			wantRefused(t, "a manager listing accounts", st, eb, 403, "may not manage accounts")
			st, eb = owner.raw("PATCH", "/api/v1/users/1", `{"role":"viewer"}`)
			wantRefused(t, "demoting the last owner", st, eb, 409, "last owner")
			st, eb = owner.raw("DELETE", "/api/v1/users/1", "")
			wantRefused(t, "removing the last owner", st, eb, 409, "last owner")
			var forever lkhttp.TokenResponse
			maria.must("POST", "/api/v1/tokens", map[string]any{"name": "phone", "expires_in_days": 0}, &forever, 201)
			if forever.ExpiresAt != nil {
				t.Fatalf("a token asked never to expire: %+v", forever)
			}
			bearer.token = forever.Secret
			bearer.must("GET", "/api/v1/locks", nil, nil, 200)
			owner.must("PATCH", fmt.Sprintf("/api/v1/users/%d", mgr.ID), map[string]any{"password": "a brand new password"}, nil, 200)
			if got := maria.do("GET", "/api/v1/locks", nil, nil); got != 401 {
				t.Fatalf("after a password reset maria's session still reads: %d", got)
			}
			if got := bearer.do("GET", "/api/v1/locks", nil, nil); got != 401 {
				t.Fatalf("after a password reset maria's token still reads: %d", got)
			}
			maria.must("POST", "/api/v1/login", lkhttp.Credentials{Name: "maria", Password: "a brand new password"}, nil, 200)
			owner.must("PATCH", fmt.Sprintf("/api/v1/users/%d", mgr.ID), map[string]any{"role": "viewer"}, nil, 200)
			st, _ = maria.raw("POST", "/api/v1/sites", `{"name":"Oak","time_zone":"UTC"}`)
			if st != 403 {
				t.Fatalf("a manager made viewer can still write: %d", st)
			}
			owner.must("POST", fmt.Sprintf("/api/v1/users/%d/revoke", mgr.ID), nil, nil, 200)
			if got := maria.do("GET", "/api/v1/locks", nil, nil); got != 401 {
				t.Fatalf("after the owner ended her access maria still reads: %d", got)
			}
			maria.must("POST", "/api/v1/login", lkhttp.Credentials{Name: "maria", Password: "a brand new password"}, nil, 200)
			maria.must("POST", "/api/v1/me/revoke", nil, nil, 200)
			if got := maria.do("GET", "/api/v1/locks", nil, nil); got != 401 {
				t.Fatalf("after signing out everywhere maria still reads: %d", got)
			}
			owner.must("DELETE", fmt.Sprintf("/api/v1/users/%d", mgr.ID), nil, nil, 200)
			if got := maria.do("POST", "/api/v1/login", lkhttp.Credentials{Name: "maria", Password: "a brand new password"}, nil); got != 401 {
				t.Fatalf("a removed account signs in: %d", got)
			}

			// Changing one's own password: the current one is checked; the session goes on.
			st, eb = owner.raw("POST", "/api/v1/me/password", `{"current":"wrong","new":"another long password"}`)
			wantRefused(t, "a wrong current password", st, eb, 400, "current password is not right")
			owner.must("POST", "/api/v1/me/password", map[string]any{"current": "correct horse battery", "new": "another long password"}, nil, 200)
			owner.must("GET", "/api/v1/locks", nil, nil, 200)
		})
	}
}

// An expired token is refused with a message saying so.
func TestExpiredToken(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	setup(t, s.URL())
	plain, hash := lkhttp.NewTokenSecret()
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	u, err := svc.FindUserByName(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	life := time.Microsecond // expired by the time it is used
	if _, err := svc.CreateToken(ctx, latchkey.NewToken{UserID: u.ID, Name: "brief", Hash: hash, Life: &life}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Microsecond)
	c := newClient(t, s.URL())
	c.token = plain
	var body lkhttp.ErrorBody
	if got := c.do("GET", "/api/v1/locks", nil, &body); got != 401 || !strings.Contains(body.Error.Message, "expired") {
		t.Fatalf("an expired token: %d %+v", got, body)
	}
}
