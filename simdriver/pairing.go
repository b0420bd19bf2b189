package simdriver

import (
	"context"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/catalog"
	"github.com/latchkey/latchkey/sim"
)

var (
	_ latchkey.HubPairing    = (*Driver)(nil)
	_ latchkey.BatteryReader = (*Driver)(nil)
)

// RemoveFromHub takes a twin off its hub. A Z-Wave hub goes into exclusion mode and
// waits for button A (a person, or the virtual hands, presses it); a Zigbee coordinator
// asks the lock to leave, with nothing to press. A twin already off its hub is done.
func (d *Driver) RemoveFromHub(ctx context.Context, address string) error {
	return d.pair(ctx, address, false)
}

// AddToHub puts a twin back on its hub: a Z-Wave hub in inclusion mode, a Zigbee
// coordinator permitting joins, until the lock's button is pressed (once on Z-Wave,
// four times on Zigbee, facts §3.11). A twin already on its hub is done.
func (d *Driver) AddToHub(ctx context.Context, address string) error {
	return d.pair(ctx, address, true)
}

func (d *Driver) pair(ctx context.Context, address string, join bool) error {
	d.mu.Lock()
	l, err := d.lockTwin(address)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	hub := l.HomeHub()
	if hub.Down() {
		d.mu.Unlock()
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The %s hub is not answering (restarting); try again once it is back.", hub.Radio())
	}
	_, _, paired := l.Hub()
	if paired == join {
		d.mu.Unlock()
		return nil
	}
	mode := map[bool]string{true: sim.HubInclusion, false: sim.HubExclusion}[join]
	switch {
	case hub.Radio() == catalog.RadioZigbee && join:
		mode = sim.HubPermit
	case hub.Radio() == catalog.RadioZigbee:
		mode = ""
		if _, addr, ok := l.Hub(); ok {
			err = hub.Leave(addr)
		}
	case hub.Radio() != catalog.RadioZWave:
		d.mu.Unlock()
		return latchkey.Errorf(latchkey.EINVALID, "Twin %q is on a %s hub: add or remove it in the Kwikset app.", address, hub.Radio())
	}
	if mode != "" {
		wait := time.Minute
		if dl, ok := ctx.Deadline(); ok {
			wait = time.Duration(float64(time.Until(dl)) * d.Speed)
		}
		err = hub.SetMode(mode, wait)
	}
	d.mu.Unlock()
	d.kick()
	if err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		d.mu.Lock()
		_, _, paired = l.Hub()
		if paired == join || ctx.Err() != nil {
			if mode != "" && hub.Mode() == mode {
				hub.SetMode(sim.HubIdle, 0)
			}
		}
		d.mu.Unlock()
		if paired == join {
			return nil
		}
		select {
		case <-ctx.Done():
			what := map[bool]string{true: "added to", false: "removed from"}[join]
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "Twin %q was not %s its hub in time: nobody pressed its button A while the hub waited.", address, what)
		case <-tick.C:
		}
	}
}

// lockTwin finds the lock twin at address; d.mu is held.
func (d *Driver) lockTwin(address string) (*sim.Lock, error) {
	t, err := d.world.Twin(address)
	if err != nil {
		return nil, err
	}
	l, ok := t.(*sim.Lock)
	if !ok {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Twin %q is a cylinder; it has no radio.", address)
	}
	return l, nil
}

// ReadBattery asks the twin for its status through its hub and returns the battery
// voltage it reports, in millivolts.
func (d *Driver) ReadBattery(ctx context.Context, address string) (int, error) {
	r, err := d.send(ctx, address, sim.Command{Op: sim.OpGetStatus})
	if err != nil {
		return 0, err
	}
	if r.BatteryMV > 0 {
		return r.BatteryMV, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.lockTwin(address)
	if err != nil {
		return 0, err
	}
	mv, _ := l.Field("battery")
	return strconv.Atoi(mv)
}

// Sleep lets d pass on the twins' clock at once, as a person waits 30 seconds with the
// Program button held: every timer due meanwhile runs at its own time, and the clock goes
// on from there. Waiting this way costs no real time, and no real delay elsewhere (a slow
// machine, a busy test) can stretch a wait the hands mean to be exact.
func (d *Driver) Sleep(ctx context.Context, dur time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	d.world.Advance(dur)
	d.mu.Unlock()
	d.kick()
	return nil
}
