package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // the database/sql driver riversqlite runs on
)

// MigratePostgres creates the queue's tables in the PostgreSQL database at url, or
// brings them up to date ('latchkey migrate' runs it beside the records' migrations),
// and names what it applied.
func MigratePostgres(ctx context.Context, url string) (applied []string, err error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("jobs: connecting to PostgreSQL: %w", err)
	}
	defer pool.Close()
	return migrate(ctx, riverpgxv5.New(pool), slog.Default())
}

// OpenPostgres starts the queue in the PostgreSQL database at url (the records'), whose
// tables MigratePostgres made (EUNAVAILABLE if they are older). Several servers on one
// database share its jobs; a job whose server died is run again once it has been running
// longer than JobTimeout + RescueMargin.
func OpenPostgres(ctx context.Context, url string, cfg Config) (*Queue, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("jobs: connecting to PostgreSQL: %w", err)
	}
	driver := riverpgxv5.New(pool)
	client, err := start(ctx, driver, cfg, func(ctx context.Context) error { return upToDate(ctx, driver, cfg.withDefaults().Logger) })
	if err != nil {
		pool.Close()
		return nil, err
	}
	return newQueue(client, pool.Close, cfg), nil
}

// OpenSQLite starts the queue in the SQLite file at path (created if needed, readable
// by its owner alone), a file of its own beside the records: the jobs' writes never
// wait on the records' writer, nor it on them. The jobs are work to do, derived from the
// records, so the file is written with synchronous=NORMAL: a power cut may lose the last
// jobs queued, which the sync engine queues again from the records when it starts.
//
// One process runs a file's jobs (a second is refused, EUNAVAILABLE, where the system
// locks files), so whatever this one finds running was cut off by a crash: it is run
// again at once, not after JobTimeout + RescueMargin.
func OpenSQLite(ctx context.Context, path string, cfg Config) (*Queue, error) {
	release, exclusive, err := holdExclusive(path + ".lock")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		release()
		return nil, fmt.Errorf("jobs: %w", err)
	}
	f.Close()
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		release()
		return nil, fmt.Errorf("jobs: opening %s: %w", path, err)
	}
	// River's own advice for SQLite: one connection, so that its parallel maintenance
	// never meets "database is locked".
	db.SetMaxOpenConns(1)
	closeDB := func() { db.Close(); release() }
	driver := riversqlite.New(db)
	prepare := func(ctx context.Context) error {
		if _, err := migrate(ctx, driver, cfg.withDefaults().Logger); err != nil {
			return err
		}
		if exclusive {
			return takeOver(ctx, db)
		}
		return nil
	}
	client, err := start(ctx, driver, cfg, prepare)
	if err != nil {
		closeDB()
		return nil, err
	}
	return newQueue(client, closeDB, cfg), nil
}

func newQueue[TTx any](client *river.Client[TTx], closeDB func(), cfg Config) *Queue {
	return &Queue{insertMany: client.InsertMany, retry: client.JobRetry, stop: client.Stop, closeDB: closeDB,
		delivers: cfg.Deliver != nil, steps: cfg.Procedures != nil}
}

// takeOver makes a SQLite file's queue this process's alone, once it holds the file's
// lock: jobs left running by a process that died are run again now, and its leadership
// (River's maintenance: moving retries that come due) passes at once rather than when
// its term runs out.
func takeOver(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`); err != nil {
		return fmt.Errorf("jobs: taking over jobs cut off by a crash: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM river_leader`); err != nil {
		return fmt.Errorf("jobs: taking over the queue's leadership: %w", err)
	}
	return nil
}
