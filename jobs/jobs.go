// Package jobs runs Latchkey's background work as durable jobs on River
// (github.com/riverqueue/river): on PostgreSQL in the records' own database, so that
// several servers share the work, and on the embedded store in a SQLite file of its own
// beside the records. A restart resumes where the work was: waiting jobs stay waiting,
// a lock that was backing off keeps its wait, and a job cut off by a crash is run again
// once it has been running longer than any job may (JobTimeout + RescueMargin).
//
// The work itself is the engines' (the sync engine's SyncLock, the webhook sender's
// Attempt, the procedure engine's StepRun): this package only queues it, runs it,
// retries it with a growing wait, and never changes a record.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
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
	// webhookQueue holds the webhook deliveries, webhookWorkers of them sent at once.
	webhookQueue   = "webhooks"
	webhookWorkers = 8
	// procedureQueue holds the procedure runs' steps, procedureWorkers of them at once:
	// a step may wait minutes for a person to press a lock's button while its hub
	// listens, and must not hold up the locks' syncs meanwhile.
	procedureQueue   = "procedures"
	procedureWorkers = 8
)

// LockSyncer makes one lock's changes: the sync engine (codesync.Engine).
type LockSyncer interface {
	// SyncLock returns more when it stopped for ctx's deadline with changes left, and
	// an error when the lock did not answer.
	SyncLock(ctx context.Context, lockID int64) (more bool, err error)
}

// Deliverer makes one attempt at a webhook delivery: the webhook sender.
type Deliverer interface {
	// Attempt returns nil when delivered; otherwise, retryAt is when the next attempt is
	// due (zero: none, the delivery failed for good or has nothing left to send).
	Attempt(ctx context.Context, deliveryID int64) (retryAt time.Time, err error)
}

// RunStepper does one procedure run's current step: the procedure engine.
type RunStepper interface {
	// StepRun does the run's current step if it is the engine's, and says whether to
	// look at the run again, and after how long (0: at once).
	StepRun(ctx context.Context, runID int64) (again bool, after time.Duration, err error)
}

// Config is what a Queue runs and how.
type Config struct {
	Sync       LockSyncer // required
	Deliver    Deliverer  // webhook deliveries; none are run when nil
	Procedures RunStepper // procedure runs' steps; none are run when nil
	Logger     *slog.Logger
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
	retry      func(ctx context.Context, id int64) (*rivertype.JobRow, error)
	delivers   bool // Config.Deliver was given
	steps      bool // Config.Procedures was given
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
func (SyncLockArgs) InsertOpts() river.InsertOpts { return uniqueUntilDone(river.QueueDefault) }

// uniqueUntilDone makes a job in queue unique by its arguments for as long as it waits,
// runs, sleeps or backs off.
func uniqueUntilDone(queue string) river.InsertOpts {
	return river.InsertOpts{
		Queue:       queue,
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

// DeliverArgs is the job that makes a webhook delivery, attempt after attempt.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job in River's table.
func (DeliverArgs) Kind() string { return "webhook_deliver" }

// InsertOpts makes a delivery's job unique until it is done: however often the pending
// deliveries are scheduled, each has one job, which waits between its attempts. They
// run in a queue of their own, so that slow receivers never hold up the locks.
func (DeliverArgs) InsertOpts() river.InsertOpts { return uniqueUntilDone(webhookQueue) }

// deliverWorker runs DeliverArgs jobs. The wait between attempts is the domain's (it
// records the next attempt with each failure); the job sleeps until then (a snooze,
// which River keeps across restarts and does not count as a failed try).
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	cfg Config
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	retryAt, err := w.cfg.Deliver.Attempt(ctx, job.Args.DeliveryID)
	switch {
	case err == nil:
		return nil
	case retryAt.IsZero():
		w.cfg.Logger.Warn("webhook not delivered", slog.Int64("delivery_id", job.Args.DeliveryID), slog.String("error", err.Error()))
		return nil // failed for good, and recorded so: nothing more to do
	}
	w.cfg.Logger.Info("webhook not delivered yet", slog.Int64("delivery_id", job.Args.DeliveryID), slog.String("error", err.Error()))
	return river.JobSnooze(max(time.Until(retryAt), 0))
}

// NextRetry applies to errors the worker did not foresee (a store that did not answer).
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(backoff(job.Attempt, w.cfg.FirstBackoff, w.cfg.MaxBackoff))
}

// ScheduleDeliveries queues each pending webhook delivery, once.
func (q *Queue) ScheduleDeliveries(ctx context.Context, deliveryIDs []int64) error {
	if !q.delivers {
		return errors.New("jobs: this queue runs no webhook deliveries (Config.Deliver is nil)")
	}
	params := make([]river.InsertManyParams, 0, len(deliveryIDs))
	seen := make(map[int64]bool, len(deliveryIDs))
	for _, id := range deliveryIDs {
		if !seen[id] {
			seen[id] = true
			params = append(params, river.InsertManyParams{Args: DeliverArgs{DeliveryID: id}})
		}
	}
	if _, err := q.insertMany(ctx, params); err != nil {
		return fmt.Errorf("queueing %d webhook deliveries: %w", len(params), err)
	}
	return nil
}

// ProcedureStepArgs is the job that does a procedure run's steps, one at a time: the
// current one, then, in a fresh run of the job, the next while it is the engine's.
type ProcedureStepArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job in River's table.
func (ProcedureStepArgs) Kind() string { return "procedure_step" }

// InsertOpts makes a run's job unique while it waits, runs, sleeps or backs off: one job
// per run, so that no step is done twice at once, however many servers plan.
func (ProcedureStepArgs) InsertOpts() river.InsertOpts { return uniqueUntilDone(procedureQueue) }

// procedureWorker runs ProcedureStepArgs jobs. A step that is not done yet (codes on
// their way, a hub that did not answer) sleeps as long as the engine says (a snooze,
// kept across restarts, not counted as a failed try); an error the engine did not
// foresee (the records did not answer) is retried with a growing wait.
type procedureWorker struct {
	river.WorkerDefaults[ProcedureStepArgs]
	cfg Config
}

func (w *procedureWorker) Work(ctx context.Context, job *river.Job[ProcedureStepArgs]) error {
	again, after, err := w.cfg.Procedures.StepRun(ctx, job.Args.RunID)
	switch {
	case err != nil:
		return err
	case again:
		return river.JobSnooze(after)
	}
	return nil
}

func (w *procedureWorker) NextRetry(job *river.Job[ProcedureStepArgs]) time.Time {
	return time.Now().Add(backoff(job.Attempt, w.cfg.FirstBackoff, w.cfg.MaxBackoff))
}

func (w *procedureWorker) Timeout(*river.Job[ProcedureStepArgs]) time.Duration {
	return w.cfg.JobTimeout
}

// ScheduleRuns queues a job for each run, skipping those whose job already waits or
// runs; a run in wake whose job sleeps (until its step's next try) is woken to try now,
// because what it waits for may have come. soon says a run's job was running, so that
// changes made meanwhile are looked at again shortly.
func (q *Queue) ScheduleRuns(ctx context.Context, runIDs, wake []int64) (soon bool, err error) {
	if !q.steps {
		return false, errors.New("jobs: this queue runs no procedure steps (Config.Procedures is nil)")
	}
	params := make([]river.InsertManyParams, 0, len(runIDs))
	ids := make([]int64, 0, len(runIDs))
	seen := make(map[int64]bool, len(runIDs))
	for _, id := range runIDs {
		if !seen[id] {
			seen[id] = true
			params = append(params, river.InsertManyParams{Args: ProcedureStepArgs{RunID: id}})
			ids = append(ids, id)
		}
	}
	results, err := q.insertMany(ctx, params)
	if err != nil {
		return false, fmt.Errorf("queueing %d procedure runs: %w", len(params), err)
	}
	for i, r := range results {
		if !r.UniqueSkippedAsDuplicate || r.Job == nil {
			continue
		}
		switch r.Job.State {
		case rivertype.JobStateRunning:
			soon = true
		case rivertype.JobStateScheduled, rivertype.JobStateRetryable:
			if i < len(ids) && slices.Contains(wake, ids[i]) {
				if _, err := q.retry(ctx, r.Job.ID); err != nil {
					return soon, fmt.Errorf("waking the job of procedure run %d: %w", ids[i], err)
				}
			}
		}
	}
	return soon, nil
}

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

// migrate brings River's tables up to date and returns the versions it applied.
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], log *slog.Logger) ([]string, error) {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: creating the job tables: %w", err)
	}
	var applied []string
	for _, v := range res.Versions {
		applied = append(applied, fmt.Sprintf("job queue %03d_%s", v.Version, v.Name))
	}
	return applied, nil
}

// upToDate refuses a database whose River tables are older than this Latchkey's.
func upToDate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], log *slog.Logger) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: checking the job tables: %w", err)
	}
	if !res.OK {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The job queue's tables in PostgreSQL are older than this Latchkey; run 'latchkey migrate --db URL' first.")
	}
	return nil
}

// start runs prepare (when not nil; it migrates or checks the tables) and starts a
// client on driver.
func start[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg Config, prepare func(context.Context) error) (*river.Client[TTx], error) {
	cfg = cfg.withDefaults()
	if cfg.Sync == nil {
		return nil, errors.New("jobs: Config.Sync is required")
	}
	if prepare != nil {
		if err := prepare(ctx); err != nil {
			return nil, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &syncLockWorker{cfg: cfg})
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	if cfg.Deliver != nil {
		river.AddWorker(workers, &deliverWorker{cfg: cfg})
		queues[webhookQueue] = river.QueueConfig{MaxWorkers: webhookWorkers}
	}
	if cfg.Procedures != nil {
		river.AddWorker(workers, &procedureWorker{cfg: cfg})
		queues[procedureQueue] = river.QueueConfig{MaxWorkers: procedureWorkers}
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger:               quiet(cfg.Logger),
		Queues:               queues,
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
