package zwavejs

import (
	"encoding/json"
	"time"

	"github.com/latchkey/latchkey"
)

// nodeOf reads what the driver keeps of a node from the server's dump of it: its ids,
// what it supports, its bolt and battery. User codes in the dump are not kept.
func nodeOf(wn wireNode) *node {
	n := &node{id: wn.NodeID, ready: wn.Ready, dead: wn.Status == statusDead,
		manufacturerID: clampID(wn.ManufacturerID), productType: clampID(wn.ProductType), productID: clampID(wn.ProductID),
		label: cleanText(wn.Label), name: cleanText(wn.Name), currentMode: -1, batteryLevel: -1}
	if wn.DeviceConfig != nil && n.label == "" {
		n.label = cleanText(wn.DeviceConfig.Label)
	}
	for _, v := range wn.Values {
		v.NewValue = v.Value
		n.apply(v)
	}
	return n
}

// apply takes one value of the node (dumped or updated).
func (n *node) apply(v wireValue) {
	if v.Endpoint != 0 {
		return
	}
	switch v.CommandClass {
	case ccUserCode:
		n.userCodes = true
		if v.prop() == "supportedUsers" {
			if users, ok := intValue(v.NewValue, 1, 0xffff); ok {
				n.numUsers = users
			}
		}
	case ccDoorLock:
		n.doorLock = true
		if v.prop() == "currentMode" {
			if mode, ok := intValue(v.NewValue, 0, 255); ok {
				n.currentMode = mode
			}
		}
	case ccBattery:
		if v.prop() == "level" {
			if level, ok := intValue(v.NewValue, 0, 100); ok {
				n.batteryLevel = level
			}
		}
	}
}

func clampID(n int) int {
	if n < 0 || n > 0xffff {
		return 0
	}
	return n
}

// cleanText keeps a name the server gave short and printable.
func cleanText(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r != 0x7f && r != 0xfffd && !(r >= 0x80 && r < 0xa0) && !(r >= 0x200e && r <= 0x202e) && !(r >= 0x2066 && r <= 0x2069) {
			out = append(out, r)
		}
		if len(out) == 80 {
			break
		}
	}
	return string(out)
}

// repeatWindow is how long an identical event frame is taken for a repeat of the one
// before: a lock takes seconds to turn its bolt, and zwave-js-server's frames carry the
// value before and after, so the same frame twice within it is one report delivered twice.
const repeatWindow = 2 * time.Second

// handleEvent updates the driver's view of the network and turns what a lock reported
// into domain events.
func (d *Driver) handleEvent(s *session, e *eventMsg, raw []byte) {
	now := time.Now()
	var evs []latchkey.DeviceEvent
	d.mu.Lock()
	if d.sess != nil && d.sess != s {
		d.mu.Unlock()
		return // a connection the driver has left behind
	}
	if seen, ok := d.recent[string(raw)]; ok && now.Sub(seen) < repeatWindow {
		d.mu.Unlock()
		return // the same report again
	}
	for k, at := range d.recent {
		if now.Sub(at) >= repeatWindow {
			delete(d.recent, k)
		}
	}
	d.recent[string(raw)] = now
	n := d.nodes[e.NodeID]
	switch {
	case e.Source == "node" && e.Event == "notification" && e.CCID == ccNotification && n != nil:
		var a notificationArgs
		if json.Unmarshal(e.Args, &a) != nil {
			break
		}
		if a.Type == 6 && a.Event == 15 {
			d.wakeLocked(e.NodeID, waitDuplicate, a.userID())
		}
		if kind, source, slot, detail, ok := notificationEvent(a); ok {
			if kind == latchkey.EventLocked || kind == latchkey.EventUnlocked {
				d.boltReportedLocked(e.NodeID, kind)
			}
			if kind == latchkey.EventAllCodesDeleted || kind == latchkey.EventCodeAdded || kind == latchkey.EventCodeDeleted {
				d.forgetVerifiedLocked(e.NodeID, slot)
			}
			evs = append(evs, d.eventLocked(e.NodeID, kind, source, slot, detail))
		}
	case e.Source == "node" && (e.Event == "value updated" || e.Event == "value added" || e.Event == "value notification") && n != nil:
		var v wireValue
		if json.Unmarshal(e.Args, &v) != nil {
			break
		}
		wasLevel := n.batteryLevel
		n.apply(v)
		switch {
		case v.CommandClass == ccDoorLock && v.prop() == "currentMode":
			d.wakeLocked(e.NodeID, waitMode, n.currentMode)
			if prev, ok := intValue(v.PrevValue, 0, 255); !ok || prev != n.currentMode {
				d.boltMovedLocked(e.NodeID, n.currentMode)
			}
		case v.CommandClass == ccUserCode && (v.prop() == "userCode" || v.prop() == "userIdStatus"):
			if slot, ok := intValue(v.PropertyKey, 1, 0xffff); ok {
				d.forgetVerifiedLocked(e.NodeID, slot)
			}
		case v.CommandClass == ccBattery && v.prop() == "isLow":
			var low bool
			if json.Unmarshal(v.NewValue, &low) == nil && low {
				evs = append(evs, d.eventLocked(e.NodeID, latchkey.EventLowBattery, "", 0, "battery low (Battery report)"))
			}
		case v.CommandClass == ccBattery && v.prop() == "level" && n.batteryLevel >= 0 && n.batteryLevel != wasLevel &&
			batteryMV(n.batteryLevel) <= latchkey.LowBatteryMV && (wasLevel < 0 || batteryMV(wasLevel) > latchkey.LowBatteryMV):
			evs = append(evs, d.eventLocked(e.NodeID, latchkey.EventLowBattery, "", 0, "battery level fell to "+itoa(n.batteryLevel)+"%"))
		case v.CommandClass == ccNotification:
			if kind, detail, ok := notificationState(v); ok {
				evs = append(evs, d.eventLocked(e.NodeID, kind, "", 0, detail))
			}
		}
	case e.Source == "node" && e.Event == "dead" && n != nil:
		if !n.dead {
			n.dead = true
			evs = append(evs, d.eventLocked(e.NodeID, latchkey.EventOffline, "", 0, "the lock does not answer (node dead)"))
		}
	case e.Source == "node" && (e.Event == "alive" || e.Event == "wake up") && n != nil:
		if n.dead {
			n.dead = false
			evs = append(evs, d.eventLocked(e.NodeID, latchkey.EventOnline, "", 0, "the lock answers again"))
		}
	case e.Source == "node" && e.Event == "ready" && n != nil:
		if e.NodeState != nil {
			d.nodes[e.NodeID] = nodeOf(*e.NodeState)
		}
		d.nodes[e.NodeID].ready = true
	case e.Source == "controller" && e.Event == "node added" && e.Node != nil:
		d.nodes[e.Node.NodeID] = nodeOf(*e.Node)
		d.wakeLocked(0, waitAdded, e.Node.NodeID)
	case e.Source == "controller" && e.Event == "node removed" && e.Node != nil:
		id := e.Node.NodeID
		gone := d.nodes[id]
		delete(d.nodes, id)
		d.forgetVerifiedLocked(id, 0)
		reason := -1
		if e.Reason != nil {
			reason = *e.Reason
		}
		d.wakeLocked(0, waitRemoved, id)
		switch {
		case reason == removedReset:
			ev := latchkey.DeviceEvent{Driver: latchkey.DriverZWaveJS, Address: itoa(id), Kind: latchkey.EventResetLocally,
				Detail: "the lock was reset to factory settings at the lock and left the Z-Wave network (Device Reset Locally)"}
			evs = append(evs, ev)
		case gone != nil && (gone.userCodes || gone.doorLock):
			evs = append(evs, latchkey.DeviceEvent{Driver: latchkey.DriverZWaveJS, Address: itoa(id), Kind: latchkey.EventOffline,
				Detail: "removed from the Z-Wave network (" + removedWhy(reason) + ")"})
		}
	}
	d.mu.Unlock()
	for _, ev := range evs {
		d.emit(ev)
	}
}

// RemoveNodeReason values (protocols.md §1.6).
const removedReset = 5

func removedWhy(reason int) string {
	switch reason {
	case 0:
		return "excluded"
	case 1:
		return "excluded through another controller"
	case 2:
		return "removed as a failed node"
	case 3, 4:
		return "replaced"
	case 6:
		return "SmartStart inclusion failed"
	}
	return "reason not given"
}

// notificationEvent maps a Notification CC event to the domain's (protocols.md §1.5).
// Events that are not about the lock's use or its codes are left out.
func notificationEvent(a notificationArgs) (kind latchkey.EventKind, source latchkey.EventSource, slot int, detail string, ok bool) {
	slot = a.userID()
	switch a.Type {
	case 6: // Access Control
		switch a.Event {
		case 1:
			return latchkey.EventLocked, latchkey.SourceManual, 0, "", true
		case 2:
			return latchkey.EventUnlocked, latchkey.SourceManual, 0, "", true
		case 3:
			return latchkey.EventLocked, latchkey.SourceRF, 0, "", true
		case 4:
			return latchkey.EventUnlocked, latchkey.SourceRF, 0, "", true
		case 5, 0x21:
			return latchkey.EventLocked, latchkey.SourceKeypad, slot, "", true
		case 6, 0x22:
			return latchkey.EventUnlocked, latchkey.SourceKeypad, slot, "", true
		case 7:
			return latchkey.EventJammed, latchkey.SourceManual, 0, "not fully locked", true
		case 8:
			return latchkey.EventJammed, latchkey.SourceRF, 0, "not fully locked", true
		case 9:
			return latchkey.EventLocked, latchkey.SourceAuto, 0, "", true
		case 0x0a:
			return latchkey.EventJammed, latchkey.SourceAuto, 0, "not fully locked", true
		case 0x0c:
			return latchkey.EventAllCodesDeleted, latchkey.SourceKeypad, 0, "every user code was deleted at the lock", true
		case 0x0d:
			if slot > 0 {
				return latchkey.EventCodeDeleted, latchkey.SourceKeypad, slot, "", true
			}
		case 0x0e:
			if slot > 0 {
				return latchkey.EventCodeAdded, latchkey.SourceKeypad, slot, "", true
			}
		case 0x13:
			return latchkey.EventKeypadLockout, latchkey.SourceKeypad, 0, "user code entry exceeded its limit", true
		case 0x14, 0x15:
			return latchkey.EventWrongCode, latchkey.SourceRF, 0, "a command with a wrong user code", true
		case 0x32:
			return latchkey.EventWrongCode, latchkey.SourceKeypad, 0, "", true
		}
	case 7: // Home Security
		switch a.Event {
		case 4:
			return latchkey.EventWrongCode, latchkey.SourceKeypad, 0, "", true
		case 9:
			return latchkey.EventTamper, "", 0, "the lock was moved", true
		}
	}
	return "", "", 0, "", false
}

// notificationState maps a Notification CC state a lock entered (the value zwave-js
// keeps for a notification variable) to the domain's event.
func notificationState(v wireValue) (latchkey.EventKind, string, bool) {
	state, ok := intValue(v.NewValue, 1, 255)
	if !ok {
		return "", "", false // idle, or not a state
	}
	switch v.prop() + "/" + v.key() {
	case "Access Control/Lock state":
		if state == 11 {
			return latchkey.EventJammed, "lock jammed", true
		}
	case "Access Control/Keypad state":
		if state == 16 {
			return latchkey.EventKeypadLockout, "keypad temporarily disabled after wrong codes", true
		}
	case "Home Security/Cover status":
		if state == 3 {
			return latchkey.EventTamper, "tampering: the lock's cover was removed", true
		}
	case "Power Management/Battery maintenance status":
		switch state {
		case 10:
			return latchkey.EventLowBattery, "replace the batteries soon", true
		case 11:
			return latchkey.EventLowBattery, "replace the batteries now", true
		}
	case "Power Management/Battery level status":
		switch state {
		case 14:
			return latchkey.EventLowBattery, "charge the battery soon", true
		case 15:
			return latchkey.EventLowBattery, "charge the battery now", true
		}
	}
	return "", "", false
}

// forgetVerifiedLocked drops SetCode's read-backs of a node's slot (all its slots for 0).
func (d *Driver) forgetVerifiedLocked(id, slot int) {
	for k := range d.verified {
		if k.node == id && (slot == 0 || k.slot == slot) {
			delete(d.verified, k)
		}
	}
}

// boltSettle is how long a Door Lock report waits for the lock's own notification of
// the same movement (zwave-js updates currentMode from it, just before relaying it):
// the notification says who moved the bolt, so it is the one reported.
const boltSettle = 750 * time.Millisecond

// boltMovedLocked notes the bolt reported thrown or retracted by the Door Lock CC, and
// reports it unless a notification of the same movement comes within boltSettle; d.mu
// is held.
func (d *Driver) boltMovedLocked(id, mode int) {
	var kind latchkey.EventKind
	switch mode {
	case modeSecured:
		kind = latchkey.EventLocked
	case modeUnsecured:
		kind = latchkey.EventUnlocked
	default:
		return
	}
	if n := d.boltNotified[id]; n.kind == kind && time.Since(n.at) < boltSettle {
		return // the lock's notification of it came first
	}
	if t := d.boltTimers[id]; t != nil {
		t.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(boltSettle, func() {
		d.mu.Lock()
		if d.boltTimers[id] != t {
			d.mu.Unlock()
			return
		}
		delete(d.boltTimers, id)
		var source latchkey.EventSource
		if time.Since(d.commanded[id]) < time.Minute {
			source = latchkey.SourceRF // Latchkey moved it
		}
		ev := d.eventLocked(id, kind, source, 0, "")
		d.mu.Unlock()
		d.emit(ev)
	})
	d.boltTimers[id] = t
}

// boltReportedLocked drops a pending Door Lock report: the lock's notification of the
// movement is reported instead (and a Door Lock report of it arriving just after is
// not reported either); d.mu is held.
func (d *Driver) boltReportedLocked(id int, kind latchkey.EventKind) {
	if t := d.boltTimers[id]; t != nil {
		t.Stop()
		delete(d.boltTimers, id)
	}
	d.boltNotified[id] = boltNote{kind: kind, at: time.Now()}
}

// boltNote is the last lock or unlock a node's notification reported.
type boltNote struct {
	kind latchkey.EventKind
	at   time.Time
}
