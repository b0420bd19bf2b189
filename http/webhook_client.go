package http

import (
	"context"

	"github.com/latchkey/latchkey"
)

// The client's side of the webhook routes: the command line manages a server's webhooks
// through it as it manages local ones through the service.

var _ latchkey.WebhookService = (*Client)(nil)

// CreateWebhook subscribes a URL to events and returns the webhook and its secret.
func (c *Client) CreateWebhook(ctx context.Context, req latchkey.NewWebhook) (*latchkey.Webhook, string, error) {
	var resp WebhookResponse
	if err := c.do(ctx, "POST", "/api/v1/webhooks", WebhookInput{URL: req.URL, Events: req.Events, Secret: req.Secret}, &resp); err != nil {
		return nil, "", err
	}
	return resp.Webhook, resp.Secret, nil
}

// FindWebhooks lists webhooks.
func (c *Client) FindWebhooks(ctx context.Context) ([]*latchkey.Webhook, error) {
	var v []*latchkey.Webhook
	return v, c.do(ctx, "GET", "/api/v1/webhooks", nil, &v)
}

// FindWebhookByID returns a webhook.
func (c *Client) FindWebhookByID(ctx context.Context, n int64) (*latchkey.Webhook, error) {
	var v latchkey.Webhook
	return &v, c.do(ctx, "GET", "/api/v1/webhooks/"+id(n), nil, &v)
}

// SetWebhookEnabled pauses or resumes a webhook.
func (c *Client) SetWebhookEnabled(ctx context.Context, n int64, enabled bool) (*latchkey.Webhook, error) {
	var v latchkey.Webhook
	return &v, c.do(ctx, "PATCH", "/api/v1/webhooks/"+id(n), WebhookPatch{Enabled: enabled}, &v)
}

// DeleteWebhook removes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, n int64) error {
	return c.do(ctx, "DELETE", "/api/v1/webhooks/"+id(n), nil, nil)
}

// FindWebhookDeliveries lists one webhook's deliveries, newest first: the API lists
// them per webhook, so the filter must name one.
func (c *Client) FindWebhookDeliveries(ctx context.Context, f latchkey.WebhookDeliveryFilter, p latchkey.Page) ([]*latchkey.WebhookDelivery, int, error) {
	if f.WebhookID == nil {
		return nil, 0, latchkey.Errorf(latchkey.EINVALID, "Name the webhook whose deliveries to list.")
	}
	var status string
	if f.Status != nil {
		status = string(*f.Status)
	}
	return list[*latchkey.WebhookDelivery](ctx, c, "/api/v1/webhooks/"+id(*f.WebhookID)+"/deliveries"+pageQuery(p, "status", status))
}

// ReplayWebhookDelivery sends a delivery again, as a new delivery.
func (c *Client) ReplayWebhookDelivery(ctx context.Context, deliveryID int64) (*latchkey.WebhookDelivery, error) {
	var v latchkey.WebhookDelivery
	return &v, c.do(ctx, "POST", "/api/v1/webhooks/deliveries/"+id(deliveryID)+"/replay", nil, &v)
}
