package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// dialect is PostgreSQL's side of the shared SQL layer: $n placeholders, TIMESTAMPTZ,
// BOOLEAN, and sequences that must be moved past an explicit id.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

// rebound caches Rebind's work. The shared layer builds its queries from a fixed set of
// pieces, so the cache holds a few dozen entries at most.
var rebound sync.Map

// Rebind numbers a query's ? placeholders $1, $2, ... in order. The shared layer's
// queries hold no ? in a literal.
func (dialect) Rebind(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(query, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			b.WriteString(p + "$" + strconv.Itoa(n))
		} else {
			b.WriteString(part)
		}
	}
	rebound.Store(query, b.String())
	return b.String()
}

// Time passes a time as it is: pgx encodes it as TIMESTAMPTZ.
func (dialect) Time(t time.Time) any { return t }

// DecodeTime reads the time pgx decoded from a TIMESTAMPTZ.
func (dialect) DecodeTime(src any) (time.Time, error) {
	if t, ok := src.(time.Time); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("a time column holds %T", src)
}

// Bool passes a boolean as it is, for a BOOLEAN column.
func (dialect) Bool(b bool) any { return b }

// AfterExplicitID moves the table's id sequence to id, unless it is past it already: a
// restore into a store with later rows must not move it back. A batch runs it at commit
// for each table it inserted into, with the largest id it used (see ids).
func (dialect) AfterExplicitID(table string, id int64) (string, []any) {
	return `SELECT setval(seq, GREATEST(?, COALESCE(pg_sequence_last_value(seq), 0)))
		FROM (SELECT pg_get_serial_sequence(?, 'id')::regclass AS seq) AS s`, []any{id, table}
}

// faults are the SQLSTATEs Latchkey tells apart.
var faults = map[string]sqlstore.Fault{
	"23505": sqlstore.FaultExists,
	"23503": sqlstore.FaultReference,
	"23502": sqlstore.FaultRequired,
	"23514": sqlstore.FaultInvalidValue,
	"25006": sqlstore.FaultReadOnly,
	"40001": sqlstore.FaultBusy,
	"40P01": sqlstore.FaultBusy,
	"55P03": sqlstore.FaultBusy,
	"54000": sqlstore.FaultTooLarge, // an index entry larger than a page allows
	"22001": sqlstore.FaultTooLarge,
	"22003": sqlstore.FaultNumberRange,
	"22008": sqlstore.FaultTimeRange,
	"22021": sqlstore.FaultInvalidText,
	"22P05": sqlstore.FaultInvalidText,
}

// Classify says what a PostgreSQL error means, by its SQLSTATE. Every data exception
// (class 22) is invalid input.
func (dialect) Classify(err error) (sqlstore.Fault, string) {
	var pe *pgconn.PgError
	switch {
	case !errors.As(err, &pe):
		return sqlstore.FaultNone, ""
	case pe.Code == "P0001": // RAISE EXCEPTION in one of our triggers
		return sqlstore.FaultRefused, pe.Message
	}
	if f, ok := faults[pe.Code]; ok {
		return f, ""
	}
	if strings.HasPrefix(pe.Code, "22") {
		return sqlstore.FaultInvalidValue, ""
	}
	return sqlstore.FaultNone, ""
}

// FormatError translates PostgreSQL errors into Latchkey's codes: constraint violations
// are conflicts, data exceptions invalid input, a missing row not_found. Other errors
// pass through as internal.
func FormatError(err error) error { return sqlstore.FormatError(dialect{}, err) }
