// Package groupcommit runs a store's changes in shared transactions. Every change is
// durable before it is acknowledged, and a flush to disk costs far more than the change
// itself; so one writer runs the changes that are waiting when it is free in one
// transaction, each inside its own savepoint, and flushes once for all of them. A change
// that fails rolls back to its savepoint and takes nothing else with it. The writer waits
// for nobody: a change that arrives alone commits at once.
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
	// EndSavepoint keeps the change or rolls back to its savepoint. A store may hold a
	// kept change's last statements back, to send them with the next change's first or
	// with the commit. Should they fail then, the store rolls that change back alone and
	// reports their error through failed, before Commit returns. An error means the
	// transaction cannot go on, and nothing of the batch is kept.
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

	waiting, batches, changes, mixed atomic.Int64
}

// Stats counts a writer's work.
type Stats struct {
	Waiting int64 // changes handed to Update and not yet taken by the writer
	Batches int64 // transactions run
	Changes int64 // changes run in them
	Mixed   int64 // transactions in which some changes failed and others were kept
}

// Stats returns what the writer has done so far.
func (w *Writer) Stats() Stats {
	return Stats{Waiting: w.waiting.Load(), Batches: w.batches.Load(), Changes: w.changes.Load(), Mixed: w.mixed.Load()}
}

type request struct {
	ctx    context.Context
	change func(latchkey.Tx) error
	result chan error
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

// commit runs each change in its own savepoint of one transaction, commits once, and
// tells each caller how its change ended.
func (w *Writer) commit(batch []*request) {
	w.batches.Add(1)
	w.changes.Add(int64(len(batch)))
	results := make([]error, len(batch))
	answer := func(batchErr error) {
		for i, r := range batch {
			if results[i] == nil {
				results[i] = batchErr
			}
			r.result <- results[i]
		}
	}
	tx, err := w.begin()
	if err != nil {
		answer(w.format(err))
		return
	}
	defer tx.Rollback()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err // the caller gave up before its change began
			continue
		}
		if err := tx.Savepoint(); err != nil {
			clear(results) // nothing of the batch is kept
			answer(w.format(err))
			return
		}
		results[i] = runChange(r.change, tx.Tx())
		if err := tx.EndSavepoint(results[i] == nil, func(err error) { results[i] = w.format(err) }); err != nil {
			clear(results)
			answer(w.format(err))
			return
		}
	}
	kept := 0
	for _, err := range results {
		if err == nil {
			kept++
		}
	}
	if kept > 0 && kept < len(batch) {
		w.mixed.Add(1)
	}
	answer(w.format(tx.Commit()))
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
