package http_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// The settings page lists webhooks and adds one, showing its secret once; each webhook's
// page shows its deliveries with their attempts and payload, pauses it and sends a
// delivery again; the forms are for owners only.
func TestUIWebhooks(t *testing.T) {
	ui, svc := MustOpenUIServer(t)
	owner := setup(t, ui.URL())
	p := uiDo(t, owner, "POST", "/settings/webhooks", url.Values{"url": {"https://hooks.example.com/in"}, "event": {"lock.jammed", "code.revoked_used"}})
	if p.status != 200 {
		t.Fatalf("adding a webhook: %d\n%s", p.status, p.body)
	}
	secret := regexp.MustCompile(`id="webhook-secret">(whsec_[0-9a-f]{64})<`).FindStringSubmatch(p.body)
	if secret == nil {
		t.Fatalf("the new webhook's secret is not shown:\n%s", p.body)
	}
	mustContain(t, "the settings page", p.body, "Webhook 1 added.", `href="/settings/webhooks/1">https://hooks.example.com/in</a>`,
		"code.revoked_used, lock.jammed", "…"+secret[1][len(secret[1])-4:], `action="/settings/webhooks/1/delete"`)
	p = uiGet(t, owner, "/settings")
	if strings.Contains(p.body, secret[1]) {
		t.Fatal("the secret is shown again")
	}
	mustContain(t, "the settings page", p.body, `name="event" value="lock.offline"`)
	p = uiDo(t, owner, "POST", "/settings/webhooks", url.Values{"url": {"ftp://example.com"}, "event": {"lock.jammed"}})
	if p.status != 400 {
		t.Fatalf("a bad URL: %d", p.status)
	}
	mustContain(t, "the refusal", p.body, "starts with https://", `role="alert"`)
	p = uiDo(t, owner, "POST", "/settings/webhooks", url.Values{"url": {"https://example.com"}})
	mustContain(t, "the refusal", p.body, "Choose at least one event")

	// A delivery of a jam, seen on the webhook's page and sent again.
	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventJammed}); err != nil {
		t.Fatal(err)
	}
	p = uiGet(t, owner, "/settings/webhooks/1")
	mustContain(t, "the webhook's page", p.body, "lock.jammed", "delivery 1", "pending", `&#34;lock_name&#34;:&#34;Deadbolt&#34;`,
		`action="/settings/webhooks/1/replay/1"`, `action="/settings/webhooks/1/enabled"`)
	p = uiDo(t, owner, "POST", "/settings/webhooks/1/replay/1", url.Values{})
	mustContain(t, "after the replay", p.body, "Delivery 1 is sent again as delivery 2.", "replay of 1")
	p = uiDo(t, owner, "POST", "/settings/webhooks/1/enabled", url.Values{"enabled": {"0"}})
	mustContain(t, "after pausing", p.body, "Webhook paused", "paused")
	if p := uiDo(t, owner, "GET", "/settings/webhooks/9", nil); p.status != 404 {
		t.Fatalf("a missing webhook: %d", p.status)
	}

	// Not for a manager.
	manager := signIn(t, ui, svc, "max", latchkey.UserManager)
	if p := uiGet(t, manager, "/settings"); strings.Contains(p.body, "Webhooks") {
		t.Fatal("a manager's settings page shows the webhooks")
	}
	for _, path := range []string{"/settings/webhooks/1", "/settings/webhooks/1/delete"} {
		method := map[bool]string{true: "GET", false: "POST"}[path == "/settings/webhooks/1"]
		if p := uiDo(t, manager, method, path, url.Values{}); p.status != 403 {
			t.Fatalf("a manager's %s %s: %d", method, path, p.status)
		}
	}
	p = uiDo(t, owner, "POST", "/settings/webhooks/1/delete", url.Values{})
	mustContain(t, "after removing", p.body, "Webhook 1 removed", "No webhooks.")
}
