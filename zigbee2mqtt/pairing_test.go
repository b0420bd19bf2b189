package zigbee2mqtt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// The driver takes a lock off Zigbee2MQTT (device/remove) and adds it back (permit_join,
// then the lock's button A pressed four times): the device list drops the lock, then
// names it again, and it takes a code once more; with nobody pressing the button, the
// add gives up when its context ends. Removing a lock not listed, or adding one listed,
// is done at once.
func TestRemoveAndAddToHub(t *testing.T) {
	r := newRig(t, rigOptions{}, "front", "back")
	if err := r.open(t); err != nil {
		t.Fatal(err)
	}
	var _ latchkey.HubPairing = r.driver
	addr := r.fleet.IEEE("front")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.driver.RemoveFromHub(ctx, addr); err != nil {
		t.Fatalf("remove: %v", err)
	}
	listed := func() bool {
		devs, err := r.driver.Devices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			if d.Address == addr {
				return true
			}
		}
		return false
	}
	if listed() {
		t.Fatal("the removed lock is still listed")
	}
	var paired bool
	r.fleet.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		_, _, paired = tw.(*sim.Lock).Hub()
	})
	if paired {
		t.Error("the removed lock still thinks it is on the network")
	}
	if err := r.driver.RemoveFromHub(ctx, addr); err != nil {
		t.Errorf("removing a lock no longer listed: %v", err)
	}

	// Nobody presses the button: the add gives up, and joins are closed again.
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	err := r.driver.AddToHub(short, addr)
	cancelShort()
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("an add nobody pressed the button for: %v, want unavailable", err)
	}

	done := make(chan error, 1)
	go func() { done <- r.driver.AddToHub(ctx, addr) }()
	// The person presses button A four times once joins are permitted.
	for deadline := time.Now().Add(20 * time.Second); ; {
		var mode string
		r.fleet.Do(func(w *sim.World) { tw, _ := w.Twin("front"); mode = tw.(*sim.Lock).HomeHub().Mode() })
		if mode == sim.HubPermit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Zigbee2MQTT never permitted joins")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.fleet.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		for range 4 {
			if err := tw.(*sim.Lock).PressA(); err != nil {
				t.Error(err)
			}
		}
	})
	if err := <-done; err != nil {
		t.Fatalf("add: %v", err)
	}
	if !listed() {
		t.Fatal("the added lock is not listed")
	}
	if err := r.driver.AddToHub(ctx, addr); err != nil {
		t.Errorf("adding a lock already listed: %v", err)
	}
	if err := r.driver.SetCode(ctx, addr, 3, "482913"); err != nil {
		t.Fatalf("a code on the lock added back: %v", err)
	}
}

// A lock Zigbee2MQTT cannot reach is not removed: the driver reports Zigbee2MQTT's
// refusal as unavailable, and the lock stays listed.
func TestRemoveFromHubRefused(t *testing.T) {
	r := newRig(t, rigOptions{}, "front")
	if err := r.open(t); err != nil {
		t.Fatal(err)
	}
	if err := r.fleet.GoOffline("front"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := r.driver.RemoveFromHub(ctx, r.fleet.IEEE("front"))
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || !strings.Contains(latchkey.ErrorMessage(err), "Zigbee2MQTT refused device/remove") {
		t.Fatalf("removing an unreachable lock: %v", err)
	}
	if err := r.driver.RemoveFromHub(ctx, "front"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Errorf("a friendly name as the address: %v, want invalid", err)
	}
}
