package z2msim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey/sim"
)

// The bridge requests the fleet answers, as Zigbee2MQTT 2.x's bridge extension does
// (lib/extension/bridge.ts): a request on <base>/bridge/request/NAME is answered on
// <base>/bridge/response/NAME with {"data":…,"status":"ok"} or {"data":{},"status":
// "error","error":"…"}, its transaction echoed. Only device/remove and permit_join are
// answered; Zigbee2MQTT's other requests go unanswered here.

// refusal is the error message Zigbee2MQTT answers a bridge request with, in its own
// words (capitalized, as it writes them).
type refusal string

func (r refusal) Error() string { return string(r) }

// refused makes a refusal.
func refused(format string, args ...any) error { return refusal(fmt.Sprintf(format, args...)) }

// maxPermitJoin is the longest permit_join Zigbee2MQTT takes, in seconds.
const maxPermitJoin = 254

// onBridgeRequest takes a bridge request.
func (f *Fleet) onBridgeRequest(_ mqtt.Client, m mqtt.Message) {
	name := strings.TrimPrefix(m.Topic(), f.base+"/bridge/request/")
	var msg map[string]json.RawMessage
	if json.Unmarshal(m.Payload(), &msg) != nil {
		// Zigbee2MQTT takes a bare value too: device/remove "front".
		msg = map[string]json.RawMessage{}
		if name == "device/remove" {
			msg["id"], _ = json.Marshal(string(m.Payload()))
		}
	}
	if name != "device/remove" && name != "permit_join" {
		return
	}
	// A removal waits for the lock: answer beside the MQTT client's own goroutine.
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.answer(name, msg)
	}()
}

// answer runs a bridge request and publishes Zigbee2MQTT's response.
func (f *Fleet) answer(name string, msg map[string]json.RawMessage) {
	var data any
	var err error
	if name == "device/remove" {
		data, err = f.removeDevice(msg)
	} else {
		data, err = f.permitJoin(msg)
	}
	rsp := map[string]any{"status": "ok", "data": data}
	if err != nil {
		rsp = map[string]any{"status": "error", "data": map[string]any{}, "error": err.Error()}
	}
	if tx, ok := msg["transaction"]; ok {
		rsp["transaction"] = tx
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publish(f.base+"/bridge/response/"+name, rsp, 0, false)
}

// removeDevice is device/remove: the coordinator asks the lock to leave (it is not
// forced out of the database without telling it), and the device list drops it.
func (f *Fleet) removeDevice(msg map[string]json.RawMessage) (any, error) {
	var id string
	var force, block bool
	if json.Unmarshal(msg["id"], &id) != nil || id == "" {
		return nil, refused("Invalid payload")
	}
	_ = json.Unmarshal(msg["force"], &force)
	_ = json.Unmarshal(msg["block"], &block)
	f.mu.Lock()
	var l *lock
	for _, c := range f.order {
		if !c.left && (c.name == id || c.ieee == strings.ToLower(id)) {
			l = c
		}
	}
	online := l != nil && l.online
	f.mu.Unlock()
	if l == nil {
		return nil, refused("Device '%s' does not exist", id)
	}
	if !online && !force {
		return nil, refused("Failed to remove device '%s' (block: %t, force: %t) (Error: Timeout - 4096, 1, 1, 0, 0 after 10000ms)", l.name, block, force)
	}
	f.drv.Do(func(*sim.World) {
		if hub, addr, ok := l.twin.Hub(); ok {
			_ = hub.Leave(addr)
		}
	})
	// Zigbee2MQTT answers once the lock took the leave request.
	for deadline := time.Now().Add(commandTimeout); ; {
		var paired bool
		f.drv.Do(func(*sim.World) { _, _, paired = l.twin.Hub() })
		if !paired {
			break
		}
		if time.Now().After(deadline) {
			return nil, refused("Failed to remove device '%s' (block: %t, force: %t) (Error: Timeout waiting for the leave)", l.name, block, force)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.mu.Lock()
	l.left = true
	f.publishDevices()
	f.mu.Unlock()
	return map[string]any{"id": id, "block": block, "force": force}, nil
}

// permitJoin is permit_join {"time": 0..254}: the coordinator permits joins for that
// long (0 stops it). A lock of the fleet that left and joins meanwhile (button A four
// times) is announced and listed again.
func (f *Fleet) permitJoin(msg map[string]json.RawMessage) (any, error) {
	var secs float64
	if json.Unmarshal(msg["time"], &secs) != nil || secs < 0 || secs > maxPermitJoin || secs != float64(int(secs)) {
		return nil, refused("Invalid payload")
	}
	if _, ok := msg["device"]; ok {
		return nil, refused("The fleet permits joins through the coordinator only")
	}
	f.mu.Lock()
	f.permitUntil = time.Now().Add(time.Duration(secs) * time.Second)
	f.mu.Unlock()
	mode := sim.HubPermit
	if secs == 0 {
		mode = sim.HubIdle
	}
	// The hub's own timer is on the twins' clock; the fleet ends permitting on the real
	// one (watchJoins), so it holds the mode for as long as the world could take.
	f.drv.Do(func(*sim.World) { _ = f.order[0].twin.HomeHub().SetMode(mode, 1000*time.Hour) })
	if secs > 0 {
		f.wg.Add(1)
		go f.watchJoins()
	}
	return map[string]any{"time": int(secs)}, nil
}

// watchJoins lists again each lock that joins while joins are permitted, and ends the
// permit when its time is up.
func (f *Fleet) watchJoins() {
	defer f.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-tick.C:
		}
		f.mu.Lock()
		var left []*lock
		for _, l := range f.order {
			if l.left {
				left = append(left, l)
			}
		}
		over := !time.Now().Before(f.permitUntil)
		f.mu.Unlock()
		for _, l := range left {
			var paired bool
			f.drv.Do(func(*sim.World) { _, _, paired = l.twin.Hub() })
			if paired {
				f.mu.Lock()
				f.rejoined(l)
				f.mu.Unlock()
			}
		}
		if over {
			f.drv.Do(func(*sim.World) {
				if hub := f.order[0].twin.HomeHub(); hub.Mode() == sim.HubPermit {
					_ = hub.SetMode(sim.HubIdle, 0)
				}
			})
			return
		}
	}
}

// rejoined announces a lock that joined the network again and lists it, as Zigbee2MQTT
// does after its interview; call it with mu held.
func (f *Fleet) rejoined(l *lock) {
	if !l.left {
		return
	}
	l.left = false
	l.state["users"] = map[string]any{} // a new interview: nothing cached
	f.publish(f.base+"/bridge/event", map[string]any{"type": "device_joined",
		"data": map[string]any{"friendly_name": l.name, "ieee_address": l.ieee}}, 0, false)
	f.publishDevices()
	f.publishAvailability(l)
}
