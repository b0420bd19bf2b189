package latchkey_test

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// TestRolePermissions states SPEC §4.9's role table literally, so that a change to
// UserRole.Allows that widens or narrows any role fails here (the HTTP route tests
// assert the same table through real requests).
func TestRolePermissions(t *testing.T) {
	const (
		read   = latchkey.PermRead
		write  = latchkey.PermWrite
		reveal = latchkey.PermReveal
		admin  = latchkey.PermAdmin
		set    = latchkey.PermSettings
	)
	want := map[latchkey.UserRole]map[latchkey.Permission]bool{
		latchkey.UserOwner:     {read: true, write: true, reveal: true, admin: true, set: true},
		latchkey.UserManager:   {read: true, write: true, reveal: true, admin: false, set: false},
		latchkey.UserInstaller: {read: true, write: true, reveal: false, admin: false, set: false},
		latchkey.UserViewer:    {read: true, write: false, reveal: false, admin: false, set: false},
		"":                     {read: false, write: false, reveal: false, admin: false, set: false},
		"superuser":            {read: false, write: false, reveal: false, admin: false, set: false},
	}
	for role, perms := range want {
		for perm, allowed := range perms {
			if got := role.Allows(perm); got != allowed {
				t.Errorf("%q.Allows(%q) = %v, want %v", role, perm, got, allowed)
			}
		}
		if role.Allows("fly") {
			t.Errorf("%q allows an unknown permission", role)
		}
	}
}

// A refusal says who may do it, in plain English.
func TestForbiddenMessage(t *testing.T) {
	for _, tt := range []struct {
		role latchkey.UserRole
		perm latchkey.Permission
		want string
	}{
		{latchkey.UserInstaller, latchkey.PermReveal, "An installer may not reveal codes; ask an owner or a manager."},
		{latchkey.UserViewer, latchkey.PermWrite, "A viewer may not change records; ask an owner, a manager or an installer."},
		{latchkey.UserManager, latchkey.PermAdmin, "A manager may not manage accounts; ask an owner."},
		{latchkey.UserManager, latchkey.PermSettings, "A manager may not manage settings; ask an owner."},
	} {
		if got := latchkey.Forbidden(tt.role, tt.perm).Message; got != tt.want {
			t.Errorf("Forbidden(%s, %s) = %q, want %q", tt.role, tt.perm, got, tt.want)
		}
	}
}
