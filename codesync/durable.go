package codesync

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// Scheduler is a durable queue of work per lock (package jobs, on River): it runs
// SyncLock for each lock it is given, at most once at a time per lock, retrying a lock
// that did not answer with a growing wait, and it keeps that work across restarts.
type Scheduler interface {
	// ScheduleLocks asks for the locks to be synced. A lock already waiting or being
	// worked is not asked twice; soon says one was being worked at that moment, so that
	// the caller looks again shortly for changes it may have missed.
	ScheduleLocks(ctx context.Context, lockIDs []int64) (soon bool, err error)
}

// soonAgain is how soon the planner looks again when a lock it wanted to schedule was
// being worked: long enough for the job to finish, short enough not to leave a new code
// waiting for the next interval.
const soonAgain = time.Second

// Plan hands the engine's work to a durable queue until ctx ends: whenever the records
// change, and at least every Interval, every lock with something to change (and a
// driver here) is scheduled. The queue's jobs call SyncLock. Run is the same engine
// without a queue, for one process holding its retries in memory.
func (e *Engine) Plan(ctx context.Context, q Scheduler) {
	ctx = latchkey.NewContextWithActor(ctx, "sync engine")
	for {
		wait := e.interval()
		if soon := e.schedule(ctx, q); soon {
			wait = min(wait, soonAgain)
		}
		if !e.rest(ctx, wait) {
			return
		}
	}
}

// schedule hands every lock with changes due to the queue.
func (e *Engine) schedule(ctx context.Context, q Scheduler) (soon bool) {
	e.noteDelays(ctx)
	tasks, err := e.Service.SyncTasks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log().Error("sync: reading what to change", "error", err.Error())
		}
		return false
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, t := range tasks {
		if _, ok := e.Drivers[t.Connection.Driver]; !ok {
			e.noDriver(ctx, t)
			continue
		}
		if !seen[t.LockID] {
			seen[t.LockID] = true
			ids = append(ids, t.LockID)
		}
	}
	if len(ids) == 0 {
		return false
	}
	soon, err = q.ScheduleLocks(ctx, ids)
	if err != nil && ctx.Err() == nil {
		e.log().Error("sync: scheduling", "locks", len(ids), "error", err.Error())
	}
	return soon || err != nil
}

// taskKey names one change at one lock.
type taskKey struct {
	code   int64 // 0: a code Latchkey does not own, cleared from its slot
	slot   int
	action latchkey.SyncAction
}

// SyncLock makes one lock's changes now, in order, and returns when the lock has none
// left that this call has not tried (changes that arrive meanwhile are taken too), when
// more says ctx's deadline is too near to start another change, or with an EUNAVAILABLE
// error when the lock did not answer, for the caller to try again later. What each
// change came to (a code set, refused, removed) is recorded, not returned: a change the
// lock refused is done with until a person asks again.
func (e *Engine) SyncLock(ctx context.Context, lockID int64) (more bool, err error) {
	ctx = latchkey.NewContextWithActor(ctx, "sync engine")
	tried := map[taskKey]bool{}
	for {
		tasks, err := e.Service.SyncTasks(ctx, lockID)
		if err != nil {
			return false, err
		}
		var todo []latchkey.SyncTask
		for _, t := range tasks {
			if !tried[taskKey{t.CodeID, t.Slot, t.Action}] {
				todo = append(todo, t)
			}
		}
		if len(todo) == 0 {
			return false, nil
		}
		if _, ok := e.Drivers[todo[0].Connection.Driver]; !ok {
			return false, nil // left to a server that runs its driver
		}
		done, answered := e.work(ctx, todo, e.pins(ctx, []int64{lockID}, map[int64][]latchkey.SyncTask{lockID: todo}))
		for _, t := range done {
			tried[taskKey{t.CodeID, t.Slot, t.Action}] = true
		}
		switch {
		case !answered && ctx.Err() != nil:
			return false, ctx.Err()
		case !answered:
			return false, latchkey.Errorf(latchkey.EUNAVAILABLE, "Lock %d did not answer; its changes are tried again later.", lockID)
		case len(done) < len(todo):
			return true, nil // out of time: the rest in the next round
		}
	}
}

// timeout bounds each command to a lock.
func (e *Engine) timeout() time.Duration {
	if e.Timeout == 0 {
		return DefaultTimeout
	}
	return e.Timeout
}

// noDriver records, once, that a change waits for a driver this server does not run, so
// that the code does not sit "pending" with no reason given: the lock's page, the code's
// and the API say what to do.
func (e *Engine) noDriver(ctx context.Context, t latchkey.SyncTask) {
	reason := fmt.Sprintf("No %s driver runs on this server: connect the lock's hub, or record the lock as programmed by hand (latchkey lock set %d --disconnect).",
		t.Connection.Driver, t.LockID)
	if t.Reason == reason {
		return
	}
	o := latchkey.SyncOutcome{Task: t, Problem: latchkey.ProblemLockUnreachable, Reason: reason}
	if _, err := e.Service.RecordSync(ctx, o); err != nil && ctx.Err() == nil {
		e.log().Error("sync: recording", "lock", t.LockID, "code", t.CodeID, "error", err.Error())
	}
}
