// Package sqlite is Latchkey's embedded store: one SQLite database file in WAL mode
// (modernc.org/sqlite, no cgo), one writer connection and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the SQLite store. It satisfies latchkey.Store.
type DB struct {
	path   string
	write  *sql.DB // one connection: SQLite has one writer at a time
	read   *sql.DB
	writer *groupcommit.Writer // runs every change (group commit)
}

var _ latchkey.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and applies any migrations it
// lacks. synchronous=FULL makes each commit durable before Update returns.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)"}, extra...) {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode()
	}
	write, err := sql.Open("sqlite", dsn()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	db := &DB{path: path, write: write}
	if err := db.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}
	if db.read, err = sql.Open("sqlite", dsn("query_only(1)")); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	db.read.SetMaxOpenConns(4)
	db.writer = groupcommit.Start(db.beginBatch, FormatError)
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.writer.Close()
	return errors.Join(db.read.Close(), db.write.Close())
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// migrate applies each embedded migration not yet recorded, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", FormatError(err))
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return FormatError(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
		return FormatError(err)
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return FormatError(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(time.Now())); err != nil {
		return FormatError(err)
	}
	return FormatError(tx.Commit())
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(latchkey.Tx) error) error {
	sqlTx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return FormatError(err)
	}
	defer sqlTx.Rollback()
	if err := fn(&Tx{tx: sqlTx}); err != nil {
		return err
	}
	return FormatError(sqlTx.Commit())
}

// IntegrityCheck runs SQLite's integrity check and returns its verdict.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	var verdict string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&verdict); err != nil {
		return FormatError(err)
	}
	if verdict != "ok" {
		return latchkey.Errorf(latchkey.EINTERNAL, "The database failed its integrity check: %s.", verdict)
	}
	return nil
}

// Tx is one transaction. It satisfies latchkey.Tx.
type Tx struct {
	tx querier
}

// querier is what a Tx runs statements on: a transaction of its own (View), or a
// share of a group commit (Update).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var _ latchkey.Tx = (*Tx)(nil)

// FormatError translates SQLite errors into Latchkey's codes: constraint violations are
// conflicts, a missing row not_found. Other errors pass through as internal.
func FormatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "Not found.")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		if se.Code()&0xff == sqlite3.SQLITE_READONLY {
			return latchkey.ErrReadOnly
		}
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return latchkey.Errorf(latchkey.ECONFLICT, "That already exists: %s.", constraintText(se.Error()))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return latchkey.Errorf(latchkey.ECONFLICT, "Other records still refer to it, or it refers to a record that does not exist; remove or fix those first.")
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			// ON DELETE RESTRICT is enforced like a trigger and reported with its code.
			if strings.Contains(se.Error(), "FOREIGN KEY") {
				return latchkey.Errorf(latchkey.ECONFLICT, "Other records still refer to it; remove those first.")
			}
			return latchkey.Errorf(latchkey.ECONFLICT, "Refused by the database: %s.", constraintText(se.Error()))
		}
	}
	return err
}

func constraintText(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func scanNullTime(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid {
		return nil, nil
	}
	t, err := parseTime(ns.String)
	return &t, err
}

// notFound wraps a missing row with what was missing.
func notFound(err error, what string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "No %s with id %d.", what, id)
	}
	return FormatError(err)
}
