package zigbee2mqtt

import (
	"encoding/json"
	"testing"

	"github.com/latchkey/latchkey/internal/zhctest"
)

// Every message the driver publishes, run through zigbee-herdsman-converters' own
// toZigbee converters (the Kwikset definitions' lock and pincode_lock, in Node), becomes
// the Zigbee command Latchkey means: setPinCode enabled and unrestricted with the PIN's
// digits as given (leading zero kept), clearPinCode, getPinCode, lockDoor/unlockDoor, a
// read of lockState.
func TestMessagesAsTheConvertersTakeThem(t *testing.T) {
	// convertSet takes the value under the key; convertGet reads the whole message.
	value := func(m map[string]any, key string) any {
		b, _ := json.Marshal(m[key])
		var v any
		_ = json.Unmarshal(b, &v)
		return v
	}
	whole := func(m map[string]any) any {
		b, _ := json.Marshal(m)
		var v any
		_ = json.Unmarshal(b, &v)
		return v
	}
	cases := []map[string]any{
		{"tz": "pincode_lock", "key": "pin_code", "value": value(setPINMessage(4, "0482913"), "pin_code")},
		{"tz": "pincode_lock", "key": "pin_code", "value": value(clearPINMessage(4), "pin_code")},
		{"tzGet": "pincode_lock", "key": "pin_code", "message": whole(getPINMessage(4))},
		{"tz": "lock", "key": "state", "value": value(boltMessage("LOCK"), "state")},
		{"tz": "lock", "key": "state", "value": value(boltMessage("UNLOCK"), "state")},
		{"tzGet": "lock", "key": "state", "message": whole(boltGetMessage())},
		{"tz": "pincode_lock", "key": "pin_code", "value": value(setPINMessage(30, "1234"), "pin_code")},
	}
	want := []string{
		`[{"cluster":"closuresDoorLock","command":"setPinCode","payload":{"userid":4,"userstatus":1,"usertype":0,"pincodevalue":"0482913"}}]`,
		`[{"cluster":"closuresDoorLock","command":"clearPinCode","payload":{"userid":4}}]`,
		`[{"cluster":"closuresDoorLock","command":"getPinCode","payload":{"userid":4}}]`,
		`[{"cluster":"closuresDoorLock","command":"lockDoor","payload":{"pincodevalue":""}}]`,
		`[{"cluster":"closuresDoorLock","command":"unlockDoor","payload":{"pincodevalue":""}}]`,
		`[{"cluster":"closuresDoorLock","read":["lockState"]}]`,
		// User 30 is slot 31: past a Kwikset's 30 slots, which the driver never sends
		// (Slots) and the converter refuses.
		`{"error":"user must be in range for device"}`,
	}
	for i, got := range zhctest.Run(t, cases) {
		if !sameJSON(got, want[i]) {
			t.Errorf("case %d (%v):\n got %s\nwant %s", i, cases[i], got, want[i])
		}
	}
}

func sameJSON(a json.RawMessage, b string) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal([]byte(b), &y) == nil && jsonEqual(x, y)
}

func jsonEqual(x, y any) bool {
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}
