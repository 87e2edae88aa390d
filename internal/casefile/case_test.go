package casefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOpenCreatesAndLocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme-2026-03")
	if _, err := Open(dir, "v1", false); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reading a missing case: %v, want ErrNotExist", err)
	}
	c, err := Open(dir, "v1", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Meta.ID != "acme-2026-03" || c.Meta.HarrierVersion != "v1" || c.Meta.CreatedAt.Location().String() != "UTC" {
		t.Errorf("meta %+v", c.Meta)
	}
	if _, err := Open(dir, "v1", true); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
	r, err := Open(dir, "v1", false)
	if err != nil {
		t.Fatalf("a reader must not need the lock: %v", err)
	}
	r.Close()
}

func TestDamagedManifestIsReported(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, "v1", true)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// a damaged middle line and a last line cut off by a crash
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte("{\"path\":\"evidence/a\"}\n{not json\n{\"path\":\"evidence/b\"}\n{\"path\":\"evid"), 0o644)
	c, err = Open(dir, "v1", true)
	if err != nil {
		t.Fatalf("a damaged manifest must still open: %v", err)
	}
	probs := strings.Join(c.ManifestProblems(), "\n")
	if len(c.Entries()) != 2 || !strings.Contains(probs, "line 2 is damaged") || !strings.Contains(probs, "line 4 is damaged: cut short") {
		t.Errorf("entries %d, problems:\n%s", len(c.Entries()), probs)
	}
	// the next entry starts on a line of its own; the damaged bytes stay
	if err := c.manifest.add(Entry{Path: "evidence/c"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	b, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if !strings.HasSuffix(string(b), "{\"path\":\"evid\n{\"path\":\"evidence/c\",") && !strings.Contains(string(b), "{\"path\":\"evid\n{\"path\":\"evidence/c\"") {
		t.Errorf("manifest after append:\n%s", b)
	}
	c, err = Open(dir, "v1", false)
	if err != nil || len(c.Entries()) != 3 {
		t.Fatalf("reopen: %v, %d entries", err, len(c.Entries()))
	}
	c.Close()
}

func TestIntakeAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(src, []byte("hello"), 0o644)
	c, err := Open(filepath.Join(dir, "case"), "v1", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, err := c.Intake(src, "../../etc/x.json", false)
	if err != nil {
		t.Fatal(err)
	}
	if in.Path() != "evidence/etc/x.json" {
		t.Errorf("a relative path escaped the evidence folder: %s", in.Path())
	}
	io.ReadAll(in)
	in.Abort()
	if tmp, _ := os.ReadDir(c.TempPath()); len(tmp) != 0 {
		t.Errorf("abort left %d temporary files", len(tmp))
	}
	if len(c.Entries()) != 0 {
		t.Errorf("abort recorded an entry")
	}
	// the path is free again
	in2, err := c.Intake(src, "etc/x.json", false)
	if err != nil {
		t.Fatal(err)
	}
	e, isNew, err := in2.Commit("jsonl")
	if err != nil || !isNew || e.Path != "evidence/etc/x.json" || e.Size != 5 {
		t.Errorf("commit %+v %v %v", e, isNew, err)
	}
}

func TestOpenRefusesAFolderThatIsNotACase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "evidence.json"), []byte("{}"), 0o644)
	if _, err := Open(dir, "v1", true); !errors.Is(err, ErrNotACase) {
		t.Fatalf("got %v, want ErrNotACase", err)
	}
	if _, err := os.Stat(filepath.Join(dir, MetaFile)); err == nil {
		t.Errorf("case.json was written into a folder that is not a case")
	}
}

// TestAddAcquiredConcurrent adds from many goroutines at once, as acquire's
// downloads do, and checks every file is in the manifest once, durable by
// the time AddAcquired returns (a re-opened case reads them all).
func TestAddAcquiredConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := Open(dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := c.AddAcquired(fmt.Sprintf("aws/f%02d.json", i), "test", "aws-api-response", []byte(fmt.Sprint(i)), map[string]int{"i": i})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.synced != n {
		t.Fatalf("synced = %d after every AddAcquired returned, want %d", c.synced, n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := Open(dir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := len(c2.Latest()); got != n {
		t.Fatalf("re-opened case lists %d entries, want %d", got, n)
	}
}

// TestOpenSweepsKilledWritersTemp: a writer killed mid-copy leaves its
// temporary file; the next writer to take the lock removes it, and leaves
// everything else in tmp/ (DuckDB's spill folder) alone.
func TestOpenSweepsKilledWritersTemp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := Open(dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(c.TempPath(), "acquired-123")
	keep := filepath.Join(c.TempPath(), "duckdb")
	if err := os.WriteFile(left, []byte("half a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r, err := Open(dir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := os.Stat(left); err != nil {
		t.Fatal("a reader removed a temporary file it does not own")
	}
	c2, err := Open(dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed writer's temporary file is still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the sweep removed %s: %v", keep, err)
	}
}
