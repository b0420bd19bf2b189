package zigbee2mqtt

import (
	"strings"
	"testing"
	"time"
)

func TestParseDevices(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		list, err := parseDevices([]byte(`[{"ieee_address":"0x00124B0000000001","type":"Coordinator","friendly_name":"Coordinator"},
			{"ieee_address":"0x000d6f0000000001","type":"EndDevice","friendly_name":"front door","model_id":"SMARTCODE_DEADBOLT_10",
			 "manufacturer":"Kwikset","supported":true,"definition":{"model":"99140-031","vendor":"Kwikset","exposes":[]}}]`))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].IEEE != "0x00124b0000000001" || list[1].ModelID != "SMARTCODE_DEADBOLT_10" ||
			list[1].Model != "99140-031" || list[1].FriendlyName != "front door" {
			t.Fatalf("got %+v", list)
		}
	})
	for name, payload := range map[string]string{
		"ErrNotAList":      `{"ieee_address":"0x000d6f0000000001"}`,
		"ErrNoIEEE":        `[{"friendly_name":"a"}]`,
		"ErrBadIEEE":       `[{"ieee_address":"0x12","friendly_name":"a"}]`,
		"ErrWildcard":      `[{"ieee_address":"0x000d6f0000000001","friendly_name":"a/#"}]`,
		"ErrBridgeName":    `[{"ieee_address":"0x000d6f0000000001","friendly_name":"bridge/devices"}]`,
		"ErrTwice":         `[{"ieee_address":"0x000d6f0000000001","friendly_name":"a"},{"ieee_address":"0x000d6f0000000001","friendly_name":"b"}]`,
		"ErrControlChars":  "[{\"ieee_address\":\"0x000d6f0000000001\",\"friendly_name\":\"a\\u0007\"}]",
		"ErrEmptyLevel":    `[{"ieee_address":"0x000d6f0000000001","friendly_name":"a//b"}]`,
		"ErrWrongIEEEType": `[{"ieee_address":7,"friendly_name":"a"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseDevices([]byte(payload)); err == nil {
				t.Fatalf("%s taken", payload)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	s, err := parseState([]byte(`{"action":"unlock","action_source_name":"keypad","action_user":3,"battery":60,
		"lock_state":"locked","state":"LOCK","linkquality":148,"pin_code":null,
		"users":{"0":{"pin_code":"0220","status":"enabled"},"10":{"status":"available"}},"last_seen":1767225600000}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Action != "unlock" || s.Source != "keypad" || !s.hasUser || s.User != 3 || s.Battery != 60 || s.LockState != "locked" {
		t.Fatalf("got %+v", s)
	}
	if u := s.Users[0]; u.Status != "enabled" || u.PIN != "0220" {
		t.Fatalf("user 0: %+v (a leading zero must stay)", u)
	}
	if s.Users[10].Status != "available" || !s.LastSeen.Equal(time.UnixMilli(1767225600000)) {
		t.Fatalf("got %+v", s)
	}
	// The real Kwikset message from keymaster issue #163: nulls where nothing happened.
	if _, err := parseState([]byte(`{"action":null,"action_source_name":null,"action_user":null,"battery":60,"linkquality":148,"lock_state":"locked","pin_code":null,"state":"LOCK"}`)); err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string]string{
		"ErrBattery":   `{"battery":140}`,
		"ErrLockState": `{"lock_state":"open"}`,
		"ErrUser":      `{"action_user":-1}`,
		"ErrUsersKey":  `{"users":{"x":{"status":"enabled"}}}`,
		"ErrStatus":    `{"users":{"1":{"status":"gone"}}}`,
		"ErrPIN":       `{"users":{"1":{"status":"enabled","pin_code":"12ab"}}}`,
		"ErrLastSeen":  `{"last_seen":"yesterday"}`,
		"ErrNotObject": `[1,2]`,
		"ErrTooBig":    `{"x":"` + strings.Repeat("a", maxStateBytes) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseState([]byte(payload))
			if err == nil {
				t.Fatalf("%.80s taken", payload)
			}
			if strings.Contains(err.Error(), "12ab") {
				t.Fatalf("the error %q shows the PIN", err)
			}
		})
	}
}

func TestParseOnlineAndLogs(t *testing.T) {
	for payload, want := range map[string]bool{`{"state":"online"}`: true, `{"state":"offline"}`: false, "online": true, "offline": false} {
		if got, err := parseOnline([]byte(payload)); err != nil || got != want {
			t.Errorf("%s: got %v %v", payload, got, err)
		}
	}
	if _, err := parseOnline([]byte(`{"state":"maybe"}`)); err == nil {
		t.Error("maybe taken as availability")
	}
	name, refused := parseLogError([]byte(`{"level":"error","message":"Publish 'set' 'pin_code' to 'front door' failed: 'Error: user must be in range for device'"}`))
	if name != "front door" || !refused {
		t.Errorf("got %q %v", name, refused)
	}
	name, refused = parseLogError([]byte(`{"level":"error","message":"Publish 'get' 'pin_code' to 'front' failed: 'Error: Timeout (MAC no ack)'"}`))
	if name != "front" || refused {
		t.Errorf("got %q %v", name, refused)
	}
	name, refused = parseLogError([]byte(`{"level":"error","message":"Publish 'set' 'pin_code' to 'front' failed: 'Error: ZCL command 0x000d6f0000000001/2 closuresDoorLock.setPinCode({\"userid\":2}) failed (Status 'DUPLICATE_EXISTS')'"}`))
	if name != "front" || !refused {
		t.Errorf("a ZCL failure status: got %q %v, want refused", name, refused)
	}
	if name, _ := parseLogError([]byte(`{"level":"info","message":"Publish 'set' 'state' to 'front' failed"}`)); name != "" {
		t.Errorf("an info line taken as a failure: %q", name)
	}
}

// The parsers take anything the broker hands them without panicking, and what they
// take is within its bounds.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"action":"unlock","action_source_name":"keypad","action_user":3,"battery":60,"lock_state":"locked","users":{"0":{"pin_code":"0220","status":"enabled"}},"last_seen":1767225600000}`))
	f.Add([]byte(`{"users":{"1":{"status":"not_supported_7","pin_code":1234}},"last_seen":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"battery_low":true,"tamper":false,"state":"UNLOCK"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := parseState(payload)
		if err != nil {
			return
		}
		if s.Battery < 0 || s.Battery > 100 || s.User < 0 || s.User > 0xffff || len(s.Users) > maxUsers {
			t.Fatalf("out of bounds: %+v", s)
		}
		for id, u := range s.Users {
			if id < 0 || id > 0xffff || strings.Trim(u.PIN, "0123456789") != "" {
				t.Fatalf("user %d: %+v", id, u)
			}
		}
	})
}

func FuzzParseDevices(f *testing.F) {
	f.Add([]byte(`[{"ieee_address":"0x000d6f0000000001","type":"EndDevice","friendly_name":"front","model_id":"SMARTCODE_DEADBOLT_10","manufacturer":"Kwikset","definition":{"model":"99140-031","vendor":"Kwikset"}}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		list, err := parseDevices(payload)
		if err != nil {
			return
		}
		for _, d := range list {
			if !validIEEE(d.IEEE) || checkName(d.FriendlyName) != nil {
				t.Fatalf("taken: %+v", d)
			}
		}
	})
}

func FuzzParseBridge(f *testing.F) {
	f.Add([]byte(`{"type":"device_leave","data":{"friendly_name":"front","ieee_address":"0x000d6f0000000001"}}`))
	f.Add([]byte(`{"level":"error","message":"Publish 'set' 'pin_code' to 'front' failed: 'Error: x'"}`))
	f.Add([]byte(`{"state":"online"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if ev, err := parseBridgeEvent(payload); err == nil && !validIEEE(ev.IEEE) {
			t.Fatalf("taken: %+v", ev)
		}
		if name, _ := parseLogError(payload); name != "" && checkName(name) != nil {
			t.Fatalf("name %q taken", name)
		}
		_, _ = parseOnline(payload)
	})
}
