package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// dialect is SQLite's side of the shared SQL layer: ? placeholders, times as RFC 3339
// text in UTC, booleans as 0 and 1.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

// Rebind returns query as it is: SQLite reads ? placeholders.
func (dialect) Rebind(query string) string { return query }

// Time encodes a time as RFC 3339 text in UTC, which sorts as the time does.
func (dialect) Time(t time.Time) any { return t.UTC().Format(time.RFC3339Nano) }

// DecodeTime reads RFC 3339 text.
func (dialect) DecodeTime(src any) (time.Time, error) {
	switch v := src.(type) {
	case string:
		return time.Parse(time.RFC3339Nano, v)
	case []byte:
		return time.Parse(time.RFC3339Nano, string(v))
	}
	return time.Time{}, fmt.Errorf("a time column holds %T", src)
}

// Bool encodes a boolean as the integer SQLite stores for it.
func (dialect) Bool(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

// AfterExplicitID returns nothing to run: SQLite numbers a new row after the largest id
// in its table, so an explicit id is never given again.
func (dialect) AfterExplicitID(string, int64) (string, []any) { return "", nil }

// faults are the extended result codes Latchkey tells apart, and then the primary ones.
var faults = map[int]sqlstore.Fault{
	sqlite3.SQLITE_CONSTRAINT_UNIQUE:     sqlstore.FaultExists,
	sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY: sqlstore.FaultExists,
	sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY: sqlstore.FaultReference,
	sqlite3.SQLITE_CONSTRAINT_NOTNULL:    sqlstore.FaultRequired,
	sqlite3.SQLITE_CONSTRAINT_CHECK:      sqlstore.FaultInvalidValue,
	sqlite3.SQLITE_READONLY:              sqlstore.FaultReadOnly,
	sqlite3.SQLITE_BUSY:                  sqlstore.FaultBusy,
	sqlite3.SQLITE_LOCKED:                sqlstore.FaultBusy,
	sqlite3.SQLITE_TOOBIG:                sqlstore.FaultTooLarge,
	sqlite3.SQLITE_MISMATCH:              sqlstore.FaultInvalidValue,
}

// Classify says what a SQLite error means.
func (dialect) Classify(err error) (sqlstore.Fault, string) {
	var se *sqlite.Error
	switch {
	case !errors.As(err, &se):
		return sqlstore.FaultNone, ""
	case se.Code() == sqlite3.SQLITE_CONSTRAINT_TRIGGER && strings.Contains(se.Error(), "FOREIGN KEY"):
		// ON DELETE RESTRICT is enforced like a trigger and reported with its code.
		return sqlstore.FaultStillUsed, ""
	case se.Code() == sqlite3.SQLITE_CONSTRAINT_TRIGGER:
		return sqlstore.FaultRefused, raised(se.Error())
	}
	if f, ok := faults[se.Code()]; ok {
		return f, ""
	}
	if f, ok := faults[se.Code()&0xff]; ok {
		return f, ""
	}
	return sqlstore.FaultNone, ""
}

// raised returns the message a trigger gave RAISE, out of the driver's
// "constraint failed: MESSAGE (CODE)".
func raised(msg string) string {
	if _, after, ok := strings.Cut(msg, ": "); ok {
		msg = after
	}
	if i := strings.LastIndex(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// FormatError translates SQLite errors into Latchkey's codes: constraint violations are
// conflicts, a missing row not_found. Other errors pass through as internal.
func FormatError(err error) error { return sqlstore.FormatError(dialect{}, err) }
