package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func as(role latchkey.UserRole, id int64) context.Context {
	return latchkey.NewContextWithPrincipal(context.Background(), latchkey.Principal{UserID: id, Name: string(role), Role: role})
}

// Accounts, sessions and tokens persist; each role is refused what it may not do.
func testAccountsAndRoles(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	anon := context.Background()
	// First run: the first account must be an owner, and anyone may create it.
	wantCode(t, s.CreateUser(anon, &latchkey.User{Name: "ana", Role: latchkey.UserViewer, PasswordHash: "h"}), latchkey.EINVALID)
	owner := &latchkey.User{Name: "ana", Role: latchkey.UserOwner, PasswordHash: "argon2id$..."}
	must(t, s.CreateUser(anon, owner))
	// Later accounts need an owner.
	wantCode(t, s.CreateUser(anon, &latchkey.User{Name: "bo", Role: latchkey.UserViewer, PasswordHash: "h"}), latchkey.EUNAUTHORIZED)
	wantCode(t, s.CreateUser(as(latchkey.UserManager, 9), &latchkey.User{Name: "bo", Role: latchkey.UserViewer, PasswordHash: "h"}), latchkey.EFORBIDDEN)
	viewer := &latchkey.User{Name: "bo", Role: latchkey.UserViewer, PasswordHash: "h"}
	must(t, s.CreateUser(as(latchkey.UserOwner, owner.ID), viewer))
	wantCode(t, s.CreateUser(as(latchkey.UserOwner, owner.ID), &latchkey.User{Name: "bo", Role: latchkey.UserViewer, PasswordHash: "h"}), latchkey.ECONFLICT)
	got, err := s.FindUserByName(anon, "ana")
	must(t, err)
	if got.ID != owner.ID || got.PasswordHash != owner.PasswordHash || got.Role != latchkey.UserOwner {
		t.Fatalf("user %+v", got)
	}
	_, err = s.FindUserByName(anon, "nobody")
	wantCode(t, err, latchkey.ENOTFOUND)

	// Sessions expire; tokens are found by the hash of their secret.
	sess := &latchkey.Session{ID: "hash-of-secret", UserID: owner.ID, CreatedAt: s.Clock.Now(), ExpiresAt: s.Clock.Now().Add(time.Hour)}
	must(t, s.CreateSession(anon, sess))
	if _, err := s.FindSession(anon, "hash-of-secret"); err != nil {
		t.Fatal(err)
	}
	must(t, s.DeleteSession(anon, "hash-of-secret"))
	_, err = s.FindSession(anon, "hash-of-secret")
	wantCode(t, err, latchkey.EUNAUTHORIZED)
	old := &latchkey.Session{ID: "old", UserID: owner.ID, CreatedAt: s.Clock.Now(), ExpiresAt: s.Clock.Now().Add(-time.Minute)}
	must(t, s.CreateSession(anon, old))
	_, err = s.FindSession(anon, "old")
	wantCode(t, err, latchkey.EUNAUTHORIZED)
	_, err = s.CreateToken(as(latchkey.UserOwner, owner.ID), latchkey.NewToken{Name: "laptop", Hash: "tokenhash"})
	must(t, err)
	found, err := s.Authenticate(anon, "tokenhash")
	must(t, err)
	if found.UserID != owner.ID || found.Via != latchkey.ViaToken {
		t.Fatalf("token principal %+v", found)
	}
	_, err = s.CreateToken(as(latchkey.UserViewer, viewer.ID), latchkey.NewToken{UserID: owner.ID, Name: "x", Hash: "y"})
	wantCode(t, err, latchkey.EFORBIDDEN)

	// Roles (SPEC §4.9): a viewer reads; an installer changes records but may not reveal;
	// a manager reveals but may not manage accounts; no principal may do nothing.
	local := ctx()
	l, p := newLock(t, s, "Front")
	c, _, err := s.CreateCode(local, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, PIN: "482913", LockIDs: []int64{l.ID}})
	must(t, err)
	_, _, err = s.FindSites(as(latchkey.UserViewer, viewer.ID), latchkey.Page{})
	must(t, err)
	wantCode(t, s.CreateSite(as(latchkey.UserViewer, viewer.ID), &latchkey.Site{Name: "X", TimeZone: "UTC"}), latchkey.EFORBIDDEN)
	must(t, s.CreateSite(as(latchkey.UserInstaller, 5), &latchkey.Site{Name: "Y", TimeZone: "UTC"}))
	_, err = s.RevealCode(as(latchkey.UserInstaller, 5), c.ID)
	wantCode(t, err, latchkey.EFORBIDDEN)
	_, err = s.RevealCode(as(latchkey.UserViewer, viewer.ID), c.ID)
	wantCode(t, err, latchkey.EFORBIDDEN)
	if pin, err := s.RevealCode(as(latchkey.UserManager, 6), c.ID); err != nil || pin != "482913" {
		t.Fatalf("manager reveal: %q %v", pin, err)
	}
	_, _, err = s.FindUsers(as(latchkey.UserManager, 6), latchkey.Page{})
	wantCode(t, err, latchkey.EFORBIDDEN)
	_, _, err = s.FindSites(anon, latchkey.Page{})
	wantCode(t, err, latchkey.EUNAUTHORIZED)
}

// Device events name the person whose code is in the reported slot, update the lock's
// state, and a local reset quarantines the lock (invariant 6); live subscribers hear them.
func testDeviceEvents(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := newLock(t, s, "Front")
	addr := "front"
	_, err := s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: addr}})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Ana"}, PIN: "482913", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	live, cancel := s.SubscribeEvents()
	defer cancel()
	e, err := s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: addr,
		Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 1, BatteryMV: 5200})
	must(t, err)
	if e.PersonID != p.ID || e.LockID != l.ID {
		t.Fatalf("event %+v: want person %d on lock %d", e, p.ID, l.ID)
	}
	select {
	case got := <-live:
		if got.ID != e.ID {
			t.Fatalf("live event %+v", got)
		}
	default:
		t.Fatal("the live subscriber heard nothing")
	}
	got, _ := s.FindLockByID(ctx(), l.ID)
	if got.State.Bolt != "unlocked" || got.State.BatteryMV != 5200 || got.State.LastSeen == nil || got.State.BatteryPercent() != 50 {
		t.Fatalf("lock state %+v", got.State)
	}
	// An offline report is the hub's word that the lock was not heard: it is recorded,
	// and the lock was last seen when it unlocked, not when it went quiet.
	seen := *got.State.LastSeen
	clock := s.Clock.(*fixedClock)
	clock.t = clock.t.Add(time.Hour)
	_, err = s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: addr, Kind: latchkey.EventOffline})
	must(t, err)
	if got, _ := s.FindLockByID(ctx(), l.ID); got.State.LastSeen == nil || !got.State.LastSeen.Equal(seen) {
		t.Fatalf("after an offline report the lock was last seen %v; want %v", got.State.LastSeen, seen)
	}
	_, err = s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: addr, Kind: latchkey.EventResetLocally})
	must(t, err)
	if got, _ := s.FindLockByID(ctx(), l.ID); got.Status != latchkey.LockQuarantined {
		t.Fatalf("after a local reset the lock is %s; want quarantined", got.Status)
	}
	// An event of a lock Latchkey does not know is dropped, not an error.
	if e, err := s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "nowhere", Kind: latchkey.EventLocked}); err != nil || e != nil {
		t.Fatalf("unknown lock: %v %v", e, err)
	}
	events, err := s.FindEvents(ctx(), l.ID, 10)
	must(t, err)
	if len(events) != 3 || events[0].Kind != latchkey.EventResetLocally || events[1].Kind != latchkey.EventOffline || events[2].PersonID != p.ID {
		t.Fatalf("events %+v", events)
	}
}
