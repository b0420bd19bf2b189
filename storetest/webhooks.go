package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// lockWithCode makes a lock on the twins' driver at address, with a person's code set
// on it, and returns the lock, the person, the code and its PIN.
func lockWithCode(t *testing.T, s *latchkey.Service, name string) (*latchkey.Lock, *latchkey.Person, *latchkey.Code, string) {
	t.Helper()
	l, p := connectedLock(t, s, name, name)
	c, pin, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam's code"}, PIN: "482913", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	return l, p, c, pin
}

// allDeliveries lists every delivery, newest first.
func allDeliveries(t *testing.T, s *latchkey.Service) []*latchkey.WebhookDelivery {
	t.Helper()
	ds, _, err := s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{}, latchkey.Page{Limit: 100})
	must(t, err)
	return ds
}

// Subscriptions keep their secret sealed: shown once when made (made by Latchkey, or
// chosen), never listed, never in the audit log; only owners manage them; bad input is
// refused saying what to do.
func testWebhooks(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	w, secret, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://hooks.example.com/in?token=abc", Events: []latchkey.WebhookKind{"lock.jammed", "code.set", "lock.jammed"}})
	must(t, err)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+64 || w.SecretHint != "…"+secret[len(secret)-4:] || w.SealedSecret != nil {
		t.Fatalf("a made secret %q, webhook %+v", secret, w)
	}
	if !w.Enabled || w.CreatedBy != "tester" || len(w.Events) != 2 || w.Events[0] != latchkey.HookCodeSet {
		t.Fatalf("the webhook %+v: enabled, by tester, two kinds in the catalogue's order", w)
	}
	chosen := "a-secret-of-my-own-choosing"
	w2, got, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "http://10.0.0.5:8080/hook", Events: []latchkey.WebhookKind{"code.revoked_used"}, Secret: chosen})
	must(t, err)
	if got != chosen || w2.SecretHint != "…sing" {
		t.Fatalf("a chosen secret comes back %q with hint %q", got, w2.SecretHint)
	}
	hooks, err := s.FindWebhooks(ctx())
	must(t, err)
	if len(hooks) != 2 || hooks[0].SealedSecret != nil || hooks[0].URL != "https://hooks.example.com/in?token=abc" {
		t.Fatalf("listed webhooks %+v", hooks)
	}
	one, err := s.FindWebhookByID(ctx(), w.ID)
	must(t, err)
	if b, _ := json.Marshal(one); strings.Contains(string(b), secret) || strings.Contains(string(b), "sealed") {
		t.Fatalf("a webhook shown carries its secret: %s", b)
	}

	// Refusals that say what to do.
	for _, tc := range []struct {
		req  latchkey.NewWebhook
		says string
	}{
		{latchkey.NewWebhook{URL: "ftp://example.com/x", Events: []latchkey.WebhookKind{"code.set"}}, "https://"},
		{latchkey.NewWebhook{URL: "https://ana:pw@example.com/x", Events: []latchkey.WebhookKind{"code.set"}}, "user name or password"},
		{latchkey.NewWebhook{URL: "https:///x", Events: []latchkey.WebhookKind{"code.set"}}, "no host"},
		{latchkey.NewWebhook{URL: "https://example.com/" + strings.Repeat("a", 2001), Events: []latchkey.WebhookKind{"code.set"}}, "longer than"},
		{latchkey.NewWebhook{URL: "https://example.com/x", Events: []latchkey.WebhookKind{"door.opened"}}, "not a webhook event"},
		{latchkey.NewWebhook{URL: "https://example.com/x"}, "at least one event"},
		{latchkey.NewWebhook{URL: "https://example.com/x", Events: []latchkey.WebhookKind{"code.set"}, Secret: "short"}, "at least 16"},
	} {
		_, _, err := s.CreateWebhook(ctx(), tc.req)
		wantSays(t, err, latchkey.EINVALID, tc.says)
	}

	// Only owners manage webhooks.
	for _, role := range []latchkey.UserRole{latchkey.UserViewer, latchkey.UserInstaller, latchkey.UserManager} {
		who := as(role, 7)
		_, _, err := s.CreateWebhook(who, latchkey.NewWebhook{URL: "https://example.com/x", Events: []latchkey.WebhookKind{"code.set"}})
		wantSays(t, err, latchkey.EFORBIDDEN, "may not manage settings")
		_, err = s.FindWebhooks(who)
		wantCode(t, err, latchkey.EFORBIDDEN)
		_, _, err = s.FindWebhookDeliveries(who, latchkey.WebhookDeliveryFilter{}, latchkey.Page{})
		wantCode(t, err, latchkey.EFORBIDDEN)
		wantCode(t, s.DeleteWebhook(who, w.ID), latchkey.EFORBIDDEN)
		_, err = s.ReplayWebhookDelivery(who, 1)
		wantCode(t, err, latchkey.EFORBIDDEN)
	}
	_, err = s.FindWebhooks(context.Background())
	wantCode(t, err, latchkey.EUNAUTHORIZED)

	// Paused, resumed, removed; every act in the audit log, no secret in it.
	_, err = s.SetWebhookEnabled(ctx(), w.ID, false)
	must(t, err)
	_, err = s.SetWebhookEnabled(ctx(), w.ID, false)
	wantCode(t, err, latchkey.ECONFLICT)
	must(t, s.DeleteWebhook(ctx(), w2.ID))
	wantCode(t, s.DeleteWebhook(ctx(), w2.ID), latchkey.ENOTFOUND)
	entries, _, err := s.FindAuditEntries(ctx(), latchkey.AuditFilter{Entity: "webhook"}, latchkey.Page{})
	must(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		for _, leak := range []string{secret, chosen, "token=abc", secret[len(secret)-4:]} {
			if strings.Contains(e.Detail, leak) {
				t.Fatalf("audit entry %s holds %q: %s", e.Action, leak, e.Detail)
			}
		}
	}
	if strings.Join(actions, " ") != "webhook.delete webhook.disable webhook.create webhook.create" {
		t.Fatalf("audit actions %v", actions)
	}
	if got := entries[3].Sentence(); got != "tester added webhook "+itoa(w.ID) {
		t.Fatalf("the sentence %q", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// crashingStore gives up every change after it ran, as a crash before the commit would.
type crashingStore struct{ latchkey.Store }

func (c crashingStore) Update(ctx context.Context, fn func(latchkey.Tx) error) error {
	return c.Store.Update(ctx, func(tx latchkey.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errors.New("crashed before the commit")
	})
}

// An event of a subscribed kind writes a pending delivery in its own transaction: kept
// with the event, gone with it. Payloads name the lock, the code and the person, and
// never hold a PIN.
func testWebhookOutbox(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p, c, pin := lockWithCode(t, s, "front")
	other, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Spare"}, PIN: "730245", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Kept"}, PIN: "591746", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	all, _, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://example.com/all", Events: []latchkey.WebhookKind{"all"}})
	must(t, err)
	jams, _, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://example.com/jams", Events: []latchkey.WebhookKind{latchkey.HookLockJammed}})
	must(t, err)
	off, _, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://example.com/off", Events: []latchkey.WebhookKind{"all"}})
	must(t, err)
	_, err = s.SetWebhookEnabled(ctx(), off.ID, false)
	must(t, err)

	// A crash before the commit loses the event and its deliveries together.
	crashed := &latchkey.Service{Store: crashingStore{store}, Vault: s.Vault, Models: s.Models, Clock: s.Clock}
	_, err = crashed.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventJammed})
	if err == nil {
		t.Fatal("the crashing store committed")
	}
	if ds := allDeliveries(t, s); len(ds) != 0 {
		t.Fatalf("a crashed event left %d deliveries", len(ds))
	}

	e, err := s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventUnlocked, Source: latchkey.SourceKeypad, Slot: 1})
	must(t, err)
	ds := allDeliveries(t, s)
	if len(ds) != 1 || ds[0].WebhookID != all.ID || ds[0].Kind != latchkey.HookLockUnlocked || ds[0].Status != latchkey.DeliveryPending ||
		ds[0].NextAttemptAt == nil || !ds[0].NextAttemptAt.Equal(e.At) || len(ds[0].Attempts) != 0 {
		t.Fatalf("after an unlock: %+v", ds)
	}
	var ev latchkey.WebhookEvent
	must(t, json.Unmarshal(ds[0].Payload, &ev))
	if ev.ID == "" || ev.ID != ds[0].EventID || ev.LockID != l.ID || ev.LockName != "front" || ev.PersonID != p.ID || ev.PersonName != p.Name ||
		ev.CodeID != c.ID || ev.CodeLabel != "Sam's code" || ev.Slot != 1 || ev.EventRef != e.ID || !ev.At.Equal(e.At) {
		t.Fatalf("the unlock's payload %s", ds[0].Payload)
	}
	_, err = s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventJammed})
	must(t, err)
	ds = allDeliveries(t, s)
	if len(ds) != 3 || ds[0].EventID != ds[1].EventID || ds[0].Kind != latchkey.HookLockJammed || ds[0].WebhookID == ds[1].WebhookID {
		t.Fatalf("a jam goes to both subscriptions that want it, as one event: %+v", ds)
	}
	ids, err := s.DueWebhookDeliveries(ctx(), s.Clock.Now(), 10)
	must(t, err)
	if len(ids) != 3 || ids[0] != ds[2].ID {
		t.Fatalf("due now: %v; want the three, oldest first", ids)
	}
	if ids, _ := s.DueWebhookDeliveries(ctx(), s.Clock.Now().Add(-time.Hour), 10); len(ids) != 0 {
		t.Fatalf("due an hour ago: %v", ids)
	}
	_, err = s.SetWebhookEnabled(ctx(), jams.ID, false)
	must(t, err)
	if ids, _ := s.DueWebhookDeliveries(ctx(), s.Clock.Now(), 10); len(ids) != 2 {
		t.Fatalf("a paused webhook's deliveries are not due: %v", ids)
	}

	// The lock's other reports, and codes' changes of standing.
	for _, k := range []latchkey.EventKind{latchkey.EventWrongCode, latchkey.EventKeypadLockout, latchkey.EventLowBattery, latchkey.EventTamper,
		latchkey.EventOffline, latchkey.EventLocked, latchkey.EventResetLocally} {
		_, err = s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: k, Detail: "reported"})
		must(t, err)
	}
	// Quarantined by the reset: paired again, the code is put back and read back.
	_, err = s.Reprovision(ctx(), l.ID)
	must(t, err)
	task := latchkey.SyncTask{LockID: l.ID, CodeID: c.ID, Slot: 1, Action: latchkey.SyncPut}
	_, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: task, Reason: "the lock did not answer"})
	must(t, err)
	_, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: task, Reason: "the lock did not answer again"}) // failed still: no news
	must(t, err)
	_, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: task, Done: true})
	must(t, err)
	_, err = s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventCodeDeleted, Slot: 1})
	must(t, err)
	_, err = s.RevokeCode(ctx(), other.ID)
	must(t, err)
	_, err = s.ConfirmCode(ctx(), other.ID, l.ID)
	must(t, err)
	var kinds []string
	ds = allDeliveries(t, s)
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].WebhookID == all.ID {
			kinds = append(kinds, string(ds[i].Kind))
		}
		if strings.Contains(string(ds[i].Payload), pin) || strings.Contains(string(ds[i].Payload), "730245") {
			t.Fatalf("a payload holds a PIN: %s", ds[i].Payload)
		}
		if ds[i].WebhookID == off.ID {
			t.Fatalf("a disabled webhook got a delivery: %+v", ds[i])
		}
	}
	want := "lock.unlocked lock.jammed lock.wrong_code lock.keypad_lockout lock.battery_low lock.tampered lock.offline lock.reset code.failed code.set code.conflict code.removed"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("delivered kinds\n%s\nwant\n%s", strings.Join(kinds, " "), want)
	}
	must(t, json.Unmarshal(ds[1].Payload, &ev))
	if ev.Kind != latchkey.HookCodeConflict || ev.Status != latchkey.GrantFailed || !strings.Contains(ev.Detail, "deleted at the keypad") || ev.CodeLabel != "Sam's code" {
		t.Fatalf("the conflict's payload %s", ds[1].Payload)
	}

	// A code recorded as already on the lock is delivered as set.
	late, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Late"}, PIN: "614825", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	ds = allDeliveries(t, s)
	must(t, json.Unmarshal(ds[0].Payload, &ev))
	if ds[0].Kind != latchkey.HookCodeSet || ev.CodeID != late.ID || ev.Status != latchkey.GrantSet || strings.Contains(string(ds[0].Payload), "614825") {
		t.Fatalf("a code added as set: %s", ds[0].Payload)
	}

	// Removing a webhook removes its deliveries.
	must(t, s.DeleteWebhook(ctx(), all.ID))
	for _, d := range allDeliveries(t, s) {
		if d.WebhookID == all.ID {
			t.Fatalf("a removed webhook's delivery stayed: %+v", d)
		}
	}
}

// Attempts are recorded with their answer; a failure is tried again after a backoff
// that grows, a 2xx delivers, a permanent refusal or too many attempts fail for good;
// a replay is a new delivery of the same payload, audited.
func testWebhookAttempts(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	clock := s.Clock.(*fixedClock)
	lockWithCode(t, s, "front")
	w, secret, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://example.com/in", Events: []latchkey.WebhookKind{"lock.jammed"}})
	must(t, err)
	for range 3 {
		_, err = s.RecordDeviceEvent(context.Background(), latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventJammed})
		must(t, err)
	}
	ds := allDeliveries(t, s)
	first, second, third := ds[2], ds[1], ds[0]

	send, err := s.WebhookToSend(ctx(), first.ID, time.Minute)
	must(t, err)
	if held, _ := s.WebhookToSend(ctx(), first.ID, time.Minute); held.Secret != "" || !held.NotBefore.Equal(s.Clock.Now().Truncate(time.Microsecond).Add(time.Minute)) {
		t.Fatalf("a delivery held by an attempt under way is taken again: %+v", held)
	}
	if ids, _ := s.DueWebhookDeliveries(ctx(), s.Clock.Now(), 10); len(ids) != 2 {
		t.Fatalf("due while one is held: %v", ids)
	}
	if send.Secret != secret || send.URL != w.URL || send.Delivery.ID != first.ID || string(send.Delivery.Payload) != string(first.Payload) {
		t.Fatalf("to send: %+v", send)
	}
	now := clock.Now().UTC().Truncate(time.Microsecond)
	d, err := s.RecordWebhookAttempt(ctx(), first.ID, latchkey.WebhookAttempt{At: now, HTTPStatus: 500, Error: "the receiver answered 500"}, false)
	must(t, err)
	if d.Status != latchkey.DeliveryPending || len(d.Attempts) != 1 || d.NextAttemptAt == nil ||
		d.NextAttemptAt.Before(now.Add(4*time.Second)) || d.NextAttemptAt.After(now.Add(6*time.Second)) {
		t.Fatalf("after a first failure: %+v", d)
	}
	d, err = s.RecordWebhookAttempt(ctx(), first.ID, latchkey.WebhookAttempt{At: now.Add(5 * time.Second), Error: "no answer"}, false)
	must(t, err)
	if gap := d.NextAttemptAt.Sub(now.Add(5 * time.Second)); gap < 8*time.Second || gap > 12*time.Second {
		t.Fatalf("after a second failure the next attempt is %v later; want about 10 s", gap)
	}
	d, err = s.RecordWebhookAttempt(ctx(), first.ID, latchkey.WebhookAttempt{At: now.Add(20 * time.Second), HTTPStatus: 204}, false)
	must(t, err)
	if d.Status != latchkey.DeliveryDelivered || d.NextAttemptAt != nil || len(d.Attempts) != 3 || d.Attempts[0].HTTPStatus != 500 || d.Attempts[1].Error != "no answer" {
		t.Fatalf("delivered: %+v", d)
	}
	_, err = s.RecordWebhookAttempt(ctx(), first.ID, latchkey.WebhookAttempt{At: now, HTTPStatus: 200}, false)
	wantCode(t, err, latchkey.ECONFLICT)
	_, err = s.WebhookToSend(ctx(), first.ID, time.Minute)
	wantCode(t, err, latchkey.ECONFLICT)

	d, err = s.RecordWebhookAttempt(ctx(), second.ID, latchkey.WebhookAttempt{At: now, HTTPStatus: 410, Error: "gone"}, true)
	must(t, err)
	if d.Status != latchkey.DeliveryFailed || d.NextAttemptAt != nil {
		t.Fatalf("a permanent refusal: %+v", d)
	}
	for i := range latchkey.WebhookMaxAttempts {
		d, err = s.RecordWebhookAttempt(ctx(), third.ID, latchkey.WebhookAttempt{At: now, HTTPStatus: 503}, false)
		must(t, err)
		if want := map[bool]latchkey.DeliveryStatus{true: latchkey.DeliveryFailed, false: latchkey.DeliveryPending}[i == latchkey.WebhookMaxAttempts-1]; d.Status != want {
			t.Fatalf("after %d attempts: %s, want %s", i+1, d.Status, want)
		}
	}

	// A replay: the same event and payload, anew.
	r, err := s.ReplayWebhookDelivery(ctx(), third.ID)
	must(t, err)
	if r.ID == third.ID || r.ReplayOf != third.ID || r.EventID != third.EventID || string(r.Payload) != string(third.Payload) || r.Status != latchkey.DeliveryPending || len(r.Attempts) != 0 {
		t.Fatalf("the replay %+v of %+v", r, third)
	}
	if ids, _ := s.DueWebhookDeliveries(ctx(), clock.Now(), 10); len(ids) != 1 || ids[0] != r.ID {
		t.Fatalf("due after the replay: %v", ids)
	}
	_, err = s.ReplayWebhookDelivery(ctx(), 999999)
	wantCode(t, err, latchkey.ENOTFOUND)
	entries, _, err := s.FindAuditEntries(ctx(), latchkey.AuditFilter{Action: "webhook.replay"}, latchkey.Page{})
	must(t, err)
	if len(entries) != 1 || entries[0].EntityID != w.ID || !strings.Contains(entries[0].Detail, `"replay_id":`+itoa(r.ID)) {
		t.Fatalf("the replay's audit entries %+v", entries)
	}

	// Newest first, paged; by status.
	page, total, err := s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{WebhookID: &w.ID}, latchkey.Page{Limit: 2, Offset: 1})
	must(t, err)
	if total != 4 || len(page) != 2 || page[0].ID != third.ID || page[1].ID != second.ID {
		t.Fatalf("page 2 of the deliveries: %d of %d", len(page), total)
	}
	failed := latchkey.DeliveryFailed
	if _, total, _ := s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{Status: &failed}, latchkey.Page{}); total != 2 {
		t.Fatalf("%d failed deliveries, want 2", total)
	}
	bogus := latchkey.DeliveryStatus("lost")
	_, _, err = s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{Status: &bogus}, latchkey.Page{})
	wantCode(t, err, latchkey.EINVALID)
	missing := int64(999999)
	_, _, err = s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{WebhookID: &missing}, latchkey.Page{})
	wantCode(t, err, latchkey.ENOTFOUND)

	// The secret survives sealing again under the vault's key.
	_, err = s.ResealSecrets(ctx())
	must(t, err)
	send, err = s.WebhookToSend(ctx(), r.ID, time.Minute)
	must(t, err)
	if send.Secret != secret {
		t.Fatal("the secret changed when it was sealed again")
	}
}

// A code late reaching a lock on a hub is delivered as code.delayed once per delay: not
// again on the next pass, again once it changed and is late anew; a code whose time has
// not come is not late.
func testWebhookDelays(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	clock := s.Clock.(*fixedClock)
	l, p := connectedLock(t, s, "Front", "front")
	hook, _, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://example.com/late", Events: []latchkey.WebhookKind{latchkey.HookCodeDelayed}})
	must(t, err)
	c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{l.ID}})
	must(t, err)
	start, end := clock.t.Add(48*time.Hour), clock.t.Add(72*time.Hour)
	_, _, err = s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Later", Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}},
		PIN: "730245", LockIDs: []int64{l.ID}})
	must(t, err)
	delayed := func() int {
		t.Helper()
		ds, _, err := s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{WebhookID: &hook.ID}, latchkey.Page{Limit: 100})
		must(t, err)
		return len(ds)
	}
	if n, err := s.NoteDelays(ctx()); err != nil || n != 0 || delayed() != 0 {
		t.Fatalf("on time: noted %d (%v), %d deliveries", n, err, delayed())
	}
	clock.t = clock.t.Add(latchkey.SyncDelay + time.Minute)
	if n, err := s.NoteDelays(ctx()); err != nil || n != 1 || delayed() != 1 {
		t.Fatalf("late: noted %d (%v), %d deliveries; want the pending code's one", n, err, delayed())
	}
	if n, err := s.NoteDelays(ctx()); err != nil || n != 0 || delayed() != 1 {
		t.Fatalf("the same delay again: noted %d (%v), %d deliveries", n, err, delayed())
	}
	// Tried again, and late again: delivered anew.
	next := clock.t
	_, err = s.RecordSync(ctx(), latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: l.ID, CodeID: c.ID, Action: latchkey.SyncPut}, Reason: "timed out", Problem: latchkey.ProblemLockUnreachable, NextAttempt: &next})
	must(t, err)
	_, err = s.RetrySync(ctx(), c.ID, l.ID)
	must(t, err)
	clock.t = clock.t.Add(latchkey.SyncDelay + time.Minute)
	if n, err := s.NoteDelays(ctx()); err != nil || n != 1 || delayed() != 2 {
		t.Fatalf("late anew: noted %d (%v), %d deliveries", n, err, delayed())
	}
}

// A code taken off its lock out of its hours (set, then pending until they come) is
// delivered as code.removed, as a revoked one is.
func testWebhookOutOfHours(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	l, p := connectedLock(t, s, "Front", "front")
	hook, _, err := s.CreateWebhook(ctx(), latchkey.NewWebhook{URL: "https://example.com/off", Events: []latchkey.WebhookKind{latchkey.HookCodeRemoved}})
	must(t, err)
	c, _, err := s.CreateCode(ctx(), latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Cleaner"}, PIN: "482913", LockIDs: []int64{l.ID}, Confirmed: true})
	must(t, err)
	g, err := s.RecordSync(ctx(), latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: l.ID, CodeID: c.ID, Action: latchkey.SyncClear}, Done: true})
	must(t, err)
	if g == nil || g.Status != latchkey.GrantPending {
		t.Fatalf("a set code read back gone, not revoked: %+v", g)
	}
	ds, _, err := s.FindWebhookDeliveries(ctx(), latchkey.WebhookDeliveryFilter{WebhookID: &hook.ID}, latchkey.Page{Limit: 10})
	must(t, err)
	if len(ds) != 1 || ds[0].Kind != latchkey.HookCodeRemoved {
		t.Fatalf("deliveries for a code off its lock out of its hours: %+v", ds)
	}
}
