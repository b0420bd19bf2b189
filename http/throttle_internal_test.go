package http

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testThrottle is a throttle on a clock the test moves.
func testThrottle() (*throttle, *time.Time) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	th := newThrottle()
	th.now = func() time.Time { return now }
	return th, &now
}

// One name from one address: five free failures, then each try waits twice as long as
// the one before (30 s, 1 min, 2 min, ... up to 15 min); a wait ends on time, and a
// success forgets the failures.
func TestThrottleBackoffAndExpiry(t *testing.T) {
	th, now := testThrottle()
	const addr, name = "192.0.2.1", "ana"
	for i := range freeFailures - 1 {
		th.fail(addr, name)
		if w := th.wait(addr, name); w != 0 {
			t.Fatalf("after %d failures: wait %s, want none", i+1, w)
		}
	}
	want := 30 * time.Second
	for i := range 8 {
		th.fail(addr, name)
		if got := th.wait(addr, name); got != want {
			t.Fatalf("failure %d: wait %s, want %s", freeFailures+i, got, want)
		}
		// One second before the wait ends it still holds; at its end it is over.
		*now = now.Add(want - time.Second)
		if got := th.wait(addr, name); got != time.Second {
			t.Fatalf("failure %d: %s left a second before the end", freeFailures+i, got)
		}
		*now = now.Add(time.Second)
		if got := th.wait(addr, name); got != 0 {
			t.Fatalf("failure %d: still %s to wait after the wait ended", freeFailures+i, got)
		}
		want = min(2*want, 15*time.Minute)
	}
	if other := th.wait(addr, "bob"); other != 0 {
		t.Fatalf("another name from the same address waits %s", other)
	}
	th.succeed(addr, name)
	th.fail(addr, name)
	if got := th.wait(addr, name); got != 0 {
		t.Fatalf("after a success and one failure: wait %s, want none", got)
	}
}

// Spraying many names from one address is slowed after freeSpreadFailure failures.
func TestThrottleSprayFromOneAddress(t *testing.T) {
	th, _ := testThrottle()
	for i := range freeSpreadFailure {
		th.fail("192.0.2.7", fmt.Sprintf("user%d", i))
	}
	if w := th.wait("192.0.2.7", "somebody-new"); w != firstWait {
		t.Fatalf("a new name from a spraying address waits %s, want %s", w, firstWait)
	}
	if w := th.wait("192.0.2.8", "somebody-new"); w != 0 {
		t.Fatalf("another address waits %s", w)
	}
}

// One name guessed from many addresses is slowed for unknown addresses, but the address
// its owner signs in from is not locked out.
func TestThrottleOneNameFromManyAddresses(t *testing.T) {
	th, _ := testThrottle()
	th.succeed("198.51.100.4", "ana") // Ana's own phone
	for i := range freeSpreadFailure {
		th.fail(fmt.Sprintf("203.0.113.%d", i), "ana")
	}
	if w := th.wait("203.0.113.200", "ana"); w != firstWait {
		t.Fatalf("a new address guessing ana waits %s, want %s", w, firstWait)
	}
	if w := th.wait("198.51.100.4", "ana"); w != 0 {
		t.Fatalf("Ana's known address waits %s; an attacker could lock her out", w)
	}
}

// Failures everywhere spend a server-wide budget; once spent, unknown sign-ins wait until
// it refills, while known ones still go through.
func TestThrottleGlobalBudget(t *testing.T) {
	th, now := testThrottle()
	th.succeed("198.51.100.4", "ana")
	for i := range globalBudget {
		th.fail(fmt.Sprintf("10.%d.%d.1", i/250, i%250), fmt.Sprintf("name%d", i))
	}
	if w := th.wait("10.200.0.1", "fresh"); w != globalRefill {
		t.Fatalf("with the budget spent a fresh sign-in waits %s, want %s", w, globalRefill)
	}
	if w := th.wait("198.51.100.4", "ana"); w != 0 {
		t.Fatalf("a known sign-in waits %s with the budget spent", w)
	}
	*now = now.Add(globalRefill)
	if w := th.wait("10.200.0.1", "fresh"); w != 0 {
		t.Fatalf("after a refill a fresh sign-in still waits %s", w)
	}
}

// The state stays bounded: old failures are forgotten, and a full table is never wiped
// (which would forgive every attacker at once).
func TestThrottleBounded(t *testing.T) {
	th, now := testThrottle()
	for range freeFailures + 1 {
		th.fail("192.0.2.1", "ana")
	}
	for i := range maxThrottleKeys {
		th.fails[fmt.Sprintf("p|x|%d", i)] = &attempts{n: 1, last: *now}
	}
	th.fail("192.0.2.99", "bob") // the table is full of live entries: nothing is wiped
	if w := th.wait("192.0.2.1", "ana"); w == 0 {
		t.Fatal("a full table forgave ana's guesser")
	}
	*now = now.Add(forgetAfter + time.Hour)
	th.fail("192.0.2.99", "bob") // purges what is forgotten
	if len(th.fails) > 10 {
		t.Fatalf("%d entries kept after every one expired", len(th.fails))
	}
}

// Behind a trusted proxy the client is the nearest untrusted hop of X-Forwarded-For;
// otherwise the header, which anyone can send, is ignored.
func TestClientAddress(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	req := func(remote string, xff ...string) *http.Request {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	tests := []struct {
		name    string
		r       *http.Request
		trusted []netip.Prefix
		want    string
	}{
		{"Direct", req("192.0.2.1:5000"), nil, "192.0.2.1"},
		{"HeaderIgnoredWithoutProxy", req("192.0.2.1:5000", "203.0.113.9"), nil, "192.0.2.1"},
		{"HeaderIgnoredFromUntrusted", req("192.0.2.1:5000", "203.0.113.9"), proxy, "192.0.2.1"},
		{"ThroughProxy", req("10.0.0.2:5000", "203.0.113.9"), proxy, "203.0.113.9"},
		{"SpoofedLeftmost", req("10.0.0.2:5000", "6.6.6.6, 203.0.113.9"), proxy, "203.0.113.9"},
		{"TwoProxies", req("10.0.0.2:5000", "203.0.113.9, 10.0.0.3"), proxy, "203.0.113.9"},
		{"Malformed", req("10.0.0.2:5000", "not-an-address"), proxy, "10.0.0.2"},
		{"IPv6", req("[2001:db8::1]:5000"), nil, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientAddress(tt.r, tt.trusted); got != tt.want {
				t.Fatalf("clientAddress = %s, want %s", got, tt.want)
			}
		})
	}
}

// Tries sent in parallel are counted as they begin, before any password is checked: of
// many at once, only the free ones go through; a success takes its count back.
func TestThrottleCountsTriesAsTheyBegin(t *testing.T) {
	th, _ := testThrottle()
	var wg sync.WaitGroup
	var through atomic.Int64
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.begin("192.0.2.1", "ana") == 0 {
				through.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := through.Load(); n != freeFailures {
		t.Fatalf("%d of 60 parallel tries went through, want %d", n, freeFailures)
	}
	th2, _ := testThrottle()
	for range 20 {
		if th2.begin("192.0.2.2", "bo") != 0 {
			t.Fatal("a try waited although every earlier one succeeded")
		}
		th2.succeed("192.0.2.2", "bo")
	}
}
