package analytics

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/ingest"
	"github.com/harrier-ir/harrier/internal/simulate"
	"github.com/harrier-ir/harrier/internal/store"
)

// scratch holds cases shared by the tests of one run (a simulated case
// takes seconds to write and ingest); TestMain removes it.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "harrier-analytics-")
	if err != nil {
		panic(err)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// simCase is a simulated breach ingested into a case, opened read-only.
type simCase struct {
	st    *store.Store
	truth simulate.Truth
	err   error
}

var (
	simOnce sync.Once
	sim     simCase
)

// defaultSim returns the default simulation (seed 1, scale 1), built once.
func defaultSim(t testing.TB) (*sql.DB, simulate.Truth) {
	t.Helper()
	simOnce.Do(func() {
		sim.st, sim.truth, sim.err = buildSim(context.Background(), filepath.Join(scratch, "default"), simulate.Options{Seed: 1})
	})
	if sim.err != nil {
		t.Fatal(sim.err)
	}
	return sim.st.DB(), sim.truth
}

// buildSim writes a simulation under dir, ingests it into a case there and
// returns the case's store opened read-only, as the CLI's hunt opens it.
func buildSim(ctx context.Context, dir string, opts simulate.Options) (*store.Store, simulate.Truth, error) {
	res, err := simulate.Write(ctx, filepath.Join(dir, "evidence"), opts)
	if err != nil {
		return nil, simulate.Truth{}, err
	}
	caseDir := filepath.Join(dir, "case")
	c, err := casefile.Open(caseDir, "test", true)
	if err != nil {
		return nil, simulate.Truth{}, err
	}
	c.Now = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }
	st, err := store.Open(ctx, c.StorePath(), store.Options{})
	if err != nil {
		c.Close()
		return nil, simulate.Truth{}, err
	}
	_, err = ingest.Run(ctx, c, st, ingest.Options{Inputs: []string{filepath.Join(dir, "evidence")}})
	st.Close()
	c.Close()
	if err != nil {
		return nil, simulate.Truth{}, err
	}
	st, err = store.Open(ctx, filepath.Join(caseDir, casefile.StoreFile), store.Options{ReadOnly: true})
	return st, res.Truth, err
}
