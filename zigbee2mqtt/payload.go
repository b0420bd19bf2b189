package zigbee2mqtt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Every payload here comes from the broker: anyone who can publish on the base topic
// writes it. The parsers take what they need, check its type and range, and ignore the
// rest; a payload that is not what Zigbee2MQTT sends is an error, never a panic.

// Size limits on what the broker hands us.
const (
	maxDeviceListBytes = 16 << 20 // bridge/devices holds every device's definition and exposes
	maxStateBytes      = 256 << 10
	maxNameLen         = 255
	maxUsers           = 1024 // user ids a state's users map may name
)

// bridgeDevice is one entry of bridge/devices, as far as Latchkey reads it.
type bridgeDevice struct {
	IEEE         string
	FriendlyName string
	Type         string // Coordinator, Router, EndDevice
	ModelID      string // the device's Basic cluster modelId: the catalog's Zigbee model id
	Manufacturer string
	Model        string // the definition's model (a SKU, e.g. 99100-045), when supported
	Vendor       string
	Supported    bool
	Disabled     bool
}

// parseDevices reads bridge/devices: a JSON array of devices.
func parseDevices(payload []byte) ([]bridgeDevice, error) {
	if len(payload) > maxDeviceListBytes {
		return nil, fmt.Errorf("bridge/devices is %d bytes, more than the %d taken", len(payload), maxDeviceListBytes)
	}
	var raw []struct {
		IEEE         *string `json:"ieee_address"`
		FriendlyName *string `json:"friendly_name"`
		Type         string  `json:"type"`
		ModelID      *string `json:"model_id"`
		Manufacturer *string `json:"manufacturer"`
		Supported    bool    `json:"supported"`
		Disabled     bool    `json:"disabled"`
		Definition   *struct {
			Model  string `json:"model"`
			Vendor string `json:"vendor"`
		} `json:"definition"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("bridge/devices is not a JSON list of devices: %w", err)
	}
	out := make([]bridgeDevice, 0, len(raw))
	seen := map[string]bool{}
	for i, r := range raw {
		if r.IEEE == nil || r.FriendlyName == nil {
			return nil, fmt.Errorf("bridge/devices entry %d has no ieee_address or friendly_name", i)
		}
		d := bridgeDevice{IEEE: strings.ToLower(*r.IEEE), FriendlyName: *r.FriendlyName, Type: r.Type,
			Supported: r.Supported, Disabled: r.Disabled}
		if !validIEEE(d.IEEE) {
			return nil, fmt.Errorf("bridge/devices entry %d has ieee_address %q, not 0x and 16 hex digits", i, clip(*r.IEEE))
		}
		if err := checkName(d.FriendlyName); err != nil {
			return nil, fmt.Errorf("bridge/devices entry %d: %w", i, err)
		}
		if seen[d.IEEE] || seen[d.FriendlyName] {
			return nil, fmt.Errorf("bridge/devices names %s or %q twice", d.IEEE, d.FriendlyName)
		}
		seen[d.IEEE], seen[d.FriendlyName] = true, true
		if r.ModelID != nil {
			d.ModelID = cleanText(*r.ModelID)
		}
		if r.Manufacturer != nil {
			d.Manufacturer = cleanText(*r.Manufacturer)
		}
		if r.Definition != nil {
			d.Model, d.Vendor = cleanText(r.Definition.Model), cleanText(r.Definition.Vendor)
		}
		out = append(out, d)
	}
	return out, nil
}

// validIEEE reports whether s is an IEEE address as Zigbee2MQTT writes it: 0x and 16
// lowercase hex digits.
func validIEEE(s string) bool {
	if len(s) != 18 || !strings.HasPrefix(s, "0x") {
		return false
	}
	for _, c := range s[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkName checks a friendly name before it goes into a topic: MQTT wildcards, a
// leading or trailing slash, or control characters would make it name other topics.
func checkName(name string) error {
	switch {
	case name == "" || len(name) > maxNameLen:
		return fmt.Errorf("friendly name of %d bytes, want 1 to %d", len(name), maxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("friendly name is not UTF-8")
	case strings.ContainsAny(name, "+#\x00"):
		return fmt.Errorf("friendly name %q holds an MQTT wildcard", clip(name))
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//"):
		return fmt.Errorf("friendly name %q has an empty topic level", clip(name))
	case name == "bridge" || strings.HasPrefix(name, "bridge/"):
		return fmt.Errorf("friendly name %q is the bridge's", clip(name))
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("friendly name %q holds control characters", clip(name))
		}
	}
	return nil
}

// cleanText drops control characters and cuts a hub-supplied label to size.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if utf8.RuneCountInString(s) > 100 {
		s = string([]rune(s)[:100])
	}
	return s
}

// clip quotes at most 40 bytes of outside input in an error.
func clip(s string) string {
	s = cleanText(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// userState is one entry of a lock's users map: a slot's status, and its PIN when the
// device has expose_pin set.
type userState struct {
	Status string // available, enabled, disabled, not_supported_N
	PIN    string
	hasPIN bool
}

// lockState is what a lock's state message says, as far as Latchkey reads it. Absent
// fields are zero, with a has* flag where zero is a value.
type lockState struct {
	State     string // LOCK, UNLOCK
	LockState string // locked, unlocked, not_fully_locked
	Battery   int    // percent, 0 unknown
	BatLow    *bool
	Tamper    *bool
	Action    string
	User      int
	hasUser   bool
	Source    string // keypad, rf, manual, rfid, fingerprint
	Users     map[int]userState
	LastSeen  time.Time // zero when Zigbee2MQTT does not send last_seen
}

// Action values from zigbee-herdsman-converters' lock_operation_event and
// lock_programming_event (fromZigbee.ts).
var knownActions = map[string]bool{
	"unknown": true, "lock": true, "unlock": true, "lock_failure_invalid_pin_or_id": true,
	"lock_failure_invalid_schedule": true, "unlock_failure_invalid_pin_or_id": true,
	"unlock_failure_invalid_schedule": true, "one_touch_lock": true, "key_lock": true, "key_unlock": true,
	"auto_lock": true, "schedule_lock": true, "schedule_unlock": true, "manual_lock": true, "manual_unlock": true,
	"non_access_user_operational_event": true, "master_code_changed": true, "pin_code_added": true,
	"pin_code_deleted": true, "pin_code_changed": true, "rfid_code_added": true, "rfid_code_deleted": true,
}

// parseState reads a device's state message (a JSON object). Unknown keys are ignored;
// a known key of the wrong type or out of range is an error, so that a malformed
// message changes nothing.
func parseState(payload []byte) (lockState, error) {
	var s lockState
	if len(payload) > maxStateBytes {
		return s, fmt.Errorf("state message of %d bytes, more than the %d taken", len(payload), maxStateBytes)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return s, fmt.Errorf("state message is not a JSON object: %w", err)
	}
	str := func(key string, allowed ...string) (string, error) {
		v, ok := raw[key]
		if !ok || isNull(v) {
			return "", nil
		}
		var out string
		if err := json.Unmarshal(v, &out); err != nil {
			return "", fmt.Errorf("%s is not a string", key)
		}
		if len(allowed) > 0 && out != "" && !contains(allowed, out) {
			return "", fmt.Errorf("%s %q is none of %v", key, clip(out), allowed)
		}
		return out, nil
	}
	var err error
	if s.State, err = str("state", "LOCK", "UNLOCK"); err != nil {
		return s, err
	}
	if s.LockState, err = str("lock_state", "locked", "unlocked", "not_fully_locked"); err != nil {
		return s, err
	}
	if s.Source, err = str("action_source_name", "keypad", "rf", "manual", "rfid", "fingerprint", "unknown"); err != nil {
		return s, err
	}
	if s.Action, err = str("action"); err != nil {
		return s, err
	}
	if s.Action != "" && !knownActions[s.Action] {
		s.Action = "" // another device's action vocabulary: not a lock event
	}
	if v, ok := raw["battery"]; ok && !isNull(v) {
		f, err := number(v)
		if err != nil || f < 0 || f > 100 {
			return s, fmt.Errorf("battery is not a percentage")
		}
		s.Battery = max(1, int(f+0.5)) // 0 means unknown here; a flat pack reads 1
	}
	for key, dst := range map[string]**bool{"battery_low": &s.BatLow, "tamper": &s.Tamper} {
		if v, ok := raw[key]; ok && !isNull(v) {
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return s, fmt.Errorf("%s is not true or false", key)
			}
			*dst = &b
		}
	}
	if v, ok := raw["action_user"]; ok && !isNull(v) {
		f, err := number(v)
		if err != nil || f < 0 || f > 0xffff || f != float64(int(f)) {
			return s, fmt.Errorf("action_user is not a user id")
		}
		s.User, s.hasUser = int(f), true
	}
	if v, ok := raw["users"]; ok && !isNull(v) {
		if s.Users, err = parseUsers(v); err != nil {
			return s, err
		}
	}
	if v, ok := raw["last_seen"]; ok && !isNull(v) {
		if s.LastSeen, err = parseLastSeen(v); err != nil {
			return s, err
		}
	}
	return s, nil
}

// parseUsers reads the users map lock_pin_code_response fills: {"<id>":{"status":…,
// "pin_code":…}}.
func parseUsers(v json.RawMessage) (map[int]userState, error) {
	var raw map[string]struct {
		Status *string          `json:"status"`
		PIN    *json.RawMessage `json:"pin_code"`
	}
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, fmt.Errorf("users is not a map of user ids to statuses")
	}
	if len(raw) > maxUsers {
		return nil, fmt.Errorf("users names %d users, more than %d", len(raw), maxUsers)
	}
	out := make(map[int]userState, len(raw))
	for k, u := range raw {
		id, err := strconv.Atoi(k)
		if err != nil || id < 0 || id > 0xffff || strconv.Itoa(id) != k {
			return nil, fmt.Errorf("users names %q, not a user id", clip(k))
		}
		if u.Status == nil {
			return nil, fmt.Errorf("user %d has no status", id)
		}
		st := userState{Status: *u.Status}
		switch {
		case st.Status == "available" || st.Status == "enabled" || st.Status == "disabled":
		case strings.HasPrefix(st.Status, "not_supported_") && len(st.Status) < 30:
		default:
			return nil, fmt.Errorf("user %d has status %q, none Zigbee2MQTT sends", id, clip(st.Status))
		}
		if u.PIN != nil && !isNull(*u.PIN) {
			pin, err := pinValue(*u.PIN)
			if err != nil {
				return nil, fmt.Errorf("user %d: %w", id, err)
			}
			st.PIN, st.hasPIN = pin, true
		}
		out[id] = st
	}
	return out, nil
}

// pinValue reads a PIN Zigbee2MQTT reports: a string of digits (or, from older
// converters, a number). It never echoes the value in an error.
func pinValue(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if d.Decode(&n) != nil {
			return "", fmt.Errorf("pin_code is neither a string nor a number")
		}
		s = n.String()
	}
	if s == "" {
		return "", nil
	}
	if len(s) > 16 || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("pin_code is not up to 16 digits")
	}
	return s, nil
}

// parseLastSeen reads last_seen: epoch milliseconds, or an ISO 8601 time.
func parseLastSeen(v json.RawMessage) (time.Time, error) {
	if f, err := number(v); err == nil {
		if f < 0 || f > 1e15 {
			return time.Time{}, fmt.Errorf("last_seen is out of range")
		}
		return time.UnixMilli(int64(f)), nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return time.Time{}, fmt.Errorf("last_seen is neither a time nor a number")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("last_seen %q is not an ISO 8601 time", clip(s))
	}
	return t, nil
}

// parseOnline reads an availability or bridge/state payload: {"state":"online"} or the
// legacy bare online/offline.
func parseOnline(payload []byte) (bool, error) {
	p := strings.TrimSpace(string(payload))
	switch p {
	case "online":
		return true, nil
	case "offline":
		return false, nil
	}
	var v struct {
		State string `json:"state"`
	}
	if len(payload) > 4096 || json.Unmarshal(payload, &v) != nil {
		return false, fmt.Errorf("availability is neither online nor offline")
	}
	switch v.State {
	case "online":
		return true, nil
	case "offline":
		return false, nil
	}
	return false, fmt.Errorf("availability state %q is neither online nor offline", clip(v.State))
}

// bridgeEvent is a bridge/event message about one device.
type bridgeEvent struct {
	Type         string // device_joined, device_leave, device_announce, device_interview
	IEEE         string
	FriendlyName string
}

// parseBridgeEvent reads bridge/event.
func parseBridgeEvent(payload []byte) (bridgeEvent, error) {
	var v struct {
		Type string `json:"type"`
		Data struct {
			IEEE         string `json:"ieee_address"`
			FriendlyName string `json:"friendly_name"`
		} `json:"data"`
	}
	if len(payload) > maxStateBytes || json.Unmarshal(payload, &v) != nil {
		return bridgeEvent{}, fmt.Errorf("bridge/event is not an event object")
	}
	ev := bridgeEvent{Type: v.Type, IEEE: strings.ToLower(v.Data.IEEE), FriendlyName: v.Data.FriendlyName}
	if !validIEEE(ev.IEEE) {
		return bridgeEvent{}, fmt.Errorf("bridge/event %q names no valid ieee_address", clip(v.Type))
	}
	return ev, nil
}

// parseLogError reads bridge/logging and returns the friendly name a failed publish
// names ("Publish 'set' 'pin_code' to 'front' failed: …"), or "" for anything else, and
// whether the command was refused (by a converter's "must be" check, or by the lock
// answering with a ZCL failure status) rather than lost on the way. Only the name is taken: the rest of the message is
// the hub's and may hold anything.
func parseLogError(payload []byte) (name string, refused bool) {
	var v struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if len(payload) > maxStateBytes || json.Unmarshal(payload, &v) != nil || v.Level != "error" {
		return "", false
	}
	rest, ok := strings.CutPrefix(v.Message, "Publish '")
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, "' to '")
	if !ok {
		return "", false
	}
	name, why, ok := strings.Cut(rest, "' failed")
	if !ok || checkName(name) != nil {
		return "", false
	}
	// A converter's own check ("user must be in range") or the lock's ZCL status
	// ("(Status 'FAILURE')"): either way the command was refused, not lost.
	return name, strings.Contains(why, " must ") || strings.Contains(why, "Status '")
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func number(v json.RawMessage) (float64, error) {
	var f float64
	err := json.Unmarshal(v, &f)
	return f, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
