package procedure

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// RunScheduler is a durable queue of the runs' steps (package jobs, on River): one job
// per run, which calls StepRun until the run no longer needs the engine, sleeping between
// tries as StepRun says; the jobs survive a restart.
type RunScheduler interface {
	// ScheduleRuns asks for each run's step to be done. A run whose job already waits
	// or runs is not asked twice; one in wake whose job sleeps is woken to try now.
	// soon says a run's job was running, so that the caller looks again shortly.
	ScheduleRuns(ctx context.Context, runIDs, wake []int64) (soon bool, err error)
}

const (
	// planInterval is how often the planner looks at every active run even when nothing
	// changed here: for runs another server started, and jobs a power cut lost.
	planInterval = 30 * time.Second
	// soonAgain is how soon it looks again when a run's job was running as it planned:
	// long enough for the job to finish, short enough not to leave a step waiting.
	soonAgain = time.Second
)

// StepRun does one run's current step if it is the engine's: an automatic step through
// the drivers and the sync engine, or a manual one with the run's virtual hands. It says
// whether to look at the run again and after how long: at once when the step was
// reported (the next may be the engine's too); after a wait when it is not done yet
// (codes on their way, a hub that did not answer, backing off); not at all when the run
// has ended or waits for a person. The durable queue's jobs call it (Plan schedules
// them); Open is the same work held in memory.
//
// A step cut off by a crash is done again: a step reported is never done twice (the
// report of a step already behind the run changes nothing), and what the engine and the
// virtual hands do at a step changes nothing when done again.
func (e *Engine) StepRun(ctx context.Context, runID int64) (again bool, after time.Duration, err error) {
	r, err := e.Service.FindRunByID(engineCtx(ctx), runID)
	switch {
	case latchkey.ErrorCode(err) == latchkey.ENOTFOUND:
		return false, 0, nil
	case err != nil:
		return false, 0, err
	case !engineStep(r):
		return false, 0, nil
	}
	wait := e.work(ctx, r)
	if err := ctx.Err(); err != nil {
		return false, 0, err // cut off: the queue runs the job again
	}
	if wait > 0 {
		return true, wait, nil
	}
	// Reported, or moved on meanwhile: look again at once. A run that did not move
	// (the hands' report refused, and its failure too) waits an interval instead of
	// being tried again at once.
	now, err := e.Service.FindRunByID(engineCtx(ctx), runID)
	if err != nil {
		return true, e.Interval, nil
	}
	if now.Version == r.Version {
		return true, e.Interval, nil
	}
	return engineStep(now), 0, nil
}

// Plan hands the engine's work to a durable queue until ctx ends: each active run whose
// step is the engine's is scheduled when the planner starts, whenever a run changes, and
// every planInterval. A run that changed since the planner last looked, or that waits
// for codes when a code's status or a lock changes, has its sleeping job woken: what it
// waited for may have come. The queue's jobs call StepRun. Open is the same engine
// without a queue, for tests and for a program holding its runs' work in memory.
func (e *Engine) Plan(ctx context.Context, q RunScheduler) {
	events, stop := e.Service.SubscribeEvents()
	defer stop()
	tick := time.NewTicker(planInterval)
	defer tick.Stop()
	versions := map[int64]int{} // each active run's version when last planned
	codesChanged := true
	for {
		soon := e.schedule(ctx, q, versions, codesChanged)
		codesChanged = false
		var again <-chan time.Time
		if soon {
			again = time.After(soonAgain)
		}
	waiting:
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.Service.RunsChanged():
				break waiting
			case ev := <-events:
				if ev.Kind == latchkey.EventCodeStatus || ev.Kind == latchkey.EventChange {
					codesChanged = true
					break waiting
				}
			case <-tick.C:
				break waiting
			case <-again:
				break waiting
			}
		}
	}
}

// schedule queues every active run whose step is the engine's, waking the jobs of those
// that changed (and, when codesChanged, of those waiting for codes).
func (e *Engine) schedule(ctx context.Context, q RunScheduler, versions map[int64]int, codesChanged bool) (soon bool) {
	active := latchkey.RunActive
	runs, _, err := e.Service.FindRuns(engineCtx(ctx), latchkey.RunFilter{Status: &active}, latchkey.Page{Limit: 1000})
	if err != nil {
		if ctx.Err() == nil {
			e.Logger.Warn("procedure runs not read", slog.String("error", err.Error()))
		}
		return false
	}
	var ids, wake []int64
	live := map[int64]bool{}
	for _, r := range runs {
		live[r.ID] = true
		if !engineStep(r) {
			versions[r.ID] = r.Version
			continue
		}
		if _, ok := e.Hands[r.Params.Hands]; r.Params.Hands != "" && !ok {
			st, _ := r.Step()
			if st.Kind != latchkey.StepAuto {
				continue // hands of another server: left to it, or to a person
			}
		}
		ids = append(ids, r.ID)
		st, _ := r.Step()
		waitsForCodes := slices.Contains([]latchkey.AutoOp{latchkey.AutoAwaitCodes, latchkey.AutoAwaitGone}, st.Auto)
		if v, seen := versions[r.ID]; !seen || v != r.Version || codesChanged && waitsForCodes {
			wake = append(wake, r.ID)
		}
		versions[r.ID] = r.Version
	}
	for id := range versions {
		if !live[id] {
			delete(versions, id)
		}
	}
	if len(ids) == 0 {
		return false
	}
	soon, err = q.ScheduleRuns(ctx, ids, wake)
	if err != nil && ctx.Err() == nil {
		e.Logger.Error("procedure runs not scheduled", slog.Int("runs", len(ids)), slog.String("error", err.Error()))
	}
	if soon || err != nil {
		// A job running now cannot be woken, and may go to sleep on what it read
		// before the change: wake these again at the next look, shortly.
		for _, id := range wake {
			delete(versions, id)
		}
	}
	return soon || err != nil
}
