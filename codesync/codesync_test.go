package codesync_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/sim"
	"github.com/latchkey/latchkey/simdriver"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/storetest"
)

// fixture is a home of two twins on their hubs ("front" on Z-Wave, "back" on Zigbee),
// recorded as connected locks, with the engine running.
type fixture struct {
	svc    *latchkey.Service
	driver *simdriver.Driver
	events chan latchkey.DeviceEvent
	ctx    context.Context
	person *latchkey.Person
	locks  map[string]*latchkey.Lock
	cancel context.CancelFunc
}

func newFixture(t *testing.T, radio ...sim.RadioConfig) *fixture {
	t.Helper()
	cfg := sim.Config{Seed: 1}
	if len(radio) > 0 {
		cfg.Radio = radio[0]
	}
	w := sim.NewWorld(cfg)
	for name, radio := range map[string]string{"front": "zwave", "back": "zigbee"} {
		l, err := w.AddLock(name, sim.LockOptions{Model: map[string]string{"zwave": "916", "zigbee": "914"}[radio], Radio: radio, Locked: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.JoinHub(); err != nil {
			t.Fatal(err)
		}
	}
	d := simdriver.New(w)
	d.Speed = 20 // twenty virtual seconds a second
	events := make(chan latchkey.DeviceEvent, 64)
	var svc *latchkey.Service
	recorded := make(chan struct{})
	d.Subscribe(func(e latchkey.DeviceEvent) {
		<-recorded // the records exist before any event is kept
		if _, err := svc.RecordDeviceEvent(context.Background(), e); err != nil {
			t.Errorf("recording %s from %s: %v", e.Kind, e.Address, err)
		}
		select {
		case events <- e:
		default:
		}
	})
	d.Start()
	t.Cleanup(d.Close)

	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc = storetest.NewService(t, db)
	svc.Clock = latchkey.SystemClock{}
	ctx, cancel := context.WithTimeout(latchkey.NewContextWithActor(context.Background(), "ana"), 60*time.Second)
	t.Cleanup(cancel)
	f := &fixture{svc: svc, driver: d, events: events, ctx: ctx, locks: map[string]*latchkey.Lock{}}
	site := &latchkey.Site{Name: "Home", TimeZone: "UTC"}
	must(t, svc.CreateSite(ctx, site))
	door := &latchkey.Door{SiteID: site.ID, Name: "Doors"}
	must(t, svc.CreateDoor(ctx, door))
	for _, name := range []string{"front", "back"} {
		l := &latchkey.Lock{DoorID: door.ID, Name: name, ModelID: "916", Connection: latchkey.Connection{Driver: latchkey.DriverSim, Address: name}}
		must(t, svc.CreateLock(ctx, l))
		f.locks[name] = l
	}
	f.person = &latchkey.Person{Name: "Sam", Role: latchkey.RoleFamily}
	must(t, svc.CreatePerson(ctx, f.person))
	close(recorded)
	f.cancel = cancel
	return f
}

// engine is the fixture's sync engine, quick to retry.
func (f *fixture) engine() *codesync.Engine {
	return &codesync.Engine{Service: f.svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: f.driver},
		Interval: 100 * time.Millisecond, Timeout: 3 * time.Second, FirstBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
}

// run starts the engine as the server runs it, its work queued as durable jobs (River,
// on a SQLite file of its own), until the test ends.
func (f *fixture) run(t *testing.T) {
	runQueued(t, f, f.engine())
}

// runInMemory starts the engine alone, its retries held in memory (Engine.Run), until
// the test ends.
func (f *fixture) runInMemory(t *testing.T) {
	engine := f.engine()
	done := make(chan struct{})
	go func() { engine.Run(f.ctx); close(done) }()
	t.Cleanup(func() { f.cancel(); <-done })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitGrant waits until the code stands as want on the lock.
func (f *fixture) waitGrant(t *testing.T, codeID int64, lock string, want latchkey.GrantStatus) *latchkey.Grant {
	t.Helper()
	id := f.locks[lock].ID
	for {
		gs, err := f.svc.FindGrants(f.ctx, latchkey.GrantFilter{CodeID: &codeID, LockID: &id})
		must(t, err)
		if len(gs) == 1 && gs[0].Status == want {
			return gs[0]
		}
		select {
		case <-f.ctx.Done():
			if len(gs) == 1 {
				t.Fatalf("code %d on %s: %s (%s), never %s", codeID, lock, gs[0].Status, gs[0].Reason, want)
			}
			t.Fatalf("code %d on %s: %d grants, never %s", codeID, lock, len(gs), want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// typeAt enters a PIN at a twin's keypad and reports what the twin said of it.
func (f *fixture) typeAt(t *testing.T, lock, pin string) latchkey.EventKind {
	t.Helper()
	for len(f.events) > 0 {
		<-f.events
	}
	f.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin(lock)
		for _, k := range pin {
			tw.(*sim.Lock).Press(string(k))
		}
	})
	for {
		select {
		case e := <-f.events:
			if e.Address == lock && (e.Kind == latchkey.EventUnlocked || e.Kind == latchkey.EventWrongCode) {
				return e.Kind
			}
		case <-f.ctx.Done():
			t.Fatalf("%s said nothing of the code typed", lock)
		}
	}
}

// A code added on two locks reaches "set" on both with no one confirming it, and opens
// them; revoked, it is "removed" only once each twin was read back without it, and then
// the twin refuses it at the keypad.
func TestCodeReachesAndLeavesTheLocks(t *testing.T) {
	t.Run("queued", func(t *testing.T) { codeReachesAndLeavesTheLocks(t, (*fixture).run) })
	t.Run("in memory", func(t *testing.T) { codeReachesAndLeavesTheLocks(t, (*fixture).runInMemory) })
}

func codeReachesAndLeavesTheLocks(t *testing.T, run func(*fixture, *testing.T)) {
	f := newFixture(t)
	run(f, t)
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913",
		LockIDs: []int64{f.locks["front"].ID, f.locks["back"].ID}})
	must(t, err)
	for _, lock := range []string{"front", "back"} {
		f.waitGrant(t, c.ID, lock, latchkey.GrantSet)
	}
	if got := f.typeAt(t, "front", pin); got != latchkey.EventUnlocked {
		t.Fatalf("the code set by the engine: %s at the front", got)
	}
	// Make before break: another way in first, put on by the engine too.
	owner, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Owner"}, PIN: "730245",
		LockIDs: []int64{f.locks["front"].ID, f.locks["back"].ID}})
	must(t, err)
	for _, lock := range []string{"front", "back"} {
		f.waitGrant(t, owner.ID, lock, latchkey.GrantSet)
	}
	_, err = f.svc.RevokeCode(f.ctx, c.ID)
	must(t, err)
	for _, lock := range []string{"front", "back"} {
		f.waitGrant(t, c.ID, lock, latchkey.GrantRemoved)
		var present bool
		err := func() (err error) {
			_, present, err = f.driver.ReadCode(f.ctx, lock, f.waitGrant(t, c.ID, lock, latchkey.GrantRemoved).Slot)
			return err
		}()
		must(t, err)
		if present {
			t.Fatalf("%s still holds the revoked code's slot", lock)
		}
	}
	if got := f.typeAt(t, "front", pin); got != latchkey.EventWrongCode {
		t.Fatalf("the revoked code at the front: %s", got)
	}
	// The engine's acts are in the audit log as its own, never as reveals.
	entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Actor: "sync engine"}, latchkey.Page{Limit: 100})
	must(t, err)
	var log []string
	for _, e := range entries {
		log = append(log, e.Sentence())
		if e.Action == "code.reveal" || strings.Contains(e.Detail, pin) {
			t.Fatalf("the engine's entry %s reveals: %s", e.Action, e.Detail)
		}
	}
	text := strings.Join(log, "\n")
	for _, want := range []string{"sync engine opened code 1 (Sam) to write it into lock 1", "sync engine found code 1 (Sam) on lock 2",
		"sync engine found code 1 (Sam) gone from lock 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, text)
		}
	}
}

// A lock that does not answer is isolated: the other lock gets its code, the dead one's
// stays waiting with the reason, and nothing is marked set that was not read back.
func TestDeadLockIsolated(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	f.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("back")
		tw.(*sim.Lock).DropRadio(24 * time.Hour)
	})
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913",
		LockIDs: []int64{f.locks["front"].ID, f.locks["back"].ID}})
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	g := f.waitGrant(t, c.ID, "back", latchkey.GrantFailed)
	if !strings.Contains(g.Reason, "did not answer") && !strings.Contains(g.Reason, "Gave up") {
		t.Fatalf("the dead lock's reason: %q", g.Reason)
	}
}

// A code with a window is not put on the locks before its site's lead time (an hour by
// default), and goes on within it; a longer lead set on the site takes it on earlier.
func TestWindowWaitsForItsLeadTime(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	const lead = latchkey.DefaultCodeLeadMinutes * time.Minute
	start := time.Now().Add(lead + time.Hour)
	end := start.Add(24 * time.Hour)
	later, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Later",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}, LockIDs: []int64{f.locks["front"].ID}})
	must(t, err)
	soonStart := time.Now().Add(lead - time.Minute)
	soonEnd := soonStart.Add(time.Hour)
	soon, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Soon",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &soonStart, End: &soonEnd}}, LockIDs: []int64{f.locks["front"].ID}})
	must(t, err)
	f.waitGrant(t, soon.ID, "front", latchkey.GrantSet)
	id := f.locks["front"].ID
	gs, err := f.svc.FindGrants(f.ctx, latchkey.GrantFilter{CodeID: &later.ID, LockID: &id})
	must(t, err)
	if gs[0].Status != latchkey.GrantPending {
		t.Fatalf("a code whose window opens in two hours is %s already", gs[0].Status)
	}
	door, err := f.svc.FindDoorByID(f.ctx, f.locks["front"].DoorID)
	must(t, err)
	threeHours := 180
	_, err = f.svc.UpdateSite(f.ctx, door.SiteID, latchkey.SiteUpdate{CodeLeadMinutes: &threeHours})
	must(t, err)
	f.waitGrant(t, later.ID, "front", latchkey.GrantSet)
}

// A revoked code that still opens the door raises the alert at once (an event, and the
// lock needs attention), goes back to being removed, and the alert ends only when the
// engine has seen the slot empty.
func TestRevokedCodeUsedRaisesTheAlert(t *testing.T) {
	f := newFixture(t) // the engine is not running yet: the code stays on the twin
	front := f.locks["front"].ID
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Guest"}, PIN: "482913",
		LockIDs: []int64{front}, Confirmed: true})
	must(t, err)
	_, _, err = f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Owner"}, PIN: "730245",
		LockIDs: []int64{front}, Confirmed: true})
	must(t, err)
	must(t, f.driver.SetCode(f.ctx, "front", f.waitGrant(t, c.ID, "front", latchkey.GrantSet).Slot, pin))
	_, err = f.svc.RevokeCode(f.ctx, c.ID)
	must(t, err)
	// Recorded gone by hand, wrongly: the twin still has it.
	_, err = f.svc.ConfirmCode(f.ctx, c.ID, front)
	must(t, err)
	if got := f.typeAt(t, "front", pin); got != latchkey.EventUnlocked {
		t.Fatalf("the revoked code still on the twin: %s", got)
	}
	var alert *latchkey.Event
	for alert == nil {
		events, err := f.svc.FindEvents(f.ctx, front, 10)
		must(t, err)
		for _, e := range events {
			if e.Kind == latchkey.EventRevokedCodeUsed {
				alert = e
			}
		}
		if alert == nil {
			select {
			case <-f.ctx.Done():
				t.Fatal("no alert for the revoked code used at the door")
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	if !strings.Contains(alert.Detail, "Guest") || alert.PersonID != f.person.ID {
		t.Fatalf("the alert: %+v", alert)
	}
	g := f.waitGrant(t, c.ID, "front", latchkey.GrantRemoving)
	if !strings.HasPrefix(g.Alert, "Used at the door after it was revoked") || g.NextAttempt != nil {
		t.Fatalf("the grant's alert: %q, next attempt %v", g.Alert, g.NextAttempt)
	}
	l, err := f.svc.FindLockByID(f.ctx, front)
	must(t, err)
	if l.Attention.Label != "revoked code used" || l.Attention.Level != latchkey.AttentionBad {
		t.Fatalf("the lock needs %+v", l.Attention)
	}
	// No one records it gone by hand again while the lock says it opened the door.
	if _, err := f.svc.ConfirmCode(f.ctx, c.ID, front); latchkey.ErrorCode(err) != latchkey.EUNSAFE || !strings.Contains(latchkey.ErrorMessage(err), "after it was revoked") {
		t.Fatalf("confirming by hand a code the lock reported in use: %v", err)
	}
	// The engine takes it off, reads the slot back empty, and the alert ends.
	f.run(t)
	f.waitGrant(t, c.ID, "front", latchkey.GrantRemoved)
	if l, _ = f.svc.FindLockByID(f.ctx, front); l.Attention.Level == latchkey.AttentionBad {
		t.Fatalf("after the removal the lock still needs %+v", l.Attention)
	}
	if got := f.typeAt(t, "front", pin); got != latchkey.EventWrongCode {
		t.Fatalf("the revoked code after the engine removed it: %s", got)
	}
}

// A factory reset behind Latchkey's back quarantines the lock; once it is paired again,
// re-provisioning puts every code back through the engine, read back in its slot.
func TestResetQuarantinesAndReprovisionPutsCodesBack(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	back := f.locks["back"].ID
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{back}})
	must(t, err)
	f.waitGrant(t, c.ID, "back", latchkey.GrantSet)
	f.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("back")
		tw.(*sim.Lock).ResetBehindHub()
	})
	for {
		l, err := f.svc.FindLockByID(f.ctx, back)
		must(t, err)
		if l.Status == latchkey.LockQuarantined {
			break
		}
		select {
		case <-f.ctx.Done():
			t.Fatalf("the reset lock is %s, not quarantined", l.Status)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := f.svc.Reprovision(f.ctx, f.locks["front"].ID); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
		t.Fatalf("re-provisioning a lock that was not reset: %v", err)
	}
	// Paired again a little later (Zigbee: permit joining, then A four times), its codes
	// go back. (The hub drops the reset device half a second after it leaves.)
	time.Sleep(200 * time.Millisecond)
	f.driver.Do(func(w *sim.World) {
		tw, _ := w.Twin("back")
		must(t, tw.(*sim.Lock).JoinHub())
	})
	n, err := f.svc.Reprovision(f.ctx, back)
	must(t, err)
	if n != 1 {
		t.Fatalf("%d codes to put back, want 1", n)
	}
	f.waitGrant(t, c.ID, "back", latchkey.GrantSet)
	var present bool
	var held string
	held, present, err = f.driver.ReadCode(f.ctx, "back", f.waitGrant(t, c.ID, "back", latchkey.GrantSet).Slot)
	must(t, err)
	if !present || held != pin {
		t.Fatalf("the reset lock's slot after re-provisioning: present %v", present)
	}
	if l, _ := f.svc.FindLockByID(f.ctx, back); l.Status == latchkey.LockQuarantined {
		t.Fatal("the lock is still quarantined")
	}
}

// A one-time code opens the door once: its use is counted from the lock's report, it is
// revoked as used up, and the engine takes it off, so that the second try fails.
func TestOneTimeCodeRemovedAfterItsUse(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	front := f.locks["front"].ID
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Plumber", OneTime: true},
		PIN: "482913", LockIDs: []int64{front}})
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	if got := f.typeAt(t, "front", pin); got != latchkey.EventUnlocked {
		t.Fatalf("the one-time code's first use: %s", got)
	}
	f.waitGrant(t, c.ID, "front", latchkey.GrantRemoved)
	if got, err := f.svc.FindCodeByID(f.ctx, c.ID); err != nil || !got.Revoked {
		t.Fatalf("the used-up code: %+v %v", got, err)
	}
	if got := f.typeAt(t, "front", pin); got != latchkey.EventWrongCode {
		t.Fatalf("the one-time code's second use: %s", got)
	}
	entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Action: "code.used_up"}, latchkey.Page{Limit: 10})
	must(t, err)
	if len(entries) != 1 || !strings.Contains(entries[0].Sentence(), "recorded code 1 (Plumber) as used up") {
		t.Fatalf("the audit log of the use: %+v", entries)
	}
}

// A code with a use limit counts each keypad unlock and is removed after the last.
func TestUseLimitCounted(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	front := f.locks["front"].ID
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Dog walker", UseLimit: 2},
		PIN: "482913", LockIDs: []int64{front}})
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	for i := range 2 {
		if got := f.typeAt(t, "front", pin); got != latchkey.EventUnlocked {
			t.Fatalf("use %d of 2: %s", i+1, got)
		}
		if i == 0 {
			if got, _ := f.svc.FindCodeByID(f.ctx, c.ID); got.Revoked {
				t.Fatal("revoked after the first of two uses")
			}
			// Lock it again before the next try, as a person leaving would.
			f.driver.Do(func(w *sim.World) {
				tw, _ := w.Twin("front")
				_ = tw.(*sim.Lock).Press(sim.KeyLock)
			})
			time.Sleep(300 * time.Millisecond)
		}
	}
	f.waitGrant(t, c.ID, "front", latchkey.GrantRemoved)
}

// On a bad radio (30% of frames lost, some duplicated, some overtaken by later ones)
// every code still reaches both locks and a revoked one leaves both, each read back: no
// lock is left holding a revoked code while the records say it is gone.
func TestConvergesOnABadRadio(t *testing.T) {
	f := newFixture(t, sim.RadioConfig{Loss: 0.3, Duplicate: 0.1, Reorder: 0.1})
	f.driver.SetSpeed(60)
	f.run(t)
	both := []int64{f.locks["front"].ID, f.locks["back"].ID}
	var codes []*latchkey.Code
	for _, pin := range []string{"482913", "730245", "615007"} {
		c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Code " + pin}, PIN: pin, LockIDs: both})
		must(t, err)
		codes = append(codes, c)
	}
	for _, c := range codes {
		for _, lock := range []string{"front", "back"} {
			f.waitGrant(t, c.ID, lock, latchkey.GrantSet)
		}
	}
	_, err := f.svc.RevokeCode(f.ctx, codes[0].ID)
	must(t, err)
	for _, lock := range []string{"front", "back"} {
		g := f.waitGrant(t, codes[0].ID, lock, latchkey.GrantRemoved)
		// Read it back through the same bad radio until an answer comes.
		for {
			_, present, err := f.driver.ReadCode(f.ctx, lock, g.Slot)
			if err == nil {
				if present {
					t.Fatalf("%s still holds the revoked code, recorded removed", lock)
				}
				break
			}
			if f.ctx.Err() != nil {
				t.Fatal(err)
			}
		}
	}
}

// A code the lock refuses (here a Z-Wave duplicate: the same PIN sits in a slot someone
// filled at the keypad) is failed with the lock's reason and not tried again on its own,
// so its PIN is not opened over and over; once the cause is gone, "try again" sets it.
func TestRefusedCodeWaitsForRetry(t *testing.T) {
	f := newFixture(t)
	must(t, f.driver.SetCode(f.ctx, "front", 20, "482913")) // added at the lock, unknown to the records
	f.run(t)
	front := f.locks["front"].ID
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{front}})
	must(t, err)
	g := f.waitGrant(t, c.ID, "front", latchkey.GrantFailed)
	if g.Problem != latchkey.ProblemDuplicateOnDevice || !strings.Contains(g.Reason, "duplicate") || g.NextAttempt != nil {
		t.Fatalf("the refused code: %s, %q, next attempt %v", g.Problem, g.Reason, g.NextAttempt)
	}
	pushes := func() int {
		entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Action: "code.push"}, latchkey.Page{Limit: 100})
		must(t, err)
		return len(entries)
	}
	before := pushes()
	time.Sleep(500 * time.Millisecond) // five of the engine's passes
	if after := pushes(); after != before {
		t.Fatalf("the refused code's PIN was opened %d more times", after-before)
	}
	must(t, f.driver.ClearCode(f.ctx, "front", 20))
	_, err = f.svc.RetrySync(f.ctx, c.ID, front)
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	if _, err := f.svc.RetrySync(f.ctx, c.ID, front); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
		t.Fatalf("retrying a code that is set: %v", err)
	}
}

// A code deleted at the keypad, behind Latchkey's back, is a conflicting change: shown
// with what happened and not put back by the engine until a person says so.
func TestCodeDeletedAtTheLockIsAConflict(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	front := f.locks["front"].ID
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913", LockIDs: []int64{front}})
	must(t, err)
	g := f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	// Someone deletes it at the keypad; the lock reports it (as Z-Wave's user code report would).
	must(t, f.driver.ClearCode(f.ctx, "front", g.Slot))
	_, err = f.svc.RecordDeviceEvent(f.ctx, latchkey.DeviceEvent{Driver: latchkey.DriverSim, Address: "front", Kind: latchkey.EventCodeDeleted, Source: latchkey.SourceKeypad, Slot: g.Slot})
	must(t, err)
	g = f.waitGrant(t, c.ID, "front", latchkey.GrantFailed)
	if g.Problem != latchkey.ProblemRemovedAtLock || !strings.Contains(g.Reason, "deleted at the keypad") {
		t.Fatalf("the conflicting change: %s, %q", g.Problem, g.Reason)
	}
	time.Sleep(300 * time.Millisecond) // the engine's passes leave it alone
	if g = f.waitGrant(t, c.ID, "front", latchkey.GrantFailed); g.Reason == "" {
		t.Fatal("the conflict's reason was overwritten")
	}
	_, err = f.svc.RetrySync(f.ctx, c.ID, front)
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
}

// A put that finishes after the code was revoked records nothing (the records moved on;
// the next pass takes the code off) and leaves the revocation as it is.
func TestOutcomeAfterTheRecordsMovedOn(t *testing.T) {
	f := newFixture(t) // no engine: the test plays its part
	front := f.locks["front"].ID
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Guest", OneTime: true}, LockIDs: []int64{front}})
	must(t, err)
	_, err = f.svc.RevokeCode(f.ctx, c.ID)
	must(t, err)
	g, err := f.svc.RecordSync(f.ctx, latchkey.SyncOutcome{Task: latchkey.SyncTask{LockID: front, CodeID: c.ID, Action: latchkey.SyncPut}, Done: true})
	must(t, err)
	if g.Status != latchkey.GrantRemoving {
		t.Fatalf("a late put turned the revoked code %s", g.Status)
	}
	entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Action: "code.sync"}, latchkey.Page{Limit: 10})
	must(t, err)
	if len(entries) != 0 {
		t.Fatalf("a late put was recorded: %s", entries[0].Sentence())
	}
}
