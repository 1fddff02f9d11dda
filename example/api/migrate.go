package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate records VERSION (default: this build's version) in schema_migrations, refusing to go back
// to a version older than the newest one recorded (versions compare as text: v1 < v2). It is what
// the example's pre-deploy hook runs: a new release's schema change happens before it takes traffic,
// and an old build deployed over a newer schema fails there, while the running release keeps serving.
func migrate(args []string) int {
	if len(args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: api migrate [VERSION]")
		return 2
	}
	target := version
	if len(args) == 1 {
		target = args[0]
	}
	db, err := openDB()
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		return 1
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := waitForDB(ctx, db); err != nil {
		fmt.Fprintln(os.Stderr, "migrate: database:", err)
		return 1
	}
	if _, err := db.ExecContext(ctx, migrationsTable); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		return 1
	}
	current, err := latestSchema(ctx, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		return 1
	}
	if current > target {
		fmt.Fprintf(os.Stderr, "migrate: the schema is at %q, newer than %q: refusing to downgrade\n", current, target)
		return 1
	}
	if _, err := db.ExecContext(ctx,
		"INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT (version) DO NOTHING", target); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		return 1
	}
	fmt.Printf("migrate: schema at %q (was %q)\n", target, current)
	return 0
}

// waitForDB retries until the database answers: a hook may start right after the database did.
func waitForDB(ctx context.Context, db *sql.DB) error {
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// latestSchema is the newest version in schema_migrations, "" when nothing was recorded (or the
// table does not exist: a release deployed without the hook).
func latestSchema(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1), '')`).Scan(&v)
	if err != nil && isUndefinedTable(err) {
		return "", nil
	}
	return v, err
}

// isUndefinedTable: PostgreSQL's 42P01, without importing lib/pq's types (it is a blank import).
func isUndefinedTable(err error) bool {
	var coded interface{ Get(byte) string }
	return errors.As(err, &coded) && coded.Get('C') == "42P01"
}
