package sim

import (
	"container/heap"
	"time"
)

// Clock is virtual time. It stands still until Advance moves it, and fires the timers
// that fall due on the way in order of their due time, then of their scheduling, so that
// the same inputs always give the same order of events.
type Clock struct {
	now    time.Time
	queue  timerQueue
	nextID uint64
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the virtual time. Clock satisfies latchkey.Clock.
func (c *Clock) Now() time.Time { return c.now }

// Timer is a function scheduled on a Clock.
type Timer struct {
	when    time.Time
	id      uint64
	f       func()
	index   int // in the queue; -1 once fired or stopped
	stopped bool
}

// Stop cancels the timer. It reports whether the timer was still pending.
func (t *Timer) Stop() bool {
	if t == nil || t.stopped || t.index < 0 {
		return false
	}
	t.stopped = true
	return true
}

// AfterFunc schedules f to run d from now (at once on the next Advance if d <= 0).
func (c *Clock) AfterFunc(d time.Duration, f func()) *Timer {
	c.nextID++
	t := &Timer{when: c.now.Add(max(d, 0)), id: c.nextID, f: f}
	heap.Push(&c.queue, t)
	return t
}

// Advance moves the clock forward by d, running every timer that falls due, each at its
// own due time. Timers that timers schedule within the span run too.
func (c *Clock) Advance(d time.Duration) {
	end := c.now.Add(max(d, 0))
	for c.queue.Len() > 0 && !c.queue[0].when.After(end) {
		t := heap.Pop(&c.queue).(*Timer)
		if t.stopped {
			continue
		}
		c.now = t.when
		t.f()
	}
	c.now = end
}

// Pending returns how many timers are waiting.
func (c *Clock) Pending() int {
	n := 0
	for _, t := range c.queue {
		if !t.stopped {
			n++
		}
	}
	return n
}

type timerQueue []*Timer

func (q timerQueue) Len() int { return len(q) }
func (q timerQueue) Less(i, j int) bool {
	if !q[i].when.Equal(q[j].when) {
		return q[i].when.Before(q[j].when)
	}
	return q[i].id < q[j].id
}
func (q timerQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *timerQueue) Push(x any) {
	t := x.(*Timer)
	t.index = len(*q)
	*q = append(*q, t)
}
func (q *timerQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*q = old[:len(old)-1]
	return t
}

// Next returns when the earliest pending timer falls due, if any is pending: a driver
// that runs the clock in step with the wall clock sleeps until then.
func (c *Clock) Next() (time.Time, bool) {
	for c.queue.Len() > 0 && c.queue[0].stopped {
		heap.Pop(&c.queue)
	}
	if c.queue.Len() == 0 {
		return time.Time{}, false
	}
	return c.queue[0].when, true
}
