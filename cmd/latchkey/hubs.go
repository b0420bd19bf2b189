package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// hubFactory makes the driver of a hub from its record and its secret (the MQTT password
// or the server token; "" when it has none). It returns the driver and what closes it;
// a nil closer means the driver's own Close (Close() error, or Close()). A driver with an
// Open() error method is returned unopened: the proxy subscribes to it first, so that no
// event is lost, and then opens it.
type hubFactory func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error)

// hubFactories are the hub drivers built into this binary, by name. Each driver package
// registers its factory from an init function in hubs_drivers.go: a hub whose driver
// has none is recorded and shown, and its locks are answered that the driver is not
// built in.
var hubFactories = map[latchkey.Driver]hubFactory{}

// registerHubDriver makes a driver name's factory known. Registering a name twice is a
// programming mistake.
func registerHubDriver(name latchkey.Driver, f hubFactory) {
	if _, dup := hubFactories[name]; dup {
		panic("hub driver registered twice: " + string(name))
	}
	hubFactories[name] = f
}

// opener is a driver that starts when opened (after its subscribers are in place).
type opener interface{ Open() error }

// readier is a driver that can wait until it reaches its hub (the Zigbee2MQTT driver
// waits for the bridge's device list): its answer is the hub's first health.
type readier interface {
	Ready(ctx context.Context) error
}

// readyWithin bounds the wait for a new driver's first word.
const readyWithin = time.Minute

// hubProxy is the driver the engines hold for one driver kind: it forwards to the driver
// made from the current hub record of that kind, swapped when a hub is added or removed
// while the server runs, and answers EUNAVAILABLE saying what to do while there is none.
// It keeps the hub's health: connected, when it was last heard, its last failure.
type hubProxy struct {
	kind latchkey.Driver
	now  func() time.Time

	mu       sync.Mutex
	hub      *latchkey.Hub         // the configured hub; nil when none
	cur      latchkey.DeviceDriver // its running driver; nil when none runs
	closer   io.Closer
	stopWait context.CancelFunc // ends the wait for the running driver's first word
	gen      uint64             // counts swaps: events of a driver swapped out are dropped
	subs     []func(latchkey.DeviceEvent)
	up       bool // inferred from what the driver did last
	lastSeen time.Time
	lastErr  string
}

var (
	_ latchkey.DeviceDriver  = (*hubProxy)(nil)
	_ latchkey.CodeReader    = (*hubProxy)(nil)
	_ latchkey.HubPairing    = (*hubProxy)(nil)
	_ latchkey.BatteryReader = (*hubProxy)(nil)
	_ latchkey.HubConnection = (*hubProxy)(nil)
	_ latchkey.DeviceLister  = (*hubProxy)(nil)
)

func newHubProxy(kind latchkey.Driver, now func() time.Time) *hubProxy {
	return &hubProxy{kind: kind, now: now}
}

// Name is the driver kind the proxy stands for.
func (p *hubProxy) Name() latchkey.Driver { return p.kind }

// Subscribe delivers the events of whichever driver runs, now and after a swap.
func (p *hubProxy) Subscribe(f func(latchkey.DeviceEvent)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.subs = append(p.subs, f)
}

// exampleURL is what a person types to add a hub of the kind.
func exampleURL(kind latchkey.Driver) string {
	if kind == latchkey.DriverZWaveJS {
		return "ws://host:3000"
	}
	return "mqtt://host:1883"
}

// current returns the running driver and its generation, or why there is none.
func (p *hubProxy) current() (latchkey.DeviceDriver, uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.cur != nil:
		return p.cur, p.gen, nil
	case p.hub == nil:
		return nil, 0, latchkey.Errorf(latchkey.EUNAVAILABLE, "No %s hub is configured: latchkey hub add %s %s", p.kind.Title(), p.kind, exampleURL(p.kind))
	case p.lastErr != "":
		return nil, 0, latchkey.Errorf(latchkey.EUNAVAILABLE, "The %s hub (hub %d, %s) does not run: %s", p.kind.Title(), p.hub.ID, p.hub.Name, p.lastErr)
	}
	return nil, 0, latchkey.Errorf(latchkey.EUNAVAILABLE, "The %s hub (hub %d, %s) is starting; try again in a moment.", p.kind.Title(), p.hub.ID, p.hub.Name)
}

// observe keeps what a call says of the hub: an answer (even a lock's refusal) means it
// is reached; EUNAVAILABLE means it is not, and why.
func (p *hubProxy) observe(gen uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen { // swapped out meanwhile: not this hub's news
		return
	}
	if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
		if c, ok := p.cur.(latchkey.HubConnection); ok && c.Connected() {
			// The driver reaches its hub: a lock did not answer (a sleepy one dozing),
			// which says nothing of the hub, and must not page whoever watches it.
			return
		}
		p.up, p.lastErr = false, latchkey.ErrorMessage(err)
		return
	}
	if err == nil || latchkey.ErrorCode(err) != latchkey.EINTERNAL {
		p.up, p.lastSeen = true, p.now()
	}
}

// call runs one command on the running driver and keeps what it says of the hub.
func (p *hubProxy) call(f func(latchkey.DeviceDriver) error) error {
	d, gen, err := p.current()
	if err != nil {
		return err
	}
	err = f(d)
	p.observe(gen, err)
	return err
}

// SetCode puts a PIN in a slot through the running driver.
func (p *hubProxy) SetCode(ctx context.Context, address string, slot int, pin string) error {
	return p.call(func(d latchkey.DeviceDriver) error { return d.SetCode(ctx, address, slot, pin) })
}

// ClearCode empties a slot through the running driver.
func (p *hubProxy) ClearCode(ctx context.Context, address string, slot int) error {
	return p.call(func(d latchkey.DeviceDriver) error { return d.ClearCode(ctx, address, slot) })
}

// Lock throws the bolt through the running driver.
func (p *hubProxy) Lock(ctx context.Context, address string) error {
	return p.call(func(d latchkey.DeviceDriver) error { return d.Lock(ctx, address) })
}

// Unlock retracts the bolt through the running driver.
func (p *hubProxy) Unlock(ctx context.Context, address string) error {
	return p.call(func(d latchkey.DeviceDriver) error { return d.Unlock(ctx, address) })
}

// cannot is the refusal of an optional ability the running driver lacks.
func (p *hubProxy) cannot(what string) error {
	return latchkey.Errorf(latchkey.EUNAVAILABLE, "The %s driver cannot %s.", p.kind.Title(), what)
}

// ReadCode reads a slot back, when the running driver can.
func (p *hubProxy) ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error) {
	err = p.call(func(d latchkey.DeviceDriver) error {
		r, ok := d.(latchkey.CodeReader)
		if !ok {
			return p.cannot("read a slot back")
		}
		pin, present, err = r.ReadCode(ctx, address, slot)
		return err
	})
	return pin, present, err
}

// RemoveFromHub takes a lock off the hub, when the running driver can.
func (p *hubProxy) RemoveFromHub(ctx context.Context, address string) error {
	return p.call(func(d latchkey.DeviceDriver) error {
		h, ok := d.(latchkey.HubPairing)
		if !ok {
			return p.cannot("add or remove locks on its hub: do it in the hub's own app, then skip this step")
		}
		return h.RemoveFromHub(ctx, address)
	})
}

// AddToHub adds a lock to the hub, when the running driver can.
func (p *hubProxy) AddToHub(ctx context.Context, address string) error {
	return p.call(func(d latchkey.DeviceDriver) error {
		h, ok := d.(latchkey.HubPairing)
		if !ok {
			return p.cannot("add or remove locks on its hub: do it in the hub's own app, then skip this step")
		}
		return h.AddToHub(ctx, address)
	})
}

// ReadBattery reads a lock's battery, when the running driver can.
func (p *hubProxy) ReadBattery(ctx context.Context, address string) (mv int, err error) {
	err = p.call(func(d latchkey.DeviceDriver) error {
		b, ok := d.(latchkey.BatteryReader)
		if !ok {
			return p.cannot("read a battery on demand")
		}
		mv, err = b.ReadBattery(ctx, address)
		return err
	})
	return mv, err
}

// Devices lists the devices the hub knows, when the running driver can.
func (p *hubProxy) Devices(ctx context.Context) (devices []latchkey.DeviceInfo, err error) {
	err = p.call(func(d latchkey.DeviceDriver) error {
		l, ok := d.(latchkey.DeviceLister)
		if !ok {
			return p.cannot("list the devices of its hub: add its locks with latchkey lock add --driver " + string(p.kind) + " --address ADDRESS")
		}
		devices, err = l.Devices(ctx)
		return err
	})
	return devices, err
}

// Connected says whether the running driver reaches its hub: its own word when it can
// say, else what it did last.
func (p *hubProxy) Connected() bool {
	p.mu.Lock()
	d, up := p.cur, p.up
	p.mu.Unlock()
	if c, ok := d.(latchkey.HubConnection); ok {
		return c.Connected()
	}
	return d != nil && up
}

// Status is the hub's health.
func (p *hubProxy) Status() latchkey.HubStatus {
	connected := p.Connected()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := latchkey.HubStatus{Driver: p.kind, Running: p.cur != nil, Connected: connected, LastError: p.lastErr}
	if p.hub != nil {
		st.HubID, st.Name = p.hub.ID, p.hub.Name
	}
	if !p.lastSeen.IsZero() {
		at := p.lastSeen
		st.LastMessageAt = &at
	}
	return st
}

// deliver passes an event of the driver of generation gen to the subscribers, unless
// that driver was swapped out since.
func (p *hubProxy) deliver(gen uint64, ev latchkey.DeviceEvent) {
	p.mu.Lock()
	if gen != p.gen {
		p.mu.Unlock()
		return
	}
	p.up, p.lastSeen = true, p.now()
	subs := append([]func(latchkey.DeviceEvent){}, p.subs...)
	p.mu.Unlock()
	for _, f := range subs {
		f(ev)
	}
}

// swap stops the running driver, if any, and runs d for hub (nil, nil for no hub; a
// nil d with an error for a hub whose driver could not be made). The old driver is
// closed outside the lock: commands in flight on it end with its own errors.
func (p *hubProxy) swap(hub *latchkey.Hub, d latchkey.DeviceDriver, closer io.Closer, why error) error {
	p.mu.Lock()
	old := p.closer
	if p.stopWait != nil {
		p.stopWait()
	}
	p.gen++
	gen := p.gen
	p.hub, p.cur, p.closer, p.stopWait, p.up, p.lastSeen, p.lastErr = hub, nil, nil, nil, false, time.Time{}, ""
	if why != nil {
		p.lastErr = latchkey.ErrorMessage(why)
	}
	p.mu.Unlock()
	var err error
	if old != nil {
		err = old.Close()
	}
	if d == nil {
		return err
	}
	d.Subscribe(func(ev latchkey.DeviceEvent) { p.deliver(gen, ev) })
	if o, ok := d.(opener); ok {
		if oerr := o.Open(); oerr != nil {
			if closer != nil {
				_ = closer.Close()
			}
			p.mu.Lock()
			if gen == p.gen {
				p.lastErr = latchkey.ErrorMessage(oerr)
			}
			p.mu.Unlock()
			return errors.Join(err, oerr)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen { // swapped again while opening
		if closer != nil {
			return errors.Join(err, closer.Close())
		}
		return err
	}
	p.cur, p.closer = d, closer
	if r, ok := d.(readier); ok {
		ctx, cancel := context.WithTimeout(context.Background(), readyWithin)
		p.stopWait = cancel
		go func() {
			defer cancel()
			p.observe(gen, r.Ready(ctx))
		}()
	}
	return err
}

// hubDrivers runs one proxy per hub driver kind, each over the driver made from the
// current hub of its kind, and makes or stops drivers when hubs are added or removed.
type hubDrivers struct {
	Service   *latchkey.Service
	Factories map[latchkey.Driver]hubFactory
	Logger    *slog.Logger
	// Poll is how often the hubs are read again besides the service's signal: a hub
	// added through another server on the same database, or one whose driver could not
	// be made, is picked up then. Default 30 s.
	Poll time.Duration

	proxies map[latchkey.Driver]*hubProxy
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex // one reload at a time
}

var _ latchkey.HubHealth = (*hubDrivers)(nil)

// newHubDrivers returns the proxies for svc over the factories built in.
func newHubDrivers(svc *latchkey.Service, factories map[latchkey.Driver]hubFactory, log *slog.Logger) *hubDrivers {
	h := &hubDrivers{Service: svc, Factories: factories, Logger: log, Poll: 30 * time.Second, proxies: map[latchkey.Driver]*hubProxy{}}
	for _, kind := range latchkey.HubDrivers {
		h.proxies[kind] = newHubProxy(kind, svc.Clock.Now)
	}
	return h
}

// Drivers are the proxies, by driver, for the engines' Drivers maps.
func (h *hubDrivers) Drivers() map[latchkey.Driver]latchkey.DeviceDriver {
	out := map[latchkey.Driver]latchkey.DeviceDriver{}
	for kind, p := range h.proxies {
		out[kind] = p
	}
	return out
}

// Readers are the proxies as slot readers, for adopting codes set at a lock.
func (h *hubDrivers) Readers() map[latchkey.Driver]latchkey.CodeReader {
	out := map[latchkey.Driver]latchkey.CodeReader{}
	for kind, p := range h.proxies {
		out[kind] = p
	}
	return out
}

// Listers are the proxies as device listers, for offering locks paired with a hub.
func (h *hubDrivers) Listers() map[latchkey.Driver]latchkey.DeviceLister {
	out := map[latchkey.Driver]latchkey.DeviceLister{}
	for kind, p := range h.proxies {
		out[kind] = p
	}
	return out
}

// Subscribe delivers every hub's events.
func (h *hubDrivers) Subscribe(f func(latchkey.DeviceEvent)) {
	for _, p := range h.proxies {
		p.Subscribe(f)
	}
}

// HubStatuses is each driver kind's health, in latchkey.HubDrivers' order.
func (h *hubDrivers) HubStatuses() []latchkey.HubStatus {
	out := make([]latchkey.HubStatus, 0, len(h.proxies))
	for _, kind := range latchkey.HubDrivers {
		out = append(out, h.proxies[kind].Status())
	}
	return out
}

// hubsCtx acts as Latchkey itself: the server reads the hubs and opens their secrets.
func hubsCtx(ctx context.Context) context.Context {
	return latchkey.NewContextWithActor(ctx, "latchkey")
}

// Open makes the drivers of the hubs recorded now, then follows changes until Close.
func (h *hubDrivers) Open(ctx context.Context) error {
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := h.Reload(ctx); err != nil {
		h.cancel()
		return err
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(h.Poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.Service.HubsChanged():
			case <-tick.C:
			}
			if err := h.Reload(ctx); err != nil && ctx.Err() == nil {
				h.Logger.Warn("reading the hubs", slog.String("error", err.Error()))
			}
		}
	}()
	return nil
}

// Reload reads the hubs and brings each proxy in line: a new hub's driver is made, a
// removed hub's is stopped, a hub whose driver could not be made is tried again.
func (h *hubDrivers) Reload(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	hubs, err := h.Service.FindHubs(hubsCtx(ctx))
	if err != nil {
		return err
	}
	byKind := map[latchkey.Driver]*latchkey.Hub{}
	for _, hub := range hubs {
		byKind[hub.Driver] = hub
	}
	for _, kind := range latchkey.HubDrivers {
		p, hub := h.proxies[kind], byKind[kind]
		_, built := h.Factories[kind]
		p.mu.Lock()
		// A hub already running stays; so does one whose driver is not built in (trying
		// again would change nothing). One whose driver failed is tried again.
		same := (p.hub == nil && hub == nil) || (p.hub != nil && hub != nil && p.hub.ID == hub.ID && (p.cur != nil || !built))
		p.mu.Unlock()
		if same {
			continue
		}
		log := h.Logger.With(slog.String("driver", string(kind)))
		if hub == nil {
			log.Info("hub removed: its driver stops")
			if err := p.swap(nil, nil, nil, nil); err != nil {
				log.Warn("stopping the hub's driver", slog.String("error", err.Error()))
			}
			continue
		}
		d, closer, err := h.make(ctx, hub, log)
		if err != nil {
			log.Warn("the hub's driver does not run", slog.Int64("hub", hub.ID), slog.String("error", latchkey.ErrorMessage(err)))
		} else {
			log.Info("hub driver starts", slog.Int64("hub", hub.ID), slog.String("url", hub.URL))
		}
		if err := p.swap(hub, d, closer, err); err != nil {
			log.Warn("starting the hub's driver", slog.String("error", latchkey.ErrorMessage(err)))
		} else if d != nil {
			h.Service.HubStarted()
		}
	}
	return nil
}

// make makes a hub's driver with its secret.
func (h *hubDrivers) make(ctx context.Context, hub *latchkey.Hub, log *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
	factory, ok := h.Factories[hub.Driver]
	if !ok {
		return nil, nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "this Latchkey has no %s driver built in.", hub.Driver)
	}
	secret, err := h.Service.HubSecret(hubsCtx(ctx), hub.ID)
	if err != nil {
		return nil, nil, err
	}
	d, closer, err := factory(ctx, hub, secret, log)
	if err != nil {
		return nil, nil, err
	}
	if d == nil {
		return nil, nil, fmt.Errorf("the %s factory made no driver", hub.Driver)
	}
	if closer == nil {
		closer = closerOf(d)
	}
	return d, closer, nil
}

// closerOf is what closes a driver: its own Close, whichever form it takes; nil when it
// has none.
func closerOf(d latchkey.DeviceDriver) io.Closer {
	switch c := d.(type) {
	case io.Closer:
		return c
	case interface{ Close() }:
		return closeFunc(func() error { c.Close(); return nil })
	}
	return nil
}

// closeFunc is a function as an io.Closer.
type closeFunc func() error

// Close calls f.
func (f closeFunc) Close() error { return f() }

// Close stops following changes and stops every running driver.
func (h *hubDrivers) Close() {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, kind := range latchkey.HubDrivers {
		if err := h.proxies[kind].swap(nil, nil, nil, nil); err != nil {
			h.Logger.Warn("stopping a hub's driver", slog.String("driver", string(kind)), slog.String("error", err.Error()))
		}
	}
}

// startHubs runs the drivers of the hubs recorded, with the factories built in, each
// event they report recorded (the lock's state, the person whose code opened it), and
// the proxies as the service's slot readers and device listers.
func (m *Main) startHubs(ctx context.Context, svc *latchkey.Service, log *slog.Logger) (*hubDrivers, error) {
	hubs := newHubDrivers(svc, hubFactories, log.With(slog.String("component", "hubs")))
	hubs.Subscribe(func(ev latchkey.DeviceEvent) {
		if _, err := svc.RecordDeviceEvent(context.Background(), ev); err != nil {
			log.Warn("device event not recorded", slog.String("driver", string(ev.Driver)), slog.String("lock", ev.Address), slog.String("error", err.Error()))
		}
	})
	svc.Readers, svc.Listers = hubs.Readers(), hubs.Listers()
	if err := hubs.Open(ctx); err != nil {
		return nil, err
	}
	return hubs, nil
}
