package storetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// Hubs keep their secret sealed: never listed, never in the audit log, opened only for
// the server that dials the hub; one hub per driver; only owners manage them, anyone who
// reads records lists them; a hub is not removed while locks are reached through it.
func testHubs(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	const password = "mqtt-pass-1234"
	z, err := s.CreateHub(ctx(), latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "MQTT://broker.local:1883", Username: "latchkey", Secret: password})
	must(t, err)
	if z.ID == 0 || z.Name != "Zigbee2MQTT" || z.URL != "mqtt://broker.local:1883" || z.BaseTopic != "zigbee2mqtt" || z.Username != "latchkey" ||
		!z.HasSecret || z.SealedSecret != nil || z.CreatedBy != "tester" || z.CreatedAt.IsZero() {
		t.Fatalf("the hub made: %+v", z)
	}
	w, err := s.CreateHub(ctx(), latchkey.NewHub{Driver: latchkey.DriverZWaveJS, Name: " Basement stick ", URL: "ws://zwave-js-ui.local:3000"})
	must(t, err)
	if w.Name != "Basement stick" || w.HasSecret || w.BaseTopic != "" {
		t.Fatalf("the Z-Wave JS hub made: %+v", w)
	}

	// One hub per driver: the domain says which is there; the store refuses a second too.
	_, err = s.CreateHub(ctx(), latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://other:1883"})
	wantCode(t, err, latchkey.ECONFLICT)
	if msg := latchkey.ErrorMessage(err); !strings.Contains(msg, "hub "+itoa(z.ID)) || !strings.Contains(msg, "latchkey hub rm") {
		t.Fatalf("a second Zigbee2MQTT hub is refused with %q", msg)
	}
	err = store.Update(ctx(), func(tx latchkey.Tx) error {
		return tx.CreateHub(ctx(), &latchkey.Hub{Name: "Twin", Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://x:1883", CreatedAt: z.CreatedAt})
	})
	wantCode(t, err, latchkey.ECONFLICT)

	// Listed and read without the secret, by anyone who reads records.
	for _, c := range []struct {
		name string
		as   latchkey.UserRole
	}{{"Owner", latchkey.UserOwner}, {"Viewer", latchkey.UserViewer}} {
		hubs, err := s.FindHubs(as(c.as, 1))
		must(t, err)
		if len(hubs) != 2 || hubs[0].ID != z.ID || hubs[1].ID != w.ID || hubs[0].SealedSecret != nil || !hubs[0].HasSecret {
			t.Fatalf("%s lists %+v", c.name, hubs)
		}
		b, _ := json.Marshal(hubs)
		if strings.Contains(string(b), password) || strings.Contains(string(b), "sealed") {
			t.Fatalf("a hub listed carries its secret: %s", b)
		}
	}
	one, err := s.FindHubByID(ctx(), z.ID)
	must(t, err)
	if one.SealedSecret != nil || one.Username != "latchkey" || !one.CreatedAt.Equal(z.CreatedAt) {
		t.Fatalf("hub %d reads %+v", z.ID, one)
	}
	_, err = s.FindHubByID(ctx(), 9999)
	wantCode(t, err, latchkey.ENOTFOUND)

	// The secret opens for the server alone (an owner), sealed to its hub.
	got, err := s.HubSecret(ctx(), z.ID)
	must(t, err)
	if got != password {
		t.Fatal("the hub's secret does not open to what was given")
	}
	if got, err := s.HubSecret(ctx(), w.ID); err != nil || got != "" {
		t.Fatalf("a hub without a secret opens to %q, %v", got, err)
	}
	_, err = s.HubSecret(as(latchkey.UserManager, 2), z.ID)
	wantCode(t, err, latchkey.EFORBIDDEN)
	err = store.Update(ctx(), func(tx latchkey.Tx) error {
		other, err := tx.FindHubByID(ctx(), z.ID)
		if err != nil {
			return err
		}
		moved, err := tx.FindHubByID(ctx(), w.ID)
		if err != nil {
			return err
		}
		moved.HasSecret, moved.SealedSecret = true, other.SealedSecret // copied onto another hub
		return tx.UpdateHub(ctx(), moved)
	})
	must(t, err)
	_, err = s.HubSecret(ctx(), w.ID)
	wantCode(t, err, latchkey.EINTERNAL)
	if strings.Contains(err.Error(), password) {
		t.Fatal("the refusal holds the secret")
	}

	// Only owners manage hubs; the refusal says who may.
	for _, role := range []latchkey.UserRole{latchkey.UserManager, latchkey.UserInstaller, latchkey.UserViewer} {
		_, err := s.CreateHub(as(role, 3), latchkey.NewHub{Driver: latchkey.DriverZWaveJS, URL: "ws://a:3000"})
		wantCode(t, err, latchkey.EFORBIDDEN)
		if msg := latchkey.ErrorMessage(err); !strings.Contains(msg, "manage settings") || !strings.Contains(msg, "ask an owner") {
			t.Fatalf("a %s adding a hub is refused with %q", role, msg)
		}
		wantCode(t, s.DeleteHub(as(role, 3), z.ID), latchkey.EFORBIDDEN)
	}

	// Not removed while a lock is reached through its driver; the refusal names it.
	l, _ := newLock(t, s, "Back deadbolt")
	conn := latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000d6f000ab12345"}
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &conn})
	must(t, err)
	err = s.DeleteHub(ctx(), z.ID)
	wantCode(t, err, latchkey.ECONFLICT)
	if msg := latchkey.ErrorMessage(err); !strings.Contains(msg, "Back deadbolt (lock "+itoa(l.ID)+")") || !strings.Contains(msg, "--disconnect") {
		t.Fatalf("removing a hub in use is refused with %q", msg)
	}
	must(t, s.DeleteHub(ctx(), w.ID)) // no lock on Z-Wave JS
	_, err = s.UpdateLock(ctx(), l.ID, latchkey.LockUpdate{Connection: &latchkey.Connection{}})
	must(t, err)
	must(t, s.DeleteHub(ctx(), z.ID))
	wantCode(t, s.DeleteHub(ctx(), z.ID), latchkey.ENOTFOUND)
	if hubs, err := s.FindHubs(ctx()); err != nil || len(hubs) != 0 {
		t.Fatalf("after removing both: %v, %v", hubs, err)
	}
	again, err := s.CreateHub(ctx(), latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtts://broker.local:8883", BaseTopic: "home/z2m"})
	must(t, err)
	if again.ID <= w.ID || again.BaseTopic != "home/z2m" {
		t.Fatalf("a hub added again: %+v (ids are never given twice)", again)
	}

	// Every act in the audit log, never the secret.
	entries, _, err := s.FindAuditEntries(ctx(), latchkey.AuditFilter{Entity: "hub"}, latchkey.Page{})
	must(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if strings.Contains(e.Detail, password) {
			t.Fatalf("audit entry %s holds the secret: %s", e.Action, e.Detail)
		}
	}
	if strings.Join(actions, " ") != "hub.create hub.delete hub.delete hub.create hub.create" {
		t.Fatalf("audit actions %v", actions)
	}
	if got := entries[4].Sentence(); got != "tester added hub "+itoa(z.ID)+" (Zigbee2MQTT)" {
		t.Fatalf("the sentence %q", got)
	}
}

// A key rotation seals hub secrets again, and they still open.
func testHubSecretsResealed(t *testing.T, store latchkey.Store) {
	s := NewService(t, store)
	h, err := s.CreateHub(ctx(), latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtts://broker.example:8883", Username: "latchkey", Secret: "server-token"})
	must(t, err)
	var before []byte
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		got, err := tx.FindHubByID(ctx(), h.ID)
		before = got.SealedSecret
		return err
	}))
	n, err := s.ResealSecrets(ctx())
	must(t, err)
	if n != 1 {
		t.Fatalf("resealed %d secrets, want the hub's one", n)
	}
	must(t, store.View(ctx(), func(tx latchkey.Tx) error {
		got, err := tx.FindHubByID(ctx(), h.ID)
		if err == nil && string(got.SealedSecret) == string(before) {
			t.Fatal("the hub's secret was not sealed again")
		}
		return err
	}))
	if got, err := s.HubSecret(ctx(), h.ID); err != nil || got != "server-token" {
		t.Fatalf("after a reseal the secret opens to a different value, or not (%v)", err)
	}
}
