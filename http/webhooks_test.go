package http_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
)

// Webhooks over the JSON API: the secret comes back once, never in a listing; the
// delivery log is paged and filtered; a replay is a new delivery; refusals are the
// domain's, with their codes.
func TestWebhooksAPI(t *testing.T) {
	s, svc := MustOpenServer(t, "sqlite")
	owner := setup(t, s.URL())
	var made lkhttp.WebhookResponse
	owner.must("POST", "/api/v1/webhooks", lkhttp.WebhookInput{URL: "https://example.com/in", Events: []latchkey.WebhookKind{"lock.jammed"}}, &made, 201)
	if made.Webhook == nil || made.Webhook.ID != 1 || !strings.HasPrefix(made.Secret, "whsec_") {
		t.Fatalf("made %+v", made)
	}
	var listed []map[string]any
	owner.must("GET", "/api/v1/webhooks", nil, &listed, 200)
	if len(listed) != 1 || listed[0]["secret_hint"] != made.Webhook.SecretHint || listed[0]["sealed_secret"] != nil {
		t.Fatalf("listed %v", listed)
	}
	owner.must("POST", "/api/v1/webhooks", map[string]any{"url": "https://example.com/in", "events": []string{"nope"}}, nil, 400)
	owner.must("POST", "/api/v1/webhooks", map[string]any{"url": "https://example.com/in", "events": []string{"all"}, "extra": 1}, nil, 400)

	ctx := latchkey.NewContextWithActor(context.Background(), "test")
	if _, err := svc.UpdateLock(ctx, 1, latchkey.LockUpdate{Connection: &latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventJammed}); err != nil {
			t.Fatal(err)
		}
	}
	var page lkhttp.List[latchkey.WebhookDelivery]
	owner.must("GET", "/api/v1/webhooks/1/deliveries?limit=2", nil, &page, 200)
	if page.Total != 3 || len(page.Items) != 2 || page.Items[0].ID != 3 || page.Items[0].Kind != latchkey.HookLockJammed || !strings.Contains(string(page.Items[0].Payload), `"lock_id":1`) {
		t.Fatalf("the delivery log %+v", page)
	}
	owner.must("GET", "/api/v1/webhooks/1/deliveries?status=lost", nil, nil, 400)
	owner.must("GET", "/api/v1/webhooks/9/deliveries", nil, nil, 404)
	var replay latchkey.WebhookDelivery
	owner.must("POST", "/api/v1/webhooks/deliveries/2/replay", nil, &replay, 201)
	if replay.ReplayOf != 2 || replay.Status != latchkey.DeliveryPending {
		t.Fatalf("the replay %+v", replay)
	}
	var paused latchkey.Webhook
	owner.must("PATCH", "/api/v1/webhooks/1", lkhttp.WebhookPatch{Enabled: false}, &paused, 200)
	owner.must("POST", "/api/v1/webhooks/deliveries/2/replay", nil, nil, 409)
	owner.must("DELETE", "/api/v1/webhooks/1", nil, nil, 200)
	owner.must("GET", "/api/v1/webhooks/1", nil, nil, 404)
}
