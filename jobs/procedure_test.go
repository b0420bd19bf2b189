package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/jobs"
)

// answer is what a stepper's call returns.
type answer struct {
	again bool
	after time.Duration
	err   error
}

// stepper is a RunStepper that answers each run's calls from a script (then: done),
// records them, and blocks while block is open.
type stepper struct {
	mu      sync.Mutex
	script  map[int64][]answer
	calls   map[int64]int
	running map[int64]int
	overlap bool
	block   chan struct{}
}

func newStepper(script map[int64][]answer) *stepper {
	return &stepper{script: script, calls: map[int64]int{}, running: map[int64]int{}}
}

func (s *stepper) StepRun(ctx context.Context, runID int64) (bool, time.Duration, error) {
	s.mu.Lock()
	s.calls[runID]++
	s.running[runID]++
	s.overlap = s.overlap || s.running[runID] > 1
	block := s.block
	var a answer
	if len(s.script[runID]) > 0 {
		a, s.script[runID] = s.script[runID][0], s.script[runID][1:]
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running[runID]--
		s.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return false, 0, ctx.Err()
		}
	}
	return a.again, a.after, a.err
}

func (s *stepper) count(runID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[runID]
}

// waitCalls waits until a run's job was called n times.
func (s *stepper) waitCalls(t *testing.T, runID int64, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.count(runID) < n {
		if time.Now().After(deadline) {
			t.Fatalf("run %d: %d calls, want %d", runID, s.count(runID), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stepConfig(s *stepper) jobs.Config {
	cfg := config(newSyncer())
	cfg.Procedures = s
	return cfg
}

// One job per run: a run whose job runs is not given a second, and the caller is told
// to look again soon; a job whose step was reported runs again at once, and ends when
// the run no longer needs the engine.
func TestOneJobPerRun(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newStepper(map[int64][]answer{1: {{again: true}, {again: true}}, 2: nil})
		s.block = make(chan struct{})
		q := open(t, stepConfig(s))
		defer closeQueue(t, q)
		ctx := context.Background()
		if _, err := q.ScheduleRuns(ctx, []int64{1, 2}, nil); err != nil {
			t.Fatal(err)
		}
		s.waitCalls(t, 1, 1)
		s.waitCalls(t, 2, 1)
		soon, err := q.ScheduleRuns(ctx, []int64{1, 2, 1}, []int64{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		if !soon {
			t.Error("scheduling running runs did not ask to look again soon")
		}
		close(s.block)
		s.waitCalls(t, 1, 3)
		time.Sleep(200 * time.Millisecond)
		if s.count(1) != 3 || s.count(2) != 1 || s.overlap {
			t.Fatalf("calls: run 1 %d (want 3: twice again at once, then done), run 2 %d (want 1), overlapping %v", s.count(1), s.count(2), s.overlap)
		}
	})
}

// A step not done yet sleeps as long as the engine says: scheduling its run again adds
// no job and does not wake it; waking it runs it at once; an error the engine did not
// foresee is retried.
func TestRunSleepsUntilWoken(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newStepper(map[int64][]answer{7: {{again: true, after: time.Hour}, {err: errors.New("the records did not answer")}, {again: false}}})
		q := open(t, stepConfig(s))
		defer closeQueue(t, q)
		ctx := context.Background()
		if _, err := q.ScheduleRuns(ctx, []int64{7}, nil); err != nil {
			t.Fatal(err)
		}
		s.waitCalls(t, 7, 1)
		time.Sleep(100 * time.Millisecond) // the job is asleep for an hour
		if _, err := q.ScheduleRuns(ctx, []int64{7}, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if n := s.count(7); n != 1 {
			t.Fatalf("a sleeping run was called %d times; scheduling it again must not add a job", n)
		}
		if _, err := q.ScheduleRuns(ctx, []int64{7}, []int64{7}); err != nil {
			t.Fatal(err)
		}
		s.waitCalls(t, 7, 3) // woken, it fails; retried, it is done
		time.Sleep(200 * time.Millisecond)
		if n := s.count(7); n != 3 || s.overlap {
			t.Fatalf("run 7: %d calls (want 3), overlapping %v", n, s.overlap)
		}
	})
}

// A run's job asleep when the queue closed sleeps on after it opens again, and wakes.
func TestRunJobSurvivesRestart(t *testing.T) {
	stores(t, func(t *testing.T, open opener) {
		s := newStepper(map[int64][]answer{9: {{again: true, after: 300 * time.Millisecond}}})
		q := open(t, stepConfig(s))
		if _, err := q.ScheduleRuns(context.Background(), []int64{9}, nil); err != nil {
			t.Fatal(err)
		}
		s.waitCalls(t, 9, 1)
		closeQueue(t, q)
		s2 := newStepper(nil)
		q = open(t, stepConfig(s2))
		defer closeQueue(t, q)
		s2.waitCalls(t, 9, 1)
	})
}

func TestQueueWithoutProcedures(t *testing.T) {
	q, err := jobs.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "jobs.db"), config(newSyncer()))
	if err != nil {
		t.Fatal(err)
	}
	defer closeQueue(t, q)
	if _, err := q.ScheduleRuns(context.Background(), []int64{1}, nil); err == nil {
		t.Fatal("a queue with no procedure engine took a run")
	}
}
