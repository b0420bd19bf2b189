package codesync_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
	"github.com/latchkey/latchkey/z2msim"
	"github.com/latchkey/latchkey/zigbee2mqtt"
)

// z2mFixture is a home with one Kwikset Zigbee lock ("back", a 914) reached through the
// zigbee2mqtt driver, over a real MQTT broker, with the twin fleet standing in for
// Zigbee2MQTT; the engine runs.
type z2mFixture struct {
	*fixture
	fleet *z2msim.Fleet
	drv   *zigbee2mqtt.Driver
}

func newZ2MFixture(t *testing.T) *z2mFixture {
	t.Helper()
	broker := os.Getenv("LATCHKEY_TEST_MQTT")
	if broker == "" {
		t.Skip("no MQTT broker: set LATCHKEY_TEST_MQTT=tcp://127.0.0.1:1883 (a Mosquitto) to run the engine over Zigbee2MQTT")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	base := "latchkey-test/" + hex.EncodeToString(b)
	fleet, err := z2msim.New(z2msim.Config{Broker: broker, BaseTopic: base, Locks: []z2msim.LockSpec{{Name: "back", Model: "914"}},
		Seed: 5, Speed: 20, ExposePIN: true, ClearRetained: true})
	must(t, err)
	start, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	must(t, fleet.Start(start))
	t.Cleanup(fleet.Close)

	drv := &zigbee2mqtt.Driver{Broker: broker, BaseTopic: base, ReadEvery: time.Second, BoltGrace: 300 * time.Millisecond}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	svc := storetest.NewService(t, db)
	svc.Clock = latchkey.SystemClock{}
	events := make(chan latchkey.DeviceEvent, 64)
	recorded := make(chan struct{})
	drv.Subscribe(func(e latchkey.DeviceEvent) {
		<-recorded
		if _, err := svc.RecordDeviceEvent(context.Background(), e); err != nil {
			t.Errorf("recording %s from %s: %v", e.Kind, e.Address, err)
		}
		select {
		case events <- e:
		default:
		}
	})
	must(t, drv.Open())
	t.Cleanup(drv.Close)
	must(t, drv.Ready(start))

	ctx, stop := context.WithTimeout(latchkey.NewContextWithActor(context.Background(), "ana"), 90*time.Second)
	t.Cleanup(stop)
	f := &fixture{svc: svc, events: events, ctx: ctx, locks: map[string]*latchkey.Lock{}, cancel: stop}
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Back door"}
	must(t, svc.CreateDoor(ctx, door))
	// ModelID is one the stand-in catalog (storetest) knows: it sets the slot count only.
	l := &latchkey.Lock{DoorID: door.ID, Name: "back", ModelID: "916",
		Connection: latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: fleet.IEEE("back")}}
	must(t, svc.CreateLock(ctx, l))
	f.locks["back"] = l
	f.person = &latchkey.Person{Name: "Sam", Role: latchkey.RoleFamily}
	must(t, svc.CreatePerson(ctx, f.person))
	close(recorded)

	engine := &codesync.Engine{Service: svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverZigbee2MQTT: drv},
		Interval: 100 * time.Millisecond, Timeout: 10 * time.Second, FirstBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return &z2mFixture{fixture: f, fleet: fleet, drv: drv}
}

// waitEvent waits for an event of a kind from the lock.
func (f *z2mFixture) waitEvent(t *testing.T, kind latchkey.EventKind) latchkey.DeviceEvent {
	t.Helper()
	for {
		select {
		case e := <-f.events:
			if e.Kind == kind {
				return e
			}
		case <-f.ctx.Done():
			t.Fatalf("no %s event", kind)
		}
	}
}

// Over Zigbee2MQTT: a code is set and confirmed by reading it back and opens the door
// from its slot; once revoked (another code on first) it is removed only when the lock
// reads back without it.
func TestZigbee2MQTTCodeSetAndRevoked(t *testing.T) {
	f := newZ2MFixture(t)
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913",
		LockIDs: []int64{f.locks["back"].ID}})
	must(t, err)
	g := f.waitGrant(t, c.ID, "back", latchkey.GrantSet)
	if held, err := f.fleet.Holds("back", g.Slot); err != nil || !held {
		t.Fatalf("the engine says set, the lock's slot %d says %v (%v)", g.Slot, held, err)
	}
	must(t, f.fleet.KeypadUnlock("back", pin))
	ev := f.waitEvent(t, latchkey.EventUnlocked)
	if ev.Slot != g.Slot || ev.Source != latchkey.SourceKeypad {
		t.Fatalf("unlock reported from %s slot %d, want the keypad, slot %d", ev.Source, ev.Slot, g.Slot)
	}
	// Make before break: another way in first, put on by the engine too.
	owner, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Owner"}, PIN: "730245",
		LockIDs: []int64{f.locks["back"].ID}})
	must(t, err)
	f.waitGrant(t, owner.ID, "back", latchkey.GrantSet)
	_, err = f.svc.RevokeCode(f.ctx, c.ID)
	must(t, err)
	f.waitGrant(t, c.ID, "back", latchkey.GrantRemoved)
	if held, err := f.fleet.Holds("back", g.Slot); err != nil || held {
		t.Fatalf("the revoked code is recorded removed, and the lock's slot %d still holds it (%v)", g.Slot, err)
	}
}

// Over Zigbee2MQTT: a lock reset behind the hub's back (it leaves the network) is
// quarantined; paired again and re-provisioned, its code goes back on and reads back.
func TestZigbee2MQTTResetReprovisioned(t *testing.T) {
	f := newZ2MFixture(t)
	back := f.locks["back"].ID
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{back}})
	must(t, err)
	f.waitGrant(t, c.ID, "back", latchkey.GrantSet)
	must(t, f.fleet.ResetLocally("back"))
	for {
		l, err := f.svc.FindLockByID(f.ctx, back)
		must(t, err)
		if l.Status == latchkey.LockQuarantined {
			break
		}
		select {
		case <-f.ctx.Done():
			t.Fatalf("the reset lock is %s, not quarantined", l.Status)
		case <-time.After(20 * time.Millisecond):
		}
	}
	must(t, f.fleet.Pair("back"))
	// The driver knows the lock again once Zigbee2MQTT lists it.
	for {
		devices, err := f.drv.Devices(f.ctx)
		must(t, err)
		if len(devices) == 1 && devices[0].Online {
			break
		}
		select {
		case <-f.ctx.Done():
			t.Fatal("the paired lock is not listed again")
		case <-time.After(20 * time.Millisecond):
		}
	}
	n, err := f.svc.Reprovision(f.ctx, back)
	must(t, err)
	if n != 1 {
		t.Fatalf("%d codes to put back, want 1", n)
	}
	g := f.waitGrant(t, c.ID, "back", latchkey.GrantSet)
	if held, err := f.fleet.Holds("back", g.Slot); err != nil || !held {
		t.Fatalf("re-provisioned, the lock's slot %d holds nothing (%v)", g.Slot, err)
	}
}
