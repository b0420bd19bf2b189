package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

const webhookColumns = `id, url, events, enabled, secret_hint, sealed_secret, created_by, created_at`

var insertWebhook = newInsertion("webhooks", `url, events, enabled, secret_hint, sealed_secret, created_by, created_at`)

func (tx *Tx) scanWebhook(row scanner) (*latchkey.Webhook, error) {
	var w latchkey.Webhook
	var events string
	if err := row.Scan(&w.ID, &w.URL, &events, &w.Enabled, &w.SecretHint, &w.SealedSecret, &w.CreatedBy, tx.time(&w.CreatedAt)); err != nil {
		return nil, err
	}
	for _, k := range strings.Split(events, ",") {
		if k != "" {
			w.Events = append(w.Events, latchkey.WebhookKind(k))
		}
	}
	return &w, nil
}

// joinKinds stores a subscription's kinds as one comma-separated column: dotted names
// from the domain's catalogue, which never hold a comma.
func joinKinds(kinds []latchkey.WebhookKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ",")
}

// CreateWebhook inserts a subscription and sets its id.
func (tx *Tx) CreateWebhook(ctx context.Context, w *latchkey.Webhook) (err error) {
	sealed := w.SealedSecret
	if sealed == nil {
		sealed = []byte{}
	}
	w.ID, err = tx.insert(ctx, insertWebhook, w.ID, w.URL, joinKinds(w.Events), w.Enabled, w.SecretHint, sealed, w.CreatedBy, w.CreatedAt)
	return err
}

// FindWebhookByID returns a subscription.
func (tx *Tx) FindWebhookByID(ctx context.Context, id int64) (*latchkey.Webhook, error) {
	w, err := tx.scanWebhook(tx.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "webhook", id)
	}
	return w, nil
}

// FindWebhooks lists every subscription by id.
func (tx *Tx) FindWebhooks(ctx context.Context) ([]*latchkey.Webhook, error) {
	return queryAll(ctx, tx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`, nil, tx.scanWebhook)
}

// UpdateWebhook writes whether a subscription is enabled, and its sealed secret.
func (tx *Tx) UpdateWebhook(ctx context.Context, w *latchkey.Webhook) error {
	return tx.writeOne(ctx, "webhook", w.ID, `UPDATE webhooks SET enabled = ?, sealed_secret = ? WHERE id = ?`, w.Enabled, w.SealedSecret, w.ID)
}

// DeleteWebhook removes a subscription; its deliveries go with it.
func (tx *Tx) DeleteWebhook(ctx context.Context, id int64) error {
	if _, err := tx.write(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ?`, id); err != nil {
		return err
	}
	return tx.writeOne(ctx, "webhook", id, `DELETE FROM webhooks WHERE id = ?`, id)
}

const deliveryColumns = `id, webhook_id, event_id, kind, payload, status, attempts, next_attempt_us, replay_of, created_at`

var insertDelivery = newInsertion("webhook_deliveries", `webhook_id, event_id, kind, payload, status, attempts, next_attempt_us, replay_of, created_at`)

func (tx *Tx) scanDelivery(row scanner) (*latchkey.WebhookDelivery, error) {
	var d latchkey.WebhookDelivery
	var payload, attempts string
	if err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Kind, &payload, &d.Status, &attempts, microsDest{&d.NextAttemptAt},
		idDest{&d.ReplayOf}, tx.time(&d.CreatedAt)); err != nil {
		return nil, err
	}
	d.Payload = json.RawMessage(payload)
	if err := json.Unmarshal([]byte(attempts), &d.Attempts); err != nil {
		return nil, fmt.Errorf("the attempts of webhook delivery %d: %w", d.ID, err)
	}
	if d.Attempts == nil {
		d.Attempts = []latchkey.WebhookAttempt{}
	}
	return &d, nil
}

// encodeAttempts stores a delivery's attempts as one JSON column: they are read and
// written with the delivery, never queried apart.
func encodeAttempts(a []latchkey.WebhookAttempt) (string, error) {
	if a == nil {
		return "[]", nil
	}
	b, err := json.Marshal(a)
	return string(b), err
}

// CreateWebhookDelivery inserts a delivery and sets its id.
func (tx *Tx) CreateWebhookDelivery(ctx context.Context, d *latchkey.WebhookDelivery) (err error) {
	attempts, err := encodeAttempts(d.Attempts)
	if err != nil {
		return err
	}
	d.ID, err = tx.insert(ctx, insertDelivery, d.ID, d.WebhookID, d.EventID, d.Kind, string(d.Payload), d.Status, attempts,
		micros(d.NextAttemptAt), nullID(d.ReplayOf), d.CreatedAt)
	return err
}

// FindWebhookDeliveryByID returns a delivery.
func (tx *Tx) FindWebhookDeliveryByID(ctx context.Context, id int64) (*latchkey.WebhookDelivery, error) {
	d, err := tx.scanDelivery(tx.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if err != nil {
		return nil, tx.notFound(err, "webhook delivery", id)
	}
	return d, nil
}

// FindWebhookDeliveries lists deliveries, newest first, with the total.
func (tx *Tx) FindWebhookDeliveries(ctx context.Context, f latchkey.WebhookDeliveryFilter, p latchkey.Page) ([]*latchkey.WebhookDelivery, int, error) {
	var w filter
	if f.WebhookID != nil {
		w.add("webhook_id = ?", *f.WebhookID)
	}
	if f.Status != nil {
		w.add("status = ?", *f.Status)
	}
	var total int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries`+w.where(), w.args...).Scan(&total); err != nil {
		return nil, 0, tx.fail(err)
	}
	items, err := queryAll(ctx, tx, `SELECT `+deliveryColumns+` FROM webhook_deliveries`+w.where()+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(w.args, p.PageLimit(), max(p.Offset, 0)), tx.scanDelivery)
	if items == nil {
		items = []*latchkey.WebhookDelivery{}
	}
	return items, total, err
}

// UpdateWebhookDelivery writes a delivery's status, attempts and next attempt.
func (tx *Tx) UpdateWebhookDelivery(ctx context.Context, d *latchkey.WebhookDelivery) error {
	attempts, err := encodeAttempts(d.Attempts)
	if err != nil {
		return err
	}
	return tx.writeOne(ctx, "webhook delivery", d.ID, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_us = ? WHERE id = ?`,
		d.Status, attempts, micros(d.NextAttemptAt), d.ID)
}

// FindDueWebhookDeliveries lists up to limit pending deliveries of enabled subscriptions
// whose next attempt is at or before now, the longest waiting first.
func (tx *Tx) FindDueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	return queryAll(ctx, tx, `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = ? AND d.next_attempt_us <= ? AND w.enabled = ? ORDER BY d.next_attempt_us, d.id LIMIT ?`,
		[]any{latchkey.DeliveryPending, now.UnixMicro(), true, limit}, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
}

// micros stores a time that may be absent as Unix microseconds, or NULL.
func micros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// microsDest reads Unix microseconds that may be NULL into a time in UTC.
type microsDest struct {
	t **time.Time
}

// Scan implements sql.Scanner.
func (s microsDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = nil
	case int64:
		t := time.UnixMicro(v).UTC()
		*s.t = &t
	default:
		return fmt.Errorf("a microseconds column holds %T", src)
	}
	return nil
}
