// Package zwavejs is the device driver for locks on a Z-Wave network run by Z-Wave JS,
// through zwave-js-server's WebSocket API (the server inside zwave-js-ui and Home
// Assistant's Z-Wave JS add-on). A lock's address is its node id on that network.
//
// It writes and reads user codes (User Code CC), throws and retracts the bolt (Door Lock
// CC), and turns what the locks report (Notification CC Access Control, Home Security
// and Power Management, Battery CC, a node going dead, a node removed because it was
// reset locally) into the domain's events. It never changes a lock's configuration
// parameters, associations or security keys.
package zwavejs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// Driver reaches the locks of one zwave-js-server. Set URL (and Logger), call Open, and
// Close when done. It satisfies latchkey.DeviceDriver and latchkey.CodeReader.
type Driver struct {
	// URL is the server's WebSocket address, e.g. ws://zwave-js-ui.local:3000.
	URL string
	// Logger receives connection trouble; nil logs nowhere. No PIN is ever logged.
	Logger *slog.Logger
	// DialTimeout bounds connecting, the greeting and start_listening (10 s when zero).
	DialTimeout time.Duration

	mu       sync.Mutex
	sess     *session      // nil while disconnected
	up       chan struct{} // closed while a session is up; replaced when it drops
	refusal  error         // why the server was refused (schema), while it is
	homeID   uint32
	ownNode  int // the controller's node id
	nodes    map[int]*node
	subs     []func(latchkey.DeviceEvent)
	verified map[slotKey]verified // slots read back by SetCode, for ReadCode
	recent   map[string]time.Time // raw notification frames seen lately, to drop repeats

	waiters      []*waiter           // commands waiting for something the lock reports
	boltTimers   map[int]*time.Timer // Door Lock reports waiting for the lock's notification
	commanded    map[int]time.Time   // when Latchkey last moved each node's bolt
	boltNotified map[int]boltNote    // the last lock or unlock each node notified

	events  chan latchkey.DeviceEvent
	stopped chan struct{} // closed by Close: nothing is delivered after
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var (
	_ latchkey.DeviceDriver  = (*Driver)(nil)
	_ latchkey.CodeReader    = (*Driver)(nil)
	_ latchkey.DeviceLister  = (*Driver)(nil)
	_ latchkey.HubConnection = (*Driver)(nil)
)

// node is what the driver knows of one node, from start_listening and the events since.
// It holds no PIN.
type node struct {
	id             int
	ready          bool
	dead           bool
	manufacturerID int
	productType    int
	productID      int
	label          string
	name           string
	userCodes      bool // the node has User Code CC
	doorLock       bool // the node has Door Lock CC
	numUsers       int  // supported users, when known
	currentMode    int  // Door Lock currentMode, -1 unknown
	batteryLevel   int  // percent, -1 unknown
}

type slotKey struct{ node, slot int }

// verified is a slot SetCode read back holding the code it wrote, so that the engine's
// read-back right after costs the lock no second radio exchange.
type verified struct {
	at time.Time
}

// verifiedFor is how long a SetCode's read-back stands in for ReadCode.
const verifiedFor = 5 * time.Second

// Open starts connecting, and keeps the driver connected until Close: commands given
// before the server answers wait for it within their deadlines.
func (d *Driver) Open() error {
	if u, err := url.Parse(d.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return latchkey.Errorf(latchkey.EINVALID, "The Z-Wave JS server's address is a WebSocket URL, ws://host:3000 (or wss://); %q is not one.", truncate(d.safeURL(), 80))
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.mu.Lock()
	if d.cancel != nil {
		d.mu.Unlock()
		cancel()
		return latchkey.Errorf(latchkey.ECONFLICT, "The Z-Wave JS driver for %s is open already.", d.safeURL())
	}
	d.cancel = cancel
	d.stopped = make(chan struct{})
	d.up = make(chan struct{})
	d.nodes = map[int]*node{}
	d.verified = map[slotKey]verified{}
	d.recent = map[string]time.Time{}
	d.boltTimers = map[int]*time.Timer{}
	d.commanded = map[int]time.Time{}
	d.boltNotified = map[int]boltNote{}
	d.events = make(chan latchkey.DeviceEvent, 256)
	d.mu.Unlock()
	d.wg.Add(2)
	go d.run(ctx)
	go d.deliver(ctx)
	return nil
}

// Close disconnects and stops delivering events; commands in flight fail.
func (d *Driver) Close() error {
	d.mu.Lock()
	cancel, stopped := d.cancel, d.stopped
	d.mu.Unlock()
	if cancel == nil {
		return nil
	}
	select {
	case <-stopped:
		return nil // closed already
	default:
	}
	cancel()
	close(stopped)
	d.wg.Wait()
	d.mu.Lock()
	for id, t := range d.boltTimers {
		t.Stop()
		delete(d.boltTimers, id)
	}
	d.mu.Unlock()
	return nil
}

// Name returns the driver's name.
func (d *Driver) Name() latchkey.Driver { return latchkey.DriverZWaveJS }

// Subscribe delivers every event of every lock on the network.
func (d *Driver) Subscribe(f func(latchkey.DeviceEvent)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subs = append(d.subs, f)
}

func (d *Driver) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Driver) dialTimeout() time.Duration {
	if d.DialTimeout == 0 {
		return 10 * time.Second
	}
	return d.DialTimeout
}

func (d *Driver) setRefusal(err error) {
	d.mu.Lock()
	d.refusal = err
	d.mu.Unlock()
}

// connected takes a fresh session's state: the nodes as the server has them now. A node
// that went dead while the driver was away is reported offline; one that left the
// network is reported offline too (why it left was not heard).
func (d *Driver) connected(s *session, st *listenState) {
	d.mu.Lock()
	before := d.nodes
	d.nodes = map[int]*node{}
	for _, wn := range st.State.Nodes {
		d.nodes[wn.NodeID] = nodeOf(wn)
	}
	d.homeID, d.ownNode = st.State.Controller.HomeID, st.State.Controller.OwnNodeID
	d.sess = s
	close(d.up)
	var evs []latchkey.DeviceEvent
	for id, was := range before {
		n, ok := d.nodes[id]
		switch {
		case !ok && (was.userCodes || was.doorLock):
			evs = append(evs, d.eventLocked(id, latchkey.EventOffline, "", 0, "no longer on the Z-Wave network (removed while Latchkey was not listening)"))
		case ok && n.dead && !was.dead && (n.userCodes || n.doorLock):
			evs = append(evs, d.eventLocked(id, latchkey.EventOffline, "", 0, "the lock does not answer (node dead)"))
		}
	}
	d.mu.Unlock()
	for _, ev := range evs {
		d.emit(ev)
	}
}

// Connected reports whether the driver is connected to the server and listening: a
// command a lock leaves unanswered meanwhile (a sleepy lock, one out of range) says
// nothing of the hub.
func (d *Driver) Connected() bool {
	d.mu.Lock()
	s := d.sess
	d.mu.Unlock()
	if s == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// disconnected forgets a session that ended; commands wait for the next.
func (d *Driver) disconnected(s *session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess == s {
		d.sess = nil
		d.up = make(chan struct{})
	}
	for _, w := range d.waiters {
		w.fail(errDropped)
	}
	d.waiters = nil
}

// session waits for a connection, within ctx.
func (d *Driver) session(ctx context.Context) (*session, error) {
	for {
		d.mu.Lock()
		s, up, refusal := d.sess, d.up, d.refusal
		d.mu.Unlock()
		if up == nil {
			return nil, latchkey.Errorf(latchkey.EINTERNAL, "The Z-Wave JS driver was used before Open.")
		}
		if s != nil {
			return s, nil
		}
		if refusal != nil {
			return nil, refusal
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "The Z-Wave JS server at %s is not connected: check that zwave-js-ui (or the Z-Wave JS add-on) runs and its WebSocket server is on; Latchkey keeps trying.", d.safeURL())
		}
	}
}

// call sends one command over the current connection, waiting for one within ctx, and
// translates failures into the domain's errors. what names the action for messages.
func (d *Driver) call(ctx context.Context, what, command string, params map[string]any) ([]byte, error) {
	s, err := d.session(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := s.call(ctx, command, params)
	if err == nil {
		return raw, nil
	}
	return nil, d.explain(ctx, what, err)
}

// explain turns a failed command into a domain error that says what to do.
func (d *Driver) explain(ctx context.Context, what string, err error) error {
	var se *serverError
	switch {
	case errors.Is(err, errDropped):
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The connection to the Z-Wave JS server dropped while %s; it may or may not have reached the lock, and Latchkey will check.", what)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "No answer in time while %s: the lock may be asleep, out of range or out of batteries.", what)
	case errors.As(err, &se):
		switch se.code {
		case "node_not_found":
			return latchkey.Errorf(latchkey.ENOTFOUND, "No such node on the Z-Wave network while %s: check the lock's node id in zwave-js-ui.", what)
		case "invalid_params_passed_to_command":
			return latchkey.Errorf(latchkey.EINVALID, "The Z-Wave JS server refused the request while %s as malformed.", what)
		case "zwave_error":
			switch {
			case se.zwaveCode == 211:
				return latchkey.Errorf(latchkey.ENOTFOUND, "No such node on the Z-Wave network while %s: check the lock's node id in zwave-js-ui.", what)
			case se.zwaveCode == 322 || se.zwaveCode >= 300 && se.zwaveCode <= 304:
				return latchkey.Errorf(latchkey.EINVALID, "The lock does not take this while %s (Z-Wave JS error ZW%04d).", what, se.zwaveCode)
			case se.zwaveCode == 305:
				return latchkey.Errorf(latchkey.EINVALID, "The lock refused it while %s.", what)
			}
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "The lock did not answer while %s (Z-Wave JS error ZW%04d): it may be out of range or out of batteries.", what, se.zwaveCode)
		}
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The Z-Wave JS server failed while %s (%s).", what, se.code)
	}
	return latchkey.Errorf(latchkey.EUNAVAILABLE, "The Z-Wave JS server could not be reached while %s.", what)
}

// Addresses are node ids written in decimal. An address that is not one names no lock
// on the network (ENOTFOUND).
func parseAddress(address string) (int, error) {
	n, err := strconv.Atoi(address)
	if err != nil || n < 1 || n > maxNodeID || strconv.Itoa(n) != address {
		return 0, latchkey.Errorf(latchkey.ENOTFOUND, "No Z-Wave lock at %q: a Z-Wave lock's address is its node id, a number from 1 to %d.", cleanText(truncate(address, 20)), maxNodeID)
	}
	return n, nil
}

// Devices lists the nodes of the network as the server last told them (the controller
// itself left out), with their Z-Wave ids for catalog.ByZWave, whether they answer,
// and their battery level.
func (d *Driver) Devices(ctx context.Context) ([]latchkey.DeviceInfo, error) {
	if _, err := d.session(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]latchkey.DeviceInfo, 0, len(d.nodes))
	for _, n := range d.nodes {
		if n.id == d.ownNode {
			continue // the controller
		}
		name := n.name
		if name == "" {
			name = n.label
		}
		info := latchkey.DeviceInfo{Driver: latchkey.DriverZWaveJS, Address: strconv.Itoa(n.id), Name: name,
			ZWaveManufacturer: uint16(n.manufacturerID), ZWaveProductType: uint16(n.productType), ZWaveProductID: uint16(n.productID),
			Online: !n.dead}
		if n.batteryLevel > 0 {
			info.BatteryPercent = n.batteryLevel
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b latchkey.DeviceInfo) int { return cmpAddress(a.Address, b.Address) })
	return out, nil
}

func cmpAddress(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x - y
}

// lockNode checks that a node exists and has what is asked of it, as far as the driver
// knows it; a node it has not heard of may have joined since (the server says).
func (d *Driver) lockNode(address string, needCodes bool) (int, error) {
	id, err := parseAddress(address)
	if err != nil {
		return 0, err
	}
	// A node's fields change under d.mu as events come in: read them while it is held.
	d.mu.Lock()
	n := d.nodes[id]
	known := n != nil
	interviewing := known && !n.ready
	noCodes := known && !n.userCodes
	d.mu.Unlock()
	switch {
	case interviewing:
		// Until zwave-js has interviewed it, it does not know what the node supports.
		return 0, latchkey.Errorf(latchkey.EUNAVAILABLE, "Z-Wave JS is still interviewing node %d (just included, or not heard from since the server started); Latchkey will try again.", id)
	case needCodes && noCodes:
		return 0, latchkey.Errorf(latchkey.EINVALID, "Node %d does not take user codes (no User Code command class): is it the lock?", id)
	}
	return id, nil
}

// emit queues an event for the subscribers.
func (d *Driver) emit(ev latchkey.DeviceEvent) {
	d.mu.Lock()
	ch, stopped := d.events, d.stopped
	d.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- ev: // a subscriber slower than the locks holds the connection back, losing nothing
	case <-stopped:
	}
}

// deliver hands events to the subscribers in order, one at a time.
func (d *Driver) deliver(ctx context.Context) {
	defer d.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-d.events:
			d.mu.Lock()
			subs := append([]func(latchkey.DeviceEvent){}, d.subs...)
			d.mu.Unlock()
			for _, f := range subs {
				f(ev)
			}
		}
	}
}

// eventLocked builds an event for a node, with the battery level it last reported;
// d.mu is held.
func (d *Driver) eventLocked(id int, kind latchkey.EventKind, source latchkey.EventSource, slot int, detail string) latchkey.DeviceEvent {
	ev := latchkey.DeviceEvent{Driver: latchkey.DriverZWaveJS, Address: strconv.Itoa(id), Kind: kind, Source: source, Slot: slot, Detail: detail}
	if n := d.nodes[id]; n != nil {
		ev.BatteryMV = batteryMV(n.batteryLevel)
		if kind == latchkey.EventLowBattery && ev.BatteryMV > latchkey.LowBatteryMV {
			ev.BatteryMV = 0 // the level last read is older than the warning: not known now
		}
		switch n.currentMode {
		case modeSecured:
			ev.Bolt = "locked"
		case modeUnsecured:
			ev.Bolt = "unlocked"
		}
	}
	return ev
}

// batteryMV turns a Battery CC level into the 4×AA pack's voltage the domain keeps:
// 0 when unknown.
func batteryMV(level int) int { return latchkey.BatteryMVFromPercent(level) }

// String describes the driver for logs.
func (d *Driver) String() string { return fmt.Sprintf("zwavejs(%s)", d.safeURL()) }

// safeURL is the server's address for messages and logs: a password or a query (where a
// proxy in front of the server may take a token) is left out.
func (d *Driver) safeURL() string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return "(an address that does not parse)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}
