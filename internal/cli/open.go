package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/store"
)

// storeMemory is DuckDB's memory limit for harrier's own work. With what the
// sinks hold uncommitted (store.commitBytes each) and Go's share it keeps a
// run under 1 GiB whatever the evidence size; DuckDB spills to the case's
// tmp folder beyond it.
const storeMemory = "192MB"

// readMemory is DuckDB's memory limit for the commands that only read a
// case (timeline, export, report, serve, query, scope): sorting a million
// events with their raw records for an export wants gigabytes, and a
// responder's laptop is running other things; beyond it DuckDB spills to
// the case's tmp folder (512 MB and a 1M-event export peaked at 2 GiB RSS).
const readMemory = "1GB"

// openForWrite opens (creating) a case and its store for a command that adds
// to it.
func openForWrite(ctx context.Context, dir string) (*casefile.Case, *store.Store, error) {
	c, err := casefile.Open(dir, version(), true)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, c.StorePath(), store.Options{MemoryLimit: storeMemory, TempDir: filepath.Join(c.TempPath(), "duckdb")})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, st, nil
}

// openForRead opens an existing case's store read-only; sandbox confines
// user SQL to the database. A store that needs migrating, or holds rows of
// an interrupted load, is first opened for writing, briefly, to fix that:
// readers never see a half-written case.
func openForRead(ctx context.Context, dir string, sandbox bool) (*casefile.Case, *store.Store, error) {
	c, err := casefile.Open(dir, version(), false)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(c.StorePath()); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("case %s has no events yet: ingest evidence first", dir)
	}
	opts := store.Options{ReadOnly: true, Sandbox: sandbox, MemoryLimit: readMemory, TempDir: filepath.Join(c.TempPath(), "duckdb")}
	st, err := store.Open(ctx, c.StorePath(), opts)
	if errors.Is(err, store.ErrNeedsWrite) {
		rw, rwErr := store.Open(ctx, c.StorePath(), store.Options{MemoryLimit: storeMemory, TempDir: filepath.Join(c.TempPath(), "duckdb")})
		if rwErr != nil {
			c.Close()
			return nil, nil, fmt.Errorf("%v; and opening it to repair: %w", err, rwErr)
		}
		rw.Close()
		st, err = store.Open(ctx, c.StorePath(), opts)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, st, nil
}
