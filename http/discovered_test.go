package http_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/storetest"
)

// fakeHubLocks is a Zigbee2MQTT hub that lists two Kwikset locks, one of them holding a
// code set at its keypad in slot 3.
type fakeHubLocks struct {
	mu     sync.Mutex
	codes  map[string]map[int]string
	sleepy map[int]bool // slots whose next read finds the lock dozing
}

func (f *fakeHubLocks) Devices(ctx context.Context) ([]latchkey.DeviceInfo, error) {
	return []latchkey.DeviceInfo{
		{Address: "0x0001", Name: "Front", ZigbeeModel: "SMARTCODE_DEADBOLT_10T", ZigbeeManufacturer: "Kwikset", Online: true},
		{Address: "0x0002", Name: "Shed", ZigbeeModel: "SMARTCODE_FUTURE", ZigbeeManufacturer: "Kwikset"},
	}, nil
}

func (f *fakeHubLocks) ReadCode(ctx context.Context, address string, slot int) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sleepy[slot] {
		delete(f.sleepy, slot)
		return "", false, latchkey.Errorf(latchkey.EUNAVAILABLE, "The lock did not answer.")
	}
	pin, ok := f.codes[address][slot]
	return pin, ok, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// identifying is the test models, identifying the 916's Zigbee model id.
type identifying struct{ latchkey.Models }

func (identifying) IdentifyDevice(d latchkey.DeviceInfo) []string {
	if d.ZigbeeModel == "SMARTCODE_DEADBOLT_10T" {
		return []string{"916"}
	}
	return nil
}

// Discovered locks over the API and on the pages: anyone who reads lists them with their
// identified model (never a PIN); viewers may not add one; bad requests are refused
// saying what to give; an installer adds one from the settings page (choosing the model
// the ids do not name), and the lock's page shows its survey and the code found on it
// with Adopt and Clear.
func TestDiscoveredLocksAPIAndPages(t *testing.T) {
	const keypadPIN = "864213"
	svc := storetest.NewService(t, openStore(t, "sqlite"))
	svc.Clock = latchkey.SystemClock{}
	hub := &fakeHubLocks{codes: map[string]map[int]string{"0x0001": {3: keypadPIN}, "0x0002": {}}, sleepy: map[int]bool{}}
	svc.Models = identifying{svc.Models}
	svc.Listers = map[latchkey.Driver]latchkey.DeviceLister{latchkey.DriverZigbee2MQTT: hub}
	svc.Readers = map[latchkey.Driver]latchkey.CodeReader{latchkey.DriverZigbee2MQTT: hub}
	ui := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Catalog: fakeCatalog{}}
	if err := ui.Open(); err != nil {
		t.Fatal(err)
	}
	defer ui.Close(context.Background())
	owner := setup(t, ui.URL())

	var found []latchkey.HubDiscovery
	owner.must("GET", "/api/v1/hubs/discovered", nil, &found, 200)
	if len(found) != 0 {
		t.Fatalf("discovered without a hub configured: %+v", found)
	}
	owner.must("POST", "/api/v1/hubs", lkhttp.HubInput{Driver: "zigbee2mqtt", URL: "mqtt://broker:1883"}, nil, 201)
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	site := &latchkey.Site{Name: "Cabin", TimeZone: "UTC"}
	mustDo(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Porch"}
	mustDo(t, svc.CreateDoor(ctx, door))

	viewer := signIn(t, ui, svc, "val", latchkey.UserViewer)
	var raw json.RawMessage
	viewer.must("GET", "/api/v1/hubs/discovered", nil, &found, 200)
	if len(found) != 1 || len(found[0].Locks) != 2 || found[0].Locks[0].ModelID != "916" || found[0].Locks[1].ModelID != "" {
		t.Fatalf("discovered %+v", found)
	}
	viewer.must("POST", "/api/v1/hubs/discovered/adopt", lkhttp.AdoptInput{Driver: "zigbee2mqtt", Address: "0x0001", DoorID: door.ID, Name: "Front"}, nil, 403)
	if p := uiGet(t, viewer, "/settings"); strings.Contains(p.body, "Add this lock") {
		t.Fatal("a viewer is offered to add a lock")
	}
	if p := uiDo(t, viewer, "POST", "/settings/hubs/adopt", url.Values{"driver": {"zigbee2mqtt"}, "address": {"0x0001"}, "door_id": {"1"}, "name": {"F"}}); p.status != 403 {
		t.Fatalf("a viewer adding a lock from the page: %d", p.status)
	}

	var refused struct {
		Error struct{ Message string } `json:"error"`
	}
	for _, bad := range []struct {
		body any
		want int
		says string
	}{
		{map[string]any{"driver": "zigbee2mqtt", "address": "0x0001", "door_id": door.ID, "name": "F", "pin": "1234"}, 400, "pin"},
		{lkhttp.AdoptInput{Driver: "zigbee2mqtt", Address: "0x0001", Name: "F"}, 400, "door"},
		{lkhttp.AdoptInput{Driver: "zigbee2mqtt", Address: "0x0009", DoorID: door.ID, Name: "F"}, 404, "hub discovered"},
		{lkhttp.AdoptInput{Driver: "zigbee2mqtt", Address: "0x0002", DoorID: door.ID, Name: "Shed"}, 400, "choose it"},
		{lkhttp.AdoptInput{Driver: "wifi", Address: "0x0001", DoorID: door.ID, Name: "F"}, 400, "zigbee2mqtt"},
	} {
		owner.must("POST", "/api/v1/hubs/discovered/adopt", bad.body, &refused, bad.want)
		if !strings.Contains(strings.ToLower(refused.Error.Message), bad.says) {
			t.Errorf("adopting %+v refused with %q, want it to say %q", bad.body, refused.Error.Message, bad.says)
		}
	}

	var l latchkey.Lock
	owner.must("POST", "/api/v1/hubs/discovered/adopt", lkhttp.AdoptInput{Driver: "zigbee2mqtt", Address: "0x0001", DoorID: door.ID, Name: "Front"}, &l, 201)
	if l.ModelID != "916" || l.Survey.State != latchkey.SurveyDone || l.Survey.Found != 1 {
		t.Fatalf("adopted %+v", l)
	}
	owner.must("POST", "/api/v1/locks/"+itoa(l.ID)+"/survey", nil, &refused, 409)
	owner.must("GET", "/api/v1/hubs/discovered", nil, &raw, 200)
	if !strings.Contains(string(raw), "0x0002") || strings.Contains(string(raw), "0x0001") || strings.Contains(string(raw), keypadPIN) {
		t.Fatalf("the listing after adopting: %s", raw)
	}

	installer := signIn(t, ui, svc, "ian", latchkey.UserInstaller)
	p := uiGet(t, installer, "/settings")
	mustContain(t, "the installer's settings page", p.body, "Locks found on the hubs", "Shed", "unknown model: choose", "Add this lock", "Cabin · Porch", `<option value="916">SmartCode 916</option>`)
	p = uiDo(t, installer, "POST", "/settings/hubs/adopt", url.Values{"driver": {"zigbee2mqtt"}, "address": {"0x0002"}, "door_id": {itoa(door.ID)}, "name": {"Shed door"}, "model_id": {"nope"}})
	mustContain(t, "a model not in the list", p.body, "Choose the model from the list")
	hub.mu.Lock()
	hub.sleepy[2] = true
	hub.mu.Unlock()
	p = uiDo(t, installer, "POST", "/settings/hubs/adopt", url.Values{"driver": {"zigbee2mqtt"}, "address": {"0x0002"}, "door_id": {itoa(door.ID)}, "name": {"Shed door"}, "model_id": {"916"}})
	if p.status != 303 || p.location != "/locks/"+itoa(l.ID+1)+"#survey" {
		t.Fatalf("adding a lock from the page: %d to %q\n%s", p.status, p.location, p.body)
	}
	p = uiGet(t, installer, "/locks/"+itoa(l.ID+1))
	mustContain(t, "a lock that dozed off during its survey", p.body, "Shed door", "1 slot read so far", "Slot 2 did not answer", "Read the remaining slots", "Finish the survey first", "slots not all read")
	p = uiDo(t, installer, "POST", "/locks/"+itoa(l.ID+1)+"/survey", url.Values{})
	if p.status != 303 {
		t.Fatalf("reading the remaining slots: %d\n%s", p.status, p.body)
	}
	p = uiGet(t, installer, "/locks/"+itoa(l.ID+1))
	mustContain(t, "the adopted lock's page", p.body, "Shed door", `id="survey"`, "Every slot was read", "0 codes found")

	p = uiGet(t, owner, "/locks/"+itoa(l.ID))
	mustContain(t, "the first lock's page", p.body, `id="survey"`, "1 code found", `id="unowned"`, "Slot 3", "Adopt slot 3", "Clear slot 3")
	if strings.Contains(p.body, keypadPIN) {
		t.Fatal("the lock's page shows the PIN found")
	}
}
