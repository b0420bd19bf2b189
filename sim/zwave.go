package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
)

// zwaveAlarm is the Kwikset Z-Wave alarm type of an unsolicited report, from the
// Kwikset template's mapping (facts §3.11, Z1), the keypad-limit tamper alarm 0xA1
// (§3.8, NZ) and the all-codes-deleted report (§3.11). Reports that set Alarm
// themselves (the battery alarms of §3.9) keep theirs; 0 means the report has none.
func zwaveAlarm(r Report) int {
	switch r.Event {
	case latchkey.EventLocked:
		return map[latchkey.EventSource]int{latchkey.SourceKeypad: 18, latchkey.SourceManual: 21, latchkey.SourceRF: 24, latchkey.SourceAuto: 27}[r.Source]
	case latchkey.EventUnlocked:
		return map[latchkey.EventSource]int{latchkey.SourceKeypad: 19, latchkey.SourceManual: 22, latchkey.SourceRF: 25}[r.Source]
	case latchkey.EventJammed:
		switch r.Source {
		case latchkey.SourceRF:
			return 23 // RF lock jammed
		case latchkey.SourceAuto:
			return 26 // auto-lock jammed
		}
		return 9
	case latchkey.EventAllCodesDeleted:
		return 32
	case latchkey.EventCodeDeleted:
		return 33
	case latchkey.EventKeypadLockout:
		return 0xA1 // NZ: "keypad attempts exceed code entry limit" (brand not stated)
	}
	return 0
}

// withAlarm appends an alarm's text to a report's detail, as "low (alarm 167)".
func withAlarm(detail, alarm string) string {
	if alarm == "" {
		return detail
	}
	return detail + " (" + alarm + ")"
}

// configure writes a Z-Wave configuration parameter that the catalog documents for the
// model: 40 resets the lock (facts §3.5), 10 starts the HC620's direction detection
// (§3.6), 36 sets the 888's relock time (§3.7). Documented parameters whose effect the
// twin does not model are accepted and noted; any other is refused.
func (l *Lock) configure(param, value int) Report {
	params, _ := l.model.ZWaveParams.Get(nil)
	what, ok := params[param]
	if !ok {
		return Report{Err: fmt.Sprintf("parameter %d is not documented for the %s", param, l.model.ID)}
	}
	switch param {
	case 40:
		// Value 1 resets (the Kwikset template); on the HC620 value 2 is a "modified"
		// reset whose effect is unconfirmed: the twin treats it as a full one, so that
		// nothing relies on codes surviving it.
		if value != 1 && !(value == 2 && l.model.ID == "620") {
			return Report{Err: fmt.Sprintf("value %d of parameter 40 is not documented for the %s", value, l.model.ID)}
		}
		l.log(KindState, "Z-Wave parameter 40 set to %d: factory reset", value)
		// The lock acknowledges the write, then resets.
		l.w.Clock.AfterFunc(time.Millisecond, func() {
			if l.powered() {
				l.factoryReset("remote, parameter 40")
			}
		})
	case 10:
		if value != 1 {
			return Report{Err: fmt.Sprintf("parameter 10 reads 0 (unknown), 1 (right-hand) or 2 (left-hand); only writing 1, which starts direction detection, is documented, not %d", value)}
		}
		l.handing = "pending"
		l.log(KindState, "Z-Wave parameter 10 set to 1: door handing (direction detection) starts")
		l.w.Clock.AfterFunc(time.Millisecond, l.doorHanding)
	case 36:
		opts, _ := l.model.AutoLockS.Get(nil)
		switch {
		case value == 0:
			l.dip.AutoLock = false
			l.autoTimer.Stop()
			l.log(KindState, "Z-Wave parameter 36 set to 0: auto relock off")
		case slices.Contains(opts, value):
			l.dip.AutoLock, l.autoAfter = true, time.Duration(value)*time.Second
			l.log(KindState, "Z-Wave parameter 36 set to %d: auto relock after %d s", value, value)
		default:
			return Report{Err: fmt.Sprintf("parameter 36 takes 0 (off) or a relock time of %v seconds, not %d", opts, value)}
		}
	default:
		l.log(KindState, "Z-Wave parameter %d (%s) set to %d; the twin does not model its effect", param, what, value)
	}
	return Report{}
}

// addOverRadio stores a code sent without a slot in the lowest free slot and answers
// with the slot, as the Kwikset app's locks do (facts §3.4 D, MCP). Z-Wave, Zigbee and
// Matter controllers name the slot themselves.
func (l *Lock) addOverRadio(code string) Report {
	if l.radio != catalog.RadioWiFi && l.radio != catalog.RadioBLE {
		return Report{Err: "this hub names the slot itself; use set_code"}
	}
	n := l.freeSlot()
	if n == 0 {
		return Report{Err: fmt.Sprintf("all %d slots are full", l.capacity())}
	}
	lost, err := l.write(n, code, false)
	switch {
	case lost:
		return Report{silent: true}
	case err != nil:
		return Report{Err: latchkey.ErrorMessage(err)}
	}
	l.log(KindState, "code stored in slot %d, the lowest free one, over the radio", n)
	return Report{Slot: n}
}

// inverted reports whether the lock takes the bolt's states the wrong way round: a
// Convert installed with its handing reversed and DIP switch 4 (Invert) off, or the
// other way about (facts §3.6, K5).
func (l *Lock) inverted() bool { return l.reversed != l.dip.Switch4 && l.model.Family == "convert" }

// reportedBolt is the bolt's state as the lock believes it, and reports it.
func (l *Lock) reportedBolt() string {
	if l.inverted() {
		switch l.bolt {
		case "locked":
			return "unlocked"
		case "unlocked":
			return "locked"
		}
	}
	return l.bolt
}
