// Package sqlstore holds every record query and row scanner of Latchkey's SQL stores,
// written once. A store supplies a Querier (its own transaction, a share of a group
// commit, or a connection pool for reads) and a Dialect (what differs between SQLite and
// PostgreSQL); Tx implements latchkey.Tx over the two. Packages sqlite and postgres keep
// only what is theirs: opening, connections, migrations and group commit.
package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// Querier runs statements on a database. Queries reach it with the dialect's
// placeholders and arguments already encoded.
type Querier interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row. When there is none, the
	// row's Scan returns an error that errors.Is matches with sql.ErrNoRows.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Deferrer is a Querier that may hold back a statement whose only answer is success or
// failure, to send it together with a later one and save a round trip. A deferred
// statement may be sent after its change has ended, with a later change's statements or
// with the commit. Should it fail then, the store reports the failure as that change's
// and gives the whole transaction up; package groupcommit runs the other changes again,
// in a new transaction on a new Tx. Nothing the Tx remembers is repaired: it is dropped
// with the transaction.
type Deferrer interface {
	Defer(query string, args ...any)
}

// Numberer is a Querier that numbers new rows itself, so that an insert need not wait
// for the database to say which id it gave, and can be deferred.
type Numberer interface {
	// NumberRow returns the id of a row about to be inserted into table. id is the id
	// the row comes with: 0 for a new row, which gets the next id; otherwise its own (a
	// restore), which it keeps and which later ids do not meet. An id the Numberer gave
	// in a transaction it gave up (see Deferrer) belongs to no row: a row that comes
	// with one, as a change run again does, is numbered anew.
	NumberRow(ctx context.Context, table string, id int64) (int64, error)
}

// Row is one row of a result.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result of any number of rows, read with Next and Scan and then closed.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Dialect is what differs between the SQL databases: placeholders, how times and
// booleans are stored, how an explicit id is kept from colliding with later ones, and
// what the driver's errors mean. Everything else is written once, in this package.
type Dialect interface {
	// Rebind rewrites a query's ? placeholders into the database's own.
	Rebind(query string) string
	// Time encodes a time (in UTC, to the microsecond) as the database stores it;
	// DecodeTime reads one back from a column as the driver returns it.
	Time(t time.Time) any
	DecodeTime(src any) (time.Time, error)
	// Bool encodes a boolean as the database stores it.
	Bool(b bool) any
	// AfterExplicitID returns the statement (with ? placeholders) to run after a row was
	// inserted into table with an explicit id, so that rows the database numbers later
	// do not collide with it; an empty query when nothing needs to run.
	AfterExplicitID(table string, id int64) (query string, args []any)
	// Classify says what an error of the driver means; message is set for FaultRefused
	// only, and holds the refusal our own trigger wrote.
	Classify(err error) (fault Fault, message string)
}

// Tx is one transaction of a SQL store, or a change within a shared one (group commit).
// It satisfies latchkey.Tx.
type Tx struct {
	q        Querier
	d        Dialect
	readOnly bool
	head     *auditHead // the newest audit entry, remembered within a batch
}

var _ latchkey.Tx = (*Tx)(nil)

// NewViewTx returns a read-only Tx on q: every write is refused with
// latchkey.ErrReadOnly before it reaches the database.
func NewViewTx(q Querier, d Dialect) *Tx {
	return &Tx{q: q, d: d, readOnly: true}
}

// NewBatchTx returns a read-write Tx on q for a transaction that holds, from its first
// statement to its end, the lock that orders appends to the audit log (SQLite's write
// lock; on PostgreSQL an advisory lock). No other writer can append meanwhile, so the Tx
// remembers the newest entry instead of reading it again for every change. The caller
// marks each change with BeginChange and EndChange.
func NewBatchTx(q Querier, d Dialect) *Tx {
	return &Tx{q: q, d: d, head: &auditHead{}}
}

// BeginChange marks the start of a change (a savepoint): what the Tx remembers from
// here on is kept or dropped with the change.
func (tx *Tx) BeginChange() {
	if tx.head != nil {
		tx.head.begin()
	}
}

// EndChange marks the end of a change: kept, or rolled back to its savepoint.
func (tx *Tx) EndChange(kept bool) {
	if tx.head != nil {
		tx.head.end(kept)
	}
}
