// Package casefile is the case folder: the evidence exactly as acquired, its
// chain-of-custody manifest, and the paths of everything else a case holds.
// Evidence is written once, made read-only, and hashed as it is copied; the
// manifest is append-only.
package casefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Layout of a case folder.
const (
	EvidenceDir  = "evidence"
	ManifestFile = "manifest.jsonl"
	StoreFile    = "harrier.duckdb"
	MetaFile     = "case.json"
	TempDir      = "tmp"
	lockFile     = ".lock"
)

// ErrNotACase means the folder named as a case holds other things: harrier
// will not turn an evidence folder (or anything else) into a case.
var ErrNotACase = errors.New("the folder is not a harrier case and is not empty")

// ErrLocked means another harrier process is writing to the case.
var ErrLocked = errors.New("the case is being written by another harrier process")

// Meta is the case's own description, written when it is created.
type Meta struct {
	ID             string    `json:"id"`
	CreatedAt      time.Time `json:"created_at"`
	HarrierVersion string    `json:"harrier_version"`
	CreatedBy      Operator  `json:"created_by"`
}

// Operator is who ran harrier, recorded with everything it adds.
type Operator struct {
	User string `json:"user"`
	UID  string `json:"uid"`
	Host string `json:"host"`
}

// Case is an open case folder.
type Case struct {
	Dir     string
	Meta    Meta
	Version string           // harrier version recorded in the manifest
	Now     func() time.Time // the clock; tests inject one
	Op      Operator

	lock *os.File

	mu       sync.Mutex
	manifest *manifest
	reserved map[string]bool
	added    uint64 // entries added to the manifest since Open (under mu)

	syncMu sync.Mutex // one sync at a time; callers queued behind it share the next
	synced uint64     // entries known durable (under syncMu)
}

// Open opens the case in dir, creating it if needed. write takes the case's
// lock so that two harrier processes never add evidence at once.
func Open(dir, version string, write bool) (*Case, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", dir, err)
	}
	c := &Case{Dir: abs, Version: version, Now: func() time.Time { return time.Now().UTC() }, Op: CurrentOperator(), reserved: map[string]bool{}}
	metaPath := filepath.Join(abs, MetaFile)
	if _, err := os.Stat(metaPath); errors.Is(err, os.ErrNotExist) {
		if !write {
			return nil, fmt.Errorf("case %s: %w (ingest evidence to create it)", dir, os.ErrNotExist)
		}
		if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("case %s: %w (name a new or empty folder)", dir, ErrNotACase)
		}
		if err := c.create(); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &c.Meta); err != nil {
		return nil, fmt.Errorf("case %s: %s is damaged: %w", dir, MetaFile, err)
	}
	if write {
		if err := c.takeLock(); err != nil {
			return nil, err
		}
	}
	m, err := openManifest(filepath.Join(abs, ManifestFile))
	if err != nil {
		c.Close()
		return nil, err
	}
	c.manifest = m
	return c, nil
}

func (c *Case) create() error {
	for _, d := range []string{c.Dir, c.Path(EvidenceDir), c.Path(TempDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create case: %w", err)
		}
	}
	c.Meta = Meta{ID: filepath.Base(c.Dir), CreatedAt: c.Now(), HarrierVersion: c.Version, CreatedBy: c.Op}
	b, err := json.MarshalIndent(c.Meta, "", "  ")
	if err != nil {
		return err
	}
	tmp := c.Path(MetaFile + ".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	return os.Rename(tmp, c.Path(MetaFile))
}

func (c *Case) takeLock() error {
	f, err := os.OpenFile(c.Path(lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("lock case: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", c.Dir, ErrLocked)
	}
	c.lock = f
	c.sweepTemp()
	return nil
}

// sweepTemp removes what a writer killed mid-copy left in the case's tmp
// folder: files never in the manifest, only ever written under the case's
// lock, which this process now holds.
func (c *Case) sweepTemp() {
	for _, pattern := range []string{"acquired-*", "intake-*"} {
		matches, _ := filepath.Glob(filepath.Join(c.TempPath(), pattern))
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

// Close flushes the manifest and releases the lock.
func (c *Case) Close() error {
	var err error
	if c.manifest != nil {
		err = c.manifest.close()
	}
	if c.lock != nil {
		syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		c.lock.Close()
		c.lock = nil
	}
	return err
}

// Path joins elements onto the case folder.
func (c *Case) Path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// StorePath is the case's database file.
func (c *Case) StorePath() string { return c.Path(StoreFile) }

// TempPath is a scratch folder inside the case (same file system as the
// evidence, so finished copies are renamed into place atomically).
func (c *Case) TempPath() string { return c.Path(TempDir) }

// Entries returns the manifest's entries in the order they were added.
func (c *Case) Entries() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Entry(nil), c.manifest.entries...)
}

// Latest returns, for every path the manifest lists, its latest entry, in
// path order: what the case holds now, whatever was recorded before.
func (c *Case) Latest() []Entry {
	latest := map[string]Entry{}
	for _, e := range c.Entries() {
		latest[e.Path] = e
	}
	out := make([]Entry, 0, len(latest))
	for _, e := range latest {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// CurrentOperator identifies the user and host running harrier.
func CurrentOperator() Operator {
	op := Operator{UID: strconv.Itoa(os.Getuid())}
	if u, err := user.Current(); err == nil {
		op.User = u.Username
	}
	if op.User == "" {
		op.User = os.Getenv("USER")
	}
	op.Host, _ = os.Hostname()
	return op
}
