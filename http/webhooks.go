package http

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// Webhooks over the API: owners subscribe URLs to events, read the delivery log and send
// a delivery again. The rules (URLs, events, the sealed secret, who may) are the
// domain's.

// WebhookInput subscribes a URL to events; Secret empty means Latchkey makes one.
type WebhookInput struct {
	URL    string                 `json:"url"`
	Events []latchkey.WebhookKind `json:"events"`
	Secret string                 `json:"secret,omitempty"`
}

// WebhookResponse carries a new webhook and its secret, shown once.
type WebhookResponse struct {
	Webhook *latchkey.Webhook `json:"webhook"`
	Secret  string            `json:"secret"`
}

// WebhookPatch pauses or resumes a webhook.
type WebhookPatch struct {
	Enabled bool `json:"enabled"`
}

// deliveryStatus reads ?status=.
func deliveryStatus(r *http.Request) *latchkey.DeliveryStatus {
	if v := r.URL.Query().Get("status"); v != "" {
		st := latchkey.DeliveryStatus(v)
		return &st
	}
	return nil
}

func (s *Server) webhookRoutes() []route {
	svc := s.Service
	settings := latchkey.PermSettings
	hook := &latchkey.Webhook{}
	return []route{
		{Method: "POST", Pattern: "/api/v1/webhooks", Summary: "Add a webhook: a URL subscribed to events (its signing secret is shown once)", Perm: settings, Request: WebhookInput{}, Response: WebhookResponse{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			var in WebhookInput
			if err := decode(w, r, &in); err != nil {
				return 0, nil, err
			}
			v, secret, err := svc.CreateWebhook(r.Context(), latchkey.NewWebhook{URL: in.URL, Events: in.Events, Secret: in.Secret})
			return http.StatusCreated, WebhookResponse{Webhook: v, Secret: secret}, err
		})},
		{Method: "GET", Pattern: "/api/v1/webhooks", Summary: "List webhooks, never their secrets", Perm: settings, Response: []latchkey.Webhook{}, handler: handle(func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			v, err := svc.FindWebhooks(r.Context())
			return http.StatusOK, v, err
		})},
		{Method: "GET", Pattern: "/api/v1/webhooks/{id}", Summary: "Show a webhook, never its secret", Perm: settings, Response: hook, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.FindWebhookByID(r.Context(), id)
			return http.StatusOK, v, err
		}))},
		{Method: "PATCH", Pattern: "/api/v1/webhooks/{id}", Summary: "Pause or resume a webhook", Perm: settings, Request: WebhookPatch{}, Response: hook, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			var in WebhookPatch
			if err := decode(nil, r, &in); err != nil {
				return 0, nil, err
			}
			v, err := svc.SetWebhookEnabled(r.Context(), id, in.Enabled)
			return http.StatusOK, v, err
		}))},
		{Method: "DELETE", Pattern: "/api/v1/webhooks/{id}", Summary: "Remove a webhook and its delivery log", Perm: settings, handler: handle(deleted(func(r *http.Request, id int64) error { return svc.DeleteWebhook(r.Context(), id) }))},
		{Method: "GET", Pattern: "/api/v1/webhooks/{id}/deliveries", Summary: "A webhook's deliveries, newest first, each with its attempts (?status=pending|delivered|failed)", Perm: settings, Response: List[*latchkey.WebhookDelivery]{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			p, err := page(r)
			if err != nil {
				return 0, nil, err
			}
			items, total, err := svc.FindWebhookDeliveries(r.Context(), latchkey.WebhookDeliveryFilter{WebhookID: &id, Status: deliveryStatus(r)}, p)
			return http.StatusOK, listOf(items, total, p), err
		}))},
		{Method: "POST", Pattern: "/api/v1/webhooks/deliveries/{id}/replay", Summary: "Make a new delivery of a delivery's payload (a replay), sent at once", Perm: settings, Response: &latchkey.WebhookDelivery{}, handler: handle(byID("id", func(r *http.Request, id int64) (int, any, error) {
			v, err := svc.ReplayWebhookDelivery(r.Context(), id)
			return http.StatusCreated, v, err
		}))},
	}
}
