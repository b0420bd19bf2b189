package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// tracedDriver times every command the engine gives a lock, so that a fleet run can say
// where its last lock's time went: waiting for the records before its first command,
// on the radio, between its commands, and after its last answer until the step ended.
type tracedDriver struct {
	latchkey.DeviceDriver
	reader latchkey.CodeReader

	mu    sync.Mutex
	calls map[string][]span // by address, in the order they ended
}

// span is one command, from the engine's call to its return.
type span struct{ from, to time.Time }

var _ latchkey.CodeReader = (*tracedDriver)(nil)

func newTracedDriver(d latchkey.DeviceDriver) *tracedDriver {
	r, _ := d.(latchkey.CodeReader)
	return &tracedDriver{DeviceDriver: d, reader: r, calls: map[string][]span{}}
}

func (t *tracedDriver) timed(address string, f func() error) error {
	from := time.Now()
	err := f()
	to := time.Now()
	t.mu.Lock()
	t.calls[address] = append(t.calls[address], span{from, to})
	t.mu.Unlock()
	return err
}

func (t *tracedDriver) SetCode(ctx context.Context, address string, slot int, pin string) error {
	return t.timed(address, func() error { return t.DeviceDriver.SetCode(ctx, address, slot, pin) })
}

func (t *tracedDriver) ClearCode(ctx context.Context, address string, slot int) error {
	return t.timed(address, func() error { return t.DeviceDriver.ClearCode(ctx, address, slot) })
}

func (t *tracedDriver) ReadCode(ctx context.Context, address string, slot int) (pin string, present bool, err error) {
	err = t.timed(address, func() (err error) {
		pin, present, err = t.reader.ReadCode(ctx, address, slot)
		return err
	})
	return pin, present, err
}

// reset forgets what was traced: a step starts.
func (t *tracedDriver) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.calls)
}

// criticalPath is where the time of the lock that finished last went, in one step that
// began at start and ended at end; and how long the locks waited for their first
// command, for the median lock and the last.
type criticalPath struct {
	// BeforeFirst is from the step's start to the last lock's first command: the records
	// (the tasks, the PINs with their audit entries) before anything went out to it.
	BeforeFirst time.Duration `json:"before_first_ns"`
	// OnRadio is the time its commands took, from the engine's call to its return.
	OnRadio time.Duration `json:"on_radio_ns"`
	// Between is the time between its commands (an answer taken in, the next sent),
	// outside any command of its own.
	Between time.Duration `json:"between_ns"`
	// After is from its last answer to the step's end: the outcomes recorded.
	After time.Duration `json:"after_ns"`
	// FirstFirst, FirstMedian and FirstLast are how long after the start the first lock,
	// the median lock and the last lock got their first command.
	FirstFirst  time.Duration `json:"first_first_ns"`
	FirstMedian time.Duration `json:"first_median_ns"`
	FirstLast   time.Duration `json:"first_last_ns"`
}

// path reads the trace of a step.
func (t *tracedDriver) path(start, end time.Time) criticalPath {
	t.mu.Lock()
	defer t.mu.Unlock()
	var p criticalPath
	var last []span
	var lastEnd time.Time
	var firsts []time.Duration
	for _, spans := range t.calls {
		first, finish := spans[0].from, spans[0].to
		for _, s := range spans {
			if s.from.Before(first) {
				first = s.from
			}
			if s.to.After(finish) {
				finish = s.to
			}
		}
		firsts = append(firsts, first.Sub(start))
		if finish.After(lastEnd) {
			last, lastEnd = spans, finish
		}
	}
	if len(last) == 0 {
		return p
	}
	slices.Sort(firsts)
	p.FirstFirst, p.FirstMedian, p.FirstLast = firsts[0], firsts[len(firsts)/2], firsts[len(firsts)-1]
	// The lock's commands may overlap (its slots are worked at once): the radio's part is
	// the union of their spans, the rest of its time between first and last is between.
	spans := slices.Clone(last)
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	p.BeforeFirst = spans[0].from.Sub(start)
	cur := spans[0]
	for _, s := range spans[1:] {
		if s.from.After(cur.to) {
			p.OnRadio += cur.to.Sub(cur.from)
			p.Between += s.from.Sub(cur.to)
			cur = s
			continue
		}
		if s.to.After(cur.to) {
			cur.to = s.to
		}
	}
	p.OnRadio += cur.to.Sub(cur.from)
	p.After = end.Sub(lastEnd)
	return p
}

// add sums the paths of a run's steps.
func (p *criticalPath) add(q criticalPath) {
	p.BeforeFirst += q.BeforeFirst
	p.OnRadio += q.OnRadio
	p.Between += q.Between
	p.After += q.After
	p.FirstFirst += q.FirstFirst
	p.FirstMedian += q.FirstMedian
	p.FirstLast += q.FirstLast
}
