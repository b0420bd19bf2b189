package zigbee2mqtt

import (
	"bytes"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// maxClockAhead is how far ahead of this clock a lock's last_seen is still believed.
const maxClockAhead = 24 * time.Hour

// onState takes a lock's state message: it updates what is known of the lock, reports
// what changed as events, and hands the message to the commands waiting on the lock. A
// retained message is how things stood, not news: it reports nothing.
func (d *Driver) onState(dev *device, payload []byte, retained bool) {
	s, err := parseState(payload)
	if err != nil {
		d.Logger.Warn("ignored a state message Latchkey cannot read", "device", dev.info.IEEE, "error", err)
		return
	}
	if s.LastSeen.After(time.Now().Add(maxClockAhead)) {
		// A last_seen far ahead of this clock would make every later message look stale,
		// and every answer to a command look like the cache, until a restart: one
		// message from whoever can publish on the broker would silence the lock. It
		// orders nothing; the message is taken as one without last_seen.
		d.Logger.Warn("a state message's last_seen is more than a day ahead of this clock; not used to order messages (is Zigbee2MQTT's clock right?)", "device", dev.info.IEEE)
		s.LastSeen = time.Time{}
	}
	if !s.LastSeen.IsZero() {
		// With last_seen on, a message older than one already taken arrived out of
		// order, and the same message at the same time is a redelivery.
		if s.LastSeen.Before(dev.lastSeen) || s.LastSeen.Equal(dev.lastSeen) && bytes.Equal(payload, dev.lastBody) {
			d.Logger.Debug("ignored a stale or repeated state message", "device", dev.info.IEEE)
			return
		}
		dev.lastSeen, dev.lastBody = s.LastSeen, append(dev.lastBody[:0], payload...)
	}
	prevBolt, prevBattery, prevLow, prevTamper := dev.bolt, dev.battery, dev.batLow, dev.tamper
	if b := boltOf(s); b != "" {
		dev.bolt = b
	}
	if s.Battery > 0 {
		dev.battery = s.Battery
	}
	if s.BatLow != nil {
		dev.batLow = *s.BatLow
	}
	if s.Tamper != nil {
		dev.tamper = *s.Tamper
	}
	for id, u := range s.Users {
		dev.users[id] = u
	}
	if retained {
		dev.reported = dev.bolt
	} else {
		d.events(dev, s, prevBolt, prevBattery, prevLow, prevTamper)
	}
	for w := range dev.waiters {
		w.offer(s)
	}
}

// boltOf is the bolt a state message reports: locked, unlocked or jammed (ZCL lockState
// 0, "not fully locked"), or "" when it says nothing of it.
func boltOf(s lockState) string {
	switch s.LockState {
	case "locked":
		return "locked"
	case "unlocked":
		return "unlocked"
	case "not_fully_locked":
		return "jammed"
	}
	switch s.State {
	case "LOCK":
		return "locked"
	case "UNLOCK":
		return "unlocked"
	}
	return ""
}

// sources maps action_source_name to the domain's sources.
var sources = map[string]latchkey.EventSource{"keypad": latchkey.SourceKeypad, "rf": latchkey.SourceRF, "manual": latchkey.SourceManual}

// events reports what a fresh state message says happened.
func (d *Driver) events(dev *device, s lockState, prevBolt string, prevBattery int, prevLow, prevTamper bool) {
	src := sources[s.Source]
	slot := 0
	if s.hasUser && s.User < d.Slots {
		slot = s.User + 1 // Zigbee user ids count from 0; Latchkey's slots from 1
	}
	switch s.Action {
	case "unlock", "key_unlock", "manual_unlock", "schedule_unlock":
		d.boltEvent(dev, latchkey.EventUnlocked, actionSource(s.Action, src), slot)
	case "lock", "one_touch_lock", "key_lock", "auto_lock", "schedule_lock", "manual_lock":
		d.boltEvent(dev, latchkey.EventLocked, actionSource(s.Action, src), slot)
	case "unlock_failure_invalid_pin_or_id", "lock_failure_invalid_pin_or_id":
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventWrongCode, Source: latchkey.SourceKeypad})
	case "unlock_failure_invalid_schedule", "lock_failure_invalid_schedule":
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventWrongCode, Source: latchkey.SourceKeypad, Slot: slot, Detail: "code used outside its schedule"})
	case "pin_code_added", "pin_code_deleted", "pin_code_changed":
		kind := map[string]latchkey.EventKind{"pin_code_added": latchkey.EventCodeAdded, "pin_code_deleted": latchkey.EventCodeDeleted,
			"pin_code_changed": latchkey.EventCodeChanged}[s.Action]
		switch {
		case kind == latchkey.EventCodeDeleted && s.hasUser && (s.User == 0xff || s.User == 0xffff):
			// The ZCL's "all users" id: every code was deleted at once.
			d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventAllCodesDeleted, Source: src, Detail: "every PIN code deleted"})
		case slot > 0:
			if kind == latchkey.EventCodeDeleted {
				delete(dev.users, slot-1)
			}
			d.emit(dev, latchkey.DeviceEvent{Kind: kind, Source: src, Slot: slot})
		}
	}
	switch {
	case dev.bolt == "jammed" && prevBolt != "jammed":
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventJammed, Detail: "the bolt is not fully thrown"})
	case (dev.bolt == "locked" || dev.bolt == "unlocked") && dev.bolt != prevBolt && dev.bolt != dev.reported:
		d.awaitOperation(dev, dev.bolt)
	}
	lowMark := latchkey.LockState{BatteryMV: latchkey.LowBatteryMV}.BatteryPercent()
	switch {
	case dev.batLow && !prevLow:
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventLowBattery, Detail: "battery_low"})
	case dev.battery > 0 && dev.battery <= lowMark && (prevBattery == 0 || prevBattery > lowMark):
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventLowBattery, Detail: fmt.Sprintf("battery at %d %%", dev.battery)})
	}
	if dev.tamper && !prevTamper {
		d.emit(dev, latchkey.DeviceEvent{Kind: latchkey.EventTamper})
	}
}

// actionSource is who moved the bolt, from the action when it says (key, auto, manual)
// and from action_source_name otherwise.
func actionSource(action string, src latchkey.EventSource) latchkey.EventSource {
	switch action {
	case "key_lock", "key_unlock", "manual_lock", "manual_unlock":
		return latchkey.SourceManual
	case "auto_lock", "schedule_lock", "schedule_unlock":
		return latchkey.SourceAuto
	case "one_touch_lock":
		return latchkey.SourceKeypad
	}
	return src
}

// boltEvent reports a lock or unlock the lock's operation event names.
func (d *Driver) boltEvent(dev *device, kind latchkey.EventKind, src latchkey.EventSource, slot int) {
	if dev.boltTimer != nil {
		dev.boltTimer.Stop()
		dev.boltTimer = nil
	}
	dev.reported = map[latchkey.EventKind]string{latchkey.EventLocked: "locked", latchkey.EventUnlocked: "unlocked"}[kind]
	if src != latchkey.SourceKeypad || kind != latchkey.EventUnlocked {
		slot = 0 // only a keypad unlock names whose code it was (the Lock button reports user 0)
	}
	d.emit(dev, latchkey.DeviceEvent{Kind: kind, Source: src, Slot: slot, Bolt: dev.reported})
}

// awaitOperation reports a bolt change the lock's lockState shows, unless its
// operation event (which says who moved it) comes within the grace: the two are
// separate Zigbee messages, in no set order, and one move is one event.
func (d *Driver) awaitOperation(dev *device, bolt string) {
	if dev.boltTimer != nil {
		dev.boltTimer.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(d.BoltGrace, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if dev.boltTimer != t || dev.reported == bolt || dev.bolt != bolt {
			return
		}
		dev.boltTimer, dev.reported = nil, bolt
		kind := latchkey.EventLocked
		if bolt == "unlocked" {
			kind = latchkey.EventUnlocked
		}
		d.emit(dev, latchkey.DeviceEvent{Kind: kind, Bolt: bolt})
	})
	dev.boltTimer = t
}
