package z2msim

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/latchkey/latchkey/internal/zhctest"
)

// The fleet's conversions (zcl.go) give what zigbee-herdsman-converters' fromZigbee
// converters give, run in Node, on every ZCL value a Kwikset lock sends in the events,
// reports and responses the fleet publishes, and on their neighbours.
func TestConversionsMatchTheConverters(t *testing.T) {
	var cases []map[string]any
	var ours []any
	add := func(c map[string]any, got any) { cases, ours = append(cases, c), append(ours, got) }
	sources := []int{0, 1, 2, 3, 4, 0xff}
	for code := range 16 {
		for _, src := range sources {
			for _, user := range []int{0, 3, 29, noUser} {
				ev := operationEvent{Code: code, User: user, Source: src}
				add(map[string]any{"fz": "lock_operation_event", "data": ev}, convertOperation(ev))
			}
		}
	}
	for code := range 7 {
		for _, src := range sources {
			for _, user := range []int{0, 4, everyUser} {
				ev := programmingEvent{Code: code, User: user, Source: src}
				add(map[string]any{"fz": "lock_programming_event", "data": ev}, convertProgramming(ev))
			}
		}
	}
	for state := range 3 {
		add(map[string]any{"fz": "lock", "data": map[string]any{"lockState": state}}, convertLockState(state))
	}
	for _, half := range []int{0, 1, 51, 60, 199, 200, 254, 255} {
		add(map[string]any{"fz": "battery", "data": map[string]any{"batteryPercentageRemaining": half}}, convertBattery(half))
	}
	for _, status := range []int{0, 1, 2, 3, 5} {
		for _, expose := range []bool{false, true} {
			for _, pin := range []string{"", "0220"} {
				r := pinCodeResponse{User: 4, Status: status, PIN: pin}
				add(map[string]any{"fz": "lock_pin_code_response", "data": r, "options": map[string]any{"expose_pin": expose}},
					convertPINResponse(r, expose))
			}
		}
	}
	answers := zhctest.Run(t, cases)
	for i, got := range answers {
		var theirs any
		if err := json.Unmarshal(got, &theirs); err != nil {
			t.Fatal(err)
		}
		if a, b := canonical(ours[i]), canonical(theirs); a != b {
			t.Errorf("%v:\n ours   %s\n theirs %s", cases[i], a, b)
		}
	}
	t.Logf("%d conversions compared", len(answers))
}

// canonical is a value's JSON with sorted keys and numbers as JSON has them.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var x any
	_ = json.Unmarshal(b, &x)
	b, _ = json.Marshal(x)
	return string(b)
}
