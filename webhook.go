package latchkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WebhookKind names what a webhook delivery reports, in dotted form: the catalogue below
// is the whole vocabulary a subscription chooses from.
type WebhookKind string

// Webhook kinds. A kind is delivered whenever its source is recorded, in the same
// transaction (see notify): code.delayed has no source yet (the sync engine's delay
// warnings will call notifyCodeDelayed).
const (
	HookCodeSet         WebhookKind = "code.set"          // a lock was read back holding the code, or a person confirmed it
	HookCodeRemoved     WebhookKind = "code.removed"      // a lock was read back without the code, or a person confirmed it gone
	HookCodeFailed      WebhookKind = "code.failed"       // a code could not be put on a lock
	HookCodeDelayed     WebhookKind = "code.delayed"      // a code is late reaching or leaving a lock
	HookCodeConflict    WebhookKind = "code.conflict"     // a code was changed or removed at the lock itself
	HookCodeRevokedUsed WebhookKind = "code.revoked_used" // a revoked code, or one out of its time, opened the door
	HookLockUnlocked    WebhookKind = "lock.unlocked"     // the door was unlocked (by whom, when a code's slot names them)
	HookLockWrongCode   WebhookKind = "lock.wrong_code"
	HookLockLockout     WebhookKind = "lock.keypad_lockout"
	HookLockBatteryLow  WebhookKind = "lock.battery_low"
	HookLockJammed      WebhookKind = "lock.jammed"
	HookLockTampered    WebhookKind = "lock.tampered"
	HookLockReset       WebhookKind = "lock.reset" // reset locally, or every code deleted, behind Latchkey's back
	HookLockOffline     WebhookKind = "lock.offline"
)

// WebhookKinds is the catalogue of kinds, in the order people read them.
var WebhookKinds = []WebhookKind{HookCodeSet, HookCodeRemoved, HookCodeFailed, HookCodeDelayed, HookCodeConflict, HookCodeRevokedUsed,
	HookLockUnlocked, HookLockWrongCode, HookLockLockout, HookLockBatteryLow, HookLockJammed, HookLockTampered, HookLockReset, HookLockOffline}

// deviceHooks maps what a lock reports to the webhook kind it is delivered as.
var deviceHooks = map[EventKind]WebhookKind{
	EventUnlocked:        HookLockUnlocked,
	EventWrongCode:       HookLockWrongCode,
	EventKeypadLockout:   HookLockLockout,
	EventLowBattery:      HookLockBatteryLow,
	EventJammed:          HookLockJammed,
	EventTamper:          HookLockTampered,
	EventResetLocally:    HookLockReset,
	EventAllCodesDeleted: HookLockReset,
	EventOffline:         HookLockOffline,
	EventRevokedCodeUsed: HookCodeRevokedUsed,
}

// Limits on webhooks.
const (
	MaxWebhooks            = 50   // each event is written once per subscription that wants it
	maxWebhookURLLen       = 2000 // what every HTTP stack takes in a request line
	MinWebhookSecretLen    = 16
	maxWebhookSecretLen    = 256
	webhookSecretPrefix    = "whsec_"
	WebhookMaxAttempts     = 32 // with the backoff below: about a day of trying
	webhookFirstBackoff    = 5 * time.Second
	webhookMaxBackoff      = time.Hour
	maxWebhookErrorLen     = 300
	maxWebhookDeliveryPage = 100
)

// Webhook is a subscription: Latchkey POSTs each event of the kinds it wants to its URL,
// signed with its secret. The secret is sealed by the vault and never shown after it
// was made; SecretHint is its last four characters, to tell secrets apart.
type Webhook struct {
	ID           int64         `json:"id"`
	URL          string        `json:"url"`
	Events       []WebhookKind `json:"events"`
	Enabled      bool          `json:"enabled"`
	SecretHint   string        `json:"secret_hint"`
	SealedSecret []byte        `json:"-"`
	CreatedBy    string        `json:"created_by"`
	CreatedAt    time.Time     `json:"created_at"`
}

// Wants reports whether the subscription takes deliveries of kind k.
func (w *Webhook) Wants(k WebhookKind) bool { return w.Enabled && slices.Contains(w.Events, k) }

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // to be sent at NextAttemptAt
	DeliveryDelivered DeliveryStatus = "delivered" // the receiver answered 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // given up after WebhookMaxAttempts, or refused for good
)

// WebhookAttempt is one try at a delivery: when, what the receiver answered (0 when it
// did not answer) and what went wrong.
type WebhookAttempt struct {
	At         time.Time `json:"at"`
	HTTPStatus int       `json:"http_status,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// WebhookDelivery is one event on its way to one subscription: written pending in the
// transaction that recorded the event (an outbox), so that a crash never loses one.
type WebhookDelivery struct {
	ID            int64            `json:"id"`
	WebhookID     int64            `json:"webhook_id"`
	EventID       string           `json:"event_id"`
	Kind          WebhookKind      `json:"kind"`
	Payload       json.RawMessage  `json:"payload"`
	Status        DeliveryStatus   `json:"status"`
	Attempts      []WebhookAttempt `json:"attempts"`
	NextAttemptAt *time.Time       `json:"next_attempt_at,omitempty"`
	ReplayOf      int64            `json:"replay_of,omitempty"`
	CreatedAt     time.Time        `json:"created_at"`
}

// WebhookEvent is what a delivery's body says: never a PIN, a bitting or a secret.
// Names are as recorded when the event happened.
type WebhookEvent struct {
	ID         string      `json:"id"` // the same in every subscription's delivery of the event, and in a replay
	Kind       WebhookKind `json:"kind"`
	At         time.Time   `json:"at"`
	LockID     int64       `json:"lock_id,omitempty"`
	LockName   string      `json:"lock_name,omitempty"`
	CodeID     int64       `json:"code_id,omitempty"`
	CodeLabel  string      `json:"code_label,omitempty"`
	PersonID   int64       `json:"person_id,omitempty"`
	PersonName string      `json:"person_name,omitempty"`
	Slot       int         `json:"slot,omitempty"`
	Source     EventSource `json:"source,omitempty"`
	Status     GrantStatus `json:"status,omitempty"` // a code's standing on the lock, for code.* kinds
	Detail     string      `json:"detail,omitempty"`
	EventRef   int64       `json:"event_ref,omitempty"` // the lock event recorded, when there is one
}

// WebhookDeliveryFilter narrows FindWebhookDeliveries. Nil fields do not filter.
type WebhookDeliveryFilter struct {
	WebhookID *int64
	Status    *DeliveryStatus
}

// NewWebhook asks for a subscription. Secret empty means Latchkey makes one.
type NewWebhook struct {
	URL    string        `json:"url"`
	Events []WebhookKind `json:"events"`
	Secret string        `json:"secret,omitempty"`
}

// WebhookService is what the command line and the API use of webhooks; Service
// implements it over a store, and the HTTP client over a server.
type WebhookService interface {
	CreateWebhook(ctx context.Context, req NewWebhook) (*Webhook, string, error)
	FindWebhooks(ctx context.Context) ([]*Webhook, error)
	FindWebhookByID(ctx context.Context, id int64) (*Webhook, error)
	SetWebhookEnabled(ctx context.Context, id int64, enabled bool) (*Webhook, error)
	DeleteWebhook(ctx context.Context, id int64) error
	FindWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter, p Page) ([]*WebhookDelivery, int, error)
	ReplayWebhookDelivery(ctx context.Context, deliveryID int64) (*WebhookDelivery, error)
}

var _ WebhookService = (*Service)(nil)

// ParseWebhookURL checks a webhook's URL: http or https, a host, no user name or
// password in it (the signature is the credential), no fragment, at most 2000
// characters. It returns the URL as it will be called.
func ParseWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", Errorf(EINVALID, "A webhook needs a URL, such as https://example.com/latchkey.")
	case len(raw) > maxWebhookURLLen:
		return "", Errorf(EINVALID, "The webhook URL is longer than %d characters; use a shorter one.", maxWebhookURLLen)
	case !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", Errorf(EINVALID, "The webhook URL contains spaces or control characters; percent-encode them.")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", Errorf(EINVALID, "The webhook URL is not a URL (%s); write it as https://host/path.", strings.TrimPrefix(err.Error(), "parse "))
	}
	switch {
	case u.Scheme == "":
		return "", Errorf(EINVALID, "The webhook URL has no scheme; write it as https://host/path.")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", Errorf(EINVALID, "A webhook URL starts with https:// (or http://), not %q.", u.Scheme+":")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", Errorf(EINVALID, "The webhook URL names no host; write it as https://host/path.")
	case u.User != nil:
		return "", Errorf(EINVALID, "The webhook URL carries a user name or password; leave them out: receivers check the signature (X-Latchkey-Signature) instead.")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", Errorf(EINVALID, "The webhook URL has a #fragment, which is never sent; leave it out.")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", Errorf(EINVALID, "The webhook URL's port %q is not a port (1 to 65535).", p)
		}
	}
	return u.String(), nil
}

// ParseWebhookKinds reads the kinds a subscription wants: each a name from the catalogue
// (WebhookKinds), given alone or several to a value separated by commas; "all" is every
// kind. Duplicates count once; the result keeps the catalogue's order.
func ParseWebhookKinds(values []string) ([]WebhookKind, error) {
	want := map[WebhookKind]bool{}
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
				continue
			case name == "all":
				for _, k := range WebhookKinds {
					want[k] = true
				}
				continue
			case !slices.Contains(WebhookKinds, WebhookKind(name)):
				shown := name
				if len(shown) > 40 || !utf8.ValidString(shown) {
					shown = strings.ToValidUTF8(shown[:min(len(shown), 40)], "") + "…"
				}
				return nil, Errorf(EINVALID, "%q is not a webhook event; choose from %s (or all).", shown, kindList())
			}
			want[WebhookKind(name)] = true
		}
	}
	if len(want) == 0 {
		return nil, Errorf(EINVALID, "Choose at least one event for the webhook: %s (or all).", kindList())
	}
	var out []WebhookKind
	for _, k := range WebhookKinds {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

func kindList() string {
	names := make([]string, len(WebhookKinds))
	for i, k := range WebhookKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// checkWebhookSecret checks a secret a person chose.
func checkWebhookSecret(s string) error {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "The webhook secret is not valid text (UTF-8).")
	case n < MinWebhookSecretLen:
		return Errorf(EINVALID, "The webhook secret is %d characters; use at least %d (or leave it out and Latchkey makes one).", n, MinWebhookSecretLen)
	case n > maxWebhookSecretLen:
		return Errorf(EINVALID, "The webhook secret is longer than %d characters; use a shorter one.", maxWebhookSecretLen)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return Errorf(EINVALID, "The webhook secret contains spaces or control characters; use printable characters only.")
	}
	return nil
}

// newWebhookSecret makes a secret of 32 random bytes.
func newWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return webhookSecretPrefix + hex.EncodeToString(b), nil
}

// newEventID names one event across its deliveries.
func newEventID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported systems
	return "evt_" + hex.EncodeToString(b)
}

// webhookAAD binds a sealed secret to its subscription.
func webhookAAD(id int64) []byte { return []byte("latchkey:webhook:" + strconv.FormatInt(id, 10)) }

// shownURL is a webhook's URL as the audit log keeps it: scheme and host only, since
// receivers often put a token of their own in the path or query.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.Path == "" && u.RawQuery == "" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// requireSettings refuses to manage webhooks to anyone but an owner.
func requireSettings(ctx context.Context) error { return require(ctx, PermSettings) }

// CreateWebhook adds a subscription. Its secret is the one given (at least 16
// characters), or one Latchkey makes from 32 random bytes; either is returned here, to
// be shown once, and sealed by the vault: it is never shown again. Owners only.
func (s *Service) CreateWebhook(ctx context.Context, req NewWebhook) (*Webhook, string, error) {
	if err := requireSettings(ctx); err != nil {
		return nil, "", err
	}
	u, err := ParseWebhookURL(req.URL)
	if err != nil {
		return nil, "", err
	}
	kinds := make([]string, len(req.Events))
	for i, k := range req.Events {
		kinds[i] = string(k)
	}
	events, err := ParseWebhookKinds(kinds)
	if err != nil {
		return nil, "", err
	}
	secret := req.Secret
	if secret == "" {
		if secret, err = newWebhookSecret(); err != nil {
			return nil, "", err
		}
	} else if err := checkWebhookSecret(secret); err != nil {
		return nil, "", err
	}
	if s.Vault == nil {
		return nil, "", Errorf(EUNAVAILABLE, "No vault is open to seal the webhook's secret.")
	}
	w := &Webhook{URL: u, Events: events, Enabled: true, SecretHint: hintOf(secret), CreatedBy: ActorFromContext(ctx), CreatedAt: s.now()}
	err = s.change(ctx, "webhook.create", "webhook", func(tx Tx) (int64, any, error) {
		w.ID, w.SealedSecret = 0, nil // a change may run more than once
		existing, err := tx.FindWebhooks(ctx)
		if err != nil {
			return 0, nil, err
		}
		if len(existing) >= MaxWebhooks {
			return 0, nil, Errorf(ECONFLICT, "There are %d webhooks already, the most Latchkey keeps; remove one first (latchkey webhook rm ID).", len(existing))
		}
		if err := tx.CreateWebhook(ctx, w); err != nil {
			return 0, nil, err
		}
		if w.SealedSecret, err = s.Vault.Seal([]byte(secret), webhookAAD(w.ID)); err != nil {
			return 0, nil, fmt.Errorf("seal webhook secret: %w", err)
		}
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return 0, nil, err
		}
		return w.ID, map[string]any{"url": shownURL(w.URL), "events": w.Events, "secret": map[bool]string{true: "made by Latchkey", false: "chosen"}[req.Secret == ""]}, nil
	})
	if err != nil {
		return nil, "", err
	}
	w.SealedSecret = nil
	return w, secret, nil
}

// hintOf is the part of a secret shown after it was made: its last four characters.
func hintOf(secret string) string {
	r := []rune(secret)
	return "…" + string(r[max(0, len(r)-4):])
}

// FindWebhooks lists the subscriptions, without their secrets. Owners only.
func (s *Service) FindWebhooks(ctx context.Context) (hooks []*Webhook, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		hooks, err = tx.FindWebhooks(ctx)
		return err
	})
	for _, w := range hooks {
		w.SealedSecret = nil
	}
	if hooks == nil {
		hooks = []*Webhook{}
	}
	return hooks, err
}

// FindWebhookByID returns one subscription, without its secret. Owners only.
func (s *Service) FindWebhookByID(ctx context.Context, id int64) (w *Webhook, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		w, err = tx.FindWebhookByID(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.SealedSecret = nil
	return w, nil
}

// SetWebhookEnabled pauses or resumes a subscription: paused, no delivery is written for
// it and none of its pending ones is sent. Owners only.
func (s *Service) SetWebhookEnabled(ctx context.Context, id int64, enabled bool) (w *Webhook, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	action := map[bool]string{true: "webhook.enable", false: "webhook.disable"}[enabled]
	err = s.change(ctx, action, "webhook", func(tx Tx) (int64, any, error) {
		if w, err = tx.FindWebhookByID(ctx, id); err != nil {
			return 0, nil, err
		}
		if w.Enabled == enabled {
			return 0, nil, Errorf(ECONFLICT, "Webhook %d is %s already.", id, map[bool]string{true: "enabled", false: "disabled"}[enabled])
		}
		w.Enabled = enabled
		return id, map[string]any{"url": shownURL(w.URL)}, tx.UpdateWebhook(ctx, w)
	})
	if w != nil {
		w.SealedSecret = nil
	}
	return w, err
}

// DeleteWebhook removes a subscription and its delivery log. Owners only.
func (s *Service) DeleteWebhook(ctx context.Context, id int64) error {
	if err := requireSettings(ctx); err != nil {
		return err
	}
	return s.change(ctx, "webhook.delete", "webhook", func(tx Tx) (int64, any, error) {
		w, err := tx.FindWebhookByID(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		return id, map[string]any{"url": shownURL(w.URL), "events": w.Events}, tx.DeleteWebhook(ctx, id)
	})
}

// FindWebhookDeliveries lists deliveries, newest first, with the total. Owners only.
func (s *Service) FindWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter, p Page) (ds []*WebhookDelivery, total int, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, 0, err
	}
	if f.Status != nil && !slices.Contains([]DeliveryStatus{DeliveryPending, DeliveryDelivered, DeliveryFailed}, *f.Status) {
		return nil, 0, Errorf(EINVALID, "A delivery is pending, delivered or failed, not %q.", *f.Status)
	}
	p.Limit = min(p.PageLimit(), maxWebhookDeliveryPage)
	err = s.Store.View(ctx, func(tx Tx) error {
		if f.WebhookID != nil {
			if _, err := tx.FindWebhookByID(ctx, *f.WebhookID); err != nil {
				return err
			}
		}
		ds, total, err = tx.FindWebhookDeliveries(ctx, f, p)
		return err
	})
	if ds == nil {
		ds = []*WebhookDelivery{}
	}
	return ds, total, err
}

// ReplayWebhookDelivery sends a delivery again: a new pending delivery of the same
// payload (the same event id) to the same subscription, sent at once. Owners only.
func (s *Service) ReplayWebhookDelivery(ctx context.Context, deliveryID int64) (d *WebhookDelivery, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	err = s.change(ctx, "webhook.replay", "webhook", func(tx Tx) (int64, any, error) {
		old, err := tx.FindWebhookDeliveryByID(ctx, deliveryID)
		if err != nil {
			return 0, nil, err
		}
		w, err := tx.FindWebhookByID(ctx, old.WebhookID)
		if err != nil {
			return 0, nil, err
		}
		if !w.Enabled {
			return 0, nil, Errorf(ECONFLICT, "Webhook %d is disabled; enable it first (latchkey webhook enable %d).", w.ID, w.ID)
		}
		now := s.now()
		d = &WebhookDelivery{WebhookID: w.ID, EventID: old.EventID, Kind: old.Kind, Payload: old.Payload, Status: DeliveryPending,
			NextAttemptAt: &now, ReplayOf: old.ID, CreatedAt: now}
		if err := tx.CreateWebhookDelivery(ctx, d); err != nil {
			return 0, nil, err
		}
		return w.ID, map[string]any{"delivery_id": old.ID, "replay_id": d.ID, "kind": old.Kind, "url": shownURL(w.URL)}, nil
	})
	return d, err
}

// listeners are the enabled subscriptions that want kind.
func listeners(ctx context.Context, tx Tx, kind WebhookKind) ([]*Webhook, error) {
	hooks, err := tx.FindWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(hooks), func(w *Webhook) bool { return !w.Wants(kind) }), nil
}

// hooksReadOnce is a transaction that reads the webhook subscriptions once: a batch of
// the engine's records (thousands of outcomes, each perhaps a delivery) changes none.
type hooksReadOnce struct {
	Tx
	hooks []*Webhook
	read  bool
}

// FindWebhooks reads the subscriptions the first time, and gives the same after.
func (t *hooksReadOnce) FindWebhooks(ctx context.Context) ([]*Webhook, error) {
	if !t.read {
		hooks, err := t.Tx.FindWebhooks(ctx)
		if err != nil {
			return nil, err
		}
		t.hooks, t.read = hooks, true
	}
	return t.hooks, nil
}

// notify writes a pending delivery of ev for each of hooks, in tx: the outbox, durable
// with the event or not at all.
func (s *Service) notify(ctx context.Context, tx Tx, hooks []*Webhook, ev WebhookEvent) error {
	if len(hooks) == 0 {
		return nil
	}
	ev.ID = newEventID()
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		at := ev.At
		d := &WebhookDelivery{WebhookID: w.ID, EventID: ev.ID, Kind: ev.Kind, Payload: payload, Status: DeliveryPending, NextAttemptAt: &at, CreatedAt: ev.At}
		if err := tx.CreateWebhookDelivery(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// notifyEvent delivers a recorded lock event whose kind subscriptions may want; c is the
// code in the slot it names, if any.
func (s *Service) notifyEvent(ctx context.Context, tx Tx, l *Lock, e *Event, c *Code) error {
	kind, ok := deviceHooks[e.Kind]
	if !ok {
		return nil
	}
	hooks, err := listeners(ctx, tx, kind)
	if err != nil || len(hooks) == 0 {
		return err // nobody listens: no need to read the names
	}
	ev := WebhookEvent{Kind: kind, At: e.At, LockID: l.ID, LockName: l.Name, Slot: e.Slot, Source: e.Source, Detail: e.Detail,
		PersonID: e.PersonID, EventRef: e.ID}
	if e.PersonID != 0 {
		p, err := tx.FindPersonByID(ctx, e.PersonID)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if p != nil {
			ev.PersonName = p.Name
		}
	}
	if c != nil {
		ev.CodeID, ev.CodeLabel = c.ID, c.Label
	}
	return s.notify(ctx, tx, hooks, ev)
}

// notifyGrant delivers a code's change of standing on a lock, from what it was: set,
// removed, failed (a conflicting change when it was changed at the lock itself).
// Standing still is no news: a failed code failing again is not delivered twice.
func (s *Service) notifyGrant(ctx context.Context, tx Tx, g *Grant, from GrantStatus) error {
	if g.Status == from {
		return nil
	}
	var kind WebhookKind
	switch {
	case g.Status == GrantSet:
		kind = HookCodeSet
	case g.Status == GrantRemoved,
		g.Status == GrantPending && (from == GrantSet || from == GrantUnconfirmed): // off the lock out of its hours
		kind = HookCodeRemoved
	case g.Status == GrantFailed && g.Problem.Conflict():
		kind = HookCodeConflict
	case g.Status == GrantFailed:
		kind = HookCodeFailed
	default:
		return nil
	}
	return s.notifyCode(ctx, tx, kind, g, g.Reason)
}

// notifyCodeDelayed delivers a warning that a code is late reaching or leaving a lock
// (code.delayed), with why; the sync engine's delay warnings call it, in the transaction
// that records the warning (NoteDelays).
func (s *Service) notifyCodeDelayed(ctx context.Context, tx Tx, g *Grant, why string) error {
	return s.notifyCode(ctx, tx, HookCodeDelayed, g, why)
}

// notifyCode delivers an event about one code on one lock.
func (s *Service) notifyCode(ctx context.Context, tx Tx, kind WebhookKind, g *Grant, detail string) error {
	hooks, err := listeners(ctx, tx, kind)
	if err != nil || len(hooks) == 0 {
		return err // nobody listens: no need to read the names
	}
	c, err := tx.FindCodeByID(ctx, g.CodeID)
	if err != nil {
		return err
	}
	l, err := tx.FindLockByID(ctx, g.LockID)
	if err != nil {
		return err
	}
	ev := WebhookEvent{Kind: kind, At: s.now(), LockID: l.ID, LockName: l.Name, CodeID: c.ID, CodeLabel: c.Label,
		PersonID: c.PersonID, Slot: g.Slot, Status: g.Status, Detail: detail}
	if p, err := tx.FindPersonByID(ctx, c.PersonID); err == nil {
		ev.PersonName = p.Name
	} else if ErrorCode(err) != ENOTFOUND {
		return err
	}
	return s.notify(ctx, tx, hooks, ev)
}

// WebhookSend is what the sender needs for one attempt: the delivery, where it goes, and
// the secret it is signed with. NotBefore set means there is nothing to send now: the
// delivery's next attempt is later, or another attempt holds it until then.
type WebhookSend struct {
	Delivery  *WebhookDelivery
	URL       string
	Secret    string
	NotBefore time.Time
}

// WebhookToSend takes a due delivery for one attempt: it holds it for hold (no other
// sender takes it meanwhile; after it, a crashed attempt is made again), and opens the
// webhook's secret to sign the body, the one way a secret leaves the vault after its
// creation. The attempt itself is what is recorded (RecordWebhookAttempt). A delivery
// not due yet comes back with NotBefore and no secret; one not pending, or of a
// disabled webhook, is not sent (ECONFLICT).
func (s *Service) WebhookToSend(ctx context.Context, deliveryID int64, hold time.Duration) (out *WebhookSend, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		out = nil
		d, err := tx.FindWebhookDeliveryByID(ctx, deliveryID)
		if err != nil {
			return err
		}
		if d.Status != DeliveryPending {
			return Errorf(ECONFLICT, "Delivery %d is %s: there is nothing to send.", d.ID, d.Status)
		}
		w, err := tx.FindWebhookByID(ctx, d.WebhookID)
		if err != nil {
			return err
		}
		if !w.Enabled {
			return Errorf(ECONFLICT, "Webhook %d is disabled: delivery %d waits until it is enabled.", w.ID, d.ID)
		}
		now := s.now()
		if d.NextAttemptAt != nil && d.NextAttemptAt.After(now) {
			out = &WebhookSend{Delivery: d, URL: w.URL, NotBefore: *d.NextAttemptAt}
			return nil
		}
		secret, err := s.Vault.Open(w.SealedSecret, webhookAAD(w.ID))
		if err != nil {
			if ErrorCode(err) == EUNAVAILABLE {
				return err
			}
			return Errorf(EINTERNAL, "The sealed secret of webhook %d does not open: it was altered or copied from another webhook. Remove the webhook and add it again.", w.ID)
		}
		held := now.Add(max(hold, time.Second))
		d.NextAttemptAt = &held
		if err := tx.UpdateWebhookDelivery(ctx, d); err != nil {
			return err
		}
		out = &WebhookSend{Delivery: d, URL: w.URL, Secret: string(secret)}
		return nil
	})
	return out, err
}

// RecordWebhookAttempt records one attempt at a delivery. A 2xx answer delivers it;
// otherwise it is tried again after a backoff that doubles from 5 seconds up to an
// hour, with jitter, and fails for good after WebhookMaxAttempts (about a day), or at
// once when permanent is set (the receiver can never take it). The status and the next
// attempt are the domain's to decide.
func (s *Service) RecordWebhookAttempt(ctx context.Context, deliveryID int64, a WebhookAttempt, permanent bool) (d *WebhookDelivery, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	a.At, a.Error = a.At.UTC().Truncate(time.Microsecond), truncate(strings.ToValidUTF8(a.Error, "?"), maxWebhookErrorLen)
	if a.At.IsZero() {
		a.At = s.now()
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if d, err = tx.FindWebhookDeliveryByID(ctx, deliveryID); err != nil {
			return err
		}
		if d.Status != DeliveryPending {
			return Errorf(ECONFLICT, "Delivery %d is %s already; the attempt is not recorded.", d.ID, d.Status)
		}
		d.Attempts = append(d.Attempts, a)
		switch {
		case a.HTTPStatus >= 200 && a.HTTPStatus < 300:
			d.Status, d.NextAttemptAt = DeliveryDelivered, nil
		case permanent || len(d.Attempts) >= WebhookMaxAttempts:
			d.Status, d.NextAttemptAt = DeliveryFailed, nil
		default:
			next := a.At.Add(WebhookBackoff(len(d.Attempts), mrand.Float64()))
			d.NextAttemptAt = &next
		}
		return tx.UpdateWebhookDelivery(ctx, d)
	})
	return d, err
}

// WebhookBackoff is how long to wait after the n-th failed attempt (from 1): 5 s
// doubling up to an hour, spread by jitter (from 0 to 1) over ±20% so that receivers
// coming back up are not hit by every delivery at once.
func WebhookBackoff(n int, jitter float64) time.Duration {
	d := webhookMaxBackoff
	if n < 20 {
		d = min(webhookMaxBackoff, webhookFirstBackoff<<max(0, n-1))
	}
	return time.Duration(float64(d) * (0.8 + 0.4*min(max(jitter, 0), 1)))
}

// DueWebhookDeliveries lists up to limit pending deliveries whose next attempt is due at
// now, oldest due first.
func (s *Service) DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) (ids []int64, err error) {
	if err := requireSettings(ctx); err != nil {
		return nil, err
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		ids, err = tx.FindDueWebhookDeliveries(ctx, now, Page{Limit: limit}.PageLimit())
		return err
	})
	return ids, err
}

// WebhooksDue delivers a value after a change was recorded that may have written
// deliveries, so that the sender looks at once rather than at its next tick.
func (s *Service) WebhooksDue() <-chan struct{} { return s.hookSignal.channel() }

func (s *Service) kickWebhooks() {
	select {
	case s.hookSignal.channel() <- struct{}{}:
	default:
	}
}

// resealWebhookSecrets seals every webhook's secret again under the vault's current key.
func (s *Service) resealWebhookSecrets(ctx context.Context, tx Tx) (n int, err error) {
	hooks, err := tx.FindWebhooks(ctx)
	if err != nil {
		return 0, err
	}
	for _, w := range hooks {
		secret, err := s.Vault.Open(w.SealedSecret, webhookAAD(w.ID))
		if err != nil {
			return 0, err
		}
		if w.SealedSecret, err = s.Vault.Seal(secret, webhookAAD(w.ID)); err != nil {
			return 0, err
		}
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
