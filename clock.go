package latchkey

import "time"

// Clock tells the time. Everything that stamps, schedules or expires takes a Clock, so
// that tests and the digital twins can run on virtual time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
