// Package simdriver is the device driver over the digital twins (package sim): the
// demo's locks, and a stand-in for real hubs in tests. It runs a twin world in real
// time and speaks to it through the twins' own hubs, so commands pay the radio's
// latency and events arrive as the hubs report them.
package simdriver

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sim"
)

// Driver is the twins' device driver. It satisfies latchkey.DeviceDriver; a lock's
// address is its twin's name.
type Driver struct {
	// Speed is how many virtual seconds pass per real second (1 for the demo; tests run
	// faster). Set it before Start; SetSpeed changes it later.
	Speed float64

	mu    sync.Mutex // guards the world, which is not safe for concurrent use
	world *sim.World
	subs  []func(latchkey.DeviceEvent)
	seen  map[string]string // twin names by hub/address, kept past a lock leaving its hub
	// offline holds the twins that left a command unanswered, until they are heard from
	// again: the hub's view of a dead node (under mu).
	offline map[string]bool
	events  chan latchkey.DeviceEvent
	stop    chan struct{}
	wake    chan struct{} // a command was sent: the clock has a frame to run
	wg      sync.WaitGroup
	// The virtual time at wall time anchorWall was anchorVirtual; it runs Speed times
	// as fast as the wall clock from there (under mu).
	anchorWall, anchorVirtual time.Time

	acct radioAccount
}

var _ latchkey.DeviceDriver = (*Driver)(nil)

// New returns a driver over the world. Call Start to run it.
func New(w *sim.World) *Driver {
	d := &Driver{Speed: 1, world: w, events: make(chan latchkey.DeviceEvent, 256), stop: make(chan struct{}),
		wake: make(chan struct{}, 1), seen: map[string]string{}, offline: map[string]bool{}}
	w.ListenHubs(func(h *sim.Hub, addr string, r sim.Report) {
		if r.CommandID != 0 || r.Event == "" {
			return
		}
		twin, ok := h.TwinAt(addr)
		if ok {
			d.seen[h.Name()+"/"+addr] = twin
		} else if twin, ok = d.seen[h.Name()+"/"+addr]; !ok {
			return
		}
		// A lock that leaves its hub is dropped before its last report arrives: the
		// report still names it, from the last time it was heard.
		d.heard(twin)
		battery := r.BatteryMV
		if battery == 0 {
			// Hubs keep a lock's battery level and report it alongside its events (a
			// Z-Wave lock sends a Battery report when it wakes; Zigbee locks report the
			// attribute); the twin's voltage stands for that level.
			battery = twinBattery(w, twin)
		}
		d.emit(latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: twin, Kind: r.Event, Source: r.Source,
			Slot: r.Slot, BatteryMV: battery, Detail: r.Detail})
	})
	return d
}

// emit queues an event for the subscribers.
func (d *Driver) emit(ev latchkey.DeviceEvent) {
	select {
	case d.events <- ev:
	default: // a stalled consumer loses events rather than stopping the radio
	}
}

// remember notes which twin sits at each hub address, so that a lock's last report,
// which may arrive after its hub dropped it (a Zigbee lock leaving), still names it.
// Call it with mu held.
func (d *Driver) remember() {
	for _, h := range d.world.Hubs() {
		for _, m := range h.Members() {
			d.seen[h.Name()+"/"+m.Address] = m.Twin
		}
	}
}

// heard notes that a twin answered or reported: one that was offline is online again,
// which its subscribers hear before whatever it said. Call it with mu held.
func (d *Driver) heard(twin string) {
	if d.offline[twin] {
		delete(d.offline, twin)
		d.emit(latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: twin, Kind: latchkey.EventOnline, Detail: "answering again"})
	}
}

// unanswered notes that a twin left a command unanswered: it is offline (a hub marks
// such a node dead) until it is heard from again.
func (d *Driver) unanswered(twin string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.offline[twin] {
		d.offline[twin] = true
		d.emit(latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: twin, Kind: latchkey.EventOffline, Detail: "did not answer its hub"})
	}
}

// twinBattery reads a lock twin's battery voltage in mV, or 0.
func twinBattery(w *sim.World, name string) int {
	t, err := w.Twin(name)
	if err != nil {
		return 0
	}
	mv, _ := t.Field("battery")
	n, _ := strconv.Atoi(mv)
	return n
}

// Name returns the driver's name.
func (d *Driver) Name() latchkey.Driver { return latchkey.DriverSim }

// Subscribe delivers every event of every twin. Call it before Start.
func (d *Driver) Subscribe(f func(latchkey.DeviceEvent)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subs = append(d.subs, f)
}

// Start runs the world's clock in step with the wall clock, Speed times as fast, and
// delivers events. The clock runs every timer at its own virtual time: the driver
// sleeps until the next one falls due, or until a command is sent, so that a frame
// costs what the radio model says and no more (a zero-latency frame is answered at
// once).
func (d *Driver) Start() {
	d.mu.Lock()
	d.remember()
	d.anchorWall, d.anchorVirtual = time.Now(), d.world.Now()
	d.mu.Unlock()
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for {
			wait := d.step()
			timer.Reset(wait)
			select {
			case <-d.stop:
				return
			case <-d.wake:
			case <-timer.C:
			}
		}
	}()
	go func() {
		defer d.wg.Done()
		for {
			select {
			case <-d.stop:
				return
			case ev := <-d.events:
				d.mu.Lock()
				subs := append([]func(latchkey.DeviceEvent){}, d.subs...)
				d.mu.Unlock()
				for _, f := range subs {
					f(ev)
				}
			}
		}
	}()
}

// step brings the world's clock up to the wall clock and returns how long to sleep
// until its next timer falls due.
func (d *Driver) step() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	defer d.acct.simulated(now)
	target := d.anchorVirtual.Add(time.Duration(float64(now.Sub(d.anchorWall)) * d.Speed))
	if w := d.world.Now(); target.Before(w) {
		// Someone moved the world ahead (Do): go on from there.
		d.anchorWall, d.anchorVirtual, target = now, w, w
	}
	d.world.Advance(target.Sub(d.world.Now()))
	next, ok := d.world.Clock.Next()
	if !ok {
		return time.Hour
	}
	return max(time.Duration(float64(next.Sub(target))/d.Speed), 0)
}

// SetSpeed changes how many virtual seconds pass per real second, while the driver runs.
func (d *Driver) SetSpeed(speed float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.anchorVirtual = d.anchorVirtual.Add(time.Duration(float64(now.Sub(d.anchorWall)) * d.Speed))
	if w := d.world.Now(); d.anchorVirtual.Before(w) {
		d.anchorVirtual = w
	}
	d.anchorWall, d.Speed = now, speed
	d.kick()
}

// kick wakes the clock.
func (d *Driver) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Close stops the clock and the event delivery, and waits for them.
func (d *Driver) Close() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.wg.Wait()
}

// Do runs f on the world while nothing else touches it: the demo's everyday script and
// tests press keys and turn thumbturns this way.
func (d *Driver) Do(f func(w *sim.World)) {
	d.mu.Lock()
	f(d.world)
	d.mu.Unlock()
	d.kick() // f may have set timers sooner than the one the clock sleeps for
}

// send sends a command to a twin through its hub and waits for the answer.
func (d *Driver) send(ctx context.Context, address string, cmd sim.Command) (sim.Report, error) {
	if cmd.Op == sim.OpSetCode || cmd.Op == sim.OpClearCode || cmd.Op == sim.OpGetCode {
		if cmd.Slot < 1 || cmd.Slot > 0xffff {
			return sim.Report{}, latchkey.Errorf(latchkey.EINVALID, "Slot %d is not a slot; slots are numbered from 1.", cmd.Slot)
		}
	}
	done := make(chan sim.Report, 1)
	d.mu.Lock()
	t, err := d.world.Twin(address)
	if err != nil {
		d.mu.Unlock()
		return sim.Report{}, err
	}
	l, ok := t.(*sim.Lock)
	if !ok {
		d.mu.Unlock()
		return sim.Report{}, latchkey.Errorf(latchkey.EINVALID, "Twin %q is a cylinder; it has no radio.", address)
	}
	hub, addr, paired := l.Hub()
	if !paired {
		d.mu.Unlock()
		return sim.Report{}, latchkey.Errorf(latchkey.EUNAVAILABLE, "Twin %q is not paired with a hub; include or pair it first.", address)
	}
	d.seen[hub.Name()+"/"+addr] = address
	d.acct.begin()
	defer d.acct.end()
	sending := time.Now()
	hub.Send(addr, cmd, func(r sim.Report) { done <- r })
	d.acct.simulated(sending)
	d.mu.Unlock()
	d.kick()
	select {
	case r := <-done:
		switch r.Err {
		case "":
			d.mu.Lock()
			d.heard(address)
			d.mu.Unlock()
		case "timeout":
			d.unanswered(address)
			return r, latchkey.Errorf(latchkey.EUNAVAILABLE, "Lock %s did not answer (%s); it may be asleep, out of range or without power.", address, cmd.Op)
		case sim.ErrHubDown:
			return r, latchkey.Errorf(latchkey.EUNAVAILABLE, "The hub of lock %s is restarting (%s); try again once it is back.", address, cmd.Op)
		}
		if r.Err != "" {
			return r, latchkey.Errorf(latchkey.EINVALID, "Lock %s refused %s: %s", address, cmd.Op, r.Err)
		}
		return r, nil
	case <-ctx.Done():
		return sim.Report{}, latchkey.Errorf(latchkey.EUNAVAILABLE, "Gave up waiting for lock %s (%s): %v.", address, cmd.Op, ctx.Err())
	}
}

// SetCode puts a PIN in a slot.
func (d *Driver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	_, err := d.send(ctx, address, sim.Command{Op: sim.OpSetCode, Slot: slot, Code: pin})
	return err
}

// ClearCode empties a slot.
func (d *Driver) ClearCode(ctx context.Context, address string, slot int) error {
	_, err := d.send(ctx, address, sim.Command{Op: sim.OpClearCode, Slot: slot})
	return err
}

// Lock throws the bolt.
func (d *Driver) Lock(ctx context.Context, address string) error {
	_, err := d.send(ctx, address, sim.Command{Op: sim.OpLock})
	return err
}

// Unlock retracts the bolt.
func (d *Driver) Unlock(ctx context.Context, address string) error {
	_, err := d.send(ctx, address, sim.Command{Op: sim.OpUnlock})
	return err
}

var _ latchkey.CodeReader = (*Driver)(nil)

// ReadCode reads a slot back: whether it holds a code, and the code where the lock's
// radio tells it (Matter PINs are write-only).
func (d *Driver) ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error) {
	r, err := d.send(ctx, address, sim.Command{Op: sim.OpGetCode, Slot: slot})
	if err != nil {
		return "", false, err
	}
	return r.Code, r.Status == "enabled", nil
}
