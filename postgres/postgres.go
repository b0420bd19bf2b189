// Package postgres is Latchkey's store on PostgreSQL (pgx), for larger fleets and for
// several replicas sharing one database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DefaultMaxConns sizes the pool; PostgreSQL serves many more, but Latchkey's work is
// short transactions and more connections would only queue inside the server.
const DefaultMaxConns = 16

// auditLockKey is the advisory lock that serialises appends to the audit chain.
const auditLockKey = 0x4c61_7463_684b_6579 // "LatchKey"

// DB is the PostgreSQL store. It satisfies latchkey.Store.
type DB struct {
	pool   *pgxpool.Pool
	writer *groupcommit.Writer // runs every change (group commit)
}

var _ latchkey.Store = (*DB)(nil)

// Open connects to url and checks that the schema is current; an older schema is
// refused with what to run.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	pending, err := db.pendingMigrations(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(pending) > 0 {
		db.Close()
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE,
			"The PostgreSQL schema is older than this Latchkey (%d migration(s) to apply, first %s); run 'latchkey migrate --db URL' first.",
			len(pending), pending[0])
	}
	return db, nil
}

// Migrate connects to url and applies every migration the database lacks, each in its
// own transaction.
func Migrate(ctx context.Context, url string) (applied []string, err error) {
	db, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pending, err := db.pendingMigrations(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range pending {
		if err := db.migrateFile(ctx, name); err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		applied = append(applied, name)
	}
	return applied, nil
}

func connect(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The PostgreSQL URL is not valid (%v); write it as postgres://user@host:5432/database.", err)
	}
	if cfg.MaxConns == 0 || cfg.MaxConns > DefaultMaxConns {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot connect to PostgreSQL: %v.", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot connect to PostgreSQL at %s:%d: %v.", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	db := &DB{pool: pool}
	db.writer = groupcommit.Start(db.beginBatch, FormatError)
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.writer.Close()
	db.pool.Close()
	return nil
}

func (db *DB) pendingMigrations(ctx context.Context) ([]string, error) {
	if _, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return nil, FormatError(err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	rows, err := db.pool.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, FormatError(err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, FormatError(err)
	}
	have := map[string]bool{}
	for _, n := range done {
		have[n] = true
	}
	var pending []string
	for _, n := range names {
		if !have[n] {
			pending = append(pending, n)
		}
	}
	return pending, nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return FormatError(err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
		return FormatError(err)
	})
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(latchkey.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return FormatError(err)
	}
	defer tx.Rollback(ctx)
	if err := fn(&Tx{tx: tx}); err != nil {
		return err
	}
	return FormatError(tx.Commit(ctx))
}

// Tx is one transaction. It satisfies latchkey.Tx.
type Tx struct {
	tx querier
}

// querier is what a Tx runs statements on: a transaction of its own (View), or a share
// of a group commit (Update).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var _ latchkey.Tx = (*Tx)(nil)

// FormatError translates PostgreSQL errors into Latchkey's codes.
func FormatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "Not found.")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return latchkey.Errorf(latchkey.ECONFLICT, "That already exists (%s).", pe.ConstraintName)
		case "23503":
			return latchkey.Errorf(latchkey.ECONFLICT, "Other records still refer to it, or it refers to a record that does not exist; remove or fix those first.")
		case "P0001":
			return latchkey.Errorf(latchkey.ECONFLICT, "Refused by the database: %s.", pe.Message)
		case "25006":
			return latchkey.ErrReadOnly
		}
	}
	return err
}

func notFound(err error, what string, id int64) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "No %s with id %d.", what, id)
	}
	return FormatError(err)
}
