package zwavejs_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/drivertest"
	"github.com/latchkey/latchkey/zwavejs"
	"github.com/latchkey/latchkey/zwavejs/zwavejstest"
)

// The Z-Wave JS driver passes the driver contract suite against the real zwave-js
// driver and server, with a mock Kwikset 912 behind them.
func TestContract(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) *drivertest.Harness {
		h := zwavejstest.Start(t)
		d := &zwavejs.Driver{URL: h.URL, DialTimeout: 5 * time.Second}
		t.Cleanup(func() { _ = d.Close() })
		do := func(action string) drivertest.Hook {
			return func(context.Context) error { h.Do(t, action, nil); return nil }
		}
		return &drivertest.Harness{
			Driver: d,
			// Open connects in the background; the lock's events count only once the
			// driver listens, so the harness is started once it has the node list (a
			// slow machine, or the race detector, must not lose the first event).
			Start: func() error {
				if err := d.Open(); err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := d.Devices(ctx)
				return err
			},
			Address: h.Address,
			Model:   "912",
			Timeout: 15 * time.Second,
			KeypadUnlock: func(_ context.Context, slot int, _ string) error {
				h.Do(t, "keypad-unlock", map[string]any{"slot": slot})
				return nil
			},
			WrongCode:      do("wrong-code"),
			KeypadLockout:  do("lockout"),
			Jam:            do("jam"),
			LowBattery:     do("low-battery"),
			Tamper:         do("tamper"),
			ResetLocally:   do("reset-locally"),
			DeleteAllCodes: do("all-codes-deleted"),
			GoOffline:      do("dead"),
			ComeBack:       do("alive"),
			HubDown:        do("server-down"),
			HubUp:          do("server-up"),
			Silence: func(ctx context.Context) (string, error) {
				return h.Address, do("dead")(ctx)
			},
		}
	})
}
