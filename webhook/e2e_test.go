package webhook_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
	"github.com/latchkey/latchkey/webhook"
)

// End to end on a twin: a revoked code still on the lock (recorded gone by hand, wrongly)
// is tried at the twin's keypad; the door opens, and a receiver gets a signed
// code.revoked_used delivery naming the code, the person and the lock, without the PIN.
func TestRevokedCodeUsedReachesTheReceiver(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	tw, err := w.AddLock("front", sim.LockOptions{Model: "916", Radio: "zwave", Locked: true})
	must(t, err)
	must(t, tw.JoinHub())
	d := simdriver.New(w)
	d.Speed = 20
	var svc *latchkey.Service
	recorded := make(chan struct{})
	d.Subscribe(func(e latchkey.DeviceEvent) {
		<-recorded // the records exist before any event is kept
		if _, err := svc.RecordDeviceEvent(context.Background(), e); err != nil {
			t.Errorf("recording %s: %v", e.Kind, err)
		}
	})
	d.Start()
	t.Cleanup(d.Close)

	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	svc = storetest.NewService(t, db)
	svc.Clock = latchkey.SystemClock{}
	ctx, cancel := context.WithTimeout(latchkey.NewContextWithActor(context.Background(), "ana"), 60*time.Second)
	defer cancel()
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Front door"}
	must(t, svc.CreateDoor(ctx, door))
	lock := &latchkey.Lock{DoorID: door.ID, Name: "front", ModelID: "916", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: "front"}}
	must(t, svc.CreateLock(ctx, lock))
	guest := &latchkey.Person{Name: "Guest Gil", Role: latchkey.RoleGuest}
	must(t, svc.CreatePerson(ctx, guest))
	close(recorded)
	c, pin, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: guest.ID, Label: "Weekend"}, PIN: "482913", LockIDs: []int64{lock.ID}, Confirmed: true})
	must(t, err)
	_, _, err = svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: guest.ID, Label: "Owner"}, PIN: "730245", LockIDs: []int64{lock.ID}, Confirmed: true})
	must(t, err)
	grants, err := svc.FindGrants(ctx, latchkey.GrantFilter{CodeID: &c.ID})
	must(t, err)
	must(t, d.SetCode(ctx, "front", grants[0].Slot, pin))
	_, err = svc.RevokeCode(ctx, c.ID)
	must(t, err)
	_, err = svc.ConfirmCode(ctx, c.ID, lock.ID) // recorded gone by hand, wrongly: the twin still has it
	must(t, err)

	rcv := newReceiver(t, 200)
	hook, secret, err := svc.CreateWebhook(ctx, latchkey.NewWebhook{URL: rcv.URL + "/latchkey", Events: []latchkey.WebhookKind{latchkey.HookCodeRevokedUsed}})
	must(t, err)
	sender := &webhook.Sender{Service: svc, Interval: time.Hour} // only the outbox's signal wakes it
	defer runQueued(t, ctx, sender)()

	d.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		for _, k := range pin {
			tw.(*sim.Lock).Press(string(k))
		}
	})
	select {
	case <-rcv.arrived:
	case <-ctx.Done():
		t.Fatal("no webhook delivery for the revoked code used at the door")
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d deliveries; only the alert was subscribed to", len(reqs))
	}
	r := reqs[0]
	verify(t, secret, r, time.Now())
	if r.header.Get("X-Latchkey-Event") != "code.revoked_used" || strings.Contains(string(r.body), pin) {
		t.Fatalf("the delivery: %v %s", r.header, r.body)
	}
	var ev latchkey.WebhookEvent
	must(t, json.Unmarshal(r.body, &ev))
	if ev.Kind != latchkey.HookCodeRevokedUsed || ev.LockID != lock.ID || ev.LockName != "front" || ev.CodeID != c.ID || ev.CodeLabel != "Weekend" ||
		ev.PersonID != guest.ID || ev.PersonName != "Guest Gil" || ev.EventRef == 0 || !strings.Contains(ev.Detail, "Used at the door after it was revoked") {
		t.Fatalf("the payload %s", r.body)
	}
	// The delivery log says it was delivered.
	for {
		ds, _, err := svc.FindWebhookDeliveries(ctx, latchkey.WebhookDeliveryFilter{WebhookID: &hook.ID}, latchkey.Page{})
		must(t, err)
		if len(ds) == 1 && ds[0].Status == latchkey.DeliveryDelivered && ds[0].Attempts[0].HTTPStatus == 200 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the delivery log: %+v", ds)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
