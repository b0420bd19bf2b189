package z2msim

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// commandTimeout is how long the fleet waits for a twin, as Zigbee2MQTT waits for a
// sleepy device's answer.
const commandTimeout = 30 * time.Second

// onRequest takes a set or get, as Zigbee2MQTT's publish extension parses it: a JSON
// object; with an attribute in the topic, that attribute's value; a bare LOCK or
// UNLOCK is a state.
func (f *Fleet) onRequest(_ mqtt.Client, m mqtt.Message) {
	rest := strings.TrimPrefix(m.Topic(), f.base+"/")
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		return
	}
	f.mu.Lock()
	l := f.locks[parts[0]]
	ok := l != nil && !l.left && !l.muted && f.up
	f.mu.Unlock()
	if !ok {
		return
	}
	body := map[string]json.RawMessage{}
	if len(parts) == 3 {
		v := json.RawMessage(m.Payload())
		if !json.Valid(v) {
			v, _ = json.Marshal(string(m.Payload()))
		}
		body[parts[2]] = v
	} else if json.Unmarshal(m.Payload(), &body) != nil {
		s := strings.ToLower(strings.TrimSpace(string(m.Payload())))
		if s != "lock" && s != "unlock" && s != "toggle" {
			f.cfg.Logger.Warn("invalid message, skipping", "topic", m.Topic())
			return
		}
		body["state"], _ = json.Marshal(s)
	}
	select {
	case l.jobs <- job{get: parts[1] == "get", body: body}:
	default:
		f.cfg.Logger.Warn("request queue full, dropped", "lock", l.name)
	}
}

// work runs a lock's requests one after the other.
func (f *Fleet) work(l *lock) {
	defer f.wg.Done()
	for {
		select {
		case <-f.stop:
			return
		case j := <-l.jobs:
			for key, v := range j.body {
				f.do(l, j.get, key, v)
			}
		}
	}
}

// do runs one key of a request, as toZigbee's lock and pincode_lock converters do.
func (f *Fleet) do(l *lock, get bool, key string, v json.RawMessage) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	kind := map[bool]string{true: "get", false: "set"}[get]
	fail := func(why string) {
		f.mu.Lock()
		f.logError(l, kind, key, why)
		f.mu.Unlock()
	}
	switch {
	case key == "state" && !get:
		var s string
		if json.Unmarshal(v, &s) != nil {
			fail("state must be LOCK, UNLOCK or TOGGLE")
			return
		}
		var err error
		switch strings.ToUpper(s) {
		case "LOCK":
			err = f.drv.Lock(ctx, l.name)
		case "UNLOCK":
			err = f.drv.Unlock(ctx, l.name)
		case "TOGGLE":
			if b, _ := f.field(l, "bolt"); b == "locked" {
				err = f.drv.Unlock(ctx, l.name)
			} else {
				err = f.drv.Lock(ctx, l.name)
			}
		default:
			fail("state must be LOCK, UNLOCK or TOGGLE")
			return
		}
		if err != nil {
			fail(zigbeeFailure(err))
		}
	case key == "state" && get:
		// convertGet reads lockState: the lock answers with a read response.
		f.mu.Lock()
		f.readBolt(l)
		f.publishState(l, nil)
		f.mu.Unlock()
	case key == "pin_code" && !get:
		f.setPIN(ctx, l, v, fail)
	case key == "pin_code" && get:
		f.getPIN(ctx, l, v, fail)
	default:
		f.cfg.Logger.Warn("no converter available", "key", key, "lock", l.name)
	}
}

// setPIN is pincode_lock's convertSet: setPinCode, or clearPinCode for a null PIN.
// Zigbee2MQTT publishes nothing when it works.
func (f *Fleet) setPIN(ctx context.Context, l *lock, v json.RawMessage, fail func(string)) {
	var p struct {
		User        *float64         `json:"user"`
		UserType    *string          `json:"user_type"`
		UserEnabled *bool            `json:"user_enabled"`
		PIN         *json.RawMessage `json:"pin_code"`
	}
	if json.Unmarshal(v, &p) != nil {
		fail("pin_code must be an object")
		return
	}
	if p.User == nil {
		fail("user must be numbers")
		return
	}
	user := int(*p.User)
	if *p.User != float64(user) || user < 0 || user > PINCodeCount-1 {
		fail("user must be in range for device")
		return
	}
	if p.PIN == nil || string(*p.PIN) == "null" {
		if err := f.drv.ClearCode(ctx, l.name, user+1); err != nil {
			fail(zigbeeFailure(err))
		}
		return
	}
	pin := pinString(*p.PIN)
	if pin == "" {
		fail("pinCode must be a number")
		return
	}
	if p.UserType != nil && !map[string]bool{"unrestricted": true, "year_day_schedule": true, "week_day_schedule": true,
		"master": true, "non_access": true}[*p.UserType] {
		fail("user_type must be one of unrestricted, year_day_schedule, week_day_schedule, master, non_access")
		return
	}
	if p.UserEnabled != nil && !*p.UserEnabled {
		fail("ZCL command closuresDoorLock setPinCode failed (Status 'INVALID_VALUE'): the twin does not model disabled users")
		return
	}
	if err := f.drv.SetCode(ctx, l.name, user+1, pin); err != nil {
		fail(zigbeeFailure(err))
	}
}

// pinString is the PIN as pinCode.toString() gives it: a numeric string as is, a JSON
// number in its shortest form; "" when it is not a number.
func pinString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		var n json.Number
		if json.Unmarshal(v, &n) != nil {
			return ""
		}
		s = n.String()
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return ""
	}
	return s
}

// getPIN is pincode_lock's convertGet: getPinCode for one user (or every user for an
// empty pin_code), each answer published by lock_pin_code_response into users.
func (f *Fleet) getPIN(ctx context.Context, l *lock, v json.RawMessage, fail func(string)) {
	users := []int{}
	var p struct {
		User *float64 `json:"user"`
	}
	if json.Unmarshal(v, &p) == nil && p.User != nil {
		user := int(*p.User)
		if *p.User != float64(user) || user < 0 || user > PINCodeCount-1 {
			fail("userId must be in range for device")
			return
		}
		users = append(users, user)
	} else {
		for u := range PINCodeCount {
			users = append(users, u)
		}
	}
	for _, u := range users {
		pin, present, err := f.drv.ReadCode(ctx, l.name, u+1)
		if err != nil {
			fail(zigbeeFailure(err))
			return
		}
		rsp := pinCodeResponse{User: u, Status: userStatusAvailable}
		if present {
			rsp.Status, rsp.PIN = userStatusEnabled, pin
		}
		f.mu.Lock()
		// Zigbee2MQTT merges each response's users into the cached ones.
		cached, _ := l.state["users"].(map[string]any)
		next := map[string]any{}
		for k, v := range cached {
			next[k] = v
		}
		merge(next, convertPINResponse(rsp, f.cfg.ExposePIN)["users"].(map[string]any))
		l.state["users"] = next
		f.publishState(l, nil)
		f.mu.Unlock()
	}
}

// zigbeeFailure is the error Zigbee2MQTT logs for a command the device did not take:
// a timeout when it did not answer, a ZCL failure status when it answered no. The
// twin's own words stay out: they are not what Zigbee would carry.
func zigbeeFailure(err error) string {
	if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
		return "Timeout - 0x0000, 2, 1, 257, 2 after 10000ms (MAC no ack)"
	}
	return "ZCL command closuresDoorLock failed (Status 'FAILURE')"
}

// readBolt copies the twin's bolt into the cached lockState; call it with mu held.
func (f *Fleet) readBolt(l *lock) {
	var bolt string
	f.drv.Do(func(*sim.World) { bolt, _ = l.twin.Field("bolt") })
	setBolt(l, bolt)
}

// setBolt sets the cached lockState attribute as the lock reports it: not fully locked
// (jammed), locked or unlocked, converted by fromZigbee's lock.
func setBolt(l *lock, bolt string) {
	switch bolt {
	case "locked":
		merge(l.state, convertLockState(lockStateLocked))
	case "unlocked":
		merge(l.state, convertLockState(lockStateUnlocked))
	case "jammed":
		merge(l.state, convertLockState(lockStateNotFully))
	}
}

// field reads one of the twin's fields.
func (f *Fleet) field(l *lock, name string) (string, bool) {
	var v string
	var ok bool
	f.drv.Do(func(*sim.World) { v, ok = l.twin.Field(name) })
	return v, ok
}
