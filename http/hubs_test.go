package http_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/storetest"
)

// Hubs over the JSON API: an owner adds one (its password sealed, never in an answer),
// anyone who reads lists them, installers and viewers are refused managing them with
// who may; a hub in use is not removed; bodies go through the strict decoder.
func TestHubsAPI(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	const password = "broker-pass-9876"
	var made latchkey.Hub
	owner.must("POST", "/api/v1/hubs", lkhttp.HubInput{Driver: "zigbee2mqtt", URL: "mqtt://broker:1883", Username: "lk", Secret: password}, &made, 201)
	if made.ID != 1 || !made.HasSecret || made.BaseTopic != "zigbee2mqtt" {
		t.Fatalf("made %+v", made)
	}
	var raw []map[string]any
	owner.must("GET", "/api/v1/hubs", nil, &raw, 200)
	if len(raw) != 1 || raw[0]["has_secret"] != true || raw[0]["secret"] != nil || raw[0]["sealed_secret"] != nil {
		t.Fatalf("listed %v", raw)
	}
	owner.must("GET", "/api/v1/hubs/1", nil, nil, 200)
	owner.must("GET", "/api/v1/hubs/9", nil, nil, 404)
	owner.must("POST", "/api/v1/hubs", lkhttp.HubInput{Driver: "zigbee2mqtt", URL: "mqtt://other:1883"}, nil, 409)
	owner.must("POST", "/api/v1/hubs", map[string]any{"driver": "zwavejs", "url": "ws://h:3000", "password": "x"}, nil, 400)
	var refused struct {
		Error struct{ Message string } `json:"error"`
	}
	owner.must("POST", "/api/v1/hubs", lkhttp.HubInput{Driver: "zwavejs", URL: "ws://admin:s3cretpw@h:3000"}, &refused, 400)
	if !strings.Contains(refused.Error.Message, "--password-stdin") || strings.Contains(refused.Error.Message, "s3cretpw") {
		t.Fatalf("credentials in the URL refused with %q", refused.Error.Message)
	}

	for _, role := range []string{"installer", "viewer"} {
		var u latchkey.User
		owner.must("POST", "/api/v1/users", map[string]any{"name": role + "1", "role": role, "password": "a long enough password"}, &u, 201)
		c := newClient(t, s.URL())
		c.must("POST", "/api/v1/login", lkhttp.Credentials{Name: role + "1", Password: "a long enough password"}, nil, 200)
		c.must("POST", "/api/v1/hubs", lkhttp.HubInput{Driver: "zwavejs", URL: "ws://h:3000"}, &refused, 403)
		if !strings.Contains(refused.Error.Message, "may not manage settings; ask an owner") {
			t.Fatalf("a %s adding a hub is refused with %q", role, refused.Error.Message)
		}
		c.must("DELETE", "/api/v1/hubs/1", nil, nil, 403)
		var listed []latchkey.Hub
		c.must("GET", "/api/v1/hubs", nil, &listed, 200)
		if len(listed) != 1 {
			t.Fatalf("a %s lists %+v", role, listed)
		}
	}

	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x01"}}); err != nil {
		t.Fatal(err)
	}
	owner.must("DELETE", "/api/v1/hubs/1", nil, &refused, 409)
	if !strings.Contains(refused.Error.Message, "Deadbolt (lock 1)") {
		t.Fatalf("removing a hub in use: %q", refused.Error.Message)
	}
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{}}); err != nil {
		t.Fatal(err)
	}
	owner.must("DELETE", "/api/v1/hubs/1", nil, nil, 200)
	owner.must("GET", "/api/v1/hubs", nil, &raw, 200)
	if len(raw) != 0 {
		t.Fatalf("after removal: %v", raw)
	}
	var statuses []latchkey.HubStatus
	owner.must("GET", "/api/v1/hubs/status", nil, &statuses, 200)
	if len(statuses) != 0 {
		t.Fatalf("a server running no hub drivers reports %+v", statuses)
	}
}

// fakeHealth is a fixed report of hub drivers' health.
type fakeHealth []latchkey.HubStatus

func (f fakeHealth) HubStatuses() []latchkey.HubStatus { return f }

// /metrics exports each configured hub's health: up or not, and when last heard.
func TestHubMetrics(t *testing.T) {
	svc := storetest.NewService(t, openStore(t, "sqlite"))
	svc.Clock = latchkey.SystemClock{}
	heard := time.Unix(1_790_000_000, 500_000_000)
	s := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Hubs: fakeHealth{
		{Driver: latchkey.DriverZWaveJS, HubID: 2, Running: true, Connected: false, LastError: "refused"},
		{Driver: latchkey.DriverZigbee2MQTT, HubID: 1, Running: true, Connected: true, LastMessageAt: &heard},
	}}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`latchkey_hub_up{driver="zigbee2mqtt"} 1`,
		`latchkey_hub_up{driver="zwavejs"} 0`,
		`latchkey_hub_last_message_seconds{driver="zigbee2mqtt"} 1.7900000005e+09`,
		`latchkey_hub_last_message_seconds{driver="zwavejs"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	var statuses []latchkey.HubStatus
	owner := setup(t, s.URL())
	owner.must("GET", "/api/v1/hubs/status", nil, &statuses, 200)
	if len(statuses) != 2 || !statuses[1].Connected || statuses[0].LastError != "refused" {
		t.Fatalf("hub status through the API: %+v", statuses)
	}
}
