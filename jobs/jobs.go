// Package jobs runs Latchkey's background work as durable jobs on River
// (github.com/riverqueue/river): on PostgreSQL in the records' own database, so that
// several servers share the work, and on the embedded store in a SQLite file of its own
// beside the records. A restart resumes where the work was: waiting jobs stay waiting,
// a lock that was backing off keeps its wait, and a job cut off by a crash is run again
// once it has been running longer than any job may (JobTimeout + RescueMargin).
//
// The work itself is the engines' (the sync engine's SyncLock, today): this package
// only queues it, runs it, retries it with a growing wait, and never changes a record.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Defaults of a Config.
const (
	DefaultWorkers      = 32 // locks worked at once
	DefaultJobTimeout   = 2 * time.Minute
	DefaultFirstBackoff = 2 * time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	// RescueMargin is how long past JobTimeout a job still marked running is taken for
	// one whose server died, and run again.
	RescueMargin = 30 * time.Second
	// maxAttempts bounds the tries of one job: at five minutes apart, three days of a
	// lock that does not answer. The sync engine schedules the lock afresh after that.
	maxAttempts = 1000
)

// LockSyncer makes one lock's changes: the sync engine (codesync.Engine).
type LockSyncer interface {
	// SyncLock returns more when it stopped for ctx's deadline with changes left, and
	// an error when the lock did not answer.
	SyncLock(ctx context.Context, lockID int64) (more bool, err error)
}

// Config is what a Queue runs and how.
type Config struct {
	Sync   LockSyncer // required
	Logger *slog.Logger
	// Workers is how many jobs run at once in this process (DefaultWorkers when zero).
	Workers int
	// JobTimeout bounds one job (DefaultJobTimeout when zero); the engine stops starting
	// changes in time to finish within it.
	JobTimeout time.Duration
	// FirstBackoff and MaxBackoff bound the wait before a failed job's next try:
	// doubling from the first to the most (the defaults when zero).
	FirstBackoff, MaxBackoff time.Duration
	// PollInterval is how often the queue looks for jobs inserted by other servers or
	// come due (River's default, one second, when zero). Jobs inserted by this process
	// are picked up at once.
	PollInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.FirstBackoff == 0 {
		c.FirstBackoff = DefaultFirstBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Queue is a running River client with Latchkey's workers. It satisfies
// codesync.Scheduler.
type Queue struct {
	insertMany func(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	stop       func(ctx context.Context) error
	closeDB    func()
}

// SyncLockArgs is the job that syncs one lock.
type SyncLockArgs struct {
	LockID int64 `json:"lock_id"`
}

// Kind names the job in River's table.
func (SyncLockArgs) Kind() string { return "sync_lock" }

// InsertOpts makes a lock's job unique while it waits, runs or backs off: one job per
// lock at a time, however many servers plan.
func (SyncLockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: maxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateScheduled, rivertype.JobStateRetryable,
		}},
	}
}

// syncLockWorker runs SyncLockArgs jobs.
type syncLockWorker struct {
	river.WorkerDefaults[SyncLockArgs]
	cfg Config
}

func (w *syncLockWorker) Work(ctx context.Context, job *river.Job[SyncLockArgs]) error {
	more, err := w.cfg.Sync.SyncLock(ctx, job.Args.LockID)
	switch {
	case err != nil:
		return err
	case more:
		return river.JobSnooze(0) // the rest at once, in a fresh job run
	}
	return nil
}

// NextRetry waits FirstBackoff after the first failure, doubling up to MaxBackoff.
func (w *syncLockWorker) NextRetry(job *river.Job[SyncLockArgs]) time.Time {
	return time.Now().Add(backoff(job.Attempt, w.cfg.FirstBackoff, w.cfg.MaxBackoff))
}

func (w *syncLockWorker) Timeout(*river.Job[SyncLockArgs]) time.Duration { return w.cfg.JobTimeout }

// backoff is the wait after the attempt-th failure.
func backoff(attempt int, first, most time.Duration) time.Duration {
	wait := first
	for i := 1; i < attempt && wait < most; i++ {
		wait *= 2
	}
	return min(wait, most)
}

// ScheduleLocks queues a sync of each lock, skipping those whose job already waits or
// runs; soon says one was running, so that changes made meanwhile are looked at again.
func (q *Queue) ScheduleLocks(ctx context.Context, lockIDs []int64) (soon bool, err error) {
	params := make([]river.InsertManyParams, 0, len(lockIDs))
	seen := make(map[int64]bool, len(lockIDs))
	for _, id := range lockIDs {
		if !seen[id] { // one batch may not hold a unique job twice
			seen[id] = true
			params = append(params, river.InsertManyParams{Args: SyncLockArgs{LockID: id}})
		}
	}
	results, err := q.insertMany(ctx, params)
	if err != nil {
		return false, fmt.Errorf("queueing %d lock syncs: %w", len(lockIDs), err)
	}
	for _, r := range results {
		if r.UniqueSkippedAsDuplicate && r.Job != nil && r.Job.State == rivertype.JobStateRunning {
			soon = true
		}
	}
	return soon, nil
}

// Close stops taking jobs, lets those running finish (cancelling them after ctx ends),
// and closes the queue's database connections.
func (q *Queue) Close(ctx context.Context) error {
	err := q.stop(ctx)
	q.closeDB()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil // jobs cut short are run again: their work is recorded step by step
	}
	return err
}

// start migrates River's tables, runs prepare (when not nil) and starts a client on
// driver.
func start[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg Config, prepare func(context.Context) error) (*river.Client[TTx], error) {
	cfg = cfg.withDefaults()
	if cfg.Sync == nil {
		return nil, errors.New("jobs: Config.Sync is required")
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(cfg.Logger)})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("jobs: creating the job tables: %w", err)
	}
	if prepare != nil {
		if err := prepare(ctx); err != nil {
			return nil, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &syncLockWorker{cfg: cfg})
	client, err := river.NewClient(driver, &river.Config{
		Logger:               quiet(cfg.Logger),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.JobTimeout + RescueMargin,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, river.FetchCooldownDefault),
		MaxAttempts:          maxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("jobs: starting: %w", err)
	}
	return client, nil
}

// quiet passes River's warnings and errors on, not its chatter about each job.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelAtLeast{l.Handler(), slog.LevelWarn}).With(slog.String("component", "jobs"))
}

type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelAtLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return levelAtLeast{h.Handler.WithAttrs(as), h.min}
}

func (h levelAtLeast) WithGroup(name string) slog.Handler {
	return levelAtLeast{h.Handler.WithGroup(name), h.min}
}
