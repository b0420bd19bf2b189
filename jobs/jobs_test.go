package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/jobs"
	"github.com/latchkey/latchkey/postgres/pgtest"
)

// syncer is a LockSyncer that records its calls; a lock in dead fails until revived.
type syncer struct {
	mu      sync.Mutex
	calls   map[int64]int
	running map[int64]int // calls in progress per lock
	overlap bool          // two calls for one lock at once
	dead    map[int64]bool
	more    map[int64]int // calls that stop with work left
	block   chan struct{} // when not nil, calls wait on it
	done    map[int64]int // calls that returned without an error
}

func newSyncer() *syncer {
	return &syncer{calls: map[int64]int{}, running: map[int64]int{}, dead: map[int64]bool{}, more: map[int64]int{}, done: map[int64]int{}}
}

func (s *syncer) SyncLock(ctx context.Context, lockID int64) (bool, error) {
	s.mu.Lock()
	s.calls[lockID]++
	s.running[lockID]++
	if s.running[lockID] > 1 {
		s.overlap = true
	}
	block, dead := s.block, s.dead[lockID]
	more := s.more[lockID] > 0
	if more {
		s.more[lockID]--
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running[lockID]--
		s.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	if dead {
		return false, latchkey.Errorf(latchkey.EUNAVAILABLE, "lock %d did not answer", lockID)
	}
	s.mu.Lock()
	s.done[lockID]++
	s.mu.Unlock()
	return more, nil
}

func (s *syncer) count(lockID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[lockID]
}

type opener func(t *testing.T, cfg jobs.Config) *jobs.Queue

// stores runs a test on the queue over SQLite and, when LATCHKEY_TEST_POSTGRES is set,
// over PostgreSQL.
func stores(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "jobs.db")
		test(t, func(t *testing.T, cfg jobs.Config) *jobs.Queue {
			q, err := jobs.OpenSQLite(context.Background(), path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return q
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.FreshSchema(t, "the job queue")
		if _, err := jobs.MigratePostgres(context.Background(), url); err != nil {
			t.Fatal(err)
		}
		test(t, func(t *testing.T, cfg jobs.Config) *jobs.Queue {
			q, err := jobs.OpenPostgres(context.Background(), url, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return q
		})
	})
}

func config(s *syncer) jobs.Config {
	return jobs.Config{Sync: s, FirstBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		JobTimeout: 10 * time.Second, PollInterval: 20 * time.Millisecond}
}

func closeQueue(t *testing.T, q *jobs.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitDone(t *testing.T, s *syncer, lockID int64, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		done := s.done[lockID]
		s.mu.Unlock()
		if done >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock %d was synced %d times, not %d (%d calls)", lockID, done, n, s.count(lockID))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Scheduled locks are synced; a lock whose job is running is not given a second job
// at once (one job per lock), and the caller is told to look again soon.
func TestOneJobPerLock(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newSyncer()
		s.block = make(chan struct{})
		q := open(t, config(s))
		defer closeQueue(t, q)
		ctx := context.Background()
		if _, err := q.ScheduleLocks(ctx, []int64{1, 2}); err != nil {
			t.Fatal(err)
		}
		// Both are running (blocked): scheduling them again adds nothing.
		for s.count(1) == 0 || s.count(2) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		soon, err := q.ScheduleLocks(ctx, []int64{1, 2, 1})
		if err != nil {
			t.Fatal(err)
		}
		if !soon {
			t.Error("scheduling running locks did not ask to look again soon")
		}
		close(s.block)
		waitDone(t, s, 1, 1)
		waitDone(t, s, 2, 1)
		time.Sleep(200 * time.Millisecond)
		if s.count(1) != 1 || s.count(2) != 1 || s.overlap {
			t.Fatalf("calls: lock 1 %d, lock 2 %d, overlapping %v; want one each", s.count(1), s.count(2), s.overlap)
		}
	})
}

// A lock that does not answer is tried again with a growing wait, while the others are
// synced; once it answers, it is done.
func TestDeadLockRetriedOthersGoOn(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newSyncer()
		s.dead[7] = true
		q := open(t, config(s))
		defer closeQueue(t, q)
		if _, err := q.ScheduleLocks(context.Background(), []int64{7, 8}); err != nil {
			t.Fatal(err)
		}
		waitDone(t, s, 8, 1)
		for s.count(7) < 3 {
			time.Sleep(10 * time.Millisecond)
		}
		// While it backs off, scheduling it again does not add a job beside the retry.
		if _, err := q.ScheduleLocks(context.Background(), []int64{7}); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.dead[7] = false
		s.mu.Unlock()
		waitDone(t, s, 7, 1)
		if s.overlap {
			t.Fatal("two calls for one lock ran at once")
		}
	})
}

// A call that stops with work left (its deadline near) is run again at once.
func TestMoreRunsAgain(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newSyncer()
		s.more[3] = 2
		q := open(t, config(s))
		defer closeQueue(t, q)
		if _, err := q.ScheduleLocks(context.Background(), []int64{3}); err != nil {
			t.Fatal(err)
		}
		waitDone(t, s, 3, 3)
		if n := s.count(3); n != 3 {
			t.Fatalf("%d calls, want 3 (two stopped with work left)", n)
		}
	})
}

// Work queued and not done survives a restart: a lock backing off when the queue
// closed is synced after it opens again.
func TestRestartResumes(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newSyncer()
		s.dead[5] = true
		q := open(t, config(s))
		if _, err := q.ScheduleLocks(context.Background(), []int64{5}); err != nil {
			t.Fatal(err)
		}
		for s.count(5) < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		closeQueue(t, q)
		s2 := newSyncer()
		q = open(t, config(s2))
		defer closeQueue(t, q)
		waitDone(t, s2, 5, 1)
	})
}

// One process runs a SQLite file's jobs; a second is refused with a clear error.
func TestSQLiteQueueIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	q, err := jobs.OpenSQLite(context.Background(), path, config(newSyncer()))
	if err != nil {
		t.Fatal(err)
	}
	defer closeQueue(t, q)
	_, err = jobs.OpenSQLite(context.Background(), path, config(newSyncer()))
	if latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
		t.Fatalf("a second queue on one file: %v", err)
	}
}

func TestConfigNeedsASyncer(t *testing.T) {
	_, err := jobs.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "jobs.db"), jobs.Config{})
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("a queue with nothing to run: %v", err)
	}
}

// deliverer fails each delivery the number of times given, then delivers it; -1 fails
// it for good.
type deliverer struct {
	mu    sync.Mutex
	fails map[int64]int
	calls map[int64]int
}

func (d *deliverer) Attempt(ctx context.Context, id int64) (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[id]++
	switch {
	case d.fails[id] < 0:
		return time.Time{}, errors.New("410 Gone: failed for good")
	case d.calls[id] <= d.fails[id]:
		return time.Now().Add(30 * time.Millisecond), errors.New("503: to be tried again")
	}
	return time.Time{}, nil
}

func (d *deliverer) count(id int64) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[id]
}

// A delivery is attempted until delivered, waiting as the domain says between attempts;
// one failed for good is not attempted again; scheduling it again adds no job.
func TestDeliveriesRetriedAsTheDomainSays(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		d := &deliverer{fails: map[int64]int{1: 2, 2: -1}, calls: map[int64]int{}}
		cfg := config(newSyncer())
		cfg.Deliver = d
		q := open(t, cfg)
		defer closeQueue(t, q)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(q.ScheduleDeliveries(context.Background(), []int64{1, 2, 1}))
		deadline := time.Now().Add(30 * time.Second)
		for d.count(1) < 3 || d.count(2) < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("attempts: %d and %d", d.count(1), d.count(2))
			}
			if d.count(1) < 2 { // waiting between attempts: no second job
				must(q.ScheduleDeliveries(context.Background(), []int64{1}))
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		if d.count(1) != 3 || d.count(2) != 1 {
			t.Fatalf("attempts: %d (want 3: two failures, then delivered) and %d (want 1: failed for good)", d.count(1), d.count(2))
		}
	})
}

func TestQueueWithoutDeliverer(t *testing.T) {
	q, err := jobs.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "jobs.db"), config(newSyncer()))
	if err != nil {
		t.Fatal(err)
	}
	defer closeQueue(t, q)
	if err := q.ScheduleDeliveries(context.Background(), []int64{1}); err == nil {
		t.Fatal("a queue with no deliverer took a delivery")
	}
}
