package zigbee2mqtt

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// newOffline returns a driver that takes messages without a broker: what handle does
// with them is all there is to test.
func newOffline() *Driver {
	d := &Driver{Slots: 30, BoltGrace: time.Hour, Logger: slog.New(slog.DiscardHandler), base: "z2m",
		listedCh: make(chan struct{}), byIEEE: map[string]*device{}, byName: map[string]*device{}, early: map[string]earlyMessage{},
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
	return d
}

const fuzzDevices = `[{"ieee_address":"0x000d6f0000000001","type":"EndDevice","friendly_name":"front","model_id":"SMARTCODE_DEADBOLT_10"},
{"ieee_address":"0x000d6f0000000002","type":"EndDevice","friendly_name":"a/b","model_id":"SMARTCODE_LEVER_5"}]`

// A state that arrives before the device list is kept and applied once the list comes;
// the first availability is how things stand, the next a change.
func TestEarlyStateAndAvailability(t *testing.T) {
	d := newOffline()
	d.handle("z2m/front", []byte(`{"lock_state":"unlocked","battery":55,"users":{"2":{"status":"enabled"}}}`), true)
	d.handle("z2m/front/availability", []byte(`{"state":"online"}`), true)
	d.handle("z2m/bridge/devices", []byte(fuzzDevices), true)
	dev := d.byIEEE["0x000d6f0000000001"]
	if dev == nil || dev.bolt != "unlocked" || dev.battery != 55 || dev.users[2].Status != "enabled" || dev.online == nil || !*dev.online {
		t.Fatalf("early messages not applied: %+v", dev)
	}
	d.handle("z2m/front/availability", []byte(`offline`), false)
	d.handle("z2m/a/b/availability", []byte(`{"state":"online"}`), false) // a name with a slash
	if len(d.queue) != 1 || d.queue[0].Kind != latchkey.EventOffline || d.queue[0].Address != "0x000d6f0000000001" {
		t.Fatalf("events %+v, want one offline", d.queue)
	}
	if dev := d.byName["a/b"]; dev.online == nil || !*dev.online {
		t.Fatal("a/b's availability was not taken")
	}
}

// Whatever arrives on whatever topic under the base, the driver does not panic, and
// every event it makes names a listed lock, a known kind and a slot in range.
func FuzzHandle(f *testing.F) {
	f.Add("front", []byte(`{"action":"unlock","action_source_name":"keypad","action_user":2,"lock_state":"unlocked","last_seen":5}`), false)
	f.Add("front", []byte(`{"action":"pin_code_deleted","action_user":255,"battery":10,"battery_low":true,"tamper":true}`), false)
	f.Add("front/availability", []byte(`offline`), false)
	f.Add("bridge/event", []byte(`{"type":"device_leave","data":{"ieee_address":"0x000d6f0000000001"}}`), false)
	f.Add("bridge/devices", []byte(`[]`), true)
	f.Add("a/b", []byte(`{"lock_state":"not_fully_locked"}`), false)
	f.Add("bridge/logging", []byte(`{"level":"error","message":"Publish 'set' 'x' to 'front' failed: 'must'"}`), false)
	kinds := map[latchkey.EventKind]bool{latchkey.EventLocked: true, latchkey.EventUnlocked: true, latchkey.EventWrongCode: true,
		latchkey.EventJammed: true, latchkey.EventLowBattery: true, latchkey.EventTamper: true, latchkey.EventResetLocally: true,
		latchkey.EventAllCodesDeleted: true, latchkey.EventCodeAdded: true, latchkey.EventCodeDeleted: true,
		latchkey.EventCodeChanged: true, latchkey.EventOffline: true, latchkey.EventOnline: true}
	f.Fuzz(func(t *testing.T, topic string, payload []byte, retained bool) {
		d := newOffline()
		d.handle("z2m/bridge/devices", []byte(fuzzDevices), true)
		d.handle("z2m/front", []byte(`{"lock_state":"locked","last_seen":1}`), false)
		d.handle("z2m/"+topic, payload, retained)
		d.handle("z2m/"+topic, payload, retained) // and again, as a redelivery
		for _, dev := range d.byIEEE {
			if dev.boltTimer != nil {
				dev.boltTimer.Stop()
			}
		}
		for _, ev := range d.queue {
			if ev.Driver != latchkey.DriverZigbee2MQTT || !validIEEE(ev.Address) || !kinds[ev.Kind] || ev.Slot < 0 || ev.Slot > d.Slots {
				t.Fatalf("event %+v", ev)
			}
			if strings.ContainsAny(ev.Detail, "\x00\n") {
				t.Fatalf("detail %q", ev.Detail)
			}
		}
	})
}

// A lock slow to answer is asked again less and less often, never more than six first
// waits apart: 5 s, 10, 20, then every 30.
func TestNextReadBacksOff(t *testing.T) {
	first := 5 * time.Second
	var got []time.Duration
	for every, i := first, 0; i < 5; i++ {
		every = nextRead(every, first)
		got = append(got, every)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
}
