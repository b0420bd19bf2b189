package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
	"github.com/latchkey/latchkey/webhook"
)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest server that answers each request with the next status of
// answers (the last one from then on) and keeps what it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers []int
	got     []received
	arrived chan struct{}
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers, arrived: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		status := r.answers[min(len(r.got), len(r.answers))-1]
		r.mu.Unlock()
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "http://example.invalid/elsewhere")
		}
		w.WriteHeader(status)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// home is a service on SQLite with a connected lock holding a code, and a webhook on url
// for every kind.
type home struct {
	svc    *latchkey.Service
	clock  *clock
	lock   *latchkey.Lock
	hook   *latchkey.Webhook
	secret string
	pin    string
}

var owner = latchkey.NewContextWithActor(context.Background(), "ana")

func newHome(t testing.TB, url string) *home {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := storetest.NewService(t, db)
	c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	svc.Clock = c
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(owner, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front door"}
	must(t, svc.CreateDoor(owner, door))
	l := &latchkey.Lock{DoorID: door.ID, Name: "Front", ModelID: "916", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}
	must(t, svc.CreateLock(owner, l))
	p := &latchkey.Person{Name: "Sam", Role: latchkey.RoleFamily}
	must(t, svc.CreatePerson(owner, p))
	_, pin, err := svc.CreateCode(owner, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	w, secret, err := svc.CreateWebhook(owner, latchkey.NewWebhook{URL: url, Events: []latchkey.WebhookKind{"all"}})
	must(t, err)
	return &home{svc: svc, clock: c, lock: l, hook: w, secret: secret, pin: pin}
}

// event records a lock event and returns the delivery it wrote.
func (h *home) event(t *testing.T, kind latchkey.EventKind, slot int) *latchkey.WebhookDelivery {
	t.Helper()
	_, err := h.svc.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: kind, Source: latchkey.SourceKeypad, Slot: slot})
	must(t, err)
	ds, _, err := h.svc.FindWebhookDeliveries(owner, latchkey.WebhookDeliveryFilter{}, latchkey.Page{Limit: 1})
	must(t, err)
	return ds[0]
}

func (h *home) delivery(t *testing.T, id int64) *latchkey.WebhookDelivery {
	t.Helper()
	ds, _, err := h.svc.FindWebhookDeliveries(owner, latchkey.WebhookDeliveryFilter{}, latchkey.Page{Limit: 100})
	must(t, err)
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no delivery %d", id)
	return nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// verify checks a request as a receiver following docs/webhooks.md would, computing the
// HMAC itself.
func verify(t *testing.T, secret string, r received, now time.Time) {
	t.Helper()
	ts := r.header.Get("X-Latchkey-Timestamp")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(r.body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if got := r.header.Get("X-Latchkey-Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		t.Fatalf("signature %q, want %q", got, want)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		t.Fatalf("timestamp %q at %v", ts, now)
	}
	if !webhook.Verify(secret, ts, want, r.body, now, 5*time.Minute) {
		t.Fatal("webhook.Verify refuses what the receiver accepted")
	}
}

// A delivery is signed over the timestamp and the body with the subscription's secret; a
// receiver recomputing it agrees, and any change to the body, the timestamp or the
// secret breaks it.
func TestSignatureVerifies(t *testing.T) {
	rcv := newReceiver(t, 200)
	h := newHome(t, rcv.URL+"/in")
	d := h.event(t, latchkey.EventJammed, 0)
	must(t, (&webhook.Sender{Service: h.svc}).Deliver(context.Background(), d.ID))
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	verify(t, h.secret, r, h.clock.Now())
	if r.header.Get("X-Latchkey-Delivery") != strconv.FormatInt(d.ID, 10) || r.header.Get("X-Latchkey-Event") != "lock.jammed" ||
		r.header.Get("Content-Type") != "application/json" || string(r.body) != string(d.Payload) {
		t.Fatalf("headers %v body %s", r.header, r.body)
	}
	ts, sig, now := r.header.Get("X-Latchkey-Timestamp"), r.header.Get("X-Latchkey-Signature"), h.clock.Now()
	for name, ok := range map[string]bool{
		"changed body":     webhook.Verify(h.secret, ts, sig, append([]byte(" "), r.body...), now, time.Minute),
		"other timestamp":  webhook.Verify(h.secret, strconv.FormatInt(now.Unix()+1, 10), sig, r.body, now, time.Minute),
		"other secret":     webhook.Verify(h.secret+"x", ts, sig, r.body, now, time.Minute),
		"replayed later":   webhook.Verify(h.secret, ts, sig, r.body, now.Add(time.Hour), time.Minute),
		"not a timestamp":  webhook.Verify(h.secret, "yesterday", sig, r.body, now, time.Minute),
		"signature of one": webhook.Verify(h.secret, ts, webhook.Sign(h.secret, now.Unix(), []byte("{}")), r.body, now, time.Minute),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

// A receiver that fails twice and then takes the delivery: each attempt is recorded with
// its answer, the next one waits longer, and the third delivers.
func TestFailsTwiceThenDelivers(t *testing.T) {
	rcv := newReceiver(t, 500, 503, 204)
	h := newHome(t, rcv.URL+"/in")
	s := &webhook.Sender{Service: h.svc}
	d := h.event(t, latchkey.EventUnlocked, 1)
	start := h.clock.Now()

	err := s.Deliver(context.Background(), d.ID)
	at, retry := webhook.Retryable(err)
	if !retry || at.Before(start.Add(4*time.Second)) || at.After(start.Add(6*time.Second)) {
		t.Fatalf("after a 500: %v, next at %v (want retry about 5 s on)", err, at)
	}
	if due, _ := s.Due(context.Background(), h.clock.Now()); len(due) != 0 {
		t.Fatalf("due before its backoff: %v", due)
	}
	// Asked too early (a job run before its time), nothing is sent and nothing recorded.
	if early, retry := webhook.Retryable(s.Deliver(context.Background(), d.ID)); !retry || !early.Equal(at.Truncate(time.Microsecond)) || len(rcv.requests()) != 1 {
		t.Fatalf("an early Deliver: retry %v at %v, %d requests", retry, early, len(rcv.requests()))
	}
	h.clock.add(at.Sub(h.clock.Now()))
	if due, _ := s.Due(context.Background(), h.clock.Now()); len(due) != 1 || due[0] != d.ID {
		t.Fatalf("due after its backoff: %v", due)
	}
	second := h.clock.Now()
	err = s.Deliver(context.Background(), d.ID)
	at2, retry := webhook.Retryable(err)
	if !retry || at2.Sub(second) < 8*time.Second || at2.Sub(second) > 12*time.Second {
		t.Fatalf("after a 503: %v, next at %v (want about 10 s on)", err, at2.Sub(second))
	}
	h.clock.add(at2.Sub(h.clock.Now()))
	must(t, s.Deliver(context.Background(), d.ID))

	got := h.delivery(t, d.ID)
	if got.Status != latchkey.DeliveryDelivered || len(got.Attempts) != 3 || got.NextAttemptAt != nil {
		t.Fatalf("the delivery %+v", got)
	}
	for i, want := range []int{500, 503, 204} {
		if got.Attempts[i].HTTPStatus != want {
			t.Errorf("attempt %d answered %d, want %d", i+1, got.Attempts[i].HTTPStatus, want)
		}
	}
	if !strings.Contains(got.Attempts[0].Error, "500") || got.Attempts[2].Error != "" || !got.Attempts[1].At.Equal(second.Truncate(time.Microsecond)) {
		t.Fatalf("the attempts %+v", got.Attempts)
	}
	reqs := rcv.requests()
	if len(reqs) != 3 || reqs[0].header.Get("X-Latchkey-Delivery") != reqs[2].header.Get("X-Latchkey-Delivery") ||
		reqs[0].header.Get("X-Latchkey-Timestamp") == reqs[2].header.Get("X-Latchkey-Timestamp") {
		t.Fatalf("%d requests; each attempt carries the delivery's id and its own time", len(reqs))
	}
	verify(t, h.secret, reqs[2], h.clock.Now())
	// Delivered, there is nothing to send again.
	if _, retry := webhook.Retryable(s.Deliver(context.Background(), d.ID)); retry {
		t.Fatal("a delivered delivery is worth retrying")
	}
}

// A receiver that says it will never take it (410), or that redirects, or does not
// answer: the first fails for good at once, a redirect is not followed, and a receiver
// that never takes it fails for good after the last attempt.
func TestPermanentFailures(t *testing.T) {
	t.Run("Gone", func(t *testing.T) {
		rcv := newReceiver(t, 410)
		h := newHome(t, rcv.URL)
		d := h.event(t, latchkey.EventTamper, 0)
		err := (&webhook.Sender{Service: h.svc}).Deliver(context.Background(), d.ID)
		if _, retry := webhook.Retryable(err); retry || err == nil || !strings.Contains(err.Error(), "410") {
			t.Fatalf("a 410: %v", err)
		}
		if got := h.delivery(t, d.ID); got.Status != latchkey.DeliveryFailed {
			t.Fatalf("after a 410: %+v", got)
		}
	})
	t.Run("RedirectNotFollowed", func(t *testing.T) {
		rcv := newReceiver(t, 302)
		h := newHome(t, rcv.URL)
		d := h.event(t, latchkey.EventTamper, 0)
		_, retry := webhook.Retryable((&webhook.Sender{Service: h.svc}).Deliver(context.Background(), d.ID))
		got := h.delivery(t, d.ID)
		if !retry || len(rcv.requests()) != 1 || got.Attempts[0].HTTPStatus != 302 || !strings.Contains(got.Attempts[0].Error, "not followed") {
			t.Fatalf("a redirect: %+v", got)
		}
	})
	t.Run("NoAnswer", func(t *testing.T) {
		stop := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
		t.Cleanup(func() { close(stop); slow.Close() })
		h := newHome(t, slow.URL)
		d := h.event(t, latchkey.EventTamper, 0)
		_, retry := webhook.Retryable((&webhook.Sender{Service: h.svc, Timeout: 50 * time.Millisecond}).Deliver(context.Background(), d.ID))
		got := h.delivery(t, d.ID)
		if !retry || got.Attempts[0].HTTPStatus != 0 || !strings.Contains(got.Attempts[0].Error, "did not answer in time") || strings.Contains(got.Attempts[0].Error, slow.URL) {
			t.Fatalf("no answer: %+v", got.Attempts)
		}
	})
	t.Run("GivenUp", func(t *testing.T) {
		rcv := newReceiver(t, 500)
		h := newHome(t, rcv.URL)
		s := &webhook.Sender{Service: h.svc}
		d := h.event(t, latchkey.EventTamper, 0)
		var err error
		total := time.Duration(0)
		for range latchkey.WebhookMaxAttempts {
			before := h.clock.Now()
			err = s.Deliver(context.Background(), d.ID)
			if at, retry := webhook.Retryable(err); retry {
				h.clock.add(at.Sub(before))
				total += at.Sub(before)
			}
		}
		if _, retry := webhook.Retryable(err); retry || h.delivery(t, d.ID).Status != latchkey.DeliveryFailed {
			t.Fatalf("after %d attempts: %v", latchkey.WebhookMaxAttempts, err)
		}
		// About a day of trying, as the retry ladder promises (docs/webhooks.md).
		if total < 18*time.Hour || total > 30*time.Hour {
			t.Fatalf("the attempts spread over %v", total)
		}
	})
}

// A replay sends the same payload again as a new delivery.
func TestReplay(t *testing.T) {
	rcv := newReceiver(t, 200)
	h := newHome(t, rcv.URL)
	s := &webhook.Sender{Service: h.svc}
	d := h.event(t, latchkey.EventJammed, 0)
	must(t, s.Deliver(context.Background(), d.ID))
	r, err := h.svc.ReplayWebhookDelivery(owner, d.ID)
	must(t, err)
	must(t, s.Deliver(context.Background(), r.ID))
	reqs := rcv.requests()
	if len(reqs) != 2 || string(reqs[0].body) != string(reqs[1].body) || reqs[1].header.Get("X-Latchkey-Delivery") != strconv.FormatInt(r.ID, 10) {
		t.Fatalf("the replay sent %d requests", len(reqs))
	}
	verify(t, h.secret, reqs[1], h.clock.Now())
}

// The job queue sends a delivery as soon as its event is recorded, without waiting for
// the planner's timer.
func TestQueueSendsWhenWoken(t *testing.T) {
	rcv := newReceiver(t, 200)
	h := newHome(t, rcv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop := runQueued(t, ctx, &webhook.Sender{Service: h.svc, Interval: time.Hour})
	d := h.event(t, latchkey.EventKeypadLockout, 0)
	select {
	case <-rcv.arrived:
	case <-ctx.Done():
		t.Fatal("the queue did not send the delivery")
	}
	stop()
	var ev latchkey.WebhookEvent
	must(t, json.Unmarshal(rcv.requests()[0].body, &ev))
	if ev.Kind != latchkey.HookLockLockout || h.delivery(t, d.ID).Status != latchkey.DeliveryDelivered {
		t.Fatalf("sent %+v", ev)
	}
}

// noLocks is a sync engine with no lock to sync, for a queue that runs deliveries.
type noLocks struct{}

func (noLocks) SyncLock(context.Context, int64) (bool, error) { return false, nil }

// runQueued runs the sender as the server does: Plan hands due deliveries to a job queue
// (River, on a SQLite file of its own) whose jobs make the attempts. stop ends both.
func runQueued(t *testing.T, ctx context.Context, sender *webhook.Sender) (stop func()) {
	t.Helper()
	q, err := jobs.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "jobs.db"),
		jobs.Config{Sync: noLocks{}, Deliver: sender, PollInterval: 50 * time.Millisecond})
	must(t, err)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sender.Plan(ctx, q); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			closing, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			must(t, q.Close(closing))
		})
	}
	t.Cleanup(stop)
	return stop
}
