package simdriver_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/drivertest"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
)

// The twins' driver passes the driver contract suite, over a Z-Wave lock and a Zigbee
// one.
func TestContract(t *testing.T) {
	t.Run("zwave", func(t *testing.T) { drivertest.Run(t, harness("zwave", "916")) })
	t.Run("zigbee", func(t *testing.T) { drivertest.Run(t, harness("zigbee", "914")) })
}

const mastercode = "135791"

// harness sets up a world with one lock of the model on the radio, and the hooks that
// make it do what people do at the door.
func harness(radio, model string) drivertest.NewHarness {
	return func(t *testing.T) *drivertest.Harness {
		w := sim.NewWorld(sim.Config{Seed: 7})
		yes := true
		l, err := w.AddLock("door", sim.LockOptions{Model: model, Radio: radio, Locked: true, Mastercode: mastercode,
			SendsDeviceResetLocally: &yes})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.JoinHub(); err != nil {
			t.Fatal(err)
		}
		d := simdriver.New(w)
		d.Speed = 20 // twenty virtual seconds a second keep the suite short
		t.Cleanup(d.Close)
		// at runs f on the lock while the world holds still.
		at := func(f func(l *sim.Lock) error) drivertest.Hook {
			return func(context.Context) (err error) {
				d.Do(func(*sim.World) { err = f(l) })
				return err
			}
		}
		press := func(l *sim.Lock, keys ...string) error {
			for _, k := range keys {
				if err := l.Press(k); err != nil {
					return err
				}
			}
			return nil
		}
		digits := func(s string) []string {
			var out []string
			for _, r := range s {
				out = append(out, string(r))
			}
			return out
		}
		hub := func(down time.Duration) drivertest.Hook {
			return func(context.Context) error {
				d.Do(func(w *sim.World) { w.Hub(radio).Restart(down) })
				return nil
			}
		}
		return &drivertest.Harness{
			Driver:  d,
			Start:   func() error { d.Start(); return nil },
			Address: "door",
			Model:   model,
			KeypadUnlock: func(ctx context.Context, slot int, pin string) error {
				return at(func(l *sim.Lock) error { return press(l, digits(pin)...) })(ctx)
			},
			WrongCode: at(func(l *sim.Lock) error { return press(l, append(digits("246802"), sim.KeyLock)...) }),
			KeypadLockout: at(func(l *sim.Lock) error {
				for range 3 {
					if err := press(l, append(digits("246802"), sim.KeyLock)...); err != nil {
						return err
					}
				}
				return nil
			}),
			Jam: at(func(l *sim.Lock) error {
				l.ThumbTurn() // unlocked by hand, so that locking runs the motor
				l.SetStuckBolt(true)
				return l.Press(sim.KeyLock)
			}),
			LowBattery:   at(func(l *sim.Lock) error { l.SetBattery(sim.LowBatteryMV - 100); return nil }),
			Tamper:       at(func(l *sim.Lock) error { l.Tamper(); return nil }),
			ResetLocally: at(func(l *sim.Lock) error { l.ResetBehindHub(); return nil }),
			DeleteAllCodes: at(func(l *sim.Lock) error {
				// The Mastercode opens the programming session; six 9s delete every code.
				return press(l, append(append(digits(mastercode), sim.KeyLock), append(digits("999999"), sim.KeyLock)...)...)
			}),
			GoOffline: at(func(l *sim.Lock) error { l.DropRadio(24 * time.Hour); return nil }),
			ComeBack:  at(func(l *sim.Lock) error { l.DropRadio(0); return nil }),
			HubDown:   hub(24 * time.Hour),
			HubUp:     hub(0),
			Silence: func(ctx context.Context) (string, error) {
				return "door", at(func(l *sim.Lock) error { l.DropRadio(24 * time.Hour); return nil })(ctx)
			},
		}
	}
}
