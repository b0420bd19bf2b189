package zigbee2mqtt_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey/drivertest"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/z2msim"
	"github.com/latchkey/latchkey/zigbee2mqtt"
)

// broker returns the MQTT broker the tests use, or skips the test.
func broker(t testing.TB) string {
	t.Helper()
	url := os.Getenv("LATCHKEY_TEST_MQTT")
	if url == "" {
		t.Skip("no MQTT broker: set LATCHKEY_TEST_MQTT=tcp://127.0.0.1:1883 (a Mosquitto) to run the Zigbee2MQTT tests")
	}
	return url
}

// uniqueBase is a base topic no other test uses, so that tests run side by side on one
// broker.
func uniqueBase(t testing.TB) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "latchkey-test/" + hex.EncodeToString(b)
}

// rig is a fleet and a driver on one base topic.
type rig struct {
	fleet  *z2msim.Fleet
	driver *zigbee2mqtt.Driver
}

// rigOptions vary a rig: a broker URL for the driver (a proxy), the fleet's QoS, and
// the driver's client id (a persistent session).
type rigOptions struct {
	driverBroker string
	qos          byte
	clientID     string
	speed        float64 // the twins' virtual seconds per second; 0 means 20
	radio        sim.RadioConfig
}

// newRig starts a fleet of the named locks (model 914) and a driver (not opened) on a
// fresh base topic.
func newRig(t testing.TB, o rigOptions, names ...string) *rig {
	t.Helper()
	url := broker(t)
	if o.driverBroker == "" {
		o.driverBroker = url
	}
	base := uniqueBase(t)
	var specs []z2msim.LockSpec
	for _, n := range names {
		specs = append(specs, z2msim.LockSpec{Name: n, Model: "914"})
	}
	if o.speed == 0 {
		o.speed = 20
	}
	fleet, err := z2msim.New(z2msim.Config{Broker: url, BaseTopic: base, Locks: specs, Seed: 3, Speed: o.speed,
		ExposePIN: true, ClearRetained: true, QoS: o.qos, Radio: o.radio})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fleet.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	if o.clientID != "" {
		// Runs after the driver closes: the broker forgets the driver's persistent session.
		t.Cleanup(func() {
			c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(o.clientID).SetCleanSession(true))
			if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
				c.Disconnect(100)
			}
		})
	}
	d := &zigbee2mqtt.Driver{Broker: o.driverBroker, BaseTopic: base, ReadEvery: time.Second, BoltGrace: 300 * time.Millisecond,
		MaxReconnect: 2 * time.Second, ClientID: o.clientID}
	t.Cleanup(d.Close)
	return &rig{fleet: fleet, driver: d}
}

// open opens the driver and waits for the device list.
func (r *rig) open(t testing.TB) error {
	if err := r.driver.Open(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return r.driver.Ready(ctx)
}

// The driver passes the driver contract suite against the twin fleet over Mosquitto.
func TestContract(t *testing.T) {
	broker(t)
	drivertest.Run(t, func(t *testing.T) *drivertest.Harness {
		r := newRig(t, rigOptions{}, "front")
		f := r.fleet
		hook := func(fn func(string) error) drivertest.Hook {
			return func(context.Context) error { return fn("front") }
		}
		return &drivertest.Harness{
			Driver:  r.driver,
			Start:   func() error { return r.open(t) },
			Address: f.IEEE("front"),
			Model:   "914",
			KeypadUnlock: func(_ context.Context, _ int, pin string) error {
				return f.KeypadUnlock("front", pin)
			},
			WrongCode:      hook(f.WrongCode),
			Jam:            hook(f.Jam),
			LowBattery:     hook(f.LowBattery),
			ResetLocally:   hook(f.ResetLocally),
			DeleteAllCodes: hook(f.DeleteAllCodes),
			GoOffline:      hook(f.GoOffline),
			ComeBack:       hook(f.ComeBack),
			HubDown:        func(context.Context) error { f.HubDown(); return nil },
			HubUp:          f.HubUp,
			Silence: func(context.Context) (string, error) {
				return f.IEEE("front"), f.Mute("front")
			},
			Unsupported: map[string]string{
				"KeypadLockout": "zigbee-herdsman-converters' Kwikset definitions convert no keypad-lockout report",
				"Tamper":        "zigbee-herdsman-converters' Kwikset definitions bind no alarm cluster: a tamper is not reported",
			},
		}
	})
}

// BenchmarkSetCode measures a code set and confirmed through the broker: the set, the
// read, the lock's answer. The twins' Zigbee radio polls every millisecond, so that the
// radio's seconds (a sleepy Zigbee lock polls every 5 s) drop out and what is left is
// the driver, the broker and the fleet.
func BenchmarkSetCode(b *testing.B) {
	r := newRig(b, rigOptions{speed: 1, radio: sim.RadioConfig{ZigbeePoll: time.Millisecond, ZigbeeHopMin: time.Microsecond,
		ZigbeeHopMax: 2 * time.Microsecond}}, "front")
	if err := r.open(b); err != nil {
		b.Fatal(err)
	}
	addr := r.fleet.IEEE("front")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	for i := range b.N {
		pin := []string{"482913", "739164"}[i%2] // a new code in the slot each time
		if err := r.driver.SetCode(ctx, addr, 1, pin); err != nil {
			b.Fatal(err)
		}
	}
}
