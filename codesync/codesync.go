// Package codesync is the sync engine: it makes connected locks hold the codes the
// records say they hold. It asks the domain what to change (Service.SyncTasks), writes
// through each lock's driver with a deadline, reads the slot back, and records what the
// lock was seen to hold (Service.RecordSync). Locks are worked in parallel, each one's
// changes in order, so that one dead lock never holds up the others: a lock that does
// not answer is left alone for a while (backing off to five minutes) while the others
// go on.
package codesync

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// The locks whose PINs one call asks for: the first batch small, doubling after.
const (
	firstPINBatch = 16
	maxPINBatch   = 512
)

// Defaults of an Engine's settings.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultInterval     = 30 * time.Second
	defaultMaxBackoff   = 5 * time.Minute
	defaultFirstBackoff = 2 * time.Second
)

// Engine runs the sync. Set Service and Drivers, then call Run.
type Engine struct {
	Service *latchkey.Service
	Drivers map[latchkey.Driver]latchkey.DeviceDriver
	// Timeout bounds each command to a lock (DefaultTimeout when zero).
	Timeout time.Duration
	// Interval is how often the engine looks again when nothing changed, for codes whose
	// time comes (DefaultInterval when zero).
	Interval time.Duration
	Logger   *slog.Logger
	// FirstBackoff and MaxBackoff bound how long a lock that did not answer is left
	// alone: doubling from the first (2 s when zero) to the most (5 minutes when zero).
	FirstBackoff, MaxBackoff time.Duration

	mu            sync.Mutex
	backoff       map[int64]lockBackoff // by lock: locks that did not answer
	delaysChecked time.Time             // when noteDelays last looked
}

type lockBackoff struct {
	until    time.Time
	wait     time.Duration
	failures int
}

// Run works until ctx ends: a pass whenever the records change, and at least every
// Interval.
func (e *Engine) Run(ctx context.Context) {
	ctx = latchkey.NewContextWithActor(ctx, "sync engine")
	for {
		wait := e.interval()
		if next := e.Pass(ctx); next > 0 && next < wait {
			wait = next
		}
		if !e.rest(ctx, wait) {
			return
		}
	}
}

func (e *Engine) interval() time.Duration {
	if e.Interval == 0 {
		return DefaultInterval
	}
	return e.Interval
}

// rest waits for wait to pass, or for the records to change; false when ctx ended.
func (e *Engine) rest(ctx context.Context, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-e.Service.SyncNeeded():
	case <-timer.C:
	}
	return true
}

// Pass makes one round of changes and returns how soon a lock that backed off may be
// tried again (0 when none waits).
func (e *Engine) Pass(ctx context.Context) time.Duration {
	e.noteDelays(ctx)
	tasks, err := e.Service.SyncTasks(ctx)
	if err != nil {
		e.log().Error("sync: reading what to change", "error", err.Error())
		return 0
	}
	byLock := map[int64][]latchkey.SyncTask{}
	var order []int64
	for _, t := range tasks {
		if _, ok := byLock[t.LockID]; !ok {
			order = append(order, t.LockID)
		}
		byLock[t.LockID] = append(byLock[t.LockID], t)
	}
	now := time.Now()
	var soonest time.Duration
	var ready []int64
	for _, id := range order {
		if wait := e.waiting(id, now); wait > 0 {
			if soonest == 0 || wait < soonest {
				soonest = wait
			}
			continue
		}
		ready = append(ready, id)
	}
	// Every lock at once: each waits on its own radio, and the engine adds no pacing of
	// its own (a goroutine waiting on a lock costs a few kilobytes). The PINs are asked
	// for in growing batches, the first small, so that the first locks' frames leave
	// while the records open the others' PINs.
	var wg sync.WaitGroup
	for start, size := 0, firstPINBatch; start < len(ready); start, size = start+size, min(2*size, maxPINBatch) {
		batch := ready[start:min(start+size, len(ready))]
		pins := e.pins(ctx, batch, byLock)
		for _, id := range batch {
			wg.Go(func() {
				if _, answered := e.work(ctx, byLock[id], pins); answered {
					e.answered(id)
				} else if ctx.Err() == nil {
					e.backOff(id)
				}
			})
		}
	}
	wg.Wait()
	return soonest
}

// pinKey names a code on a lock.
type pinKey struct{ code, lock int64 }

// pinResult is a PIN given for a put, or why not.
type pinResult struct {
	pin string
	err error
}

// pins asks for every PIN the pass puts on the locks in one call, so that every lock's
// first frame can leave at once rather than after its own audited change.
func (e *Engine) pins(ctx context.Context, locks []int64, byLock map[int64][]latchkey.SyncTask) map[pinKey]pinResult {
	var puts []latchkey.SyncTask
	for _, id := range locks {
		for _, t := range byLock[id] {
			if _, ok := e.Drivers[t.Connection.Driver]; ok && t.Action == latchkey.SyncPut {
				puts = append(puts, t)
			}
		}
	}
	out := make(map[pinKey]pinResult, len(puts))
	if len(puts) == 0 {
		return out
	}
	pins, errs := e.Service.PINsForSync(ctx, puts)
	for i, t := range puts {
		out[pinKey{t.CodeID, t.LockID}] = pinResult{pins[i], errs[i]}
	}
	return out
}

// work makes one lock's changes: each slot's in order, the slots at once, so that the
// lock's frames go out together and a sleeping lock wakes once for all of them (its hub
// sends one frame at a time; waiting for each answer before sending the next would
// cost a round trip a change). It returns the changes it made; it stops at the first
// the lock does not answer (answered false), and does not start one that could not
// finish by ctx's deadline (answered true, done short of them all).
func (e *Engine) work(ctx context.Context, tasks []latchkey.SyncTask, pins map[pinKey]pinResult) (done []latchkey.SyncTask, answered bool) {
	bySlot := map[int][]latchkey.SyncTask{}
	var slots []int
	for _, t := range tasks {
		if _, ok := bySlot[t.Slot]; !ok {
			slots = append(slots, t.Slot)
		}
		bySlot[t.Slot] = append(bySlot[t.Slot], t)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var unreachable atomic.Bool
	for _, slot := range slots {
		wg.Go(func() {
			for _, t := range bySlot[slot] {
				if ctx.Err() != nil || unreachable.Load() {
					return
				}
				if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < 3*e.timeout() {
					return // a write, a read-back and the record would not fit
				}
				outcome, dead := e.do(ctx, t, pins[pinKey{t.CodeID, t.LockID}])
				if dead && outcome.Problem == "" {
					outcome.Problem = latchkey.ProblemLockUnreachable
				}
				if !outcome.Done && !outcome.Unconfirmed {
					// The code's own wait, doubling with its failures in a row: the records
					// say when it is tried again (and the domain drops it for a refusal).
					next := e.now().Add(e.wait(t.Attempts + 1))
					outcome.NextAttempt = &next
				}
				e.log().Debug("sync: change made", "lock", t.LockID, "code", t.CodeID, "slot", t.Slot, "action", string(t.Action),
					"done", outcome.Done, "unconfirmed", outcome.Unconfirmed, "problem", string(outcome.Problem), "reason", outcome.Reason)
				// A failed clear already recorded, for the same reason, is not recorded
				// again: a lock that stays dead must not fill the audit log. A put is always
				// recorded: the records marked it "setting" when its PIN was given out.
				repeated := !outcome.Done && outcome.Reason == t.Reason && t.Action == latchkey.SyncClear
				if !repeated {
					if _, err := e.Service.RecordSync(ctx, outcome); err != nil && ctx.Err() == nil {
						e.log().Error("sync: recording", "lock", t.LockID, "code", t.CodeID, "error", err.Error())
					}
				}
				mu.Lock()
				done = append(done, t)
				mu.Unlock()
				if dead {
					unreachable.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return done, !unreachable.Load() && ctx.Err() == nil
}

// do makes one change and reads the slot back; unreachable says the lock did not answer
// (as opposed to refusing), so that the engine leaves it alone for a while.
func (e *Engine) do(ctx context.Context, t latchkey.SyncTask, given pinResult) (o latchkey.SyncOutcome, unreachable bool) {
	o.Task = t
	d, ok := e.Drivers[t.Connection.Driver]
	if !ok {
		o.Reason = fmt.Sprintf("no %s driver runs here", t.Connection.Driver)
		return o, true
	}
	timeout := e.timeout()
	var pin string
	switch t.Action {
	case latchkey.SyncPut:
		var err error
		pin, err = given.pin, given.err
		if pin == "" && err == nil {
			pin, err = e.Service.PINForSync(ctx, t.CodeID, t.LockID)
		}
		if err != nil {
			o.Reason = latchkey.ErrorMessage(err)
			return o, false
		}
		err = within(ctx, timeout, func(ctx context.Context) error { return d.SetCode(ctx, t.Connection.Address, t.Slot, pin) })
		if err != nil {
			if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
				o.Reason = "failed to set: " + latchkey.ErrorMessage(err)
				return o, true
			}
			// The lock answered no (a duplicate, no space, a rule of its own): trying the
			// same write again would get the same answer.
			o.Reason = latchkey.ReasonRefusedByLock + latchkey.ErrorMessage(err)
			return o, false
		}
	case latchkey.SyncClear:
		err := within(ctx, timeout, func(ctx context.Context) error { return d.ClearCode(ctx, t.Connection.Address, t.Slot) })
		if err != nil {
			o.Reason = "failed to remove: " + latchkey.ErrorMessage(err)
			return o, latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE
		}
	}
	reader, ok := d.(latchkey.CodeReader)
	switch {
	case !ok && t.Action == latchkey.SyncPut:
		o.Unconfirmed = true // the driver cannot read back: its acknowledgment is all there is
		return o, false
	case !ok:
		// Nothing is recorded gone that was not seen gone: a person checks at the door.
		o.Reason = "the lock says it removed the code, but its hub cannot read the slot back: check at the door that the code no longer opens it, then confirm"
		return o, false
	}
	var held string
	var present bool
	err := within(ctx, timeout, func(ctx context.Context) (err error) {
		held, present, err = reader.ReadCode(ctx, t.Connection.Address, t.Slot)
		return err
	})
	switch {
	case err != nil:
		o.Reason = "written, but not read back: " + latchkey.ErrorMessage(err)
		return o, latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE
	case t.Action == latchkey.SyncPut && present && (held == "" || held == pin):
		o.Done = true
	case t.Action == latchkey.SyncPut:
		o.Reason = "read back, the slot does not hold the code"
	case !present:
		o.Done = true
	default:
		o.Reason = "read back, the slot still holds a code"
	}
	return o, false
}

// within runs f with a deadline.
func within(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

func (e *Engine) waiting(lockID int64, now time.Time) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b, ok := e.backoff[lockID]; ok && now.Before(b.until) {
		return b.until.Sub(now)
	}
	return 0
}

// wait is how long to leave a lock or a code alone after its failures-th failure in a
// row: FirstBackoff, doubling up to MaxBackoff.
func (e *Engine) wait(failures int) time.Duration {
	first, most := e.FirstBackoff, e.MaxBackoff
	if first == 0 {
		first = defaultFirstBackoff
	}
	if most == 0 {
		most = defaultMaxBackoff
	}
	wait := first
	for i := 1; i < failures && wait < most; i++ {
		wait *= 2
	}
	return min(wait, most)
}

// now is the records' time, by which a code's next attempt is compared.
func (e *Engine) now() time.Time {
	if e.Service.Clock != nil {
		return e.Service.Clock.Now()
	}
	return time.Now()
}

func (e *Engine) backOff(lockID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backoff == nil {
		e.backoff = map[int64]lockBackoff{}
	}
	b := e.backoff[lockID]
	b.failures++
	b.wait = e.wait(b.failures)
	b.until = time.Now().Add(b.wait)
	e.backoff[lockID] = b
}

func (e *Engine) answered(lockID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.backoff, lockID)
}

func (e *Engine) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

// delayCheckEvery is how often the engine looks for codes newly late: a delay is counted
// in minutes (latchkey.SyncDelay), and the look reads every grant.
const delayCheckEvery = time.Minute

// noteDelays has the records deliver a webhook for each code newly late, at most once
// every delayCheckEvery (the first a while after the engine starts: nothing is late
// before it has had its go).
func (e *Engine) noteDelays(ctx context.Context) {
	e.mu.Lock()
	now := time.Now()
	if e.delaysChecked.IsZero() {
		e.delaysChecked = now
	}
	due := now.Sub(e.delaysChecked) >= delayCheckEvery
	if due {
		e.delaysChecked = now
	}
	e.mu.Unlock()
	if !due {
		return
	}
	if _, err := e.Service.NoteDelays(ctx); err != nil && ctx.Err() == nil {
		e.log().Error("sync: noting delays", "error", err.Error())
	}
}
