// Package sqlite is Latchkey's embedded store: one SQLite database file in WAL mode
// (modernc.org/sqlite, no cgo), one writer connection and a pool of readers. The record
// queries are package sqlstore's; this package opens the file, migrates it, and runs the
// group commit.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// DB is the SQLite store. It satisfies latchkey.Store.
type DB struct {
	path   string
	write  *sql.DB // one connection: SQLite has one writer at a time
	read   *sql.DB
	writer *groupcommit.Writer // runs every change (group commit)
}

var _ latchkey.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and applies any migrations it
// lacks. synchronous=FULL makes each commit durable before Update returns. The database
// file and its -wal and -shm files are readable by their owner alone (mode 0600).
func Open(ctx context.Context, path string) (*DB, error) {
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
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
	// The -wal and -shm files exist now; ones left by an older Latchkey may be broader.
	if err := ownerOnly(path); err != nil {
		db.read.Close()
		write.Close()
		return nil, err
	}
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

// View runs fn in a read-only transaction: one snapshot of the database throughout.
func (db *DB) View(ctx context.Context, fn func(latchkey.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return FormatError(err)
	}
	defer tx.Rollback()
	if err := fn(sqlstore.NewViewTx(querier{tx: tx}, dialect{})); err != nil {
		return err
	}
	return FormatError(tx.Commit())
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
