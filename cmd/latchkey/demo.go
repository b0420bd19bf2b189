package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	lkhttp "github.com/latchkey/latchkey/http"
	"github.com/latchkey/latchkey/keying"
	"github.com/latchkey/latchkey/procedure"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
)

// demoDir is where 'latchkey demo' keeps its records: in the working directory, so that
// a second terminal there finds the running demo (see discoverDemo).
const demoDir = "latchkey-demo"

// demoMarker marks a directory the demo made, so that it only ever deletes its own.
const demoMarker = "DEMO-DATA-DELETED-ON-EACH-RUN"

// demoServerFile tells CLI commands in the same working directory where the demo runs.
const demoServerFile = "server.json"

// demoServer is what demoServerFile holds.
type demoServer struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// demoTimings pace the everyday script; tests shorten them.
type demoTimings struct {
	Step  time.Duration // between scripted moments
	Speed float64       // virtual seconds per real second in the twins
	Hands time.Duration // how long the virtual hands take over a procedure's step
}

func (m *Main) demoCommand() *cobra.Command {
	var addr, logLevel, hub, broker string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a demo home on simulated Kwikset locks, with the web UI, in ./" + demoDir,
		Long: `Start a fresh demo home backed by digital twins of Kwikset locks: a 916 Z-Wave deadbolt
with a SmartKey cylinder at the front, a 914 Zigbee deadbolt at the back, a 910 on the
garage entry and a SmartKey knob at the side door. Two people, their codes, a key, and a
guest code for next weekend, and a dog walker's code whose hour starts 62 minutes in: the
sync engine puts it on the front lock two minutes in, an hour (the site's lead time) ahead.
The twins play a gentle script of everyday life, and what
they report reaches the records and the dashboard as it happens.

With --hub z2m the three electronic locks (all Zigbee models here) are published on an
MQTT broker as Zigbee2MQTT devices, under the base topic "` + demoBaseTopic + `" (a real
Zigbee2MQTT's topics are untouched), and Latchkey reaches them through its zigbee2mqtt
driver, as it would real ones; the demo clears its retained messages when it stops.

The records live in ./` + demoDir + `, made afresh on each run. While the demo runs, other
latchkey commands in this directory (latchkey lock ls) work against it. Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, args []string) error {
			if hub != demoHubSim && hub != demoHubZ2M {
				return usagef("--hub is %q; give sim (the default: the locks in this process) or z2m (the locks as Zigbee2MQTT devices on --broker)", hub)
			}
			if cmd.Flags().Changed("broker") && hub != demoHubZ2M {
				return usagef("--broker goes with --hub z2m")
			}
			log, err := m.newLogger("text", logLevel)
			if err != nil {
				return err
			}
			return m.demo(cmd.Context(), demoHub{Kind: hub, Broker: broker}, addr, log, demoTimings{Step: 12 * time.Second, Speed: 1, Hands: 2 * time.Second})
		}),
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	cmd.Flags().StringVar(&hub, "hub", demoHubSim, "where the electronic locks live: sim (in this process) or z2m (Zigbee2MQTT devices on --broker)")
	cmd.Flags().StringVar(&broker, "broker", "mqtt://127.0.0.1:1883", "with --hub z2m, the MQTT broker's URL")
	return cmd
}

// Demo runs the demo home, its twins in this process, until ctx ends.
func (m *Main) Demo(ctx context.Context, addr string, log *slog.Logger, pace demoTimings) error {
	return m.demo(ctx, demoHub{Kind: demoHubSim}, addr, log, pace)
}

// demo runs the demo home, its electronic locks on hub, until ctx ends.
func (m *Main) demo(ctx context.Context, hub demoHub, addr string, log *slog.Logger, pace demoTimings) error {
	if err := freshDemoDir(demoDir); err != nil {
		return err
	}
	m.dataDir, m.dbURL = demoDir, ""
	svc, closeStore, err := m.records(ctx)
	if err != nil {
		_ = os.RemoveAll(demoDir)
		return err
	}
	closeStore = sync.OnceFunc(closeStore)
	defer closeStore()

	twins, err := startDemoTwins(ctx, hub, svc, log)
	if err != nil {
		// Nothing of this run is worth keeping: an empty home.
		closeStore()
		_ = os.RemoveAll(demoDir)
		return err
	}
	defer twins.close()

	demoCtx := latchkey.NewContextWithActor(ctx, "demo")
	home, err := demoRecords(demoCtx, svc, twins.connect)
	if err != nil {
		return err
	}
	driverName := twins.driver.Name()
	// A code set at a twin's keypad is adopted with its PIN read from the twin.
	svc.Readers = map[latchkey.Driver]latchkey.CodeReader{driverName: twins.driver}
	// The sync engine puts every code on the twins and takes them off, as it would on
	// real locks; the home is installed once it has put the first codes on.
	// Virtual hands do the manual steps of a procedure started with them, on the twins.
	hands := &simdriver.Hands{Driver: twins.world, Locks: map[int64]string{}, Cylinders: map[int64]string{}, Pace: pace.Hands}
	for _, d := range demoLocks {
		id := home.locks[d.name]
		if d.radio != "" {
			hands.Locks[id] = d.name
		}
		if c := d.cylinder(); c != "" {
			hands.Cylinders[id] = c
		}
	}
	procs, stopWork, err := m.startWork(ctx, svc, map[latchkey.Driver]latchkey.DeviceDriver{driverName: twins.driver},
		map[string]procedure.Hands{"sim": hands}, log)
	if err != nil {
		return err
	}
	defer stopWork() // before the twins stop and the store closes
	if err := demoInstalled(demoCtx, svc, home); err != nil {
		return err
	}
	twins.world.SetSpeed(pace.Speed)
	srv := m.NewServer(svc, addr, log.With(slog.String("component", "http")))
	srv.Procedures, srv.Hands, srv.Mistakes = procs, "sim", hands.Mistakes()
	if err := srv.Open(); err != nil {
		return err
	}
	token, err := demoToken(ctx, svc, home.Owner)
	if err == nil {
		err = writeDemoServer(demoServer{URL: srv.URL(), Token: token})
	}
	if err != nil {
		_ = srv.Close(context.Background())
		return err
	}
	defer os.Remove(filepath.Join(demoDir, demoServerFile))

	fmt.Fprintf(m.Stdout, `Latchkey demo: a home with four doors on simulated Kwikset locks.
%s
  Open   %s
         (this link signs you in once, within 15 minutes)
  Later, sign in at %s as %q with the password %s

In another terminal here, 'latchkey lock ls' (or 'go run ./cmd/latchkey lock ls' from the
source) lists the demo's locks.
Every %s something happens at a door; watch the dashboard. The dog walker's code goes
on the front lock two minutes in, an hour before its window opens (Codes page).
Watch a procedure end to end, done by virtual hands on the twins: start it on the lock's
page (Procedures: tick Virtual hands, and pick a mistake to make on purpose if you like),
or do the steps yourself there, on a phone if you like; or from here:
  latchkey procedure start rekey --lock %d --hands sim    (the side door learns a new key)
  latchkey procedure start reset --lock %d --hands sim    (a factory reset of the garage entry)
  add --mistake key_not_full to the rekey to see a scrambled cylinder stop for a locksmith
Ctrl-C stops the demo.
`, demoHubLine(hub), srv.LoginLink(home.Owner), srv.URL(), home.Owner.Name, home.Password, pace.Step, home.locks["side"], home.locks["garage"])

	script := make(chan struct{})
	go func() {
		defer close(script)
		active := latchkey.RunActive
		busy := func(twin string) bool {
			id := home.locks[twin]
			runs, _, err := svc.FindRuns(demoCtx, latchkey.RunFilter{LockID: &id, Status: &active}, latchkey.Page{Limit: 1})
			return err != nil || len(runs) > 0
		}
		everyday(ctx, twins.world, pace.Step, home.SamPIN, home.RevokedPIN, busy)
	}()
	<-ctx.Done()
	<-script
	// Stop in order: no new requests and no live streams, then the work, the twins, the store.
	fmt.Fprintln(m.Stdout, "Stopping the demo.")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Close(shutdown)
}

// freshDemoDir empties the demo's directory, refusing to touch one it did not make.
func freshDemoDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return latchkey.Errorf(latchkey.ECONFLICT, "./%s exists and was not made by the demo; move it away or run the demo in another directory.", dir)
		}
		if b, err := os.ReadFile(filepath.Join(dir, demoServerFile)); err == nil {
			var s demoServer
			if json.Unmarshal(b, &s) == nil && s.URL != "" && healthy(s.URL) {
				return latchkey.Errorf(latchkey.ECONFLICT, "A demo is already running here (%s); stop it first, or run this one in another directory.", s.URL)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot clear the old demo in ./%s: %v.", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot create ./%s: %v.", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("Made by 'latchkey demo', which deletes this directory when it starts again.\n"), 0o600)
}

// healthy reports whether a Latchkey server answers at url.
func healthy(url string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func writeDemoServer(s demoServer) error {
	b, _ := json.Marshal(s)
	return os.WriteFile(filepath.Join(demoDir, demoServerFile), b, 0o600)
}

// discoverDemo returns the demo running from this working directory, if one answers.
func discoverDemo() (demoServer, bool) {
	b, err := os.ReadFile(filepath.Join(demoDir, demoServerFile))
	if err != nil {
		return demoServer{}, false
	}
	var s demoServer
	if json.Unmarshal(b, &s) != nil || s.URL == "" || s.Token == "" || !healthy(s.URL) {
		return demoServer{}, false
	}
	return s, true
}

// The demo's twins. The key 35242 opens the front cylinder and the side knob.
var demoBitting = keying.Bitting("35242")

// demoLock is one door of the demo home: its records and its twin.
type demoLock struct {
	door, name, model string
	radio             string // "" for a mechanical lock, which has no connection
	smartKey          bool
}

// cylinder names the SmartKey cylinder twin of the door: the knob itself on a mechanical
// lock, "<name>-cylinder" beside an electronic one; "" when it has none.
func (d demoLock) cylinder() string {
	switch {
	case d.radio == "":
		return d.name
	case d.smartKey:
		return d.name + "-cylinder"
	}
	return ""
}

// demoLockOptions are the twin options of an electronic lock of the demo: LED and audio
// on, the garage's auto-lock, the back door's older batteries.
func demoLockOptions(d demoLock) sim.LockOptions {
	opt := sim.LockOptions{Model: d.model, Radio: d.radio, Locked: true, DIP: &sim.DIP{LED: true, Audio: true}}
	if d.name == "garage" {
		opt.DIP.AutoLock = true
	}
	if d.name == "back" {
		opt.BatteryMV = 4880 // older batteries: they run low in the demo's first minute
	}
	return opt
}

var demoLocks = []demoLock{
	{door: "Front door", name: "front", model: "916", radio: "zwave", smartKey: true},
	{door: "Back door", name: "back", model: "914", radio: "zigbee", smartKey: true},
	{door: "Garage entry", name: "garage", model: "910", radio: "zwave", smartKey: true},
	{door: "Side door", name: "side", model: "smartkey", smartKey: true},
}

// demoWorld builds the twins and pairs the electronic ones with their hubs, as their
// installers would have: Z-Wave inclusion with button A, Zigbee by pressing it four times.
func demoWorld() (*sim.World, error) {
	w := sim.NewWorld(sim.Config{Start: time.Now().UTC(), NoTrace: true})
	for _, d := range demoLocks {
		if c := d.cylinder(); c != "" {
			if _, err := w.AddCylinder(c, sim.CylinderOptions{Bitting: demoBitting}); err != nil {
				return nil, err
			}
		}
		if d.radio == "" {
			continue
		}
		l, err := w.AddLock(d.name, demoLockOptions(d))
		if err != nil {
			return nil, err
		}
		if err := l.JoinHub(); err != nil {
			return nil, err
		}
	}
	// Let pairing finish before the records point at the twins.
	w.Advance(time.Minute)
	return w, nil
}

// demoHome is what the demo needs to know of the records it wrote.
type demoHome struct {
	Owner    *latchkey.User // the account the one-time link signs in as
	Password string         // the owner's, made afresh for each run
	SamPIN   string         // the script types it at the front door
	// RevokedPIN is the cleaner's revoked code, which the script tries at the front door.
	RevokedPIN string
	placed     []int64          // the codes the sync engine puts on before the show starts
	locks      map[string]int64 // the lock of each twin, by the twin's name
	cleaner    int64            // revoked once it is on the front door
}

// demoInstalled waits until the sync engine has put the home's codes on the twins, then
// revokes the cleaner's: the engine takes it off, and the script tries it at the door.
func demoInstalled(ctx context.Context, svc *latchkey.Service, home *demoHome) error {
	wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, id := range home.placed {
		for {
			grants, err := svc.FindGrants(wait, latchkey.GrantFilter{CodeID: &id})
			if err != nil {
				return err
			}
			set := true
			for _, g := range grants {
				set = set && g.Status == latchkey.GrantSet
			}
			if set {
				break
			}
			select {
			case <-wait.Done():
				return latchkey.Errorf(latchkey.EUNAVAILABLE, "The sync engine did not put the demo's codes on its twins within two minutes; try again.")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	_, err := svc.RevokeCode(ctx, home.cleaner)
	return err
}

// demoRecords writes the demo home's records, each electronic lock connected as connect
// says; its codes wait for the sync engine.
func demoRecords(ctx context.Context, svc *latchkey.Service, connect func(twin string) latchkey.Connection) (*demoHome, error) {
	// The home keeps the machine's zone when TZ names one (Go only knows the local zone as
	// "Local", which no site can store), else UTC; the guest's weekend is in that zone.
	zone := time.UTC
	if loc, err := time.LoadLocation(os.Getenv("TZ")); err == nil && os.Getenv("TZ") != "" {
		zone = loc
	}
	site := &latchkey.Site{Name: "Demo home", Address: "12 Maple Street", TimeZone: zone.String()}
	if err := svc.CreateSite(ctx, site); err != nil {
		return nil, err
	}
	alex := &latchkey.Person{Name: "Alex Rivera", Role: latchkey.RoleOwner, Email: "alex@example.com"}
	sam := &latchkey.Person{Name: "Sam Chen", Role: latchkey.RoleFamily}
	for _, p := range []*latchkey.Person{alex, sam} {
		if err := svc.CreatePerson(ctx, p); err != nil {
			return nil, err
		}
	}
	key := &latchkey.Key{SiteID: site.ID, Label: "House key", Keyway: keying.KW1.Keyway, Bitting: string(demoBitting)}
	if err := svc.CreateKey(ctx, key); err != nil {
		return nil, err
	}
	for _, holder := range []*latchkey.Person{alex, sam} {
		if _, err := svc.AddKeyCopy(ctx, key.ID, latchkey.KeyCopy{HolderID: holder.ID, State: latchkey.CopyHeld}); err != nil {
			return nil, err
		}
	}
	home := &demoHome{locks: map[string]int64{}}
	var connected []*latchkey.Lock
	for _, d := range demoLocks {
		door := &latchkey.Door{SiteID: site.ID, Name: d.door}
		if err := svc.CreateDoor(ctx, door); err != nil {
			return nil, err
		}
		l := &latchkey.Lock{DoorID: door.ID, Name: d.door, ModelID: d.model, HasSmartKey: d.smartKey}
		if d.radio != "" {
			l.Connection = connect(d.name)
			connected = append(connected, l)
		}
		if err := svc.CreateLock(ctx, l); err != nil {
			return nil, err
		}
		home.locks[d.name] = l.ID
		if _, err := svc.SetLockKey(ctx, l.ID, key.ID); err != nil {
			return nil, err
		}
	}
	ids := make([]int64, len(connected))
	for i, l := range connected {
		ids[i] = l.ID
	}
	for _, p := range []*latchkey.Person{alex, sam} {
		c, pin, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: p.ID, Label: p.Name + "'s code"}, LockIDs: ids})
		if err != nil {
			return nil, err
		}
		home.placed = append(home.placed, c.ID)
		if p == sam {
			home.SamPIN = pin
		}
	}
	// The cleaner who left: her code was on the front door and is revoked now. The sync
	// engine takes it off the twin; the script tries it at the door now and then, and the
	// twin refuses it (were it still on, the dashboard would raise the alert).
	pat := &latchkey.Person{Name: "Pat Lee", Role: latchkey.RoleService}
	if err := svc.CreatePerson(ctx, pat); err != nil {
		return nil, err
	}
	c, pin, err := svc.CreateCode(ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: pat.ID, Label: "Cleaner's code"}, LockIDs: ids[:1]})
	if err != nil {
		return nil, err
	}
	home.placed, home.cleaner, home.RevokedPIN = append(home.placed, c.ID), c.ID, pin
	// A guest code for next weekend stays pending: the twins keep no schedules, so the
	// sync engine puts it on an hour (the site's lead time) before its window opens. The
	// dog walker's window opens 62 minutes after the demo starts, so a newcomer sees it
	// waiting, then going on two minutes in.
	walkStart := time.Now().Add(time.Duration(site.CodeLeadMinutes+2) * time.Minute).Truncate(time.Minute)
	walkEnd := walkStart.Add(time.Hour)
	if _, _, err := svc.CreateCode(ctx, latchkey.NewCode{
		Code:    latchkey.Code{PersonID: alex.ID, Label: "Dog walker", Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &walkStart, End: &walkEnd}},
		LockIDs: ids[:1],
	}); err != nil {
		return nil, err
	}
	start, end := nextWeekend(time.Now().In(zone))
	if _, _, err := svc.CreateCode(ctx, latchkey.NewCode{
		Code:    latchkey.Code{PersonID: alex.ID, Label: "Weekend guest", Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}},
		LockIDs: ids[:1],
	}); err != nil {
		return nil, err
	}
	home.Password = randomPassword()
	hash, err := lkhttp.HashPassword(home.Password)
	if err != nil {
		return nil, err
	}
	home.Owner = &latchkey.User{Name: "alex", Role: latchkey.UserOwner, PasswordHash: hash}
	if err := svc.CreateUser(ctx, home.Owner); err != nil {
		return nil, err
	}
	return home, nil
}

// demoToken makes the API token the demo leaves for CLI commands in its directory.
func demoToken(ctx context.Context, svc *latchkey.Service, owner *latchkey.User) (string, error) {
	plain, hash := lkhttp.NewTokenSecret()
	ctx = latchkey.NewContextWithActor(ctx, "demo")
	// The demo's directory is deleted on its next run; its token lasts a day.
	day := 24 * time.Hour
	_, err := svc.CreateToken(ctx, latchkey.NewToken{UserID: owner.ID, Name: "demo command line", Hash: hash, Life: &day})
	return plain, err
}

// randomPassword makes the demo owner's password: twelve letters and digits, easy to type
// on a phone and different on every run.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // no l, o, 0 or 1 to misread
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// nextWeekend returns next Saturday 10:00 to Sunday 18:00, in now's zone.
func nextWeekend(now time.Time) (time.Time, time.Time) {
	days := (int(time.Saturday) - int(now.Weekday()) + 7) % 7
	if days == 0 {
		days = 7
	}
	sat := time.Date(now.Year(), now.Month(), now.Day()+days, 10, 0, 0, 0, now.Location())
	return sat, sat.Add(32 * time.Hour)
}

// everyday plays the demo's script on the twins, one moment every step, round and round
// until ctx ends: Sam comes home by code and locks up behind, someone mistypes a code at
// the back, the garage entry is unlocked by hand and locks itself, and the back door's
// old batteries run down until the lock reports them low.
func everyday(ctx context.Context, driver *simdriver.Driver, step time.Duration, samPIN, revokedPIN string, busy func(twin string) bool) {
	lock := func(w *sim.World, name string) *sim.Lock {
		t, err := w.Twin(name)
		if err != nil {
			panic(err) // the demo world always has its four doors
		}
		return t.(*sim.Lock)
	}
	bolt := func(l *sim.Lock) string { b, _ := l.Field("bolt"); return b }
	typeCode := func(l *sim.Lock, digits string) {
		for _, k := range digits {
			_ = l.Press(string(k))
		}
	}
	moments := []struct {
		twin string
		do   func(w *sim.World)
	}{
		{"front", func(w *sim.World) { typeCode(lock(w, "front"), samPIN) }},
		{"back", func(w *sim.World) { l := lock(w, "back"); typeCode(l, "13579"); _ = l.Press(sim.KeyLock) }},
		{"garage", func(w *sim.World) {
			if l := lock(w, "garage"); bolt(l) == "locked" { // else auto-lock has yet to come
				l.ThumbTurn()
			}
		}},
		{"back", func(w *sim.World) {
			l := lock(w, "back")
			mv, _ := l.Field("battery")
			if n, _ := strconv.Atoi(mv); n > 4700 { // low, but not yet critical
				l.SetBattery(n - 100)
			}
		}},
		{"front", func(w *sim.World) { _ = lock(w, "front").Press(sim.KeyLock) }},
		{"front", func(w *sim.World) { typeCode(lock(w, "front"), revokedPIN) }}, // the cleaner who left tries her old code
	}
	tick := time.NewTicker(step)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			// Nobody uses a door while a procedure is under way at it.
			if m := moments[i%len(moments)]; !busy(m.twin) {
				driver.Do(m.do)
			}
		}
	}
}
