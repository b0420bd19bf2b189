package latchkey

import "time"

// EventKind is what an event records. Device events are normalised to these kinds
// whatever driver reported them (SPEC §4.6).
type EventKind string

// Event kinds.
const (
	EventLocked          EventKind = "locked"
	EventUnlocked        EventKind = "unlocked"
	EventWrongCode       EventKind = "wrong_code"
	EventKeypadLockout   EventKind = "keypad_lockout"
	EventJammed          EventKind = "jammed"
	EventLowBattery      EventKind = "low_battery"
	EventTamper          EventKind = "tamper"
	EventResetLocally    EventKind = "reset_locally"
	EventAllCodesDeleted EventKind = "all_codes_deleted"
	EventCodeAdded       EventKind = "code_added"   // a code was added at the lock itself
	EventCodeDeleted     EventKind = "code_deleted" // a code was deleted at the lock itself
	EventCodeChanged     EventKind = "code_changed" // a slot's code was replaced at the lock itself
	EventOffline         EventKind = "offline"
	EventOnline          EventKind = "online" // heard from again after it was offline
	EventChange          EventKind = "change" // a record was changed by someone
	EventReveal          EventKind = "reveal" // a secret was shown to someone
	// EventRevokedCodeUsed is Latchkey's alert: the door opened to a code that is revoked
	// or outside its time (invariant 2: no silent security gap).
	EventRevokedCodeUsed EventKind = "revoked_code_used"
	// EventCodeStatus tells live subscribers where a code now stands on a lock (its
	// Grant); it is sent on the event stream only, never stored.
	EventCodeStatus EventKind = "code_status"
)

// EventSource says how a lock operation was performed.
type EventSource string

// Event sources.
const (
	SourceUnknown EventSource = ""
	SourceKeypad  EventSource = "keypad"
	SourceRF      EventSource = "rf"     // through the hub
	SourceManual  EventSource = "manual" // thumb-turn or key
	SourceAuto    EventSource = "auto"   // auto-lock
)

// Event is an append-only record of something that happened to a lock or a record.
// Slot and PersonID are set when a keypad operation names the code's slot and Latchkey
// knows whose code sits there.
type Event struct {
	ID       int64       `json:"id"`
	LockID   int64       `json:"lock_id,omitempty"`
	Kind     EventKind   `json:"kind"`
	Source   EventSource `json:"source,omitempty"`
	Slot     int         `json:"slot,omitempty"`
	PersonID int64       `json:"person_id,omitempty"`
	Actor    string      `json:"actor,omitempty"` // who made a change or asked for a reveal
	Detail   string      `json:"detail,omitempty"`
	At       time.Time   `json:"at"`
	// Grant is where the code stands, on a code_status event.
	Grant *Grant `json:"grant,omitempty"`
}
