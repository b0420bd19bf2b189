package latchkey

import (
	"fmt"
	"log/slog"
	"time"
)

// PIN is the secret digits of a keypad code. Its String, GoString, JSON and slog forms
// are redacted, so that a PIN passed by mistake to a logger, an error message or a JSON
// encoder never shows; Reveal is the one deliberate way to read it.
type PIN string

const redacted = "[redacted]"

// Reveal returns the digits. Call it only where showing or sending the code is the point
// (programming a lock, an audited reveal, printing a code the user just generated).
func (p PIN) Reveal() string { return string(p) }

// String returns a redacted placeholder.
func (p PIN) String() string { return redacted }

// GoString returns a redacted placeholder, so %#v does not leak the digits either.
func (p PIN) GoString() string { return redacted }

// LogValue keeps the digits out of structured logs.
func (p PIN) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON writes a redacted placeholder.
func (p PIN) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Code is a PIN owned by a person, with a schedule and an optional use limit, placed in a
// slot on each lock it is granted on.
type Code struct {
	ID        int64     `json:"id"`
	PersonID  int64     `json:"person_id"`
	Label     string    `json:"label"`
	PIN       PIN       `json:"pin,omitempty"`
	Schedule  Schedule  `json:"schedule"`
	UseLimit  int       `json:"use_limit,omitempty"` // 0: unlimited
	OneTime   bool      `json:"one_time,omitempty"`  // shorthand for a use limit of one
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked,omitempty"` // revoked: gone once every lock confirms

	// SealedPIN is the PIN as the vault sealed it: all a store ever sees of it.
	SealedPIN []byte `json:"-"`
}

// MaxUseLimit is the largest use limit a code takes; a code used more often than that is
// an always-valid code.
const MaxUseLimit = 10000

// Reliable reports whether the code opens the door at any time, for as long as it
// exists: no schedule and no use limit. Only such codes count as a way in (invariant 1).
func (c *Code) Reliable() bool {
	return !c.Revoked && (c.Schedule.Kind == "" || c.Schedule.Kind == ScheduleAlways) && c.UseLimit == 0 && !c.OneTime
}

// Validity says in words when the code opens the door and how often: its schedule
// (Schedule.Describe, with a window's dates in loc, the site's time zone, or in UTC when
// loc is nil), then its use limit: "Mon–Fri 09:00–17:00, up to 5 uses", "always, one use
// only". Whether the code is revoked is not part of it.
func (c *Code) Validity(loc *time.Location) string {
	text := c.Schedule.Describe(loc)
	switch {
	case c.OneTime || c.UseLimit == 1:
		text += ", one use only"
	case c.UseLimit > 1:
		text += fmt.Sprintf(", up to %d uses", c.UseLimit)
	}
	return text
}

// GrantStatus is where a code stands on one lock (SPEC §4.5).
type GrantStatus string

// Grant statuses. A code counts as on the lock only once the lock confirms it (Set), and
// as gone only once the lock confirms that (Removed): until then it is pending or
// "revocation pending" (invariant 2).
const (
	GrantPending GrantStatus = "pending" // to be put on the lock
	GrantSetting GrantStatus = "setting" // the engine started writing it and has not read it back
	GrantSet     GrantStatus = "set"     // confirmed on the lock
	// GrantUnconfirmed is a code the lock acknowledged but that could not be read back
	// (a driver without read-back): it counts as on the lock, as a set code does, until
	// a person confirms it (code confirm) or the lock says otherwise.
	GrantUnconfirmed GrantStatus = "unconfirmed"
	GrantRemoving    GrantStatus = "removing" // revocation pending
	GrantRemoved     GrantStatus = "removed"  // confirmed gone
	GrantFailed      GrantStatus = "failed"   // see its Problem
)

// Grant places a code in a slot of one lock.
type Grant struct {
	ID     int64       `json:"id"`
	CodeID int64       `json:"code_id"`
	LockID int64       `json:"lock_id"`
	Slot   int         `json:"slot"`
	Status GrantStatus `json:"status"`
	// Problem is why the code is not where the records want it, as a kind a program can
	// act on; Reason says it in a sentence for people. Both are empty when all is well.
	Problem Problem `json:"problem,omitempty"`
	// ProblemSlot is the slot a duplicate collides with, when the lock or the records
	// tell it.
	ProblemSlot int    `json:"problem_slot,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Alert says the code opened the door after it was revoked; it stays until the lock
	// is seen without it.
	Alert string `json:"alert,omitempty"`
	// NextAttempt is when the engine tries the code again on the lock; nil when it does
	// not (it waits for a person, or has nothing to do).
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	// Uses counts the lock's keypad unlocks by the code in its slot, for its use limit.
	Uses int `json:"uses,omitempty"`
	// Attempts counts the engine's failed tries in a row; a code that failed to go on
	// MaxSyncAttempts times waits for a person (its removal is never given up).
	Attempts int `json:"attempts,omitempty"`
	// DelayNotedAt is when a delay warning was last delivered (code.delayed), so that
	// one delay is delivered once.
	DelayNotedAt *time.Time `json:"-"`
	UpdatedAt    time.Time  `json:"updated_at"`
	// Warnings are derived when the grant is read (WarningsOf), never stored.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Validate checks the code's own fields. Whether the PIN itself is acceptable depends on
// the lock's model and the lock's other codes; package catalog checks that.
func (c *Code) Validate() error {
	if c.PersonID == 0 {
		return Errorf(EINVALID, "A code must belong to a person.")
	}
	if err := validateName("Code label", c.Label); err != nil {
		return err
	}
	if c.UseLimit < 0 || c.UseLimit > MaxUseLimit {
		return Errorf(EINVALID, "Use limit must be from 0 (unlimited) to %d.", MaxUseLimit)
	}
	if c.OneTime && c.UseLimit > 1 {
		return Errorf(EINVALID, "A one-time code cannot have a use limit of %d; drop one of the two.", c.UseLimit)
	}
	return c.Schedule.Validate()
}
