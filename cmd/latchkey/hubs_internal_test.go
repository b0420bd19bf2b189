package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/vault"
)

// fakeDriver is a hub driver that answers from memory and records what it was asked.
type fakeDriver struct {
	kind latchkey.Driver
	fail error // returned by every command when set

	mu     sync.Mutex
	codes  map[string]string // address/slot → PIN
	subs   []func(latchkey.DeviceEvent)
	closed bool
	opened bool
}

func newFakeDriver(kind latchkey.Driver) *fakeDriver {
	return &fakeDriver{kind: kind, codes: map[string]string{}}
}

func (f *fakeDriver) Name() latchkey.Driver { return f.kind }

func (f *fakeDriver) Subscribe(fn func(latchkey.DeviceEvent)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, fn)
}

func (f *fakeDriver) emit(ev latchkey.DeviceEvent) {
	f.mu.Lock()
	subs := append([]func(latchkey.DeviceEvent){}, f.subs...)
	f.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
}

func slotKey(address string, slot int) string { return address + "/" + string(rune('0'+slot)) }

func (f *fakeDriver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.codes[slotKey(address, slot)] = pin
	return nil
}

func (f *fakeDriver) ClearCode(ctx context.Context, address string, slot int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.codes, slotKey(address, slot))
	return f.fail
}

func (f *fakeDriver) Lock(ctx context.Context, address string) error   { return f.fail }
func (f *fakeDriver) Unlock(ctx context.Context, address string) error { return f.fail }

func (f *fakeDriver) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeDriver) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// quietCloser is a fakeDriver whose Close returns nothing, as some drivers' do.
type quietCloser struct{ *fakeDriver }

func (q quietCloser) Close() { _ = q.fakeDriver.Close() }

// fullDriver is a fakeDriver with every optional ability, started by Open (which
// reports an event at once, as a driver reading retained messages does).
type fullDriver struct{ *fakeDriver }

func (f fullDriver) ReadCode(ctx context.Context, address string, slot int) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pin, ok := f.codes[slotKey(address, slot)]
	return pin, ok, f.fail
}

func (f fullDriver) RemoveFromHub(ctx context.Context, address string) error { return nil }
func (f fullDriver) AddToHub(ctx context.Context, address string) error      { return nil }
func (f fullDriver) ReadBattery(ctx context.Context, address string) (int, error) {
	return 5900, nil
}

func (f fullDriver) Open() error {
	f.mu.Lock()
	f.opened = true
	f.mu.Unlock()
	f.emit(latchkey.DeviceEvent{Driver: f.kind, Address: "retained", Kind: latchkey.EventLowBattery})
	return nil
}

// hubWorld is a service on a fresh SQLite store with the hub drivers over fake
// factories, following changes.
type hubWorld struct {
	svc    *latchkey.Service
	hubs   *hubDrivers
	mu     sync.Mutex
	made   []*fakeDriver
	secret map[latchkey.Driver]string
	events []latchkey.DeviceEvent
}

func newHubWorld(t *testing.T, factories func(w *hubWorld) map[latchkey.Driver]hubFactory) *hubWorld {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(dir, "vault.key"))
	if err != nil {
		t.Fatal(err)
	}
	w := &hubWorld{svc: &latchkey.Service{Store: db, Vault: v, Models: Rules(), Clock: latchkey.SystemClock{}}, secret: map[latchkey.Driver]string{}}
	w.hubs = newHubDrivers(w.svc, factories(w), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.hubs.Poll = time.Hour // only the service's signal moves it, in these tests
	w.hubs.Subscribe(func(ev latchkey.DeviceEvent) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.events = append(w.events, ev)
	})
	if err := w.hubs.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.hubs.Close()
		db.Close()
	})
	return w
}

// factory makes fake drivers (full ones when full is set), keeping them and the secret.
func (w *hubWorld) factory(full bool) hubFactory {
	return func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
		d := newFakeDriver(hub.Driver)
		w.mu.Lock()
		w.made, w.secret[hub.Driver] = append(w.made, d), secret
		w.mu.Unlock()
		if full {
			return fullDriver{d}, d, nil
		}
		return quietCloser{d}, nil, nil // closed by its own Close()
	}
}

func (w *hubWorld) drivers() []*fakeDriver {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*fakeDriver{}, w.made...)
}

// eventually waits for cond, which the hub watcher makes true after a change.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

var owner = latchkey.NewContextWithActor(context.Background(), "ana")

// The proxy answers without a hub saying how to add one; a hub added while the server
// runs is reached at once, with its secret; its events and its health come through; a
// hub removed stops its driver, whose late events are dropped; optional abilities are
// forwarded when the driver has them and refused saying so when it has not.
func TestHubProxySwaps(t *testing.T) {
	w := newHubWorld(t, func(w *hubWorld) map[latchkey.Driver]hubFactory {
		return map[latchkey.Driver]hubFactory{latchkey.DriverZigbee2MQTT: w.factory(true), latchkey.DriverZWaveJS: w.factory(false)}
	})
	z := w.hubs.Drivers()[latchkey.DriverZigbee2MQTT]
	ctx := context.Background()

	err := z.SetCode(ctx, "front", 1, "482913")
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || latchkey.ErrorMessage(err) != "No Zigbee2MQTT hub is configured: latchkey hub add zigbee2mqtt mqtt://host:1883" {
		t.Fatalf("without a hub: %v", err)
	}
	if st := w.hubs.HubStatuses(); len(st) != 2 || st[1].Driver != latchkey.DriverZigbee2MQTT || st[1].Running || st[1].HubID != 0 {
		t.Fatalf("statuses without hubs: %+v", st)
	}

	hub, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883", Username: "lk", Secret: "pw-123456"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Zigbee2MQTT driver runs", func() bool { return w.hubs.HubStatuses()[1].Running })
	first := w.drivers()[0]
	if w.secret[latchkey.DriverZigbee2MQTT] != "pw-123456" || !first.opened {
		t.Fatalf("the factory got secret %q; opened %v", w.secret[latchkey.DriverZigbee2MQTT], first.opened)
	}
	w.mu.Lock()
	retained := len(w.events) == 1 && w.events[0].Address == "retained"
	w.mu.Unlock()
	if !retained {
		t.Fatalf("the event reported as the driver opened was lost: %+v", w.events)
	}
	if err := z.SetCode(ctx, "front", 1, "482913"); err != nil {
		t.Fatal(err)
	}
	pin, present, err := z.(latchkey.CodeReader).ReadCode(ctx, "front", 1)
	if err != nil || !present || pin != "482913" {
		t.Fatalf("read back through the proxy: %q %v %v", pin, present, err)
	}
	if mv, err := z.(latchkey.BatteryReader).ReadBattery(ctx, "front"); err != nil || mv != 5900 {
		t.Fatalf("battery through the proxy: %d %v", mv, err)
	}
	if err := z.(latchkey.HubPairing).RemoveFromHub(ctx, "front"); err != nil {
		t.Fatal(err)
	}
	st := w.hubs.HubStatuses()[1]
	if !st.Connected || st.LastMessageAt == nil || st.HubID != hub.ID || st.Name != "Zigbee2MQTT" || st.LastError != "" {
		t.Fatalf("health after answers: %+v", st)
	}

	// The hub goes away: the driver says so; health follows.
	first.mu.Lock()
	first.fail = latchkey.Errorf(latchkey.EUNAVAILABLE, "The MQTT broker at mqtt://broker:1883 does not answer.")
	first.mu.Unlock()
	if err := z.Lock(ctx, "front"); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a hub away: %v", err)
	}
	if st := w.hubs.HubStatuses()[1]; st.Connected || !strings.Contains(st.LastError, "does not answer") {
		t.Fatalf("health with the hub away: %+v", st)
	}
	// A lock's own refusal means the hub answered.
	first.mu.Lock()
	first.fail = latchkey.Errorf(latchkey.EINVALID, "The lock refused the code.")
	first.mu.Unlock()
	_ = z.Lock(ctx, "front")
	if st := w.hubs.HubStatuses()[1]; !st.Connected {
		t.Fatalf("health after a lock's refusal: %+v", st)
	}

	// Removed while running: the driver stops, and what it still sends is dropped.
	if err := w.svc.DeleteHub(owner, hub.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Zigbee2MQTT driver stops", first.isClosed)
	first.emit(latchkey.DeviceEvent{Driver: latchkey.DriverZigbee2MQTT, Address: "late", Kind: latchkey.EventJammed})
	w.mu.Lock()
	n := len(w.events)
	w.mu.Unlock()
	if n != 1 {
		t.Fatalf("an event of a driver stopped reached the records: %d events", n)
	}
	if err := z.Unlock(ctx, "front"); !strings.Contains(latchkey.ErrorMessage(err), "No Zigbee2MQTT hub is configured") {
		t.Fatalf("after removal: %v", err)
	}

	// A driver without the optional abilities: refused saying so.
	if _, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZWaveJS, URL: "ws://zwave:3000"}); err != nil {
		t.Fatal(err)
	}
	zw := w.hubs.Drivers()[latchkey.DriverZWaveJS]
	eventually(t, "the Z-Wave JS driver runs", func() bool { return w.hubs.HubStatuses()[0].Running })
	if _, _, err := zw.(latchkey.CodeReader).ReadCode(ctx, "7", 1); latchkey.ErrorMessage(err) != "The Z-Wave JS driver cannot read a slot back." {
		t.Fatalf("a reader the driver lacks: %v", err)
	}
	if err := zw.(latchkey.HubPairing).AddToHub(ctx, "7"); !strings.Contains(latchkey.ErrorMessage(err), "cannot add or remove locks") {
		t.Fatalf("pairing the driver lacks: %v", err)
	}
	if _, err := zw.(latchkey.BatteryReader).ReadBattery(ctx, "7"); !strings.Contains(latchkey.ErrorMessage(err), "cannot read a battery") {
		t.Fatalf("a battery the driver lacks: %v", err)
	}
	if w.secret[latchkey.DriverZWaveJS] != "" {
		t.Fatal("a hub without a secret got one")
	}
	zigbee := w.drivers()
	w.hubs.Close()
	for _, d := range zigbee {
		if !d.isClosed() {
			t.Fatal("a driver was left running after Close")
		}
	}
}

// A hub whose driver cannot be made, or is not built in, is shown with why, and its
// locks are answered with it.
func TestHubProxyFailures(t *testing.T) {
	var tries atomic.Int32
	w := newHubWorld(t, func(*hubWorld) map[latchkey.Driver]hubFactory {
		return map[latchkey.Driver]hubFactory{
			latchkey.DriverZigbee2MQTT: func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
				tries.Add(1)
				return nil, nil, latchkey.Errorf(latchkey.EINVALID, "The base topic is refused.")
			},
		}
	})
	if _, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZWaveJS, URL: "ws://zwave:3000"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both failures are known", func() bool {
		st := w.hubs.HubStatuses()
		return st[0].LastError != "" && st[1].LastError != ""
	})
	err := w.hubs.Drivers()[latchkey.DriverZigbee2MQTT].SetCode(context.Background(), "front", 1, "482913")
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE || !strings.Contains(latchkey.ErrorMessage(err), "does not run: The base topic is refused.") {
		t.Fatalf("a hub whose driver failed: %v", err)
	}
	err = w.hubs.Drivers()[latchkey.DriverZWaveJS].Lock(context.Background(), "7")
	if !strings.Contains(latchkey.ErrorMessage(err), "this Latchkey has no zwavejs driver built in") {
		t.Fatalf("a hub whose driver is not built in: %v", err)
	}
	// Reading the hubs again tries the failed driver again, not the one not built in
	// (the proxies' own watcher may read them meanwhile too: at least once, then).
	before := tries.Load()
	if err := w.hubs.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := tries.Load() - before; got < 1 {
		t.Fatalf("a reload did not try the failed driver again")
	}
}

// Factories register by name, once.
func TestRegisterHubDriver(t *testing.T) {
	const name = latchkey.Driver("test-only")
	f := func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
		return nil, nil, errors.New("unused")
	}
	registerHubDriver(name, f)
	t.Cleanup(func() { delete(hubFactories, name) })
	if _, ok := hubFactories[name]; !ok {
		t.Fatal("not registered")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second registration of the same name did not panic")
		}
	}()
	registerHubDriver(name, f)
}

// runMain runs the command line on m's streams, returning its status and output.
func runMain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	m := NewMain()
	var out, errOut strings.Builder
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &errOut
	status := m.Run(context.Background(), args)
	return status, out.String(), errOut.String()
}

// The server end to end: a Zigbee2MQTT hub added from the command line while 'serve'
// runs is reached without a restart; the sync engine puts a code on a lock through it
// and reads it back; what the lock reports is recorded; 'hub ls' and /metrics show the
// hub connected; removing the hub is refused while the lock is connected through it.
func TestServeRunsHubsAdded(t *testing.T) {
	made := make(chan fullDriver, 1)
	// The program's own Zigbee2MQTT factory stands aside for a fake for this test.
	real := hubFactories[latchkey.DriverZigbee2MQTT]
	delete(hubFactories, latchkey.DriverZigbee2MQTT)
	registerHubDriver(latchkey.DriverZigbee2MQTT, func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
		d := fullDriver{newFakeDriver(hub.Driver)}
		made <- d
		return d, d, nil
	})
	t.Cleanup(func() {
		delete(hubFactories, latchkey.DriverZigbee2MQTT)
		if real != nil {
			hubFactories[latchkey.DriverZigbee2MQTT] = real
		}
	})

	dir := t.TempDir()
	data := []string{"--data", dir}
	if st, _, errOut := runMain(t, "a long enough password\n", append([]string{"user", "add", "ana", "--role", "owner"}, data...)...); st != 0 {
		t.Fatal(errOut)
	}
	_, tokOut, _ := runMain(t, "", append([]string{"token", "create", "ci", "--user", "ana", "--json"}, data...)...)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(tokOut), &tok); err != nil {
		t.Fatal(err, tokOut)
	}

	m := NewMain()
	out, w := io.Pipe()
	var errOut strings.Builder
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), w, &syncWriter{w: &errOut}
	urls := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), "Latchkey is serving at "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	status := make(chan int, 1)
	go func() {
		status <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, data...))
		w.Close()
	}()
	var base string
	select {
	case base = <-urls:
	case s := <-status:
		t.Fatalf("serve stopped with %d", s)
	case <-time.After(30 * time.Second):
		t.Fatal("serve never said it serves")
	}
	defer func() {
		cancel()
		if s := <-status; s != 0 {
			t.Fatalf("serve stopped with %d", s)
		}
	}()
	remote := []string{"--server", base, "--token", tok.Token}
	api := lkhttp.NewClient(base, tok.Token)

	if st, stdout, stderr := runMain(t, "broker-password\n", append([]string{"hub", "add", "zigbee2mqtt", "mqtt://broker:1883", "--username", "lk", "--password-stdin"}, remote...)...); st != 0 || !strings.Contains(stdout, "Added hub 1: Zigbee2MQTT at mqtt://broker:1883.") {
		t.Fatalf("hub add through the server: %d %q %q", st, stdout, stderr)
	}
	var d fullDriver
	select {
	case d = <-made:
	case <-time.After(10 * time.Second):
		t.Fatal("the hub added was never run")
	}

	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	mustDo(t, api.CreateSite(owner, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Back"}
	mustDo(t, api.CreateDoor(owner, door))
	lock := &latchkey.Lock{DoorID: door.ID, Name: "Back deadbolt", ModelID: "914", Connection: latchkey.Connection{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000d6f0001"}}
	mustDo(t, api.CreateLock(owner, lock))
	p := &latchkey.Person{Name: "Sam", Role: latchkey.RoleOwner}
	mustDo(t, api.CreatePerson(owner, p))
	c, pin, err := api.CreateCode(owner, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: "Sam"}, LockIDs: []int64{lock.ID}})
	mustDo(t, err)
	eventually(t, "the engine put the code on the lock through the hub", func() bool {
		gs, err := api.FindGrants(owner, latchkey.GrantFilter{CodeID: &c.ID})
		return err == nil && len(gs) == 1 && gs[0].Status == latchkey.GrantSet
	})
	d.mu.Lock()
	held := false
	for _, v := range d.codes {
		held = held || v == pin
	}
	d.mu.Unlock()
	if !held {
		t.Fatal("the code set is not on the driver's lock")
	}
	d.emit(latchkey.DeviceEvent{Driver: latchkey.DriverZigbee2MQTT, Address: "0x000d6f0001", Kind: latchkey.EventJammed})
	eventually(t, "the lock's report is recorded", func() bool {
		l, err := api.FindLockByID(owner, lock.ID)
		return err == nil && l.State.Bolt == "jammed"
	})

	st, stdout, _ := runMain(t, "", append([]string{"hub", "ls"}, remote...)...)
	if st != 0 || !strings.Contains(stdout, "lk (password sealed)") || !strings.Contains(stdout, "connected, last heard") || strings.Contains(stdout, "broker-password") {
		t.Fatalf("hub ls through the server: %d\n%s", st, stdout)
	}
	resp, err := http.Get(base + "/metrics")
	mustDo(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `latchkey_hub_up{driver="zigbee2mqtt"} 1`) {
		t.Fatal("/metrics does not say the hub is up")
	}
	if st, _, stderr := runMain(t, "", append([]string{"hub", "rm", "1"}, remote...)...); st != 1 || !strings.Contains(stderr, "Back deadbolt (lock 1)") {
		t.Fatalf("removing a hub in use: %d %q", st, stderr)
	}
	if strings.Contains(errOut.String(), "broker-password") || strings.Contains(errOut.String(), pin) {
		t.Fatal("the server's log holds a secret")
	}
}

// syncWriter lets the server's goroutines share one log buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readyDriver is a fakeDriver that says when it reaches its hub: Ready waits for a
// value sent on ready.
type readyDriver struct {
	*fakeDriver
	ready chan error
}

func (r readyDriver) Ready(ctx context.Context) error {
	select {
	case err := <-r.ready:
		return err
	case <-ctx.Done():
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "No answer from the hub.")
	}
}

// A driver that can say when it reaches its hub gives the hub's first health before any
// lock reports or any command is sent: connected when it does, the reason when not.
func TestHubProxyReady(t *testing.T) {
	ready := make(chan error)
	w := newHubWorld(t, func(*hubWorld) map[latchkey.Driver]hubFactory {
		return map[latchkey.Driver]hubFactory{
			latchkey.DriverZigbee2MQTT: func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
				return readyDriver{newFakeDriver(hub.Driver), ready}, nil, nil
			},
		}
	})
	z2m := func() latchkey.HubStatus { return w.hubs.HubStatuses()[1] }
	h, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"})
	mustDo(t, err)
	eventually(t, "the driver runs", func() bool { return z2m().Running })
	if st := z2m(); st.Connected || st.LastMessageAt != nil {
		t.Fatalf("before the driver's first word: %+v", st)
	}
	ready <- nil
	eventually(t, "the hub is connected", func() bool { return z2m().Connected && z2m().LastMessageAt != nil })

	// Removed and added again: this time the hub never answers.
	mustDo(t, w.svc.DeleteHub(owner, h.ID))
	eventually(t, "the driver stops", func() bool { return !z2m().Running })
	_, err = w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"})
	mustDo(t, err)
	eventually(t, "the driver runs again", func() bool { return z2m().Running })
	ready <- latchkey.Errorf(latchkey.EUNAVAILABLE, "No device list from Zigbee2MQTT.")
	eventually(t, "the reason is kept", func() bool { return z2m().LastError == "No device list from Zigbee2MQTT." })
	if z2m().Connected {
		t.Fatal("a hub that never answered is shown connected")
	}
}

// connectedDriver is a full fake driver that says whether it reaches its hub.
type connectedDriver struct {
	fullDriver
	up *atomic.Bool
}

func (c connectedDriver) Connected() bool { return c.up.Load() }

// A driver that says it reaches its hub keeps the hub healthy when a lock does not
// answer (a sleepy lock dozing must not set off an alert on the hub); when it says it
// does not, the failure is the hub's.
func TestHubHealthNotALocksTimeout(t *testing.T) {
	up := &atomic.Bool{}
	up.Store(true)
	w := newHubWorld(t, func(w *hubWorld) map[latchkey.Driver]hubFactory {
		inner := w.factory(true)
		return map[latchkey.Driver]hubFactory{latchkey.DriverZigbee2MQTT: func(ctx context.Context, hub *latchkey.Hub, secret string, logger *slog.Logger) (latchkey.DeviceDriver, io.Closer, error) {
			d, closer, err := inner(ctx, hub, secret, logger)
			if err != nil {
				return nil, nil, err
			}
			return connectedDriver{fullDriver: d.(fullDriver), up: up}, closer, nil
		}}
	})
	z := w.hubs.Drivers()[latchkey.DriverZigbee2MQTT]
	if _, err := w.svc.CreateHub(owner, latchkey.NewHub{Driver: latchkey.DriverZigbee2MQTT, URL: "mqtt://broker:1883"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Zigbee2MQTT driver runs", func() bool { return w.hubs.HubStatuses()[1].Running })
	d := w.drivers()[0]
	d.mu.Lock()
	d.fail = latchkey.Errorf(latchkey.EUNAVAILABLE, "Gave up waiting for reading slot 27 on lock 0x000d6f0000010001 (lock-1).")
	d.mu.Unlock()
	if err := z.Lock(context.Background(), "front"); latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a lock that does not answer: %v", err)
	}
	if st := w.hubs.HubStatuses()[1]; !st.Connected || st.LastError != "" {
		t.Fatalf("a lock's timeout is on the hub's health: %+v", st)
	}
	up.Store(false)
	_ = z.Lock(context.Background(), "front")
	if st := w.hubs.HubStatuses()[1]; st.Connected || !strings.Contains(st.LastError, "Gave up") {
		t.Fatalf("a failure with the hub away is not on its health: %+v", st)
	}
}
