// Package postgres is Latchkey's store on PostgreSQL (pgx), for larger fleets and for
// several replicas sharing one database. The record queries are package sqlstore's; this
// package connects, migrates, and runs the group commit over a pipelined connection.
package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/groupcommit"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// DefaultMaxConns sizes the pool of readers; PostgreSQL serves many more, but Latchkey's
// work is short statements and more connections would only queue inside the server.
const DefaultMaxConns = 16

// writeConns sizes the pool of writers: the group-commit writer uses one connection at a
// time, and migrations one more.
const writeConns = 2

// DB is the PostgreSQL store. It satisfies latchkey.Store.
type DB struct {
	read   *pgxpool.Pool // sessions that are read-only by default
	write  *pgxpool.Pool
	writer *groupcommit.Writer // runs every change (group commit)
	// renumber is what a batch given up after a late failure leaves to the one that runs
	// its other changes again (see batch.givenUp); only the writer touches it.
	renumber map[rowID]bool
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

// connect opens the two pools. pgx keeps each connection's prepared statements (its
// default statement cache), so a statement is parsed once per connection.
func connect(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "The PostgreSQL URL is not valid (%v); write it as postgres://user@host:5432/database.", err)
	}
	if cfg.MaxConns == 0 || cfg.MaxConns > DefaultMaxConns {
		cfg.MaxConns = DefaultMaxConns
	}
	readCfg := cfg.Copy()
	// The shared layer refuses writes in a View before they are sent; the session
	// refuses them too, should one slip through.
	readCfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.MaxConns = writeConns
	db := &DB{}
	for _, p := range []struct {
		pool **pgxpool.Pool
		cfg  *pgxpool.Config
	}{{&db.read, readCfg}, {&db.write, cfg}} {
		if *p.pool, err = pgxpool.NewWithConfig(ctx, p.cfg); err != nil {
			db.closePools()
			return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot connect to PostgreSQL: %v.", err)
		}
		if err := (*p.pool).Ping(ctx); err != nil {
			db.closePools()
			return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "Cannot connect to PostgreSQL at %s:%d: %v.", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
		}
	}
	db.writer = groupcommit.Start(db.beginBatch, FormatError)
	return db, nil
}

// Close stops the writer and closes the pools.
func (db *DB) Close() error {
	db.writer.Close()
	db.closePools()
	return nil
}

func (db *DB) closePools() {
	for _, p := range []*pgxpool.Pool{db.read, db.write} {
		if p != nil {
			p.Close()
		}
	}
}

// View runs fn read-only. Its statements run outside an explicit transaction, each on a
// snapshot of its own: what READ COMMITTED gave them inside one, without the round trips
// of BEGIN and COMMIT. A one-statement read, the common one, costs one round trip.
func (db *DB) View(ctx context.Context, fn func(latchkey.Tx) error) error {
	return fn(sqlstore.NewViewTx(poolQuerier{db.read}, dialect{}))
}
