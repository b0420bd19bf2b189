package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/z2msim"
	"github.com/latchkey/latchkey/zigbee2mqtt"
)

// The demo's hubs: where its electronic locks live and how Latchkey reaches them.
const (
	demoHubSim = "sim" // twins in this process, reached through simdriver
	demoHubZ2M = "z2m" // twins published as Zigbee2MQTT devices, reached through the zigbee2mqtt driver
)

// demoBaseTopic is the base topic the demo publishes its locks under: its own, so that a
// real Zigbee2MQTT on the same broker (base topic zigbee2mqtt) is untouched.
const demoBaseTopic = "latchkey-demo"

// demoBrokerWait is how long the demo waits for the MQTT broker to answer.
const demoBrokerWait = 5 * time.Second

// demoHub says where the demo's electronic locks live.
type demoHub struct {
	Kind   string // demoHubSim or demoHubZ2M
	Broker string // z2m: the MQTT broker's URL
	Base   string // z2m: the base topic; empty means demoBaseTopic
}

// demoTwins are the demo's twins, and the driver Latchkey reaches the electronic ones
// through.
type demoTwins struct {
	// world is the driver over the twins' world: the virtual hands and the everyday
	// script act on it as people at the doors, and it sets the twins' pace.
	world *simdriver.Driver
	// driver reaches the electronic locks, as the sync engine, the procedure engine and
	// the adoption readers see them.
	driver interface {
		latchkey.DeviceDriver
		latchkey.CodeReader
	}
	// connect is the connection of the lock of a twin.
	connect func(twin string) latchkey.Connection
	close   func()
}

// startDemoTwins starts the demo's twins on its hub; what they report reaches svc.
func startDemoTwins(ctx context.Context, hub demoHub, svc *latchkey.Service, log *slog.Logger) (*demoTwins, error) {
	record := func(ev latchkey.DeviceEvent) {
		if _, err := svc.RecordDeviceEvent(context.Background(), ev); err != nil {
			log.Warn("device event not recorded", slog.String("lock", ev.Address), slog.String("error", err.Error()))
		}
	}
	if hub.Kind == demoHubZ2M {
		return startDemoFleet(ctx, hub, record, log)
	}
	world, err := demoWorld()
	if err != nil {
		return nil, err
	}
	driver := simdriver.New(world)
	// Installing the home is not the show: its radio round trips run a minute a second.
	driver.Speed = 60
	driver.Subscribe(record)
	driver.Start()
	return &demoTwins{world: driver, driver: driver, close: driver.Close,
		connect: func(twin string) latchkey.Connection {
			return latchkey.Connection{Driver: latchkey.DriverSim, Address: twin}
		}}, nil
}

// startDemoFleet publishes the demo's electronic locks as Zigbee2MQTT devices on the
// broker (a z2msim fleet, its cylinders in the same world) and connects the zigbee2mqtt
// driver to them, as it would connect to a real Zigbee2MQTT.
func startDemoFleet(ctx context.Context, hub demoHub, record func(latchkey.DeviceEvent), log *slog.Logger) (*demoTwins, error) {
	base := hub.Base
	if base == "" {
		base = demoBaseTopic
	}
	var locks []z2msim.LockSpec
	var cylinders []z2msim.CylinderSpec
	for _, d := range demoLocks {
		if d.radio != "" {
			opt := demoLockOptions(d)
			locks = append(locks, z2msim.LockSpec{Name: d.name, Model: d.model, DIP: opt.DIP, BatteryMV: opt.BatteryMV})
		}
		if c := d.cylinder(); c != "" {
			cylinders = append(cylinders, z2msim.CylinderSpec{Name: c, Options: sim.CylinderOptions{Bitting: demoBitting}})
		}
	}
	fleet, err := z2msim.New(z2msim.Config{Broker: hub.Broker, BaseTopic: base, Locks: locks, Cylinders: cylinders,
		// A seed of its own gives the fleet its own MQTT client id; 24 bits keep the IEEE
		// addresses at 64 bits.
		Seed:  uint64(time.Now().UnixNano()) & 0xff_ffff,
		Speed: 60, ExposePIN: true, ClearRetained: true,
		Start: time.Now().UTC(), NoTrace: true, Logger: log.With(slog.String("component", "z2msim"))})
	if err != nil {
		return nil, err
	}
	// Let pairing finish before the records point at the twins.
	fleet.Do(func(w *sim.World) { w.Advance(time.Minute) })
	start, cancel := context.WithTimeout(ctx, demoBrokerWait)
	defer cancel()
	if err := fleet.Start(start); err != nil {
		fleet.Close()
		log.Debug("the demo's fleet did not start", slog.String("error", latchkey.ErrorMessage(err)))
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "No MQTT broker answered at %s within %s. Start Mosquitto there (mosquitto -p 1883), give another broker with --broker, or leave out --hub to run the demo's locks in this process.",
			hub.Broker, demoBrokerWait)
	}
	driver := &zigbee2mqtt.Driver{Broker: hub.Broker, BaseTopic: base, Logger: log.With(slog.String("component", "zigbee2mqtt"))}
	driver.Subscribe(record)
	if err := driver.Open(); err != nil {
		fleet.Close()
		return nil, err
	}
	ready, cancelReady := context.WithTimeout(ctx, demoBrokerWait)
	defer cancelReady()
	if err := driver.Ready(ready); err != nil {
		driver.Close()
		fleet.Close()
		return nil, err
	}
	return &demoTwins{world: fleet.Driver(), driver: driver,
		connect: func(twin string) latchkey.Connection {
			return latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: fleet.IEEE(twin)}
		},
		close: func() {
			driver.Close()
			fleet.Close() // the bridge offline, and its retained messages cleared
		}}, nil
}

// demoHubLine tells, in the banner, where the demo's electronic locks are.
func demoHubLine(hub demoHub) string {
	if hub.Kind != demoHubZ2M {
		return ""
	}
	base := hub.Base
	if base == "" {
		base = demoBaseTopic
	}
	return fmt.Sprintf(`The electronic locks go through Zigbee2MQTT on %s under base topic %q: twins
published as Zigbee2MQTT devices, reached by the zigbee2mqtt driver as real ones would be.
`, hub.Broker, base)
}
