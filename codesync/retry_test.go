package codesync_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/codesync"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/simdriver"
)

// forgetful is a lock that acknowledges every write and keeps none: a fault no retry
// mends.
type forgetful struct {
	*simdriver.Driver
	writes atomic.Int32
}

func (f *forgetful) SetCode(ctx context.Context, address string, slot int, pin string) error {
	f.writes.Add(1)
	return nil
}

// A code a lock acknowledges but never holds is tried MaxSyncAttempts times, each wait
// longer than the last, and then waits for a person, saying so; its slot is written no
// more. "Try again" starts over.
func TestRetriesBoundedPerCode(t *testing.T) {
	f := newFixture(t)
	lock := &forgetful{Driver: f.driver}
	engine := &codesync.Engine{Service: f.svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{latchkey.DriverSim: lock},
		Interval: 20 * time.Millisecond, Timeout: 3 * time.Second, FirstBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
	runQueued(t, f, engine)

	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913",
		LockIDs: []int64{f.locks["front"].ID}})
	must(t, err)
	var g *latchkey.Grant
	for {
		g = f.waitGrant(t, c.ID, "front", latchkey.GrantFailed)
		if g.Attempts >= latchkey.MaxSyncAttempts {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g.NextAttempt != nil || !strings.Contains(g.Reason, "Gave up after 10 tries") || g.Problem != latchkey.ProblemFailedToSet {
		t.Fatalf("given up: next %v, problem %s, reason %q", g.NextAttempt, g.Problem, g.Reason)
	}
	time.Sleep(300 * time.Millisecond) // several of the engine's passes
	if n := lock.writes.Load(); n != latchkey.MaxSyncAttempts {
		t.Fatalf("the slot was written %d times, not %d", n, latchkey.MaxSyncAttempts)
	}
	// A person asks again: the count starts over, and the engine writes once more.
	g, err = f.svc.RetrySync(f.ctx, c.ID, f.locks["front"].ID)
	must(t, err)
	if g.Attempts != 0 || g.Status != latchkey.GrantPending {
		t.Fatalf("after try again: %+v", g)
	}
	for lock.writes.Load() <= latchkey.MaxSyncAttempts {
		select {
		case <-f.ctx.Done():
			t.Fatal("not tried again after 'try again'")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// clock is the records' time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// On the records' clock: a code whose window opens within the site's lead time goes on
// the lock and opens it; once its window closes, the engine takes it off, confirmed by
// reading the slot back, and the lock refuses it.
func TestWindowOpensAndCloses(t *testing.T) {
	f := newFixture(t)
	now := &clock{t: time.Now()}
	f.svc.Clock = now
	f.run(t)
	start := now.Now().Add(30 * time.Minute)
	end := start.Add(time.Hour)
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Walker",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWindow, Start: &start, End: &end}}, LockIDs: []int64{f.locks["front"].ID}})
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	if got := f.typeAt(t, "front", pin); got != latchkey.EventUnlocked {
		t.Fatalf("within its window: %s", got)
	}
	now.add(2 * time.Hour) // the window has closed
	f.waitGrant(t, c.ID, "front", latchkey.GrantRemoved)
	if got := f.typeAt(t, "front", pin); got != latchkey.EventWrongCode {
		t.Fatalf("after its window: %s", got)
	}
}

// On the records' clock: a code with weekly hours is on the lock during them (and the
// site's lead time before), off the lock outside them, and back on when they come again.
func TestWeeklyHoursOnAndOff(t *testing.T) {
	f := newFixture(t)
	// Monday 2026-12-07, 09:00 UTC: the hours are Mondays 09:00 to 12:00.
	now := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	f.svc.Clock = now
	f.run(t)
	c, pin, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Cleaner",
		Schedule: latchkey.Schedule{Kind: latchkey.ScheduleWeekly, Weekly: []latchkey.WeeklyHours{{Day: time.Monday, From: 9 * 60, Until: 12 * 60}}}},
		LockIDs: []int64{f.locks["front"].ID}})
	must(t, err)
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	now.add(4 * time.Hour) // 13:00: out of its hours, and not within the lead of the next
	f.waitGrant(t, c.ID, "front", latchkey.GrantPending)
	if got := f.typeAt(t, "front", pin); got != latchkey.EventWrongCode {
		t.Fatalf("out of its hours: %s", got)
	}
	now.add(7*24*time.Hour - 4*time.Hour - 30*time.Minute) // the next Monday, 08:30
	f.waitGrant(t, c.ID, "front", latchkey.GrantSet)
	if got := f.typeAt(t, "front", pin); got != latchkey.EventUnlocked {
		t.Fatalf("its hours again: %s", got)
	}
}

// A server that runs no driver for a lock says so on the code, once, rather than leave
// it "pending" with no reason.
func TestNoDriverSaysSo(t *testing.T) {
	f := newFixture(t)
	engine := &codesync.Engine{Service: f.svc, Drivers: map[latchkey.Driver]latchkey.DeviceDriver{}, Interval: 20 * time.Millisecond}
	runQueued(t, f, engine)
	c, _, err := f.svc.CreateCode(f.ctx, latchkey.NewCode{Code: latchkey.Code{PersonID: f.person.ID, Label: "Sam"}, PIN: "482913",
		LockIDs: []int64{f.locks["front"].ID}})
	must(t, err)
	g := f.waitGrant(t, c.ID, "front", latchkey.GrantFailed)
	if g.Problem != latchkey.ProblemLockUnreachable || !strings.Contains(g.Reason, "No sim driver runs on this server") {
		t.Fatalf("the code waiting for a driver: %s %q", g.Problem, g.Reason)
	}
	time.Sleep(200 * time.Millisecond) // several planner passes
	entries, _, err := f.svc.FindAuditEntries(f.ctx, latchkey.AuditFilter{Actor: "sync engine"}, latchkey.Page{Limit: 100})
	must(t, err)
	n := 0
	for _, e := range entries {
		if e.Action == "code.sync" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d code.sync entries for one missing driver, want 1", n)
	}
}

// runQueued runs engine as the server does (Plan, and a job queue on a SQLite file of
// its own, retrying as quickly as the engine's own settings) until the test ends.
func runQueued(t *testing.T, f *fixture, engine *codesync.Engine) {
	t.Helper()
	q, err := jobs.OpenSQLite(context.Background(), t.TempDir()+"/jobs.db", jobs.Config{Sync: engine,
		JobTimeout: 20 * time.Second, FirstBackoff: engine.FirstBackoff, MaxBackoff: engine.MaxBackoff, PollInterval: 20 * time.Millisecond})
	must(t, err)
	done := make(chan struct{})
	go func() { engine.Plan(f.ctx, q); close(done) }()
	t.Cleanup(func() {
		f.cancel()
		<-done
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		must(t, q.Close(stop))
	})
}
