package z2msim

import (
	"strconv"

	"github.com/latchkey/latchkey"
)

func itoa(n int) string { return strconv.Itoa(n) }

// ZCL operation event sources (lockSourceName in zigbee-herdsman-converters).
var sourceOf = map[latchkey.EventSource]struct {
	code int
	name string
}{
	latchkey.SourceKeypad: {0, "keypad"},
	latchkey.SourceRF:     {1, "rf"},
	latchkey.SourceManual: {2, "manual"},
}

// noUser is the user id a lock sends with an event no user caused.
const noUser = 0xffff

// onTwinEvent publishes what a twin reported as the Zigbee messages a Kwikset lock
// sends and Zigbee2MQTT converts: an operation event notification and a lockState
// report for a bolt move, a programming event notification for a code changed at the
// keypad, a battery report, a device leaving. What the Kwikset definitions do not
// convert (tamper, keypad lockout) is published as nothing at all.
func (f *Fleet) onTwinEvent(ev latchkey.DeviceEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.locks[ev.Address]
	if l == nil || l.left {
		return
	}
	if ev.BatteryMV > 0 {
		l.state["battery"] = latchkey.LockState{BatteryMV: ev.BatteryMV}.BatteryPercent()
	}
	src, known := sourceOf[ev.Source]
	action := func(name string, user int, withSource bool) map[string]any {
		m := map[string]any{"action": name, "action_user": user}
		if withSource && known {
			m["action_source"], m["action_source_name"] = src.code, src.name
		} else {
			m["action_source"] = 0xff // indeterminate: no name in lockSourceName
		}
		return m
	}
	switch ev.Kind {
	case latchkey.EventLocked, latchkey.EventUnlocked:
		verb := map[latchkey.EventKind]string{latchkey.EventLocked: "lock", latchkey.EventUnlocked: "unlock"}[ev.Kind]
		name, user := verb, 0
		switch ev.Source {
		case latchkey.SourceKeypad:
			if ev.Slot > 0 {
				user = ev.Slot - 1
			}
		case latchkey.SourceManual:
			name = "manual_" + verb
		case latchkey.SourceAuto:
			name = "auto_lock"
		}
		f.publishState(l, action(name, user, true))
		setBolt(l, map[latchkey.EventKind]string{latchkey.EventLocked: "locked", latchkey.EventUnlocked: "unlocked"}[ev.Kind])
		f.publishState(l, nil)
	case latchkey.EventJammed:
		setBolt(l, "jammed")
		f.publishState(l, nil)
	case latchkey.EventWrongCode:
		f.publishState(l, action("unlock_failure_invalid_pin_or_id", noUser, true))
	case latchkey.EventLowBattery:
		f.publishState(l, nil)
	case latchkey.EventCodeAdded, latchkey.EventCodeDeleted, latchkey.EventCodeChanged:
		if ev.Slot > 0 && ev.Slot <= PINCodeCount {
			name := map[latchkey.EventKind]string{latchkey.EventCodeAdded: "pin_code_added", latchkey.EventCodeDeleted: "pin_code_deleted",
				latchkey.EventCodeChanged: "pin_code_changed"}[ev.Kind]
			f.publishState(l, action(name, ev.Slot-1, true))
		}
	case latchkey.EventAllCodesDeleted:
		// A programming event naming no single user: the ZCL's 0xff, every user.
		f.publishState(l, action("pin_code_deleted", 0xff, true))
	case latchkey.EventResetLocally:
		// A Zigbee lock that is reset leaves the network: Zigbee2MQTT tells of it on
		// bridge/event and lists it no more.
		l.left = true
		f.publish(f.base+"/bridge/event", map[string]any{"type": "device_leave",
			"data": map[string]any{"friendly_name": l.name, "ieee_address": l.ieee}}, 0, false)
		f.publishDevices()
	}
}
