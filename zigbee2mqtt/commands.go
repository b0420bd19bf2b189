package zigbee2mqtt

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// waiter is a command waiting for the state message that confirms it. offer is called
// with the driver's lock held, with every fresh state message of the lock.
type waiter struct {
	check func(s lockState) (done bool, err error)
	done  chan error // buffered: the first outcome wins
	// seen says what the lock last said about the command, for the error at its deadline.
	seen string
}

func (w *waiter) offer(s lockState) {
	if ok, err := w.check(s); ok {
		w.finish(err)
	}
}

func (w *waiter) finish(err error) {
	select {
	case w.done <- err:
	default:
	}
}

// request is one command: what to publish on set (nil for a read), what to publish
// on get to have the lock report the state that confirms it, and how to tell.
type request struct {
	what  string // for messages: "setting slot 3"
	set   any
	get   any
	check func(w *waiter, s lockState) (done bool, err error)
	// late is the error at the deadline, given what the lock last said ("" for nothing).
	late func(seen string) error
}

// resolve finds a lock by its IEEE address (or friendly name) and checks that it can
// be reached now.
func (d *Driver) resolve(address string) (*device, error) {
	if d.client == nil || d.byIEEE == nil {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "The Zigbee2MQTT driver is not open.")
	}
	if !d.client.IsConnectionOpen() {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Not connected to the MQTT broker at %s; the driver keeps trying.", d.Broker)
	}
	if d.bridgeOnline != nil && !*d.bridgeOnline {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT is offline (its bridge/state says so); commands wait until it is back.")
	}
	if !d.listed {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT has not sent its device list yet (%s/bridge/devices).", d.base)
	}
	dev := d.byIEEE[strings.ToLower(address)]
	if dev == nil {
		if named := d.byName[address]; named != nil {
			// Commands would reach it by its friendly name, but its events name it by its
			// IEEE address and would never be matched to the lock: no alert would come
			// of a revoked code used at its keypad. Refused, saying what to give.
			return nil, latchkey.Errorf(latchkey.EINVALID, "%q is a friendly name in Zigbee2MQTT; connect the lock by its IEEE address, %s, which its events name it by.", clip(address), named.info.IEEE)
		}
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "Zigbee2MQTT lists no device %q; check its IEEE address in Zigbee2MQTT's device list.", clip(address))
	}
	if dev.online != nil && !*dev.online {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Zigbee2MQTT reports %s offline; it may be out of range or without power.", dev.describe())
	}
	return dev, nil
}

// run publishes a command and waits for the lock's state to confirm it, asking the lock
// again every ReadEvery, until ctx ends.
func (d *Driver) run(ctx context.Context, address string, req request) error {
	d.mu.Lock()
	dev, err := d.resolve(address)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	w := &waiter{done: make(chan error, 1)}
	since := dev.lastSeen
	w.check = func(s lockState) (bool, error) {
		if !s.LastSeen.IsZero() && !s.LastSeen.After(since) {
			// With last_seen on, a message no newer than what was heard before the
			// command is Zigbee2MQTT's cached state sent again, not the lock's answer.
			return false, nil
		}
		return req.check(w, s)
	}
	dev.waiters[w] = struct{}{}
	topic := d.base + "/" + dev.info.FriendlyName
	name := dev.describe()
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(dev.waiters, w)
		d.mu.Unlock()
	}()
	if req.set != nil {
		if err := d.publish(ctx, topic+"/set", req.set); err != nil {
			return err
		}
	}
	if err := d.publish(ctx, topic+"/get", req.get); err != nil {
		return err
	}
	every := d.ReadEvery
	tick := time.NewTimer(every)
	defer tick.Stop()
	for {
		select {
		case err := <-w.done:
			return err
		case <-tick.C:
			// The lock may have missed the request, or the broker was away: ask again.
			// A failure here is not the command's: it waits for its deadline.
			_ = d.publish(ctx, topic+"/get", req.get)
			every = nextRead(every, d.ReadEvery)
			tick.Reset(every)
		case <-ctx.Done():
			d.mu.Lock()
			seen := w.seen
			d.mu.Unlock()
			if err := req.late(seen); err != nil {
				return err
			}
			return ctxErr(ctx, req.what+" on "+name)
		}
	}
}

// nextRead is how long to wait before asking a lock again, after waiting last: twice as
// long, up to six times the first wait (30 s by default). A sleepy lock takes each request
// at its next poll, one after the other, and answers each: asking it every few seconds
// while it is slow to answer queues requests faster than it takes them, so that each
// later command waits behind the answers to the earlier ones, and Zigbee2MQTT's failure
// of a stale request fails the command waiting now.
func nextRead(last, first time.Duration) time.Duration {
	return min(2*last, 6*first)
}

// publish sends a command at QoS 0, not retained: at most once. A command is confirmed
// by what the lock then reports, never by its delivery, and one that failed must not
// arrive later: retained, it would run whenever Zigbee2MQTT next connected; at QoS 1,
// the MQTT client would send it again after a reconnect, when its caller had already
// been told it failed and may have sent the opposite since (a set after a clear).
func (d *Driver) publish(ctx context.Context, topic string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return latchkey.Errorf(latchkey.EINTERNAL, "Could not encode the command for %s.", topic)
	}
	if !d.client.IsConnectionOpen() {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "Not connected to the MQTT broker at %s; the driver keeps trying.", d.Broker)
	}
	tok := d.client.Publish(topic, 0, false, body)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "The MQTT broker did not take the command (%v).", err)
		}
		return nil
	case <-ctx.Done():
		return ctxErr(ctx, "the MQTT broker to take the command")
	}
}

// user turns a slot into its Zigbee user id, checking its range.
func (d *Driver) user(slot int) (int, error) {
	if slot < 1 || slot > d.Slots {
		return 0, latchkey.Errorf(latchkey.EINVALID, "Slot %d is outside 1 to %d, the slots a Kwikset Zigbee lock has.", slot, d.Slots)
	}
	return slot - 1, nil
}

type pinSet struct {
	User        int     `json:"user"`
	UserType    string  `json:"user_type,omitempty"`
	UserEnabled *bool   `json:"user_enabled,omitempty"`
	PIN         *string `json:"pin_code"` // null clears the slot
}

type pinGet struct {
	User int `json:"user"`
}

// The messages the driver publishes, as toZigbee's pincode_lock and lock take them
// (converters_test.go runs them through the converters themselves).

// setPINMessage puts pin in user's slot, enabled and unrestricted. The PIN goes as a
// string: Zigbee2MQTT takes it (it only checks that it is numeric) and keeps leading
// zeros, which a JSON number would lose.
func setPINMessage(user int, pin string) map[string]any {
	enabled := true
	return map[string]any{"pin_code": pinSet{User: user, UserType: "unrestricted", UserEnabled: &enabled, PIN: &pin}}
}

// clearPINMessage empties user's slot (a null PIN: clearPinCode).
func clearPINMessage(user int) map[string]any { return map[string]any{"pin_code": pinSet{User: user}} }

// getPINMessage reads user's slot (getPinCode).
func getPINMessage(user int) map[string]any { return map[string]any{"pin_code": pinGet{User: user}} }

// boltMessage throws (LOCK) or retracts (UNLOCK) the bolt.
func boltMessage(state string) map[string]any { return map[string]any{"state": state} }

// boltGetMessage reads lockState.
func boltGetMessage() map[string]any { return map[string]any{"state": ""} }

// SetCode puts a PIN in a slot: Zigbee2MQTT's pin_code set (setPinCode, enabled and
// unrestricted), then a read of the slot; it returns once the lock reports the slot
// enabled (with the PIN, where Zigbee2MQTT exposes it).
func (d *Driver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	u, err := d.user(slot)
	if err != nil {
		return err
	}
	if len(pin) < 4 || len(pin) > 8 || strings.Trim(pin, "0123456789") != "" {
		return latchkey.Errorf(latchkey.EINVALID, "A PIN for a Kwikset Zigbee lock is 4 to 8 digits.")
	}
	return d.run(ctx, address, request{
		what: "setting slot " + strconv.Itoa(slot),
		set:  setPINMessage(u, pin),
		get:  getPINMessage(u),
		check: func(w *waiter, s lockState) (bool, error) {
			st, ok := s.Users[u]
			switch {
			case !ok:
				return false, nil
			case st.Status == "enabled" && (!st.hasPIN || st.PIN == pin):
				return true, nil
			case st.Status == "enabled":
				w.seen = "another code"
			default:
				w.seen = st.Status
			}
			return false, nil // may be the cached state of an earlier read: wait for the answer
		},
		late: func(seen string) error {
			switch seen {
			case "":
				return nil
			case "another code":
				return latchkey.Errorf(latchkey.ECONFLICT, "Slot %d still holds another code after the new one was sent.", slot)
			}
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "Slot %d still reads %s after the code was sent; the lock may not have taken it.", slot, seen)
		},
	})
}

// ClearCode empties a slot: Zigbee2MQTT's pin_code set with a null PIN (clearPinCode),
// then a read of the slot. It succeeds only once the lock reports the slot available: a
// lock still showing the code after the clear is an error, never a success.
func (d *Driver) ClearCode(ctx context.Context, address string, slot int) error {
	u, err := d.user(slot)
	if err != nil {
		return err
	}
	return d.run(ctx, address, request{
		what: "clearing slot " + strconv.Itoa(slot),
		set:  clearPINMessage(u),
		get:  getPINMessage(u),
		check: func(w *waiter, s lockState) (bool, error) {
			st, ok := s.Users[u]
			if ok && st.Status == "available" {
				return true, nil
			}
			if ok {
				w.seen = st.Status
			}
			return false, nil
		},
		late: func(seen string) error {
			if seen == "" {
				return nil
			}
			return latchkey.Errorf(latchkey.ECONFLICT, "Slot %d still reads %s after the clear was sent: the code may still open the door; it will be cleared again.", slot, seen)
		},
	})
}

// ReadCode reads a slot back: Zigbee2MQTT's pin_code get (getPinCode). The PIN comes
// back only where the device has Zigbee2MQTT's expose_pin option on; present is known
// either way.
func (d *Driver) ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error) {
	u, err := d.user(slot)
	if err != nil {
		return "", false, err
	}
	var got userState
	err = d.run(ctx, address, request{
		what: "reading slot " + strconv.Itoa(slot),
		get:  getPINMessage(u),
		check: func(w *waiter, s lockState) (bool, error) {
			st, ok := s.Users[u]
			if ok {
				got = st
			}
			return ok, nil
		},
		late: func(string) error { return nil },
	})
	if err != nil {
		return "", false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return got.PIN, got.Status == "enabled", nil
}

// Lock throws the bolt: {"state":"LOCK"}, then a read of lockState; it returns once the
// lock reports the bolt locked, and fails if it reports it jammed.
func (d *Driver) Lock(ctx context.Context, address string) error {
	return d.bolt(ctx, address, "LOCK", "locked")
}

// Unlock retracts the bolt: {"state":"UNLOCK"}, as Lock.
func (d *Driver) Unlock(ctx context.Context, address string) error {
	return d.bolt(ctx, address, "UNLOCK", "unlocked")
}

func (d *Driver) bolt(ctx context.Context, address, state, want string) error {
	return d.run(ctx, address, request{
		what: strings.ToLower(state) + "ing",
		set:  boltMessage(state),
		get:  boltGetMessage(),
		check: func(w *waiter, s lockState) (bool, error) {
			switch b := boltOf(s); b {
			case want:
				return true, nil
			case "jammed":
				return true, latchkey.Errorf(latchkey.ECONFLICT, "The bolt jammed (%sing): check the door and the strike.", strings.ToLower(state))
			}
			return false, nil
		},
		late: func(string) error { return nil },
	})
}

// Devices lists the devices Zigbee2MQTT knows (its coordinator left out), waiting for
// its device list until ctx ends.
func (d *Driver) Devices(ctx context.Context) ([]latchkey.DeviceInfo, error) {
	if err := d.Ready(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	reachable := d.client.IsConnectionOpen() && (d.bridgeOnline == nil || *d.bridgeOnline)
	list := make([]*device, 0, len(d.byIEEE))
	for _, dev := range d.byIEEE {
		list = append(list, dev)
	}
	// In friendly-name order, as Zigbee2MQTT's frontend lists them.
	sort.Slice(list, func(i, j int) bool { return list[i].info.FriendlyName < list[j].info.FriendlyName })
	out := make([]latchkey.DeviceInfo, 0, len(list))
	for _, dev := range list {
		out = append(out, latchkey.DeviceInfo{Driver: latchkey.DriverZigbee2MQTT, Address: dev.info.IEEE, Name: dev.info.FriendlyName,
			ZigbeeModel: dev.info.ModelID, ZigbeeManufacturer: dev.info.Manufacturer,
			Online: reachable && !dev.info.Disabled && (dev.online == nil || *dev.online), BatteryPercent: dev.battery})
	}
	return out, nil
}
