// Package webhook sends Latchkey's webhook deliveries: one signed POST per attempt, the
// attempt recorded in the store, the next one scheduled by the domain. The domain writes
// each delivery in the transaction that records its event (an outbox); Deliver makes
// one attempt at one delivery, Due lists what is due, and Plan hands what is due to a
// durable job queue (package jobs), whose jobs call Attempt until each is delivered or
// given up.
//
// The URLs are set by Latchkey's owners only; requests follow no redirect and have a
// deadline, but may reach any address the server can (docs/webhooks.md).
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

// Defaults of a Sender's settings.
const (
	DefaultTimeout = 10 * time.Second
	userAgent      = "Latchkey-Webhook/1"
	maxAnswerBytes = 64 << 10 // read of an answer, so that the connection can be reused
)

// actor is who the audit log and the checks see acting.
const actor = "webhook sender"

// Sender makes delivery attempts. Set Service; the rest has defaults.
type Sender struct {
	Service *latchkey.Service
	// Client sends the requests; nil means one with Timeout that follows no redirect.
	Client *http.Client
	// Timeout bounds each attempt, from connecting to the end of the answer
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// Interval is how often Plan looks for due deliveries when nothing wakes it
	// (DefaultInterval when zero).
	Interval time.Duration
	Logger   *slog.Logger
}

// DeliveryError is why an attempt did not deliver, and whether trying again makes
// sense: Retry is false when the delivery failed for good, or has nothing to send
// (delivered already, removed, its webhook disabled); otherwise NextAttempt is when the
// domain scheduled the next one (zero when it could not be recorded).
type DeliveryError struct {
	DeliveryID  int64
	Reason      string
	Retry       bool
	NextAttempt time.Time
}

// Error implements the error interface.
func (e *DeliveryError) Error() string {
	if e.Retry {
		return fmt.Sprintf("webhook delivery %d: %s (to be tried again)", e.DeliveryID, e.Reason)
	}
	return fmt.Sprintf("webhook delivery %d: %s", e.DeliveryID, e.Reason)
}

// Retryable reports whether err is an attempt worth making again, and when it is due
// (zero when unknown: soon).
func Retryable(err error) (at time.Time, ok bool) {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.NextAttempt, de.Retry
	}
	return time.Time{}, err != nil
}

func (s *Sender) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{
		Timeout: s.timeout(),
		// A redirect is answered, not followed: the receiver is the URL an owner set.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// context acts as the sender.
func (s *Sender) context(ctx context.Context) context.Context {
	return latchkey.NewContextWithActor(ctx, actor)
}

// Deliver makes one attempt at a delivery: it POSTs the payload, signed, to the
// subscription's URL, and records the attempt. It returns nil when the receiver took it
// (2xx), and otherwise a *DeliveryError saying whether and when to try again, or the
// store's error (worth retrying) when the attempt could not be recorded.
func (s *Sender) Deliver(ctx context.Context, deliveryID int64) error {
	ctx = s.context(ctx)
	// Held for the attempt and a little more, so that no other sender takes it meanwhile.
	send, err := s.Service.WebhookToSend(ctx, deliveryID, s.timeout()+30*time.Second)
	switch latchkey.ErrorCode(err) {
	case "":
	case latchkey.ECONFLICT, latchkey.ENOTFOUND:
		return &DeliveryError{DeliveryID: deliveryID, Reason: latchkey.ErrorMessage(err)}
	default:
		return err
	}
	if !send.NotBefore.IsZero() {
		return &DeliveryError{DeliveryID: deliveryID, Reason: "not due yet, or being sent by another sender", Retry: true, NextAttempt: send.NotBefore}
	}
	attempt, permanent := s.post(ctx, send)
	d, err := s.Service.RecordWebhookAttempt(ctx, deliveryID, attempt, permanent)
	if err != nil {
		if latchkey.ErrorCode(err) == latchkey.ECONFLICT || latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			return &DeliveryError{DeliveryID: deliveryID, Reason: latchkey.ErrorMessage(err)}
		}
		return err
	}
	switch d.Status {
	case latchkey.DeliveryDelivered:
		return nil
	case latchkey.DeliveryFailed:
		return &DeliveryError{DeliveryID: deliveryID, Reason: fmt.Sprintf("%s; given up after %d attempts", attempt.Error, len(d.Attempts))}
	}
	de := &DeliveryError{DeliveryID: deliveryID, Reason: attempt.Error, Retry: true}
	if d.NextAttemptAt != nil {
		de.NextAttempt = *d.NextAttemptAt
	}
	return de
}

// post sends the request and says what came of it, and whether the receiver said it
// will never take the delivery (410 Gone).
func (s *Sender) post(ctx context.Context, send *latchkey.WebhookSend) (a latchkey.WebhookAttempt, permanent bool) {
	a.At = s.Service.Clock.Now()
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	body := []byte(send.Delivery.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, send.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = "the URL cannot be called: " + err.Error()
		return a, true
	}
	ts := a.At.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(send.Delivery.ID, 10))
	req.Header.Set(HeaderEvent, string(send.Delivery.Kind))
	req.Header.Set(HeaderSignature, Sign(send.Secret, ts, body))
	resp, err := s.client().Do(req)
	if err != nil {
		a.Error = "no answer: " + transportError(err)
		return a, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	a.HTTPStatus = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = fmt.Sprintf("the receiver answered %s, a redirect, which is not followed; set the webhook's URL to where it leads", resp.Status)
	case resp.StatusCode == http.StatusGone:
		a.Error = "the receiver answered 410 Gone: it will never take this delivery"
		return a, true
	default:
		a.Error = "the receiver answered " + resp.Status
	}
	return a, false
}

// transportError says what went wrong without repeating the URL (which may hold a
// receiver's own token).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the receiver did not answer in time"
	}
	return err.Error()
}

// Due lists the deliveries due at now (at most 100), the longest waiting first.
func (s *Sender) Due(ctx context.Context, now time.Time) ([]int64, error) {
	return s.Service.DueWebhookDeliveries(s.context(ctx), now, 100)
}
