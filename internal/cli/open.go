package cli

import (
	"context"
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
const storeMemory = "256MB"

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

// openForRead opens an existing case's store read-only. A store that needs
// recovery or migration is first opened for writing, briefly, to do that.
func openForRead(ctx context.Context, dir string) (*casefile.Case, *store.Store, error) {
	c, err := casefile.Open(dir, version(), false)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(c.StorePath()); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("case %s has no events yet: ingest evidence first", dir)
	}
	opts := store.Options{ReadOnly: true, TempDir: filepath.Join(c.TempPath(), "duckdb")}
	st, err := store.Open(ctx, c.StorePath(), opts)
	if err != nil {
		// an older schema or an interrupted load: let a write open fix it
		rw, rwErr := store.Open(ctx, c.StorePath(), store.Options{MemoryLimit: storeMemory})
		if rwErr != nil {
			c.Close()
			return nil, nil, err
		}
		rw.Close()
		if st, err = store.Open(ctx, c.StorePath(), opts); err != nil {
			c.Close()
			return nil, nil, err
		}
	}
	return c, st, nil
}
