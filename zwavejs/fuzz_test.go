package zwavejs

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Messages as zwave-js-server 3.10.2 sends them (protocols.md §1.7.2), seeds for the
// fuzzers and cases for the parser's tests.
var seedMessages = []string{
	`{"type":"version","driverVersion":"15.29.0","serverVersion":"3.10.2","homeId":2119630849,"minSchemaVersion":0,"maxSchemaVersion":50}`,
	`{"type":"result","success":true,"messageId":"lk-3","result":{"response":{"userIdStatus":1,"userCode":"1234"}}}`,
	`{"type":"result","success":false,"messageId":"lk-4","errorCode":"zwave_error","zwaveErrorCode":202,"zwaveErrorMessage":"The node did not respond"}`,
	`{"type":"result","success":true,"messageId":"lk-2","result":{"state":{"controller":{"homeId":2119630849,"ownNodeId":1},"nodes":[{"nodeId":1,"status":4},{"nodeId":2,"ready":true,"status":4,"manufacturerId":144,"productType":3,"productId":825,"values":[{"commandClass":99,"endpoint":0,"property":"supportedUsers","value":30},{"commandClass":98,"endpoint":0,"property":"currentMode","value":255},{"commandClass":128,"endpoint":0,"property":"level","value":90}]}]}}}`,
	`{"type":"event","event":{"source":"node","event":"notification","nodeId":2,"endpointIndex":0,"ccId":113,"args":{"type":6,"event":6,"label":"Access Control","eventLabel":"Keypad unlock operation","parameters":{"userId":3}}}}`,
	`{"type":"event","event":{"source":"node","event":"value updated","nodeId":2,"args":{"commandClass":113,"endpoint":0,"property":"Access Control","propertyKey":"Keypad state","newValue":16,"prevValue":0}}}`,
	`{"type":"event","event":{"source":"node","event":"value updated","nodeId":2,"args":{"commandClass":128,"endpoint":0,"property":"level","newValue":12,"prevValue":90}}}`,
	`{"type":"event","event":{"source":"node","event":"value updated","nodeId":2,"args":{"commandClass":98,"endpoint":0,"property":"currentMode","newValue":0,"prevValue":255}}}`,
	`{"type":"event","event":{"source":"node","event":"dead","nodeId":2}}`,
	`{"type":"event","event":{"source":"node","event":"alive","nodeId":2}}`,
	`{"type":"event","event":{"source":"controller","event":"node removed","node":{"nodeId":2},"reason":5}}`,
	`{"type":"event","event":{"source":"controller","event":"node added","node":{"nodeId":3,"manufacturerId":144},"result":{}}}`,
	`{"type":"event","event":{"source":"node","event":"ready","nodeId":3,"nodeState":{"nodeId":3,"ready":true,"status":4,"values":[{"commandClass":99,"endpoint":0,"property":"supportedUsers","value":30}]}}}`,
}

// testDriver is a driver with its state made, not connected, for feeding events.
func testDriver() *Driver {
	d := &Driver{URL: "ws://test", nodes: map[int]*node{}, verified: map[slotKey]verified{}, recent: map[string]time.Time{},
		boltTimers: map[int]*time.Timer{}, commanded: map[int]time.Time{}, boltNotified: map[int]boltNote{}, events: make(chan latchkey.DeviceEvent, 1024), up: make(chan struct{})}
	return d
}

// feed parses messages and hands them to the driver as its reader would, returning the
// events it queued.
func feed(d *Driver, msgs ...[]byte) []latchkey.DeviceEvent {
	for _, b := range msgs {
		m, err := parseMessage(b)
		if err != nil {
			continue
		}
		switch {
		case m.result != nil:
			if st, err := parseListenState(m.result.Result); err == nil && len(st.State.Nodes) > 0 {
				d.connected(nil, st)
				d.up = make(chan struct{})
			}
		case m.event != nil:
			d.handleEvent(nil, m.event, b)
		}
	}
	var out []latchkey.DeviceEvent
	for {
		select {
		case ev := <-d.events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestParseMessage(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, s := range seedMessages {
			if _, err := parseMessage([]byte(s)); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		for _, s := range []string{
			``, `[]`, `{"type":"nope"}`, `{"type":"result","success":true}`,
			`{"type":"version","minSchemaVersion":5,"maxSchemaVersion":2}`,
			`{"type":"event"}`, `{"type":"event","event":{"source":"node"}}`,
			`{"type":"event","event":{"source":"node","event":"dead","nodeId":99999}}`,
			`{"type":"event","event":{"source":"controller","event":"node removed","node":{"nodeId":-1},"reason":5}}`,
		} {
			if _, err := parseMessage([]byte(s)); err == nil {
				t.Errorf("%q: parsed, want an error", s)
			}
		}
	})
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		min, max, want int
	}{{0, 50, 50}, {0, 70, 50}, {10, 35, 35}, {29, 29, 29}} {
		got, err := negotiate(versionMsg{MinSchema: c.min, MaxSchema: c.max})
		if err != nil || got != c.want {
			t.Errorf("server %d to %d: got %d, %v; want %d", c.min, c.max, got, err, c.want)
		}
	}
	for _, c := range [][2]int{{0, 28}, {51, 60}} {
		_, err := negotiate(versionMsg{MinSchema: c[0], MaxSchema: c[1], ServerVersion: "1.0.0"})
		if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || !strings.Contains(latchkey.ErrorMessage(err), "update Z-Wave JS") {
			t.Errorf("server %d to %d: got %v, want a refusal saying to update", c[0], c[1], err)
		}
	}
}

func TestHandleEvent(t *testing.T) {
	msgs := make([][]byte, len(seedMessages))
	for i, s := range seedMessages {
		msgs[i] = []byte(s)
	}
	d := testDriver()
	evs := feed(d, msgs...)
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, string(ev.Kind))
	}
	want := "unlocked keypad_lockout low_battery offline online reset_locally"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	if evs[0].Slot != 3 || evs[0].Source != latchkey.SourceKeypad || evs[0].Bolt != "locked" {
		t.Errorf("keypad unlock %+v", evs[0])
	}
	if evs[2].BatteryMV != latchkey.BatteryMVFromPercent(12) {
		t.Errorf("low battery at %d mV, want the 12 %% reported", evs[2].BatteryMV)
	}
	// The same frame again, as a proxy or a flaky link might deliver it: not a second unlock.
	if again := feed(d, msgs[4]); len(again) != 0 {
		t.Errorf("a repeated frame gave %+v", again)
	}
}

// FuzzParseMessage feeds the driver whatever a server might send: nothing panics, and
// every event it reports names a lock by node id with the domain's bounds.
func FuzzParseMessage(f *testing.F) {
	for _, s := range seedMessages {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := testDriver()
		// A network first, so that events have nodes to land on.
		evs := feed(d, []byte(seedMessages[3]), b)
		for _, ev := range evs {
			n, err := strconv.Atoi(ev.Address)
			if err != nil || n < 1 || n > maxNodeID || ev.Driver != latchkey.DriverZWaveJS || ev.Kind == "" {
				t.Fatalf("event %+v", ev)
			}
			if ev.Slot < 0 || ev.Slot > 0xffff || ev.BatteryMV < 0 || ev.BatteryMV > 6200 {
				t.Fatalf("event %+v out of bounds", ev)
			}
		}
		if m, err := parseMessage(b); err == nil && m.result != nil {
			_, _, _ = parseUserCode(m.result.Result)
			_, _ = numberAnswer(m.result.Result, 0, 0xffff)
			_, _ = setValueAnswer(m.result.Result)
			_ = startedAnswer(m.result.Result)
		}
	})
}

// FuzzUserCode reads User Code answers: a PIN comes back only when it is one (4 to 10
// digits) and the slot is occupied.
func FuzzUserCode(f *testing.F) {
	for _, s := range []string{`{"response":{"userIdStatus":1,"userCode":"1234"}}`, `{"response":{"userIdStatus":0,"userCode":""}}`,
		`{"response":{"userIdStatus":1,"userCode":"**********"}}`, `{"response":{"userIdStatus":254}}`, `{"response":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pin, present, err := parseUserCode(json.RawMessage(b))
		if err != nil && (pin != "" || present) {
			t.Fatalf("error %v with pin %q present %v", err, pin, present)
		}
		if pin != "" && (!present || !validPIN(pin)) {
			t.Fatalf("pin %q present %v", pin, present)
		}
	})
}
