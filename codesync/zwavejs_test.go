package codesync_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
	"github.com/latchkey/latchkey/zwavejs"
	"github.com/latchkey/latchkey/zwavejs/zwavejstest"
)

// The engine over the real zwave-js (the harness's mock Kwikset 912, node 2): a code
// set and read back, used at the keypad and named, revoked and seen gone; a reset
// behind the hub's back quarantines the lock, and once paired again it is
// re-provisioned.
func TestEngineOverZWaveJS(t *testing.T) {
	h := zwavejstest.Start(t)
	d := &zwavejs.Driver{URL: h.URL, DialTimeout: 5 * time.Second}

	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	svc := storetest.NewService(t, db)
	svc.Clock = latchkey.SystemClock{}
	svc.Readers = map[latchkey.Driver]latchkey.CodeReader{latchkey.DriverZWaveJS: d}
	ctx, cancel := context.WithTimeout(latchkey.NewContextWithActor(context.Background(), "ana"), 90*time.Second)
	t.Cleanup(cancel)

	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front door"}
	must(t, svc.CreateDoor(ctx, door))
	// Recorded as a 910, a SmartCode whose code rules the test service knows (storetest's);
	// the rules are the records', the radio's answers are zwave-js's.
	lock := &latchkey.Lock{DoorID: door.ID, Name: "front", ModelID: "910", Connection: latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: h.Address}}
	must(t, svc.CreateLock(ctx, lock))
	person := &latchkey.Person{Name: "Sam", Role: latchkey.RoleFamily}
	must(t, svc.CreatePerson(ctx, person))

	d.Subscribe(func(e latchkey.DeviceEvent) {
		if _, err := svc.RecordDeviceEvent(context.Background(), e); err != nil {
			t.Errorf("recording %s from %s: %v", e.Kind, e.Address, err)
		}
	})
	must(t, d.Open())
	t.Cleanup(func() { _ = d.Close() })
	engine := &codesync.Engine{Service: svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverZWaveJS: d},
		Interval: 200 * time.Millisecond, Timeout: 5 * time.Second, FirstBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	grant := func(codeID int64, want latchkey.GrantStatus) *latchkey.Grant {
		t.Helper()
		for {
			gs, err := svc.FindGrants(ctx, latchkey.GrantFilter{CodeID: &codeID, LockID: &lock.ID})
			must(t, err)
			if len(gs) == 1 && gs[0].Status == want {
				return gs[0]
			}
			select {
			case <-ctx.Done():
				t.Fatalf("code %d never %s: %+v", codeID, want, gs)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case <-ctx.Done():
				t.Fatalf("never: %s", what)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	// A code set and confirmed by reading the slot back.
	c, pin, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: person.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{lock.ID}})
	must(t, err)
	g := grant(c.ID, latchkey.GrantSet)
	if st, code := h.Slot(t, g.Slot); st != 1 || code != pin {
		t.Fatalf("slot %d at the lock: status %d, not the code", g.Slot, st)
	}
	// Used at the keypad: recorded as Sam's unlock.
	h.Do(t, "keypad-unlock", map[string]any{"slot": g.Slot})
	waitFor("the keypad unlock recorded as Sam's", func() bool {
		evs, err := svc.FindEvents(ctx, lock.ID, 20)
		must(t, err)
		for _, e := range evs {
			if e.Kind == latchkey.EventUnlocked && e.PersonID == person.ID && e.Source == latchkey.SourceKeypad {
				return true
			}
		}
		return false
	})

	// Make before break, then the revocation confirmed: the slot read back empty.
	owner, _, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: person.ID, Label: "Owner"}, PIN: "730245", LockIDs: []int64{lock.ID}})
	must(t, err)
	ownerGrant := grant(owner.ID, latchkey.GrantSet)
	_, err = svc.RevokeCode(ctx, c.ID)
	must(t, err)
	grant(c.ID, latchkey.GrantRemoved)
	if st, _ := h.Slot(t, g.Slot); st != 0 {
		t.Fatalf("the revoked code's slot %d still holds a code at the lock", g.Slot)
	}

	// Reset at the lock, behind the hub's back: quarantined.
	h.Do(t, "reset-locally", nil)
	waitFor("the reset lock quarantined", func() bool {
		l, err := svc.FindLockByID(ctx, lock.ID)
		must(t, err)
		return l.Status == latchkey.LockQuarantined
	})
	// Paired again (inclusion started from Latchkey), at its new node id, and
	// re-provisioned: the owner's code is back, read back from the lock.
	h.Do(t, "include", nil)
	addr, err := d.Include(ctx, false)
	must(t, err)
	conn := latchkey.Connection{Driver: latchkey.DriverZWaveJS, Address: addr}
	_, err = svc.UpdateLock(ctx, lock.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	n, err := svc.Reprovision(ctx, lock.ID)
	must(t, err)
	if n != 1 {
		t.Fatalf("%d codes to put back, want 1 (the owner's)", n)
	}
	back := grant(owner.ID, latchkey.GrantSet)
	if st, code := h.SlotOf(t, addr, back.Slot); st != 1 || code != "730245" {
		t.Fatalf("slot %d of the re-paired lock: status %d, not the owner's code (was slot %d)", back.Slot, st, ownerGrant.Slot)
	}
	if st, _ := h.SlotOf(t, addr, g.Slot); g.Slot != back.Slot && st != 0 {
		t.Fatal("the revoked code came back with the re-provisioning")
	}
}
