package codesync_test

import (
	"context"
	"strings"
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
	q, err := jobs.OpenSQLite(context.Background(), t.TempDir()+"/jobs.db", jobs.Config{Sync: engine, PollInterval: 20 * time.Millisecond})
	must(t, err)
	done := make(chan struct{})
	go func() { engine.Plan(f.ctx, q); close(done) }()
	defer func() {
		f.cancel()
		<-done
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		must(t, q.Close(stop))
	}()

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
