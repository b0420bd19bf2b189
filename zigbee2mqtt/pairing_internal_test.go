package zigbee2mqtt

import (
	"strings"
	"testing"
)

// A bridge response reaches the request waiting for its transaction, once; a response
// to another client's request, or one that is not Zigbee2MQTT's, reaches nobody.
func TestBridgeResponseRouting(t *testing.T) {
	d := newOffline()
	mine := make(chan bridgeResponse, 2)
	d.pending = map[string]chan bridgeResponse{"latchkey-1": mine}
	d.handle("z2m/bridge/response/device/remove", []byte(`{"status":"ok","data":{},"transaction":"frontend-7"}`), false)
	d.handle("z2m/bridge/response/device/remove", []byte(`{"status":"maybe","transaction":"latchkey-1"}`), false)
	d.handle("z2m/bridge/response/device/remove", []byte(`{"status":"error","error":"Device 'x'\ndoes not exist","transaction":"latchkey-1"}`), false)
	d.handle("z2m/bridge/response/device/remove", []byte(`{"status":"ok","transaction":"latchkey-1"}`), false)
	if len(mine) != 1 {
		t.Fatalf("%d responses reached the request, want 1", len(mine))
	}
	if r := <-mine; r.Status != "error" || r.Error != "Device 'x'does not exist" {
		t.Fatalf("the response %+v", r)
	}
}

// Whatever a bridge response holds, parseResponse does not panic, takes only ok and
// error, and keeps no control characters in the error it passes on.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`{"status":"ok","data":{"time":254},"transaction":"latchkey-1"}`))
	f.Add([]byte(`{"status":"error","data":{},"error":"Device 'front' does not exist","transaction":"latchkey-2"}`))
	f.Add([]byte(`{"status":"ok","transaction":7}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, tx, err := parseResponse(payload)
		if err != nil {
			return
		}
		if r.Status != "ok" && r.Status != "error" {
			t.Fatalf("status %q taken", r.Status)
		}
		if strings.ContainsAny(r.Error, "\x00\n\r") || len([]rune(r.Error)) > 100 {
			t.Fatalf("error %q passed on", r.Error)
		}
		_ = tx
	})
}
