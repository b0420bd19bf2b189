// Package groupcommit runs a store's changes in shared transactions. Every change is
// durable before it is acknowledged, and a flush to disk costs far more than the change
// itself; so one writer runs the changes that are waiting when it is free in one
// transaction, each inside its own savepoint, and flushes once for all of them. A change
// that fails rolls back to its savepoint and takes nothing else with it. The writer waits
// for nobody: a change that arrives alone commits at once.
//
// A store may send a change's last statements after the change ended (see Batch). Should
// one of them fail then, the changes after it ran on a state that will not be kept, and
// nothing of theirs is repaired: the writer gives the transaction up, answers the change
// that failed with its error, and runs every other change again, from scratch, in a new
// transaction.
//
// The stores (sqlite, postgres) supply the transactions; this package only orders them.
package groupcommit

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/latchkey/latchkey"
)

// MaxBatch bounds how many changes share a flush, so that one commit's latency stays small.
const MaxBatch = 64

// Batch is one shared transaction, as a store runs it. Its statements must not run on a
// caller's context: cancelling one caller's statement could abort the transaction that
// the other callers share.
type Batch interface {
	// Savepoint starts the next change; Tx is what the change runs on.
	Savepoint() error
	Tx() latchkey.Tx
	// EndSavepoint keeps the change or rolls back to its savepoint.
	//
	// A store refuses to keep a change one of whose statements failed although it
	// returned nil: it calls failed with that failure before EndSavepoint returns, and
	// rolls the change back alone.
	//
	// A store may also hold a kept change's last statements back, to send them with a
	// later change's statements or with the commit. Should one of them fail then (a late
	// failure), the store calls failed with its error, and gives the transaction up: the
	// call that sent it, and every later one, returns an error, and nothing of the
	// transaction is committed. The writer then rolls it back and runs the batch's other
	// changes again in a new one.
	//
	// An error alone means the transaction cannot go on, and nothing of the batch is kept.
	EndSavepoint(keep bool, failed func(error)) error
	Commit() error
	Rollback()
}

// Writer runs changes in batches, one batch at a time.
type Writer struct {
	begin   func() (Batch, error)
	format  func(error) error // a store's translation of its own errors
	writes  chan *request
	closing chan struct{}
	done    chan struct{}
	once    sync.Once

	waiting, batches, changes, mixed, givenUp, rerun atomic.Int64
}

// Stats counts a writer's work.
type Stats struct {
	Waiting int64 // changes handed to Update and not yet taken by the writer
	Batches int64 // batches of changes taken together
	Changes int64 // changes taken in them, each counted once however often it ran
	Mixed   int64 // batches in which some changes failed and others were kept
	GivenUp int64 // transactions given up because a change failed late
	Rerun   int64 // changes run again after their transaction was given up
}

// Stats returns what the writer has done so far.
func (w *Writer) Stats() Stats {
	return Stats{Waiting: w.waiting.Load(), Batches: w.batches.Load(), Changes: w.changes.Load(),
		Mixed: w.mixed.Load(), GivenUp: w.givenUp.Load(), Rerun: w.rerun.Load()}
}

type request struct {
	ctx    context.Context
	change func(latchkey.Tx) error
	result chan error

	// The writer's own, while the batch runs.
	begun    bool  // the change ran at least once
	err      error // how the change ended in the current transaction
	late     error // its held statements failed after it ended: its answer
	answered bool
	final    error // the answer, once given
}

// answer tells the caller how its change ended, once.
func (r *request) answer(err error) {
	r.answered, r.final = true, err
	r.result <- err
}

// Start starts a writer over the store's transactions. format translates the store's
// errors into Latchkey's codes.
func Start(begin func() (Batch, error), format func(error) error) *Writer {
	w := &Writer{begin: begin, format: format, writes: make(chan *request), closing: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Update runs change in a shared write transaction and returns once it is durable or has
// failed. A caller that gives up before its change begins gets ctx's error; once begun, a
// change is always answered, so that no caller mistakes a kept change for a lost one.
//
// change may run more than once: when a change before it in the same transaction fails
// late (see Batch), the transaction is rolled back and change runs again in a new one,
// from the start. Only its last run counts. So change must read what it needs through
// the Tx it is given, and carry nothing over from an earlier run but its own inputs, as
// a function written to run in a transaction that may roll back does; the domain's
// changes are.
func (w *Writer) Update(ctx context.Context, change func(latchkey.Tx) error) error {
	r := &request{ctx: ctx, change: change, result: make(chan error, 1)}
	w.waiting.Add(1)
	select {
	case w.writes <- r: // the writer has it and always answers
		w.waiting.Add(-1)
	case <-w.closing:
		w.waiting.Add(-1)
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "The database is closed.")
	case <-ctx.Done():
		w.waiting.Add(-1)
		return ctx.Err()
	}
	return <-r.result
}

// Close stops the writer once its batch, if any, is done.
func (w *Writer) Close() {
	w.once.Do(func() { close(w.closing) })
	<-w.done
}

func (w *Writer) run() {
	defer close(w.done)
	for {
		var batch []*request
		select {
		case <-w.closing:
			return
		case r := <-w.writes:
			batch = append(batch, r)
		}
	gather: // only the changes already waiting: the writer adds no delay of its own
		for len(batch) < MaxBatch {
			select {
			case r := <-w.writes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		w.commit(batch)
	}
}

// commit runs a batch of changes and tells each caller how its change ended: in one
// transaction, or in as many as it takes when changes fail late. Each transaction given
// up answers at least the change that failed late, so the runs end.
func (w *Writer) commit(batch []*request) {
	w.batches.Add(1)
	w.changes.Add(int64(len(batch)))
	for run := batch; len(run) > 0; {
		run = w.pass(run)
	}
	kept := 0
	for _, r := range batch {
		if r.final == nil {
			kept++
		}
	}
	if kept > 0 && kept < len(batch) {
		w.mixed.Add(1)
	}
}

// pass runs each change of run in its own savepoint of one transaction and commits
// once. It answers every change whose end is known, and returns the changes to run
// again, in a new transaction, when one failed late.
func (w *Writer) pass(run []*request) (again []*request) {
	tx, err := w.begin()
	if err != nil {
		w.answerAll(run, w.format(err))
		return nil
	}
	late := false // a change failed late: the transaction is given up
	for _, r := range run {
		if !r.begun {
			if err := r.ctx.Err(); err != nil {
				r.answer(err) // the caller gave up before its change began
				continue
			}
			r.begun = true
		}
		err := tx.Savepoint()
		if late {
			return w.giveUp(tx, run)
		}
		if err != nil {
			tx.Rollback()
			w.answerAll(run, w.format(err)) // nothing of the batch is kept
			return nil
		}
		r.err = runChange(r.change, tx.Tx())
		if late { // an earlier change failed late, as this one's statement was sent
			return w.giveUp(tx, run)
		}
		ended := false
		err = tx.EndSavepoint(r.err == nil, func(err error) {
			if !ended { // refused at its end: this change alone
				r.err = w.format(err)
				return
			}
			r.late, late = w.format(err), true
		})
		ended = true
		if late {
			return w.giveUp(tx, run)
		}
		if err != nil {
			tx.Rollback()
			w.answerAll(run, w.format(err))
			return nil
		}
	}
	err = tx.Commit()
	if late {
		return w.giveUp(tx, run)
	}
	tx.Rollback()
	err = w.format(err)
	for _, r := range run {
		if r.answered {
			continue
		}
		if r.err == nil {
			r.err = err
		}
		r.answer(r.err)
	}
	return nil
}

// giveUp rolls back a transaction in which a change failed late, answers that change
// with its error, and returns the others, to run again.
func (w *Writer) giveUp(tx Batch, run []*request) (again []*request) {
	tx.Rollback()
	w.givenUp.Add(1)
	for _, r := range run {
		switch {
		case r.answered:
		case r.late != nil:
			r.answer(r.late)
		default:
			if r.begun {
				w.rerun.Add(1)
			}
			r.err = nil
			again = append(again, r)
		}
	}
	return again
}

// answerAll answers every change of run not yet answered with err.
func (w *Writer) answerAll(run []*request, err error) {
	for _, r := range run {
		if !r.answered {
			r.answer(err)
		}
	}
}

// runChange runs a change, turning a panic into an error so that the writer, which
// serves every caller, survives a bug in one change.
func runChange(change func(latchkey.Tx) error, tx latchkey.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = latchkey.Errorf(latchkey.EINTERNAL, "A change failed unexpectedly (%v); nothing of it was kept.", p)
		}
	}()
	return change(tx)
}
