package latchkey

import (
	"context"
	"errors"
	"sync"
)

// batched runs calls that arrive at the same moment in one change: the sync engine asks
// for thousands of PINs and records thousands of outcomes at once, and each change costs
// statements of its own (a savepoint, the audit log's end) that a batch pays once. Each
// call still has its own audit entry, as its caller's act, and one call that fails takes
// no other with it.
type batched[In, Out any] struct {
	mu      sync.Mutex
	waiting []*batchCall[In, Out]
	running bool
}

// batchCall is one call waiting for its batch.
type batchCall[In, Out any] struct {
	ctx  context.Context
	in   In
	out  Out
	err  error
	done chan struct{}
}

// maxBatched bounds the calls one transaction takes, so that it stays short.
const maxBatched = 500

// batchStep does one call's work in the batch's transaction, and returns its result and
// its audit entry's entity id and detail; errUnchanged says there is nothing to record.
// A step gets the same cache for every call of a batch.
type batchStep[In, Out any] func(ctx context.Context, tx Tx, in In) (out Out, id int64, detail any, err error)

// newBatchStep makes the step of one batch, knowing every input of it, so that the
// step can read what they all need at once.
type newBatchStep[In, Out any] func(batch []In) batchStep[In, Out]

// do queues a call and returns its result.
func (b *batched[In, Out]) do(ctx context.Context, s *Service, action string, in In, step newBatchStep[In, Out]) (Out, error) {
	c := b.doMany(ctx, s, action, []In{in}, step)[0]
	return c.out, c.err
}

// doMany queues calls together, so that they share a batch, and returns them done. The
// first caller to find no batch running runs the waiting calls, batch after batch, until
// none is left.
func (b *batched[In, Out]) doMany(ctx context.Context, s *Service, action string, ins []In, step newBatchStep[In, Out]) []*batchCall[In, Out] {
	mine := make([]*batchCall[In, Out], len(ins))
	for i, in := range ins {
		mine[i] = &batchCall[In, Out]{ctx: ctx, in: in, done: make(chan struct{})}
	}
	b.mu.Lock()
	b.waiting = append(b.waiting, mine...)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if lead {
		for {
			b.mu.Lock()
			n := min(len(b.waiting), maxBatched)
			calls := b.waiting[:n:n]
			b.waiting = b.waiting[n:]
			if n == 0 {
				b.running = false
			}
			b.mu.Unlock()
			if n == 0 {
				break
			}
			batch := make([]In, len(calls))
			for i, c := range calls {
				batch[i] = c.in
			}
			if err := runBatch(s, action, calls, step(batch)); err != nil {
				// Run each alone, so that the one that failed fails alone.
				for _, c := range calls {
					c.err = runBatch(s, action, calls[:0:0], step([]In{c.in}), c)
				}
			}
			for _, c := range calls {
				close(c.done)
			}
		}
	}
	for _, c := range mine {
		<-c.done
	}
	return mine
}

// runBatch runs calls (and more) in one change, each with its audit entry.
func runBatch[In, Out any](s *Service, action string, calls []*batchCall[In, Out], step batchStep[In, Out], more ...*batchCall[In, Out]) error {
	calls = append(calls, more...)
	// The batch runs on behalf of several callers: none of them cancels it alone.
	ctx := context.WithoutCancel(calls[0].ctx)
	return s.Store.Update(ctx, func(inner Tx) error {
		tx := &hooksReadOnce{Tx: inner}
		var last *AuditEntry
		for _, c := range calls {
			out, id, detail, err := step(c.ctx, tx, c.in)
			c.out = out
			if errors.Is(err, errUnchanged) {
				continue
			}
			if err != nil {
				return err
			}
			if last, err = s.appendAudit(c.ctx, tx, last, action, "code", id, detail); err != nil {
				return err
			}
		}
		if last == nil {
			return nil
		}
		return tx.SetAuditHead(ctx, &AuditHead{Seq: last.Seq, Hash: last.Hash, MAC: headMAC(s.Vault, last.Seq, last.Hash)})
	})
}
