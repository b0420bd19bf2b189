// Package z2msim publishes digital twins (package sim) as Zigbee2MQTT would publish
// Kwikset Zigbee locks: bridge/devices, bridge/state and bridge/event, each lock's
// state, availability and events, and it answers set and get on pin_code and state as
// zigbee-herdsman-converters' Kwikset definitions do (fromZigbee lock,
// lock_operation_event, lock_programming_event, lock_pin_code_response, battery;
// toZigbee lock and pincode_lock). It stands in for Zigbee2MQTT and its radio in tests
// and in `latchkey sim z2m`, over a real MQTT broker.
package z2msim

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
)

// PINCodeCount is pinCodeCount in every Kwikset definition that takes PINs.
const PINCodeCount = 30

// Config sets up a fleet.
type Config struct {
	// Broker is the MQTT broker's URL (mqtt://, tcp://, ws://...).
	Broker string
	// BaseTopic is Zigbee2MQTT's mqtt.base_topic; empty means zigbee2mqtt.
	BaseTopic string
	// Locks are the twins: a name (the friendly name) and a catalog model that takes
	// PIN codes over Zigbee (910, 912, 914, 916).
	Locks []LockSpec
	// Seed makes the world, and the IEEE addresses, repeatable.
	Seed uint64
	// Speed is how many virtual seconds pass per real second (1 for people; tests run
	// faster).
	Speed float64
	// ExposePIN is the expose_pin device option: users report their PIN back.
	ExposePIN bool
	// RetainState is the retain device option (Zigbee2MQTT's default is off).
	RetainState bool
	// QoS is the qos device option for state messages (Zigbee2MQTT's default is 0).
	QoS byte
	// ClearRetained makes Close remove the retained messages the fleet published (the
	// device list, the bridge state, availability), so that tests leave the broker as
	// they found it. Zigbee2MQTT itself leaves them.
	ClearRetained bool
	// Radio is the twins' radio model (sim.RadioConfig): zero fields take its defaults.
	Radio sim.RadioConfig
	// Logger receives the fleet's log; nil discards it.
	Logger *slog.Logger
}

// LockSpec is one twin of the fleet.
type LockSpec struct {
	Name  string
	Model string
}

// Fleet is the twins, published over MQTT as Zigbee2MQTT devices.
type Fleet struct {
	cfg    Config
	base   string
	world  *sim.World
	drv    *simdriver.Driver
	locks  map[string]*lock // by friendly name
	order  []*lock
	opts   *mqtt.ClientOptions
	mu     sync.Mutex
	client mqtt.Client
	up     bool // the bridge is running: connected, answering
	wg     sync.WaitGroup
	stop   chan struct{}
}

// lock is one twin as Zigbee2MQTT knows it.
type lock struct {
	name, ieee string
	model      *catalog.Model
	zigbee     catalog.ZigbeeID
	twin       *sim.Lock
	left       bool           // it left the network (reset): no longer listed
	muted      bool           // Zigbee2MQTT hangs on it: set and get go unanswered
	online     bool           // availability
	state      map[string]any // Zigbee2MQTT's cached state (cache_state)
	lastSeen   int64
	jobs       chan job // set and get, in the order they came
}

// job is a set or get Zigbee2MQTT took for a lock.
type job struct {
	get  bool
	body map[string]json.RawMessage
}

// New builds the fleet's world. Start publishes it.
func New(cfg Config) (*Fleet, error) {
	if cfg.BaseTopic == "" {
		cfg.BaseTopic = "zigbee2mqtt"
	}
	if cfg.Speed <= 0 {
		cfg.Speed = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if b := cfg.BaseTopic; strings.ContainsAny(b, "+#\x00") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.Contains(b, "//") {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The base topic %q is not one Zigbee2MQTT takes: no +, # or empty levels.", b)
	}
	if len(cfg.Locks) == 0 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "A fleet needs at least one lock.")
	}
	u, err := url.Parse(cfg.Broker)
	if err != nil || u.Host == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The MQTT broker %q is not a URL; give it as mqtt://host:1883.", cfg.Broker)
	}
	switch u.Scheme {
	case "mqtt":
		u.Scheme = "tcp"
	case "mqtts":
		u.Scheme = "ssl"
	}
	w := sim.NewWorld(sim.Config{Seed: cfg.Seed, Radio: cfg.Radio})
	f := &Fleet{cfg: cfg, base: cfg.BaseTopic, world: w, locks: map[string]*lock{}, stop: make(chan struct{})}
	for i, spec := range cfg.Locks {
		if strings.ContainsAny(spec.Name, "+#/") || spec.Name == "" || spec.Name == "bridge" {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Lock name %q cannot be a friendly name: no /, + or #.", spec.Name)
		}
		if f.locks[spec.Name] != nil {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Two locks are named %q.", spec.Name)
		}
		m, err := w.Catalog.Model(spec.Model)
		if err != nil {
			return nil, err
		}
		var zid catalog.ZigbeeID
		for _, z := range m.Zigbee.Value {
			if z.PINCodes {
				zid = z
				break
			}
		}
		if zid.Model == "" {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Model %s takes no PIN codes over Zigbee (zigbee-herdsman-converters); use 910, 912, 914 or 916.", spec.Model)
		}
		twin, err := w.AddLock(spec.Name, sim.LockOptions{Model: m.ID, Radio: catalog.RadioZigbee, Locked: true, Mastercode: Mastercode})
		if err != nil {
			return nil, err
		}
		if err := twin.JoinHub(); err != nil {
			return nil, err
		}
		l := &lock{name: spec.Name, ieee: fmt.Sprintf("0x000d6f%010x", cfg.Seed<<16+uint64(i)+1), model: m, zigbee: zid,
			twin: twin, online: true, jobs: make(chan job, 64)}
		mv, _ := twin.Field("battery")
		var n int
		fmt.Sscan(mv, &n)
		l.state = map[string]any{"linkquality": 120}
		merge(l.state, convertLockState(lockStateLocked))
		merge(l.state, convertBattery(2*latchkey.LockState{BatteryMV: n}.BatteryPercent()))
		f.locks[spec.Name] = l
		f.order = append(f.order, l)
	}
	f.drv = simdriver.New(w)
	f.drv.Speed = cfg.Speed
	f.drv.Subscribe(f.onTwinEvent)
	f.opts = mqtt.NewClientOptions().AddBroker(u.String()).
		SetClientID(fmt.Sprintf("z2msim-%s-%d", strings.ReplaceAll(cfg.BaseTopic, "/", "-"), cfg.Seed)).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(5*time.Second).
		SetWill(f.base+"/bridge/state", `{"state":"offline"}`, 1, true).
		SetOnConnectHandler(f.onConnect)
	return f, nil
}

// Mastercode is the Mastercode every twin of a fleet has, so that a person can delete
// every code at the keypad (DeleteAllCodes).
const Mastercode = "135791"

// Start runs the twins' clock, connects to the broker and publishes the bridge.
func (f *Fleet) Start(ctx context.Context) error {
	f.drv.Start()
	for _, l := range f.order {
		f.wg.Add(1)
		go f.work(l)
	}
	return f.connect(ctx)
}

// connect connects and waits until the bridge is published.
func (f *Fleet) connect(ctx context.Context) error {
	c := mqtt.NewClient(f.opts)
	f.mu.Lock()
	f.client = c
	f.mu.Unlock()
	tok := c.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "Could not reach the MQTT broker %s: %v.", f.cfg.Broker, err)
		}
	case <-ctx.Done():
		c.Disconnect(0)
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "Could not reach the MQTT broker %s before giving up.", f.cfg.Broker)
	}
	for {
		f.mu.Lock()
		up := f.up
		f.mu.Unlock()
		if up {
			return nil
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "The MQTT broker %s took the connection but not the bridge's topics.", f.cfg.Broker)
		}
	}
}

// onConnect subscribes to the locks' set and get topics and publishes the bridge, as
// Zigbee2MQTT does when it starts: bridge/state, bridge/devices and availability
// retained.
func (f *Fleet) onConnect(c mqtt.Client) {
	for _, t := range []string{f.base + "/+/set", f.base + "/+/get", f.base + "/+/set/+", f.base + "/+/get/+"} {
		c.Subscribe(t, 1, f.onRequest).Wait()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publish(f.base+"/bridge/state", map[string]any{"state": "online"}, 1, true)
	f.publishDevices()
	for _, l := range f.order {
		if !l.left {
			f.publishAvailability(l)
		}
	}
	f.up = true
}

// Close disconnects (publishing the bridge offline) and stops the twins.
func (f *Fleet) Close() {
	f.mu.Lock()
	select {
	case <-f.stop:
		f.mu.Unlock()
		return
	default:
		close(f.stop)
	}
	c := f.client
	if f.up {
		f.publish(f.base+"/bridge/state", map[string]any{"state": "offline"}, 1, true)
	}
	if c != nil && f.cfg.ClearRetained {
		topics := []string{f.base + "/bridge/state", f.base + "/bridge/devices"}
		for _, l := range f.order {
			topics = append(topics, f.base+"/"+l.name+"/availability", f.base+"/"+l.name)
		}
		for _, t := range topics {
			c.Publish(t, 1, true, []byte{}).WaitTimeout(time.Second) // an empty retained message deletes it
		}
	}
	f.up = false
	f.mu.Unlock()
	if c != nil {
		c.Disconnect(250)
	}
	f.wg.Wait()
	f.drv.Close()
}

// publish sends a message; call it with mu held. A fleet that is down sends nothing.
func (f *Fleet) publish(topic string, payload any, qos byte, retain bool) {
	if f.client == nil {
		return
	}
	body, err := json.Marshal(payload)
	if err != nil {
		f.cfg.Logger.Error("could not encode a message", "topic", topic, "error", err)
		return
	}
	f.client.Publish(topic, qos, retain, body)
}

// publishDevices publishes bridge/devices (retained): the coordinator and every lock
// still on the network, with their Kwikset definitions.
func (f *Fleet) publishDevices() {
	list := []map[string]any{{
		"ieee_address": "0x00124b0000000001", "type": "Coordinator", "network_address": 0, "supported": true,
		"friendly_name": "Coordinator", "disabled": false, "interview_completed": true, "interviewing": false,
	}}
	for i, l := range f.order {
		if l.left {
			continue
		}
		list = append(list, map[string]any{
			"ieee_address": l.ieee, "type": "EndDevice", "network_address": 0x1000 + i, "supported": true,
			"friendly_name": l.name, "disabled": false, "interview_completed": true, "interviewing": false,
			"model_id": l.zigbee.Model, "manufacturer": "Kwikset", "power_source": "Battery",
			"definition": map[string]any{
				"model": l.zigbee.SKU, "vendor": "Kwikset", "description": l.model.Name, "supports_ota": false,
				"exposes": []map[string]any{
					{"type": "lock", "features": []map[string]any{{"name": "state", "property": "state", "type": "binary"},
						{"name": "lock_state", "property": "lock_state", "type": "enum"}}},
					{"name": "battery", "property": "battery", "type": "numeric", "unit": "%"},
					{"name": "pin_code", "property": "pin_code", "type": "composite"},
					{"name": "action", "property": "action", "type": "enum"},
					{"name": "action_source_name", "property": "action_source_name", "type": "enum"},
					{"name": "action_user", "property": "action_user", "type": "numeric"},
				},
			},
		})
	}
	f.publish(f.base+"/bridge/devices", list, 0, true)
}

// publishAvailability publishes a lock's availability (retained), as Zigbee2MQTT does
// with availability on.
func (f *Fleet) publishAvailability(l *lock) {
	state := "offline"
	if l.online {
		state = "online"
	}
	f.publish(f.base+"/"+l.name+"/availability", map[string]any{"state": state}, 1, true)
}

// publishState publishes a lock's cached state with extra (an action's fields, which
// Zigbee2MQTT does not cache), stamped with last_seen as epoch milliseconds; call it
// with mu held.
func (f *Fleet) publishState(l *lock, extra map[string]any) {
	msg := make(map[string]any, len(l.state)+len(extra)+1)
	for k, v := range l.state {
		msg[k] = v
	}
	for k, v := range extra {
		msg[k] = v
	}
	now := time.Now().UnixMilli()
	if now <= l.lastSeen {
		now = l.lastSeen + 1 // one Zigbee message, one time: never two at once
	}
	l.lastSeen = now
	msg["last_seen"] = now
	f.publish(f.base+"/"+l.name, msg, f.cfg.QoS, f.cfg.RetainState)
}

// logError publishes what Zigbee2MQTT logs when a set or get fails.
func (f *Fleet) logError(l *lock, kind, key, why string) {
	f.publish(f.base+"/bridge/logging", map[string]any{"level": "error",
		"message": fmt.Sprintf("Publish '%s' '%s' to '%s' failed: 'Error: %s'", kind, key, l.name, why)}, 0, false)
}
