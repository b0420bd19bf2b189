package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

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

// pendingMigrations lists the embedded migrations the database has not recorded, in order.
func (db *DB) pendingMigrations(ctx context.Context) ([]string, error) {
	if _, err := db.write.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return nil, FormatError(err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	rows, err := db.write.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, FormatError(err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, FormatError(err)
	}
	slices.Sort(names)
	return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(done, n) }), nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.write, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return FormatError(err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
		return FormatError(err)
	})
}
