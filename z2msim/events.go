package z2msim

import (
	"strconv"

	"github.com/latchkey/latchkey"
)

func itoa(n int) string { return strconv.Itoa(n) }

// sourceCodes are the ZCL operation event sources of the domain's.
var sourceCodes = map[latchkey.EventSource]int{latchkey.SourceKeypad: srcKeypad, latchkey.SourceRF: srcRF, latchkey.SourceManual: srcManual}

// noUser is the user id a lock sends with an event no stored code caused.
const noUser = 0xffff

// everyUser is the user id of a programming event about every user at once.
const everyUser = 0xff

// onTwinEvent publishes what a twin reported as the Zigbee messages a Kwikset lock
// sends, converted as Zigbee2MQTT converts them (zcl.go): an operation event
// notification and a lockState report for a bolt move, a programming event notification
// for a code changed at the keypad, a battery report, a device leaving. What the Kwikset
// definitions do not convert (tamper, keypad lockout) is published as nothing at all.
func (f *Fleet) onTwinEvent(ev latchkey.DeviceEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.locks[ev.Address]
	if l == nil || l.left {
		return
	}
	if ev.BatteryMV > 0 {
		merge(l.state, convertBattery(2*latchkey.LockState{BatteryMV: ev.BatteryMV}.BatteryPercent()))
	}
	src, known := sourceCodes[ev.Source]
	if !known {
		src = srcIndeterminate
	}
	switch ev.Kind {
	case latchkey.EventLocked, latchkey.EventUnlocked:
		op := operationEvent{Code: opLock, Source: src}
		if ev.Kind == latchkey.EventUnlocked {
			op.Code = opUnlock
		}
		switch ev.Source {
		case latchkey.SourceKeypad:
			if ev.Slot > 0 && ev.Kind == latchkey.EventUnlocked {
				op.User = ev.Slot - 1
			}
		case latchkey.SourceManual:
			op.Code = map[int]int{opLock: opManualLock, opUnlock: opManualUnlock}[op.Code]
		case latchkey.SourceAuto:
			op.Code = opAutoLock
		}
		f.publishState(l, convertOperation(op))
		setBolt(l, map[latchkey.EventKind]string{latchkey.EventLocked: "locked", latchkey.EventUnlocked: "unlocked"}[ev.Kind])
		f.publishState(l, nil)
	case latchkey.EventJammed:
		setBolt(l, "jammed")
		f.publishState(l, nil)
	case latchkey.EventWrongCode:
		f.publishState(l, convertOperation(operationEvent{Code: opUnlockFailedPIN, User: noUser, Source: srcKeypad}))
	case latchkey.EventLowBattery:
		f.publishState(l, nil)
	case latchkey.EventCodeAdded, latchkey.EventCodeDeleted, latchkey.EventCodeChanged:
		if ev.Slot > 0 && ev.Slot <= PINCodeCount {
			code := map[latchkey.EventKind]int{latchkey.EventCodeAdded: progPINAdded, latchkey.EventCodeDeleted: progPINDeleted,
				latchkey.EventCodeChanged: progPINChanged}[ev.Kind]
			f.publishState(l, convertProgramming(programmingEvent{Code: code, User: ev.Slot - 1, Source: src}))
		}
	case latchkey.EventAllCodesDeleted:
		// A programming event naming no single user: the ZCL's 0xff, every user.
		f.publishState(l, convertProgramming(programmingEvent{Code: progPINDeleted, User: everyUser, Source: src}))
	case latchkey.EventResetLocally:
		// A Zigbee lock that is reset leaves the network: Zigbee2MQTT tells of it on
		// bridge/event and lists it no more.
		l.left = true
		f.publish(f.base+"/bridge/event", map[string]any{"type": "device_leave",
			"data": map[string]any{"friendly_name": l.name, "ieee_address": l.ieee}}, 0, false)
		f.publishDevices()
	}
}

// merge copies a converter's output into a lock's cached state.
func merge(state, converted map[string]any) {
	for k, v := range converted {
		state[k] = v
	}
}
