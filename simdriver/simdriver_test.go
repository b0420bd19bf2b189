package simdriver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
)

func newDriver(t *testing.T) (*simdriver.Driver, chan latchkey.DeviceEvent) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	for name, radio := range map[string]string{"front": "zwave", "back": "zigbee"} {
		model := map[string]string{"zwave": "916", "zigbee": "914"}[radio]
		l, err := w.AddLock(name, sim.LockOptions{Model: model, Radio: radio, Locked: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.JoinHub(); err != nil {
			t.Fatal(err)
		}
	}
	d := simdriver.New(w)
	d.Speed = 20 // twenty virtual seconds a second keep the test short
	events := make(chan latchkey.DeviceEvent, 16)
	d.Subscribe(func(e latchkey.DeviceEvent) { events <- e })
	d.Start()
	t.Cleanup(d.Close)
	return d, events
}

// A code set through the driver opens the twin at its keypad, and the twin's report of
// that unlock arrives as a device event naming the slot.
func TestSetCodeAndEvents(t *testing.T) {
	d, events := newDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, addr := range []string{"front", "back"} {
		if err := d.SetCode(ctx, addr, 3, "482913"); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	d.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		for _, k := range "482913" {
			tw.(*sim.Lock).Press(string(k))
		}
	})
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == latchkey.EventUnlocked && e.Address == "front" && e.Slot == 3 && e.Source == latchkey.SourceKeypad {
				if e.BatteryMV < sim.LowBatteryMV {
					t.Fatalf("the unlock reports a battery of %d mV; the twin's is fresh", e.BatteryMV)
				}
				return
			}
		case <-deadline:
			t.Fatal("no unlock event for slot 3")
		}
	}
}

// Commands to a lock that does not answer end with unavailable, and a refused code with
// invalid, each saying why.
func TestErrors(t *testing.T) {
	d, _ := newDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.SetCode(ctx, "front", 99, "482913"); latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(latchkey.ErrorMessage(err), "refused") {
		t.Fatalf("slot out of range: %v", err)
	}
	d.Do(func(w *sim.World) {
		tw, _ := w.Twin("front")
		tw.(*sim.Lock).DropRadio(time.Hour)
	})
	if err := d.Unlock(ctx, "front"); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a dropped lock: %v", err)
	}
	if err := d.Lock(ctx, "nobody"); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("unknown twin: %v", err)
	}
}

// The clock runs what Do schedules when it falls due, though it was asleep waiting for
// a later timer; and a restarting hub's commands fail as unreachable, not as refused.
func TestClockWakesForDoAndHubRestart(t *testing.T) {
	d, _ := newDriver(t)
	d.Do(func(w *sim.World) { w.Advance(2 * time.Minute) }) // inclusion modes end: no timer is due
	fired := make(chan struct{})
	d.Do(func(w *sim.World) { w.Clock.AfterFunc(100*time.Millisecond, func() { close(fired) }) })
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("a timer set through Do never fired")
	}
	d.Do(func(w *sim.World) { w.Hub("zwave").Restart(time.Hour) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := d.SetCode(ctx, "front", 3, "482913")
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || !strings.Contains(latchkey.ErrorMessage(err), "restarting") {
		t.Fatalf("a command to a restarting hub: %v", err)
	}
	if s := d.RadioStats(); s.Commands != 1 || s.Waiting <= 0 {
		t.Fatalf("radio stats %+v, want one command that waited", s)
	}
}
