package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// asVia is a principal of a role that authenticated a given way.
func asVia(role latchkey.UserRole, id int64, via latchkey.AuthVia) context.Context {
	return latchkey.NewContextWithPrincipal(context.Background(), latchkey.Principal{UserID: id, Name: string(role), Role: role, Via: via})
}

// users makes an owner and a viewer and returns them.
func users(t *testing.T, s *latchkey.Service) (owner, viewer *latchkey.User) {
	t.Helper()
	owner = &latchkey.User{Name: "ana", Role: latchkey.UserOwner, PasswordHash: "h1"}
	must(t, s.CreateUser(context.Background(), owner))
	viewer = &latchkey.User{Name: "bo", Role: latchkey.UserViewer, PasswordHash: "h2"}
	must(t, s.CreateUser(as(latchkey.UserOwner, owner.ID), viewer))
	return owner, viewer
}

// API tokens expire (90 days unless asked otherwise), record their last use, are listed
// without secrets and revoked; a token cannot make tokens; people see only their own.
func testTokens(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	clock := s.Clock.(*fixedClock)
	owner, viewer := users(t, s)
	anon := context.Background()
	session := asVia(latchkey.UserViewer, viewer.ID, latchkey.ViaSession)

	tok, err := s.CreateToken(session, latchkey.NewToken{Name: "laptop", Hash: "h-laptop"})
	must(t, err)
	if tok.UserID != viewer.ID || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(clock.Now().Truncate(time.Microsecond).Add(latchkey.DefaultTokenLife)) {
		t.Fatalf("a default token: %+v; want the viewer's, expiring in 90 days", tok)
	}
	never := time.Duration(0)
	forever, err := s.CreateToken(session, latchkey.NewToken{Name: "ci", Hash: "h-ci", Life: &never})
	must(t, err)
	if forever.ExpiresAt != nil {
		t.Fatalf("a token asked never to expire expires at %v", forever.ExpiresAt)
	}
	tooLong := latchkey.MaxTokenLife + time.Hour
	_, err = s.CreateToken(session, latchkey.NewToken{Name: "x", Hash: "h-x", Life: &tooLong})
	wantCode(t, err, latchkey.EINVALID)

	// A token cannot make tokens, whoever it belongs to.
	_, err = s.CreateToken(asVia(latchkey.UserOwner, owner.ID, latchkey.ViaToken), latchkey.NewToken{Name: "minted", Hash: "h-minted"})
	wantCode(t, err, latchkey.EFORBIDDEN)

	// Using a token records its use, at most once an hour.
	p, err := s.Authenticate(anon, "h-laptop")
	must(t, err)
	if p.UserID != viewer.ID || p.Role != latchkey.UserViewer || p.Via != latchkey.ViaToken {
		t.Fatalf("principal %+v", p)
	}
	list, err := s.FindTokens(session, 0)
	must(t, err)
	if len(list) != 2 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(clock.Now().Truncate(time.Microsecond)) || list[1].LastUsedAt != nil {
		t.Fatalf("tokens after one use: %+v", list)
	}
	// Expired, it no longer authenticates, and says so.
	clock.t = clock.t.Add(latchkey.DefaultTokenLife)
	_, err = s.Authenticate(anon, "h-laptop")
	wantCode(t, err, latchkey.EUNAUTHORIZED)
	if _, err := s.Authenticate(anon, "h-ci"); err != nil {
		t.Fatalf("a token that never expires: %v", err)
	}
	_, err = s.Authenticate(anon, "h-unknown")
	wantCode(t, err, latchkey.EUNAUTHORIZED)

	// People see and revoke their own tokens only; an owner anyone's.
	_, err = s.FindTokens(session, owner.ID)
	wantCode(t, err, latchkey.EFORBIDDEN)
	ownerTok, err := s.CreateToken(asVia(latchkey.UserOwner, owner.ID, latchkey.ViaSession), latchkey.NewToken{Name: "admin", Hash: "h-admin"})
	must(t, err)
	_, err = s.RevokeToken(session, ownerTok.ID) // someone else's: as if it did not exist
	wantCode(t, err, latchkey.ENOTFOUND)
	all, err := s.FindTokens(as(latchkey.UserOwner, owner.ID), -1)
	must(t, err)
	if len(all) != 3 {
		t.Fatalf("an owner lists %d tokens of every account, want 3", len(all))
	}
	revoked, err := s.RevokeToken(session, tok.ID)
	must(t, err)
	if revoked.Hash != "h-laptop" {
		t.Fatalf("a revoked token comes back without its hash (the server forgets it by that): %+v", revoked)
	}
	_, err = s.Authenticate(anon, "h-laptop")
	wantCode(t, err, latchkey.EUNAUTHORIZED)
	_, err = s.RevokeToken(session, tok.ID)
	wantCode(t, err, latchkey.ENOTFOUND)
	must(t, s.RevokeAccess(as(latchkey.UserOwner, owner.ID), viewer.ID))
	if left, _ := s.FindTokens(session, 0); len(left) != 0 {
		t.Fatalf("%d tokens left after the account's access was revoked", len(left))
	}
}

// Owners change roles, reset passwords and remove accounts; the last owner stays;
// a reset or a removal ends the account's sessions and tokens.
func testAccountManagement(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	owner, viewer := users(t, s)
	admin := as(latchkey.UserOwner, owner.ID)
	anon := context.Background()
	now := s.Clock.Now()
	must(t, s.CreateSession(anon, &latchkey.Session{ID: "s-bo", UserID: viewer.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	_, err := s.CreateToken(asVia(latchkey.UserViewer, viewer.ID, latchkey.ViaSession), latchkey.NewToken{Name: "bo's", Hash: "h-bo"})
	must(t, err)

	// Only owners manage accounts.
	manager := latchkey.UserManager
	_, err = s.UpdateUser(as(latchkey.UserManager, 99), viewer.ID, latchkey.UserUpdate{Role: &manager})
	wantCode(t, err, latchkey.EFORBIDDEN)
	u, err := s.UpdateUser(admin, viewer.ID, latchkey.UserUpdate{Role: &manager})
	must(t, err)
	if u.Role != latchkey.UserManager {
		t.Fatalf("role after the change: %s", u.Role)
	}
	if _, err := s.FindSession(anon, "s-bo"); err != nil {
		t.Fatalf("a role change ended the session: %v", err)
	}
	// A password reset ends every session and token of the account.
	hash := "h-new"
	_, err = s.UpdateUser(admin, viewer.ID, latchkey.UserUpdate{PasswordHash: &hash})
	must(t, err)
	_, err = s.FindSession(anon, "s-bo")
	wantCode(t, err, latchkey.EUNAUTHORIZED)
	_, err = s.Authenticate(anon, "h-bo")
	wantCode(t, err, latchkey.EUNAUTHORIZED)
	if got, _ := s.FindUserByID(anon, viewer.ID); got.PasswordHash != "h-new" {
		t.Fatalf("password hash after the reset: %q", got.PasswordHash)
	}

	// The last owner can neither be demoted nor removed; with a second owner, it can.
	viewerRole := latchkey.UserViewer
	_, err = s.UpdateUser(admin, owner.ID, latchkey.UserUpdate{Role: &viewerRole})
	wantCode(t, err, latchkey.ECONFLICT)
	wantCode(t, s.DeleteUser(admin, owner.ID), latchkey.ECONFLICT)
	ownerRole := latchkey.UserOwner
	_, err = s.UpdateUser(admin, viewer.ID, latchkey.UserUpdate{Role: &ownerRole})
	must(t, err)
	must(t, s.DeleteUser(admin, owner.ID))
	_, err = s.FindUserByID(anon, owner.ID)
	wantCode(t, err, latchkey.ENOTFOUND)

	// Changing one's own password needs a password session, not a token.
	err = s.ChangeOwnPassword(asVia(latchkey.UserOwner, viewer.ID, latchkey.ViaToken), "h-x")
	wantCode(t, err, latchkey.EFORBIDDEN)
	must(t, s.ChangeOwnPassword(asVia(latchkey.UserOwner, viewer.ID, latchkey.ViaSession), "h-own"))

	// Every change to an account is in the audit log.
	must(t, store.View(anon, func(tx latchkey.Tx) error {
		entries, err := tx.FindAudit(anon, 0, 100)
		actions := map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
		}
		for _, want := range []string{"user.create", "user.update", "user.delete", "user.password", "token.create"} {
			if actions[want] == 0 {
				t.Errorf("no %s in the audit log: %v", want, actions)
			}
		}
		return err
	}))
}
