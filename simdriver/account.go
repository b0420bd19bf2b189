package simdriver

import (
	"sync"
	"time"
)

// radioAccount keeps how long commands were on their way: the wall time during which at
// least one command waited for its lock, and how many were sent. A benchmark takes the
// rest of its wall time as the engine's own.
type radioAccount struct {
	mu       sync.Mutex
	inFlight int
	since    time.Time     // when inFlight last rose from 0
	busy     time.Duration // closed stretches with a command in flight
	sent     int64
	sim      time.Duration // the twins computing: the world held to run its clock or send
}

// simulated adds the time since start to the twins' computing.
func (a *radioAccount) simulated(start time.Time) {
	d := time.Since(start)
	a.mu.Lock()
	a.sim += d
	a.mu.Unlock()
}

func (a *radioAccount) begin() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inFlight == 0 {
		a.since = time.Now()
	}
	a.inFlight++
	a.sent++
}

func (a *radioAccount) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if a.inFlight == 0 {
		a.busy += time.Since(a.since)
	}
}

// RadioStats is what the driver's commands cost.
type RadioStats struct {
	// Waiting is the wall time during which at least one command waited for its lock's
	// answer (or for its deadline): the time spent on the radio model.
	Waiting time.Duration
	// Commands is how many commands were sent.
	Commands int64
	// Simulating is the wall time the twins spent computing: running their clock's
	// timers (frames arriving, locks answering) and taking commands. The world is used
	// by one goroutine at a time, so these stretches never overlap.
	Simulating time.Duration
}

// RadioStats returns what the driver's commands have cost so far.
func (d *Driver) RadioStats() RadioStats {
	a := &d.acct
	a.mu.Lock()
	defer a.mu.Unlock()
	s := RadioStats{Waiting: a.busy, Commands: a.sent, Simulating: a.sim}
	if a.inFlight > 0 {
		s.Waiting += time.Since(a.since)
	}
	return s
}
