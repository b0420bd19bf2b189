package http

import (
	"testing"
	"time"
)

// The throttle lets five failures through, then makes each further try wait twice as
// long as the one before (30 s, 1 min, 2 min, ... up to 15 min); a wait ends on time,
// and a success forgets the failures.
func TestThrottleBackoffAndExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	th := newThrottle()
	th.now = func() time.Time { return now }
	const key = "192.0.2.1|ana"
	for i := range freeFailures - 1 {
		th.fail(key)
		if w := th.wait(key); w != 0 {
			t.Fatalf("after %d failures: wait %s, want none", i+1, w)
		}
	}
	want := 30 * time.Second
	for i := range 8 {
		th.fail(key)
		if got := th.wait(key); got != want {
			t.Fatalf("failure %d: wait %s, want %s", freeFailures+i, got, want)
		}
		// One second before the wait ends it still holds; at its end it is over.
		now = now.Add(want - time.Second)
		if got := th.wait(key); got != time.Second {
			t.Fatalf("failure %d: %s left a second before the end", freeFailures+i, got)
		}
		now = now.Add(time.Second)
		if got := th.wait(key); got != 0 {
			t.Fatalf("failure %d: still %s to wait after the wait ended", freeFailures+i, got)
		}
		want = min(2*want, 15*time.Minute)
	}
	if other := th.wait("192.0.2.1|bob"); other != 0 {
		t.Fatalf("another name waits %s", other)
	}
	th.reset(key)
	th.fail(key)
	if got := th.wait(key); got != 0 {
		t.Fatalf("after a success and one failure: wait %s, want none", got)
	}
}
