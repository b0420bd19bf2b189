package z2msim

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// What people and the world do to the fleet's locks, for tests and the console. Each
// returns once it is done at the lock; what Zigbee2MQTT publishes about it follows.

// lockNamed returns a lock of the fleet.
func (f *Fleet) lockNamed(name string) (*lock, error) {
	l := f.locks[name]
	if l == nil {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "The fleet has no lock named %q.", name)
	}
	return l, nil
}

// at runs fn on a lock's twin while its world holds still.
func (f *Fleet) at(name string, fn func(t *sim.Lock) error) error {
	l, err := f.lockNamed(name)
	if err != nil {
		return err
	}
	f.drv.Do(func(*sim.World) { err = fn(l.twin) })
	return err
}

func press(t *sim.Lock, keys string) error {
	for _, k := range keys {
		if err := t.Press(string(k)); err != nil {
			return err
		}
	}
	return nil
}

// IEEE returns a lock's IEEE address: its address for the zigbee2mqtt driver.
func (f *Fleet) IEEE(name string) string {
	if l := f.locks[name]; l != nil {
		return l.ieee
	}
	return ""
}

// Names returns the fleet's lock names, in order.
func (f *Fleet) Names() []string {
	out := make([]string, 0, len(f.order))
	for _, l := range f.order {
		out = append(out, l.name)
	}
	return out
}

// Holds reports whether a lock's slot holds a code, as the twin itself knows it.
func (f *Fleet) Holds(name string, slot int) (bool, error) {
	var v string
	var ok bool
	err := f.at(name, func(t *sim.Lock) error { v, ok = t.Field("slot:" + itoa(slot)); return nil })
	if err == nil && !ok {
		err = latchkey.Errorf(latchkey.EINVALID, "Slot %d is outside the lock's slots.", slot)
	}
	return v == "set", err
}

// KeypadUnlock has a person type pin at a lock's keypad.
func (f *Fleet) KeypadUnlock(name, pin string) error {
	return f.at(name, func(t *sim.Lock) error { return press(t, pin) })
}

// WrongCode has a person type a code the lock does not hold, and press Lock.
func (f *Fleet) WrongCode(name string) error {
	return f.at(name, func(t *sim.Lock) error {
		if err := press(t, "246802"); err != nil {
			return err
		}
		return t.Press(sim.KeyLock)
	})
}

// Jam unlocks the bolt by hand, makes it stick and has a person press Lock: the motor
// jams.
func (f *Fleet) Jam(name string) error {
	return f.at(name, func(t *sim.Lock) error {
		if b, _ := t.Field("bolt"); b == "locked" {
			t.ThumbTurn()
		}
		t.SetStuckBolt(true)
		return t.Press(sim.KeyLock)
	})
}

// LowBattery drains a lock's battery below its low mark.
func (f *Fleet) LowBattery(name string) error {
	return f.at(name, func(t *sim.Lock) error { t.SetBattery(sim.LowBatteryMV - 100); return nil })
}

// Tamper pulls a lock's exterior assembly off. Zigbee2MQTT's Kwikset definitions
// convert no alarm for it: nothing is published.
func (f *Fleet) Tamper(name string) error {
	return f.at(name, func(t *sim.Lock) error { t.Tamper(); return nil })
}

// ResetLocally factory-resets a lock at the door: it leaves the Zigbee network.
func (f *Fleet) ResetLocally(name string) error {
	return f.at(name, func(t *sim.Lock) error { t.ResetBehindHub(); return nil })
}

// DeleteAllCodes has a person delete every code with the Mastercode.
func (f *Fleet) DeleteAllCodes(name string) error {
	return f.at(name, func(t *sim.Lock) error {
		if err := press(t, Mastercode); err != nil {
			return err
		}
		if err := t.Press(sim.KeyLock); err != nil {
			return err
		}
		if err := press(t, "999999"); err != nil {
			return err
		}
		return t.Press(sim.KeyLock)
	})
}

// GoOffline takes a lock off the air; Zigbee2MQTT marks it unavailable.
func (f *Fleet) GoOffline(name string) error { return f.setOnline(name, false) }

// ComeBack brings a lock back on the air; Zigbee2MQTT marks it available.
func (f *Fleet) ComeBack(name string) error { return f.setOnline(name, true) }

func (f *Fleet) setOnline(name string, online bool) error {
	d := 24 * time.Hour
	if online {
		d = 0
	}
	if err := f.at(name, func(t *sim.Lock) error { t.DropRadio(d); return nil }); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.locks[name]
	l.online = online
	f.publishAvailability(l)
	return nil
}

// Mute makes Zigbee2MQTT hang on a lock: its sets and gets go unanswered, with nothing
// logged, while it is still listed online.
func (f *Fleet) Mute(name string) error {
	l, err := f.lockNamed(name)
	if err != nil {
		return err
	}
	f.mu.Lock()
	l.muted = true
	f.mu.Unlock()
	return nil
}

// HubDown stops the bridge as Zigbee2MQTT stops: bridge/state offline (retained), then
// it leaves the broker; nothing is answered until HubUp.
func (f *Fleet) HubDown() {
	f.mu.Lock()
	c := f.client
	if f.up {
		f.publish(f.base+"/bridge/state", map[string]any{"state": "offline"}, 1, true)
	}
	f.up, f.client = false, nil
	f.mu.Unlock()
	if c != nil {
		c.Disconnect(250)
	}
}

// HubUp starts the bridge again: it connects, publishes bridge/state online and its
// device list, and answers again.
func (f *Fleet) HubUp(ctx context.Context) error { return f.connect(ctx) }

// Do runs fn on the fleet's world while nothing else touches it.
func (f *Fleet) Do(fn func(w *sim.World)) { f.drv.Do(fn) }

// Pair pairs a lock that left (after a reset) with the network again, as permit-join
// and the lock's own pairing step do: Zigbee2MQTT announces it on bridge/event and lists
// it again, under the same IEEE address (a Zigbee radio's own).
func (f *Fleet) Pair(name string) error {
	if err := f.at(name, func(t *sim.Lock) error {
		if _, _, paired := t.Hub(); paired {
			return nil
		}
		return t.JoinHub()
	}); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.locks[name]
	if !l.left {
		return nil
	}
	l.left = false
	l.state["users"] = map[string]any{} // a new interview: nothing cached
	f.publish(f.base+"/bridge/event", map[string]any{"type": "device_joined",
		"data": map[string]any{"friendly_name": l.name, "ieee_address": l.ieee}}, 0, false)
	f.publishDevices()
	f.publishAvailability(l)
	return nil
}
