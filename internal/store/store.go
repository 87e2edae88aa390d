// Package store keeps a case's events in an embedded DuckDB database: schema
// migrations, bulk loading with DuckDB's Appender, and the queries the CLI
// asks. It is the only package that imports the DuckDB driver, so the rest of
// Harrier builds and tests without cgo's cost.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrBusy means another process has the case's database open for writing.
var ErrBusy = errors.New("the case's database is in use by another process")

// ErrNeedsWrite means a read-only open found work only a writer can do: an
// older schema to migrate, or rows of an interrupted load to remove.
var ErrNeedsWrite = errors.New("the case's database needs a write open first")

// Options tune how the database is opened.
type Options struct {
	ReadOnly bool
	// Sandbox confines SQL to the database: no file, network or extension
	// access, no ATTACH, and settings locked. For user-supplied SQL.
	Sandbox     bool
	MemoryLimit string // DuckDB memory_limit, e.g. "512MB"; empty keeps DuckDB's default
	TempDir     string // where DuckDB spills when memory runs short
	Threads     int    // 0 keeps DuckDB's default (all cores)
}

// Store is an open case database.
type Store struct {
	db        *sql.DB
	connector *duckdb.Connector
}

// Open opens (creating if needed) the database at file. Opened for writing,
// it applies pending migrations and removes the rows of loads that never
// completed.
func Open(ctx context.Context, file string, opts Options) (*Store, error) {
	// Database-wide settings go in the DSN: DuckDB applies them once, when
	// the database is opened (temp_directory cannot change once used).
	q := url.Values{}
	if opts.ReadOnly {
		q.Set("access_mode", "READ_ONLY")
	}
	if opts.MemoryLimit != "" {
		q.Set("memory_limit", opts.MemoryLimit)
	}
	if opts.TempDir != "" && !opts.Sandbox { // DuckDB refuses it with external access off
		q.Set("temp_directory", opts.TempDir)
	}
	if opts.Threads > 0 {
		q.Set("threads", strconv.Itoa(opts.Threads))
	}
	q.Set("preserve_insertion_order", "false")
	if opts.Sandbox {
		q.Set("enable_external_access", "false")
		q.Set("autoinstall_known_extensions", "false")
		q.Set("autoload_known_extensions", "false")
	}
	// A large load commits many transactions; checkpointing after each
	// (DuckDB's default once the WAL passes 16 MB) multiplies the work.
	// Appended data is written optimistically to the database file, so the
	// WAL stays small and one checkpoint at close suffices.
	q.Set("checkpoint_threshold", "1GB")
	dsn := file + "?" + q.Encode()
	settings := []string{"SET TimeZone='UTC'"}
	if opts.Sandbox {
		settings = append(settings, "SET lock_configuration = true")
	}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		for _, s := range settings {
			if _, err := execer.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("open %s: %w", file, ErrBusy)
		}
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	st := &Store{db: sql.OpenDB(connector), connector: connector}
	if opts.Sandbox {
		// settings are locked after the first connection's set-up, so
		// every statement runs on that one connection
		st.db.SetMaxOpenConns(1)
		st.db.SetMaxIdleConns(1)
	}
	if !opts.ReadOnly {
		if err := st.migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		if err := st.recover(ctx); err != nil {
			st.Close()
			return nil, err
		}
	} else if err := st.checkSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.db.Close()
	if cerr := s.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

// DB exposes the database for packages that run their own SQL (detect,
// scope). They receive it from the store; they never open DuckDB themselves.
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT now())`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		if applied[v] {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, v, base); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

// checkSchema makes a read-only open of a database newer or older than this
// binary fail clearly instead of with a missing-column error later.
func (s *Store) checkSchema(ctx context.Context) error {
	var max sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&max); err != nil {
		return fmt.Errorf("the case has no database yet (ingest evidence first): %w", err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	if int(max.Int64) < len(names) {
		return fmt.Errorf("%w: schema version %d, this harrier needs %d", ErrNeedsWrite, max.Int64, len(names))
	}
	var unfinished int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM loads WHERE NOT completed`).Scan(&unfinished); err != nil {
		return err
	}
	if unfinished > 0 {
		return fmt.Errorf("%w: %d interrupted loads to remove", ErrNeedsWrite, unfinished)
	}
	return nil
}

// recover removes rows left by loads that did not complete.
func (s *Store) recover(ctx context.Context) error {
	for _, q := range []string{
		`DELETE FROM events WHERE load_id NOT IN (SELECT load_id FROM loads WHERE completed)`,
		`DELETE FROM files WHERE load_id NOT IN (SELECT load_id FROM loads WHERE completed)`,
		`DELETE FROM rejections WHERE load_id NOT IN (SELECT load_id FROM loads WHERE completed)`,
		`DELETE FROM conflicts WHERE load_id NOT IN (SELECT load_id FROM loads WHERE completed)`,
		`DELETE FROM loads WHERE NOT completed`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("recover incomplete loads: %w", err)
		}
	}
	return nil
}
