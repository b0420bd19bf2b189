package zigbee2mqtt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/zigbee2mqtt"
)

// proxy stands between the driver and the broker, so that a test can cut the line.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newProxy(t *testing.T, brokerURL string) *proxy {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: u.Host}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			cut := p.cut
			p.mu.Unlock()
			if cut {
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) URL() string { return "tcp://" + p.ln.Addr().String() }

// Cut drops every connection through the proxy and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore lets connections through again.
func (p *proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// events collects a driver's events.
type events struct {
	mu   sync.Mutex
	list []latchkey.DeviceEvent
}

func (e *events) add(ev latchkey.DeviceEvent) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

// wait waits for an event that matches, failing the test after timeout.
func (e *events) wait(t *testing.T, timeout time.Duration, what string, match func(latchkey.DeviceEvent) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if e.count(match) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t.Fatalf("no %s within %s; got %v", what, timeout, e.list)
}

func (e *events) count(match func(latchkey.DeviceEvent) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.list {
		if match(ev) {
			n++
		}
	}
	return n
}

// PINs of a batch: different from the first digit, as the 914 wants them.
var batchPINs = []string{"250617", "318274", "407539", "526481", "639152", "741863", "852974", "963085"}

// setUntilDone sets a code as the sync engine would: a try that finds the hub
// unavailable is tried again, until the deadline. It reports whether any try found it
// unavailable.
func setUntilDone(t *testing.T, d *zigbee2mqtt.Driver, addr string, slot int, pin string) (sawUnavailable bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		err := d.SetCode(ctx, addr, slot, pin)
		cancel()
		switch {
		case err == nil:
			return sawUnavailable
		case strings.Contains(err.Error(), pin):
			t.Fatalf("the error %q shows the PIN", err)
		case latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE:
			t.Fatalf("slot %d: %v", slot, err)
		case time.Now().After(deadline):
			t.Fatalf("slot %d never set: %v", slot, err)
		}
		sawUnavailable = true
		time.Sleep(300 * time.Millisecond)
	}
}

// A batch of codes goes on while the line to the broker drops half-way, and while
// Zigbee2MQTT restarts half-way: tries in the outage fail as unavailable (none hangs
// past its deadline), the driver reconnects by itself, every code ends up on the lock
// and is read back there, and a keypad unlock made while the driver was cut off (a
// QoS 1 message kept in its persistent session) still arrives.
func TestOutageMidBatch(t *testing.T) {
	for _, outage := range []string{"broker connection drops", "Zigbee2MQTT restarts"} {
		t.Run(outage, func(t *testing.T) {
			p := newProxy(t, broker(t))
			r := newRig(t, rigOptions{driverBroker: p.URL(), qos: 1, clientID: "latchkey-test-" + uniqueBase(t)[len("latchkey-test/"):]}, "front")
			got := &events{}
			r.driver.Subscribe(got.add)
			if err := r.open(t); err != nil {
				t.Fatal(err)
			}
			addr := r.fleet.IEEE("front")
			saw := false
			for i, pin := range batchPINs {
				slot := i + 1
				if i == 3 {
					switch outage {
					case "broker connection drops":
						p.Cut()
						// Someone opens the door with slot 1's code while the driver is cut off.
						if err := r.fleet.KeypadUnlock("front", batchPINs[0]); err != nil {
							t.Fatal(err)
						}
						time.AfterFunc(1500*time.Millisecond, p.Restore)
					case "Zigbee2MQTT restarts":
						r.fleet.HubDown()
						time.AfterFunc(1500*time.Millisecond, func() {
							ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
							defer cancel()
							if err := r.fleet.HubUp(ctx); err != nil {
								t.Errorf("hub up: %v", err)
							}
						})
					}
				}
				if setUntilDone(t, r.driver, addr, slot, pin) {
					saw = true
				}
			}
			if !saw {
				t.Error("no try met the outage: the test did not test it")
			}
			for i, pin := range batchPINs {
				slot := i + 1
				held, err := r.fleet.Holds("front", slot)
				if err != nil || !held {
					t.Errorf("slot %d: the twin does not hold its code (%v)", slot, err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				got, present, err := r.driver.ReadCode(ctx, addr, slot)
				cancel()
				if err != nil || !present || got != pin {
					t.Errorf("slot %d read back present=%v same=%v (%v)", slot, present, got == pin, err)
				}
			}
			if outage == "broker connection drops" {
				got.wait(t, 20*time.Second, "unlock by slot 1 made during the outage", func(ev latchkey.DeviceEvent) bool {
					return ev.Kind == latchkey.EventUnlocked && ev.Slot == 1 && ev.Source == latchkey.SourceKeypad
				})
			}
		})
	}
}

// fakeBridge plays Zigbee2MQTT by hand on a fresh base topic, publishing exactly what a
// test says: duplicates, stale messages, a lock that keeps its code.
type fakeBridge struct {
	t      *testing.T
	base   string
	client mqtt.Client
	seen   chan string // set and get topics with their payloads, as the driver sent them
}

const fakeIEEE = "0x000d6f00000000aa"

func newFakeBridge(t *testing.T) *fakeBridge {
	t.Helper()
	url := broker(t)
	b := &fakeBridge{t: t, base: uniqueBase(t), seen: make(chan string, 64)}
	b.client = mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("fake-" + b.base[len("latchkey-test/"):]))
	if tok := b.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", url, tok.Error())
	}
	tok := b.client.Subscribe(b.base+"/+/+", 1, func(_ mqtt.Client, m mqtt.Message) {
		if strings.HasSuffix(m.Topic(), "/set") || strings.HasSuffix(m.Topic(), "/get") {
			b.seen <- m.Topic() + " " + string(m.Payload())
		}
	})
	tok.Wait()
	b.publish("bridge/state", `{"state":"online"}`, true)
	b.publish("bridge/devices", `[{"ieee_address":"`+fakeIEEE+`","type":"EndDevice","friendly_name":"door","model_id":"SMARTCODE_DEADBOLT_10","manufacturer":"Kwikset","supported":true}]`, true)
	t.Cleanup(func() {
		b.publish("bridge/state", "", true)
		b.publish("bridge/devices", "", true)
		b.client.Disconnect(100)
	})
	return b
}

func (b *fakeBridge) publish(topic, payload string, retain bool) {
	b.t.Helper()
	if tok := b.client.Publish(b.base+"/"+topic, 1, retain, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// state publishes the lock's state with last_seen at ms.
func (b *fakeBridge) state(ms int64, fields string) {
	b.t.Helper()
	b.publish("door", fmt.Sprintf(`{%s"lock_state":"locked","state":"LOCK","battery":80,"last_seen":%d}`, fields, ms), false)
}

// next returns the next set or get the driver sent.
func (b *fakeBridge) next() string {
	b.t.Helper()
	select {
	case s := <-b.seen:
		return s
	case <-time.After(10 * time.Second):
		b.t.Fatal("the driver sent nothing")
		return ""
	}
}

func openDriver(t *testing.T, b *fakeBridge) (*zigbee2mqtt.Driver, *events) {
	t.Helper()
	d := &zigbee2mqtt.Driver{Broker: broker(t), BaseTopic: b.base, ReadEvery: 500 * time.Millisecond, BoltGrace: 200 * time.Millisecond}
	got := &events{}
	d.Subscribe(got.add)
	if err := d.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	return d, got
}

// A message delivered twice is one event; a message older than one already taken
// changes nothing.
func TestDuplicatedAndOutOfOrderMessages(t *testing.T) {
	b := newFakeBridge(t)
	_, got := openDriver(t, b)
	unlock := `"action":"unlock","action_source_name":"keypad","action_user":2,`
	b.state(1000, unlock)
	b.state(1000, unlock) // redelivered
	b.state(3000, `"action":"pin_code_deleted","action_source_name":"keypad","action_user":4,`)
	b.state(2000, `"action":"pin_code_added","action_source_name":"keypad","action_user":4,`) // late
	b.state(4000, `"action":"unlock_failure_invalid_pin_or_id","action_source_name":"keypad","action_user":65535,`)
	got.wait(t, 10*time.Second, "wrong code (the last message)", func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventWrongCode })
	if n := got.count(func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventUnlocked }); n != 1 {
		t.Errorf("%d unlock events for one unlock delivered twice, want 1", n)
	}
	if got.count(func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventUnlocked && ev.Slot == 3 }) != 1 {
		t.Errorf("the unlock does not name slot 3 (Zigbee user 2)")
	}
	if n := got.count(func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventCodeAdded }); n != 0 {
		t.Errorf("a stale code-added message made %d events", n)
	}
	if n := got.count(func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventCodeDeleted && ev.Slot == 5 }); n != 1 {
		t.Errorf("%d code-deleted events for slot 5, want 1", n)
	}
}

// A clear after which the lock still reports the code is an error, never a success,
// and a stale message saying the slot is free does not count.
func TestClearStillShowingTheCodeFails(t *testing.T) {
	b := newFakeBridge(t)
	d, _ := openDriver(t, b)
	b.state(5000, `"users":{"4":{"status":"enabled"}},`)
	done := make(chan error, 1)
	// The deadlines are generous: the answers come as soon as the test sends them, and
	// a loaded machine must not turn a refusal into a timeout.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		done <- d.ClearCode(ctx, fakeIEEE, 5)
	}()
	if s := b.next(); !strings.Contains(s, "/door/set") || !strings.Contains(s, `"user":4`) || !strings.Contains(s, `"pin_code":null`) {
		t.Fatalf("clear sent as %q", s)
	}
	if s := b.next(); !strings.Contains(s, "/door/get") {
		t.Fatalf("read sent as %q", s)
	}
	b.state(4000, `"users":{"4":{"status":"available"}},`) // stale: older than what was taken
	b.state(6000, `"users":{"4":{"status":"enabled"}},`)   // the lock's answer: still there
	err := <-done
	if err == nil {
		t.Fatal("a clear the lock did not take reported success")
	}
	if latchkey.ErrorCode(err) != latchkey.ECONFLICT || !strings.Contains(latchkey.ErrorMessage(err), "still") {
		t.Fatalf("got %v, want a conflict saying the slot still holds a code", err)
	}
	// Once the lock does report it free, the clear succeeds.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		done <- d.ClearCode(ctx, fakeIEEE, 5)
	}()
	for s := b.next(); !strings.Contains(s, "/door/get"); s = b.next() {
	}
	b.state(7000, `"users":{"4":{"status":"available"}},`)
	if err := <-done; err != nil {
		t.Fatalf("clear confirmed by the lock: %v", err)
	}
}

// Zigbee2MQTT logging that it could not reach the lock fails the command at once, as
// unavailable, and says nothing of the PIN; a set the lock answers with another code is
// a conflict.
func TestFailuresReported(t *testing.T) {
	b := newFakeBridge(t)
	d, _ := openDriver(t, b)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- d.SetCode(ctx, fakeIEEE, 2, "482913")
	}()
	set := b.next()
	var body struct {
		PIN struct {
			User int    `json:"user"`
			PIN  string `json:"pin_code"`
		} `json:"pin_code"`
	}
	if err := json.Unmarshal([]byte(set[strings.Index(set, " ")+1:]), &body); err != nil || body.PIN.User != 1 || body.PIN.PIN != "482913" {
		t.Fatalf("set sent as %q (%v)", set, err)
	}
	b.publish("bridge/logging", `{"level":"error","message":"Publish 'set' 'pin_code' to 'door' failed: 'Error: Timeout (MAC no ack)'"}`, false)
	err := <-done
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || strings.Contains(err.Error(), "482913") {
		t.Fatalf("got %v, want unavailable without the PIN", err)
	}

	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		done <- d.SetCode(ctx, fakeIEEE, 2, "482913")
	}()
	for s := b.next(); !strings.Contains(s, "/door/get"); s = b.next() {
	}
	b.state(9000, `"users":{"1":{"status":"enabled","pin_code":"111111"}},`)
	err = <-done
	if latchkey.ErrorCode(err) != latchkey.ECONFLICT || strings.Contains(err.Error(), "111111") || strings.Contains(err.Error(), "482913") {
		t.Fatalf("got %v, want a conflict showing no PIN", err)
	}
}

// With last_seen on, Zigbee2MQTT's cached state sent again (no newer than what was heard
// before the command) does not confirm it: only the lock's answer does.
func TestCachedStateDoesNotConfirm(t *testing.T) {
	b := newFakeBridge(t)
	d, got := openDriver(t, b)
	// The slot was free at the last read; the wrong code with it tells when it is taken.
	b.state(5000, `"users":{"4":{"status":"available"}},"action":"unlock_failure_invalid_pin_or_id",`)
	got.wait(t, 10*time.Second, "wrong code", func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventWrongCode })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		done <- d.ClearCode(ctx, fakeIEEE, 5)
	}()
	for s := b.next(); !strings.Contains(s, "/door/get"); s = b.next() {
	}
	// The cache again, as an optimistic publish would send it: the same last_seen, a
	// different body.
	b.publish("door", `{"users":{"4":{"status":"available"}},"lock_state":"unlocked","last_seen":5000}`, false)
	if err := <-done; err == nil {
		t.Fatal("the cached state confirmed a clear the lock never answered")
	}
}

// A code the lock refuses (the same PIN as another slot's) fails at once as invalid,
// which the sync engine does not try again as it would a lock out of reach, and its
// error shows no PIN.
func TestRefusedCodeIsInvalid(t *testing.T) {
	r := newRig(t, rigOptions{}, "front")
	if err := r.open(t); err != nil {
		t.Fatal(err)
	}
	addr := r.fleet.IEEE("front")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.driver.SetCode(ctx, addr, 1, "482913"); err != nil {
		t.Fatal(err)
	}
	err := r.driver.SetCode(ctx, addr, 2, "482913")
	if latchkey.ErrorCode(err) != latchkey.EINVALID || strings.Contains(err.Error(), "482913") {
		t.Fatalf("got %v, want invalid without the PIN", err)
	}
	if held, _ := r.fleet.Holds("front", 2); held {
		t.Fatal("the twin took the duplicate")
	}
}

// A last_seen far ahead of the clock (a hostile or broken publisher) does not make every
// later message stale: the lock's events and its answers to commands still count.
func TestFarFutureLastSeenDoesNotSilence(t *testing.T) {
	b := newFakeBridge(t)
	d, got := openDriver(t, b)
	now := time.Now().UnixMilli()
	b.state(now+10*365*24*3600*1000, `"action":"unlock","action_source_name":"keypad","action_user":2,`)
	b.state(now, `"action":"unlock_failure_invalid_pin_or_id","action_source_name":"keypad",`)
	got.wait(t, 10*time.Second, "the wrong code after a far-future last_seen", func(ev latchkey.DeviceEvent) bool { return ev.Kind == latchkey.EventWrongCode })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- d.ClearCode(ctx, fakeIEEE, 5)
	}()
	for s := b.next(); !strings.Contains(s, "/door/get"); s = b.next() {
	}
	b.state(now+1000, `"users":{"4":{"status":"available"}},`)
	if err := <-done; err != nil {
		t.Fatalf("the lock's answer after a far-future last_seen did not confirm the clear: %v", err)
	}
}

// The driver says whether it reaches Zigbee2MQTT: a lock that does not answer leaves it
// connected (the lock dozes; the hub is fine), the bridge going offline does not.
func TestConnectedIsTheHubsNotALocks(t *testing.T) {
	b := newFakeBridge(t)
	d, _ := openDriver(t, b)
	if !d.Connected() {
		t.Fatal("not connected with the broker up and the device list in")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := d.ClearCode(ctx, fakeIEEE, 3); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a lock that never answers: %v, want unavailable", err)
	}
	if !d.Connected() {
		t.Fatal("a lock that did not answer made the hub look down")
	}
	b.publish("bridge/state", `{"state":"offline"}`, true)
	deadline := time.Now().Add(10 * time.Second)
	for d.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("still connected after Zigbee2MQTT said it is offline")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A lock addressed by its friendly name is refused, naming its IEEE address: commands
// would reach it, but its events name it by its IEEE address and would never be matched
// to the lock (a revoked code used at its keypad would raise no alert).
func TestFriendlyNameRefused(t *testing.T) {
	r := newRig(t, rigOptions{}, "front")
	if err := r.open(t); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.driver.SetCode(ctx, "front", 1, "482913")
	if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(err.Error(), r.fleet.IEEE("front")) || strings.Contains(err.Error(), "482913") {
		t.Fatalf("a command by friendly name: %v; want invalid, naming the IEEE address", err)
	}
	if held, _ := r.fleet.Holds("front", 1); held {
		t.Fatal("the twin took a code sent by friendly name")
	}
}
