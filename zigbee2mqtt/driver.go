// Package zigbee2mqtt is the device driver for Kwikset Zigbee locks paired with
// Zigbee2MQTT, over its MQTT contract (docs/hubs.md): it reads bridge/devices,
// bridge/state, bridge/event, bridge/logging, each lock's state and availability
// topics, and writes only the lock's set and get topics, and, for a factory reset's hub
// steps only, the bridge requests device/remove and permit_join (pairing.go). A lock's
// address is its IEEE address, which survives a rename in Zigbee2MQTT; commands go to
// its friendly name.
package zigbee2mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey"
)

// DefaultBaseTopic is Zigbee2MQTT's default mqtt.base_topic.
const DefaultBaseTopic = "zigbee2mqtt"

// Driver reaches Kwikset Zigbee locks through Zigbee2MQTT. Set its fields, then Open;
// Close when done. It reconnects by itself, with backoff, and subscribes again.
type Driver struct {
	// Broker is the MQTT broker's URL: mqtt://host:1883, mqtts://, tcp://, ssl://, ws://
	// or wss://.
	Broker string
	// BaseTopic is Zigbee2MQTT's mqtt.base_topic; empty means DefaultBaseTopic.
	BaseTopic string
	// Username and Password log in to the broker, when it asks.
	Username, Password string
	// ClientID names the connection. Given, the driver keeps a persistent session: what
	// Zigbee2MQTT publishes at QoS 1 while the driver is away from the broker is kept
	// for it and delivered when it is back. Empty makes a random one, with a clean
	// session each time.
	ClientID string
	// Slots is how many PIN slots the locks have (zigbee-herdsman-converters'
	// pinCodeCount: 30 for every Kwikset definition). Slot n is Zigbee user n-1.
	Slots int
	// ReadEvery is how long a command waiting for the lock waits before it asks again
	// for the state that confirms it (a sleepy lock may miss a request); each later
	// wait is twice the last, up to six times this (nextRead). Default 5 s.
	ReadEvery time.Duration
	// BoltGrace is how long a bolt change the lock reports waits for the operation
	// event that names who moved it, before it is reported on its own; default 2 s.
	BoltGrace time.Duration
	// MaxReconnect caps the backoff between attempts to reach the broker; default 10 s.
	MaxReconnect time.Duration
	// Logger receives the driver's log; nil discards it. No PIN is ever logged.
	Logger *slog.Logger

	mu           sync.Mutex
	client       mqtt.Client
	base         string
	bridgeOnline *bool // bridge/state; nil until heard
	listed       bool  // bridge/devices heard
	listedCh     chan struct{}
	byIEEE       map[string]*device
	byName       map[string]*device
	early        map[string]earlyMessage // state heard before its device was listed
	subs         []func(latchkey.DeviceEvent)
	queue        []latchkey.DeviceEvent
	wake         chan struct{}
	stop         chan struct{}
	wg           sync.WaitGroup
	pending      map[string]chan bridgeResponse // bridge requests awaiting their answer, by transaction
}

var (
	_ latchkey.DeviceDriver  = (*Driver)(nil)
	_ latchkey.CodeReader    = (*Driver)(nil)
	_ latchkey.DeviceLister  = (*Driver)(nil)
	_ latchkey.HubConnection = (*Driver)(nil)
)

// earlyMessage is a device topic's message that arrived before bridge/devices named
// the device (retained messages come in any order).
type earlyMessage struct {
	payload  []byte
	retained bool
}

const maxEarly = 1000

// device is one device bridge/devices lists, and what Latchkey last heard of it.
type device struct {
	info      bridgeDevice
	online    *bool // availability; nil until heard
	bolt      string
	battery   int
	batLow    bool
	tamper    bool
	users     map[int]userState
	lastSeen  time.Time
	lastBody  []byte
	reported  string // the bolt the last lock or unlock event said
	boltTimer *time.Timer
	waiters   map[*waiter]struct{}
}

// Name returns the driver's name.
func (d *Driver) Name() latchkey.Driver { return latchkey.DriverZigbee2MQTT }

// Subscribe delivers every event of every lock. Call it before Open.
func (d *Driver) Subscribe(f func(latchkey.DeviceEvent)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subs = append(d.subs, f)
}

// brokerURL checks the broker's URL and turns it into what paho takes.
func brokerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "The MQTT broker %q is not a URL; give it as mqtt://host:1883.", raw)
	}
	scheme := map[string]string{"mqtt": "tcp", "tcp": "tcp", "mqtts": "ssl", "ssl": "ssl", "tls": "ssl", "ws": "ws", "wss": "wss"}[u.Scheme]
	if scheme == "" {
		return "", latchkey.Errorf(latchkey.EINVALID, "The MQTT broker URL %q has scheme %q; use mqtt, mqtts, ws or wss.", u.Redacted(), u.Scheme)
	}
	if u.User != nil {
		return "", latchkey.Errorf(latchkey.EINVALID, "Give the MQTT broker's username and password on their own, not in its URL.")
	}
	u.Scheme = scheme
	return u.String(), nil
}

// checkBase checks the base topic: no wildcards, no empty levels.
func checkBase(base string) error {
	if base == "" || len(base) > 200 || strings.ContainsAny(base, "+#\x00") || strings.HasPrefix(base, "/") ||
		strings.HasSuffix(base, "/") || strings.Contains(base, "//") {
		return latchkey.Errorf(latchkey.EINVALID, "The base topic %q is not one Zigbee2MQTT takes; it is mqtt.base_topic in its configuration (default zigbee2mqtt).", base)
	}
	return nil
}

// Open checks the configuration and starts connecting to the broker; it does not wait
// for it (see Ready). A driver opens once. While the broker or Zigbee2MQTT cannot be reached, commands fail
// at once as unavailable, and the driver keeps trying.
func (d *Driver) Open() error {
	if d.client != nil {
		return latchkey.Errorf(latchkey.EINVALID, "The Zigbee2MQTT driver is open already.")
	}
	broker, err := brokerURL(d.Broker)
	if err != nil {
		return err
	}
	base := d.BaseTopic
	if base == "" {
		base = DefaultBaseTopic
	}
	if err := checkBase(base); err != nil {
		return err
	}
	if d.Slots == 0 {
		d.Slots = 30
	}
	if d.ReadEvery == 0 {
		d.ReadEvery = 5 * time.Second
	}
	if d.BoltGrace == 0 {
		d.BoltGrace = 2 * time.Second
	}
	if d.MaxReconnect == 0 {
		d.MaxReconnect = 10 * time.Second
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	id, persistent := d.ClientID, d.ClientID != ""
	if id == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		id = "latchkey-" + hex.EncodeToString(b)
	}
	d.mu.Lock()
	d.base, d.listedCh = base, make(chan struct{})
	d.byIEEE, d.byName, d.early = map[string]*device{}, map[string]*device{}, map[string]earlyMessage{}
	d.wake, d.stop = make(chan struct{}, 1), make(chan struct{})
	d.mu.Unlock()

	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID(id).
		SetUsername(d.Username).SetPassword(d.Password).
		SetCleanSession(!persistent). // subscriptions are made again on every connect all the same
		SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(d.MaxReconnect).
		SetKeepAlive(30 * time.Second).SetPingTimeout(10 * time.Second).
		SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		SetOrderMatters(true). // a lock's messages are handled in the order they came
		SetOnConnectHandler(d.onConnect).
		// A persistent session may deliver what was kept for it before onConnect has
		// subscribed again: it goes the same way.
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { d.handle(m.Topic(), m.Payload(), m.Retained()) }).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			d.Logger.Warn("lost the MQTT broker; reconnecting", "error", err)
		})
	d.client = mqtt.NewClient(opts)
	d.client.Connect() // with ConnectRetry, it keeps trying in the background
	d.wg.Add(1)
	go d.deliver()
	return nil
}

// onConnect subscribes to everything under the base topic: retained messages (the
// device list, states, availability) come back at once.
func (d *Driver) onConnect(c mqtt.Client) {
	d.Logger.Info("connected to the MQTT broker", "base_topic", d.base)
	// QoS 1: what Zigbee2MQTT publishes at QoS 1 (a device's qos option; its default is
	// 0) is delivered at least once, and repeats are recognised by last_seen.
	c.Subscribe(d.base+"/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		d.handle(m.Topic(), m.Payload(), m.Retained())
	})
}

// Ready waits until the driver is connected and has Zigbee2MQTT's device list, or ctx
// ends.
func (d *Driver) Ready(ctx context.Context) error {
	d.mu.Lock()
	listed := d.listedCh
	d.mu.Unlock()
	if listed == nil {
		return latchkey.Errorf(latchkey.EINVALID, "The Zigbee2MQTT driver is not open.")
	}
	select {
	case <-listed:
		return nil
	case <-ctx.Done():
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "No device list from Zigbee2MQTT at %s (topic %s/bridge/devices): is the broker up and Zigbee2MQTT running with that base topic?", d.Broker, d.base)
	}
}

// Connected reports whether the driver reaches Zigbee2MQTT now: connected to the
// broker, with the bridge's device list, and the bridge not saying it is offline. A lock
// that does not answer (a sleepy one dozing, one out of range) is the lock's matter, not
// the hub's: it does not make the hub look down.
func (d *Driver) Connected() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.client != nil && d.client.IsConnectionOpen() && d.listed && (d.bridgeOnline == nil || *d.bridgeOnline)
}

// Close disconnects and stops delivering events.
func (d *Driver) Close() {
	if d.client == nil {
		return
	}
	d.client.Disconnect(250)
	d.mu.Lock()
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	for _, dev := range d.byIEEE {
		if dev.boltTimer != nil {
			dev.boltTimer.Stop()
		}
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// emit queues an event for the subscribers; call it with mu held. The queue has no
// bound: an event is never dropped for a slow subscriber.
func (d *Driver) emit(dev *device, ev latchkey.DeviceEvent) {
	ev.Driver, ev.Address = latchkey.DriverZigbee2MQTT, dev.info.IEEE
	if ev.BatteryMV == 0 {
		ev.BatteryMV = latchkey.BatteryMVFromPercent(dev.battery)
	}
	if ev.Bolt == "" {
		ev.Bolt = dev.bolt
	}
	d.queue = append(d.queue, ev)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// deliver hands queued events to the subscribers, in order.
func (d *Driver) deliver() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		batch, subs := d.queue, d.subs
		d.queue = nil
		d.mu.Unlock()
		for _, ev := range batch {
			for _, f := range subs {
				f(ev)
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-d.stop:
			return
		case <-d.wake:
		}
	}
}

// handle routes one message from the broker.
func (d *Driver) handle(topic string, payload []byte, retained bool) {
	rest, ok := strings.CutPrefix(topic, d.base+"/")
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch rest {
	case "bridge/devices":
		d.onDevices(payload)
		return
	case "bridge/state":
		d.onBridgeState(payload)
		return
	case "bridge/event":
		d.onBridgeEvent(payload, retained)
		return
	case "bridge/logging":
		d.onLogging(payload)
		return
	}
	if strings.HasPrefix(rest, "bridge/response/") {
		d.onResponse(payload)
		return
	}
	if strings.HasPrefix(rest, "bridge/") || strings.HasSuffix(rest, "/set") || strings.HasSuffix(rest, "/get") {
		return
	}
	name, availability := strings.CutSuffix(rest, "/availability")
	dev := d.byName[name]
	if dev == nil {
		if !d.listed && len(d.early) < maxEarly && checkName(name) == nil {
			d.early[rest] = earlyMessage{payload: append([]byte(nil), payload...), retained: retained}
		}
		return
	}
	if availability {
		d.onAvailability(dev, payload)
		return
	}
	d.onState(dev, payload, retained)
}

// onDevices takes a new device list: devices that stay keep what was heard of them.
func (d *Driver) onDevices(payload []byte) {
	list, err := parseDevices(payload)
	if err != nil {
		d.Logger.Warn("ignored a device list that is not Zigbee2MQTT's", "topic", d.base+"/bridge/devices", "error", err)
		return
	}
	byIEEE, byName := map[string]*device{}, map[string]*device{}
	for _, info := range list {
		if info.Type == "Coordinator" {
			continue
		}
		dev := d.byIEEE[info.IEEE]
		if dev == nil {
			dev = &device{users: map[int]userState{}, waiters: map[*waiter]struct{}{}}
		}
		dev.info = info
		byIEEE[info.IEEE], byName[info.FriendlyName] = dev, dev
	}
	for ieee, dev := range d.byIEEE {
		if byIEEE[ieee] == nil {
			d.gone(dev, "Zigbee2MQTT no longer lists the lock")
		}
	}
	d.byIEEE, d.byName = byIEEE, byName
	if !d.listed {
		d.listed = true
		close(d.listedCh)
		early := d.early
		d.early = nil
		for topic, m := range early {
			name, availability := strings.CutSuffix(topic, "/availability")
			if dev := d.byName[name]; dev != nil {
				if availability {
					d.onAvailability(dev, m.payload)
				} else {
					d.onState(dev, m.payload, true)
				}
			}
		}
	}
}

// gone fails the commands waiting on a device that left.
func (d *Driver) gone(dev *device, why string) {
	for w := range dev.waiters {
		w.finish(latchkey.Errorf(latchkey.EUNAVAILABLE, "Lock %s (%s) is gone: %s.", dev.info.IEEE, dev.info.FriendlyName, why))
	}
	if dev.boltTimer != nil {
		dev.boltTimer.Stop()
	}
}

// onBridgeState notes whether Zigbee2MQTT runs.
func (d *Driver) onBridgeState(payload []byte) {
	online, err := parseOnline(payload)
	if err != nil {
		d.Logger.Warn("ignored a bridge state that is neither online nor offline", "error", err)
		return
	}
	if d.bridgeOnline == nil || *d.bridgeOnline != online {
		d.Logger.Info("Zigbee2MQTT bridge state", "online", online)
	}
	d.bridgeOnline = &online
}

// onBridgeEvent reports a lock leaving the network: a factory reset, or its removal
// from Zigbee2MQTT (protocols.md §2.4). Either way it no longer holds Latchkey's codes.
func (d *Driver) onBridgeEvent(payload []byte, retained bool) {
	ev, err := parseBridgeEvent(payload)
	if err != nil {
		d.Logger.Warn("ignored a bridge event Latchkey cannot read", "error", err)
		return
	}
	dev := d.byIEEE[ev.IEEE]
	if dev == nil || retained || ev.Type != "device_leave" {
		return
	}
	d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventResetLocally, Detail: "left the Zigbee network"})
	d.gone(dev, "it left the Zigbee network")
}

// onLogging fails the commands waiting on a lock Zigbee2MQTT says it could not send to.
func (d *Driver) onLogging(payload []byte) {
	name, refused := parseLogError(payload)
	dev := d.byName[name]
	if dev == nil {
		return
	}
	for w := range dev.waiters {
		if refused {
			w.finish(latchkey.Errorf(latchkey.EINVALID, "Zigbee2MQTT refused the command for lock %s (%s); its log says why.", dev.info.IEEE, name))
		} else {
			w.finish(latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT could not reach lock %s (%s); it may be asleep, out of range or without power.", dev.info.IEEE, name))
		}
	}
}

// onAvailability reports a lock going offline and coming back.
func (d *Driver) onAvailability(dev *device, payload []byte) {
	online, err := parseOnline(payload)
	if err != nil {
		d.Logger.Warn("ignored an availability message", "device", dev.info.IEEE, "error", err)
		return
	}
	was := dev.online
	dev.online = &online
	if was == nil || *was == online {
		return // the first word on it is how things stand, not a change
	}
	if online {
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventOnline, Detail: "Zigbee2MQTT reports it available again"})
		return
	}
	d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventOffline, Detail: "Zigbee2MQTT reports it unavailable"})
	for w := range dev.waiters {
		w.finish(latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT reports lock %s (%s) offline.", dev.info.IEEE, dev.info.FriendlyName))
	}
}

// ctxErr is the error of a command whose context ended first.
func ctxErr(ctx context.Context, what string) error {
	return latchkey.Errorf(latchkey.EUNAVAILABLE, "Gave up waiting for %s: %v.", what, ctx.Err())
}

// describe names a device for messages.
func (dev *device) describe() string {
	return fmt.Sprintf("lock %s (%s)", dev.info.IEEE, dev.info.FriendlyName)
}
