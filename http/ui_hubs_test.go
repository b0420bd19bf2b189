package http_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/storetest"
)

// The settings page lists the hubs with their drivers' health and adds and removes them,
// for owners only; the password typed is never shown back; the dashboard shows each
// configured hub's health to anyone who reads.
func TestUIHubs(t *testing.T) {
	svc := storetest.NewService(t, openStore(t, "sqlite"))
	svc.Clock = latchkey.SystemClock{}
	heard := time.Now().Add(-time.Minute)
	ui := &lkhttp.Server{Service: svc, Addr: "127.0.0.1:0", Catalog: fakeCatalog{}, Hubs: fakeHealth{
		{Driver: latchkey.DriverZWaveJS},
		{Driver: latchkey.DriverZigbee2MQTT, HubID: 1, Name: "Zigbee2MQTT", Running: true, Connected: false, LastMessageAt: &heard, LastError: "The broker does not answer."},
	}}
	if err := ui.Open(); err != nil {
		t.Fatal(err)
	}
	defer ui.Close(context.Background())
	owner := setup(t, ui.URL())

	p := uiGet(t, owner, "/settings")
	mustContain(t, "the settings page", p.body, `id="hubs"`, "No hubs", `<option value="zwavejs">Z-Wave JS</option>`, `<option value="zigbee2mqtt">Zigbee2MQTT</option>`)
	p = uiDo(t, owner, "POST", "/settings/hubs", url.Values{"driver": {"zigbee2mqtt"}, "url": {"mqtt://broker.local:1883"}, "username": {"lk"}, "secret": {"typed-pass-31"}})
	if p.status != 200 {
		t.Fatalf("adding a hub: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, `<option value="zigbee2mqtt">`) || !strings.Contains(p.body, `<option value="zwavejs">`) {
		t.Fatal("the add form offers a second Zigbee2MQTT hub, or no Z-Wave JS one")
	}
	mustContain(t, "after adding", p.body, "Hub 1 (Zigbee2MQTT) added", "mqtt://broker.local:1883", "topic zigbee2mqtt", "user lk", "password sealed",
		`<span class="badge warn">not connected</span>`, "last heard", "The broker does not answer.", `action="/settings/hubs/1/delete"`)
	if strings.Contains(p.body, "typed-pass-31") {
		t.Fatal("the page shows the password back")
	}
	p = uiDo(t, owner, "POST", "/settings/hubs", url.Values{"driver": {"zwavejs"}, "url": {"ws://admin:pw@zwave:3000"}})
	if p.status != 400 {
		t.Fatalf("credentials in the URL: %d", p.status)
	}
	mustContain(t, "the refusal", p.body, "--password-stdin", `role="alert"`)
	p = uiDo(t, owner, "POST", "/settings/hubs", url.Values{"driver": {"zwavejs"}, "url": {"ws://zwave:3000"}, "name": {"Basement"}})
	mustContain(t, "a hub with no driver running", p.body, "Hub 2 (Basement) added", `<span class="badge bad">not running</span>`)
	if strings.Contains(p.body, `action="/settings/hubs"`) || !strings.Contains(p.body, `id="hubs-full"`) {
		t.Fatal("with a hub of each driver, the page still offers to add one (a second is refused)")
	}

	p = uiGet(t, owner, "/")
	mustContain(t, "the dashboard", p.body, `id="hubs"`, "Zigbee2MQTT", `<span class="badge warn">not connected</span>`, "The broker does not answer.")

	// Managers, installers and viewers: no hubs section, and the forms refused.
	for _, role := range []latchkey.UserRole{latchkey.UserManager, latchkey.UserInstaller, latchkey.UserViewer} {
		c := signIn(t, ui, svc, "u-"+string(role), role)
		if p := uiGet(t, c, "/settings"); strings.Contains(p.body, `id="hubs"`) {
			t.Fatalf("a %s's settings page shows the hubs", role)
		}
		if p := uiGet(t, c, "/"); !strings.Contains(p.body, "The broker does not answer.") {
			t.Fatalf("a %s's dashboard does not show the hubs' health", role)
		}
		for _, path := range []string{"/settings/hubs", "/settings/hubs/1/delete"} {
			if p := uiDo(t, c, "POST", path, url.Values{"driver": {"zwavejs"}, "url": {"ws://x:3000"}}); p.status != 403 {
				t.Fatalf("a %s's POST %s: %d", role, path, p.status)
			}
		}
	}
	p = uiDo(t, owner, "POST", "/settings/hubs/2/delete", url.Values{})
	mustContain(t, "after removing", p.body, "Hub 2 removed")
	if strings.Contains(p.body, `title">Basement<`) {
		t.Fatal("the removed hub is still listed")
	}
}
