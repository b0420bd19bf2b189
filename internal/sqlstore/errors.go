package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

// Fault is what a database error means to Latchkey, as a Dialect classifies it. The
// messages users see are written here once, in plain words: they never name a table, a
// column or a constraint.
type Fault int

// Faults a dialect recognises. FaultNone is any other error, reported as internal.
const (
	FaultNone         Fault = iota
	FaultExists             // a unique or primary key is taken
	FaultReference          // a reference to a missing record, or a record still referred to
	FaultStillUsed          // a record other records still refer to (ON DELETE RESTRICT)
	FaultRequired           // a required value is missing
	FaultInvalidText        // text the database cannot store (NUL, invalid encoding)
	FaultNumberRange        // a number out of the range of its column
	FaultTimeRange          // a date or time out of the database's range
	FaultTooLarge           // a value larger than the database stores
	FaultInvalidValue       // any other value the database refuses
	FaultRefused            // refused by one of our own triggers, with its message
	FaultReadOnly           // a write in a read-only transaction
	FaultBusy               // a lock or serialisation conflict; trying again may succeed
)

// faultErrors are the errors of the faults that carry no message of their own.
var faultErrors = map[Fault]*latchkey.Error{
	FaultExists:       latchkey.Errorf(latchkey.ECONFLICT, "That already exists; choose another name, or change the one there instead."),
	FaultReference:    latchkey.Errorf(latchkey.ECONFLICT, "Other records still refer to it, or it refers to a record that does not exist; remove or fix those first."),
	FaultStillUsed:    latchkey.Errorf(latchkey.ECONFLICT, "Other records still refer to it; remove those first."),
	FaultRequired:     latchkey.Errorf(latchkey.EINVALID, "A required value is missing."),
	FaultInvalidText:  errInvalidText,
	FaultNumberRange:  latchkey.Errorf(latchkey.EINVALID, "A number is too large to store."),
	FaultTimeRange:    errTimeRange,
	FaultTooLarge:     latchkey.Errorf(latchkey.EINVALID, "A value is too large to store."),
	FaultInvalidValue: latchkey.Errorf(latchkey.EINVALID, "A value is not one the database can store; check what was entered."),
	FaultReadOnly:     latchkey.ErrReadOnly,
	FaultBusy:         latchkey.Errorf(latchkey.EUNAVAILABLE, "The database is busy with another change; try again."),
}

// FormatError translates a database error into Latchkey's codes. Errors that already
// carry a code, and cancelled contexts, pass through; unknown errors stay as they are
// and are reported to users as internal.
func FormatError(d Dialect, err error) error {
	var le *latchkey.Error
	switch {
	case err == nil, errors.As(err, &le), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return latchkey.Errorf(latchkey.ENOTFOUND, "Not found.")
	}
	fault, message := d.Classify(err)
	if fault == FaultRefused {
		return latchkey.Errorf(latchkey.ECONFLICT, "Refused by the database: %s.", message)
	}
	if e, ok := faultErrors[fault]; ok {
		return e
	}
	return err
}

// fail translates err in the Tx's dialect.
func (tx *Tx) fail(err error) error { return FormatError(tx.d, err) }

// notFound translates err, naming the record when the row is missing.
func (tx *Tx) notFound(err error, what string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "No %s with id %d.", what, id)
	}
	return tx.fail(err)
}
