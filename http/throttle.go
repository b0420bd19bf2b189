package http

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling. Guessing is slowed along every axis an attacker can spread over:
//
//   - one name from one address: 5 free failures, then each try waits twice as long as
//     the one before, from 30 s up to 15 min;
//   - many names from one address (spraying): 20 free failures, then the same waits;
//   - one name from many addresses: 20 free failures, then the same waits, except for an
//     address this name signed in from before (so an attacker cannot lock its owner
//     out);
//   - everything at once: a budget of failures for the whole server (200, refilled at one
//     every 2 s); once spent, only addresses known for their name may try.
//
// Failures are forgotten an hour after the last one, and a success forgets the failures
// of its name and address. The state is in memory and bounded; when it is full of live
// entries, unknown sign-ins wait rather than the state being wiped.
const (
	freeFailures      = 5  // per name and address
	freeSpreadFailure = 20 // per address over names, per name over addresses
	firstWait         = 30 * time.Second
	longestWait       = 15 * time.Minute
	forgetAfter       = time.Hour
	knownFor          = 30 * 24 * time.Hour
	globalBudget      = 200
	globalRefill      = 2 * time.Second // one failure back per this long
	maxThrottleKeys   = 100_000
)

// throttle holds the failure counts.
type throttle struct {
	mu      sync.Mutex
	now     func() time.Time
	fails   map[string]*attempts // "p|addr|name", "a|addr", "n|name"
	known   map[string]time.Time // "addr|name": last success from there
	budget  float64              // global failures left
	counted time.Time            // when budget was last refilled
}

type attempts struct {
	n     int
	until time.Time // tries wait until then
	last  time.Time // the last failure
}

func newThrottle() *throttle {
	return &throttle{fails: map[string]*attempts{}, known: map[string]time.Time{}, now: time.Now, budget: globalBudget}
}

// begin returns how long a sign-in as name from addr must wait; when it need not, the
// try is counted as failed at once, before its password is checked, so that tries sent
// in parallel cannot all pass the check before any failure is counted. A success, or a
// try that never got to its check, takes the count back (succeed, undo).
func (t *throttle) begin(addr, name string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := t.waitLocked(addr, name); wait > 0 {
		return wait
	}
	t.failLocked(addr, name)
	return 0
}

// wait returns how long a sign-in as name from addr must wait; zero means it may try.
func (t *throttle) wait(addr, name string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waitLocked(addr, name)
}

func (t *throttle) waitLocked(addr, name string) time.Duration {
	now := t.now()
	name = strings.ToLower(name)
	known := t.isKnown(now, addr, name)
	keys := []string{"p|" + addr + "|" + name, "a|" + addr}
	if !known {
		keys = append(keys, "n|"+name)
	}
	var wait time.Duration
	for _, k := range keys {
		if a := t.fails[k]; a != nil {
			wait = max(wait, a.until.Sub(now))
		}
	}
	if !known {
		t.refill(now)
		if t.budget < 1 {
			wait = max(wait, time.Duration((1-t.budget)*float64(globalRefill)))
		}
	}
	return max(wait, 0)
}

// fail records a failed sign-in as name from addr.
func (t *throttle) fail(addr, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failLocked(addr, name)
}

func (t *throttle) failLocked(addr, name string) {
	now := t.now()
	name = strings.ToLower(name)
	t.refill(now)
	t.budget = max(t.budget-1, 0)
	t.count(now, "p|"+addr+"|"+name, freeFailures)
	t.count(now, "a|"+addr, freeSpreadFailure)
	t.count(now, "n|"+name, freeSpreadFailure)
}

// undo takes back the failure begin counted for a try that never got to its check.
func (t *throttle) undo(addr, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.undoLocked(addr, strings.ToLower(name))
}

func (t *throttle) undoLocked(addr, name string) {
	t.budget = min(globalBudget, t.budget+1)
	for key, free := range map[string]int{"p|" + addr + "|" + name: freeFailures, "a|" + addr: freeSpreadFailure, "n|" + name: freeSpreadFailure} {
		if a := t.fails[key]; a != nil && a.n > 0 {
			a.n--
			if a.n < free {
				a.until = time.Time{}
			}
		}
	}
}

// succeed takes back the failure begin counted, forgets the failures of this name from
// this address, and remembers the address as one this name signs in from.
func (t *throttle) succeed(addr, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	name = strings.ToLower(name)
	t.undoLocked(addr, name)
	delete(t.fails, "p|"+addr+"|"+name)
	if len(t.known) >= maxThrottleKeys {
		t.purge(t.now())
	}
	if len(t.known) < maxThrottleKeys {
		t.known[addr+"|"+name] = t.now()
	}
}

func (t *throttle) isKnown(now time.Time, addr, name string) bool {
	at, ok := t.known[addr+"|"+name]
	return ok && now.Sub(at) < knownFor
}

func (t *throttle) refill(now time.Time) {
	if !t.counted.IsZero() {
		t.budget = min(globalBudget, t.budget+float64(now.Sub(t.counted))/float64(globalRefill))
	}
	t.counted = now
}

// count adds a failure under key; past free failures, tries wait, doubling each time.
func (t *throttle) count(now time.Time, key string, free int) {
	a := t.fails[key]
	if a == nil {
		if len(t.fails) >= maxThrottleKeys {
			t.purge(now)
		}
		if len(t.fails) >= maxThrottleKeys {
			return // full of live entries: the global budget is spent long before this
		}
		a = &attempts{}
		t.fails[key] = a
	}
	a.n++
	a.last = now
	if a.n >= free {
		a.until = now.Add(min(firstWait<<min(a.n-free, 5), longestWait))
	}
}

// purge drops failures no longer remembered and addresses no longer known.
func (t *throttle) purge(now time.Time) {
	for k, a := range t.fails {
		if now.Sub(a.last) > forgetAfter && !now.Before(a.until) {
			delete(t.fails, k)
		}
	}
	for k, at := range t.known {
		if now.Sub(at) >= knownFor {
			delete(t.known, k)
		}
	}
}

// clientAddress is the address a request comes from: the connection's, or, when the
// connection comes from a trusted proxy, the nearest address before the proxies in
// X-Forwarded-For. Without trusted proxies the header is ignored, since anyone can send
// it.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	addr := remoteAddr(r)
	if len(trusted) == 0 || !isTrusted(addr, trusted) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing further out
		}
		addr = hop.Unmap()
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return addr.String()
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return addr.Unmap()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
