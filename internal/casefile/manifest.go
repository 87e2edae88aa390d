package casefile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Entry is one evidence file in the chain-of-custody manifest.
type Entry struct {
	Path           string          `json:"path"`                 // in the case (slash-separated), or the absolute original path for referenced evidence
	OriginalPath   string          `json:"original_path"`        // where it was taken from
	Size           int64           `json:"size"`                 // bytes
	SHA256         string          `json:"sha256"`               // hex, over the bytes as acquired
	AddedAt        time.Time       `json:"added_at"`             // UTC
	HarrierVersion string          `json:"harrier_version"`      // the harrier that added it
	Operator       Operator        `json:"operator"`             // who and where
	Referenced     bool            `json:"referenced,omitempty"` // recorded in place, not copied
	Content        string          `json:"content,omitempty"`    // what harrier found in it (cloudtrail-log, jsonl, ...)
	Source         json.RawMessage `json:"source,omitempty"`     // provenance from acquisition (service, bucket/key, ETag, ...)
}

// manifest is the append-only manifest.jsonl with an index for look-ups.
type manifest struct {
	path     string
	entries  []Entry
	byPath   map[string]int // last entry for a path
	problems []string       // damaged lines, reported rather than fatal
	f        *os.File
}

func openManifest(path string) (*manifest, error) {
	m := &manifest{path: path, byPath: map[string]int{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("read manifest: %w", err)
			}
			break
		}
		complete := len(b) > 0 && b[len(b)-1] == '\n'
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var e Entry
		if jerr := json.Unmarshal(b, &e); jerr != nil || e.Path == "" {
			why := "not a manifest entry"
			if jerr != nil {
				why = jerr.Error()
			}
			if !complete {
				why = "cut short (harrier stopped while writing it?): " + why
			}
			m.problems = append(m.problems, fmt.Sprintf("manifest line %d is damaged: %s", line, why))
			continue
		}
		m.byPath[e.Path] = len(m.entries)
		m.entries = append(m.entries, e)
	}
	return m, nil
}

// lookup returns the latest entry recorded for a path.
func (m *manifest) lookup(path string) (Entry, bool) {
	i, ok := m.byPath[path]
	if !ok {
		return Entry{}, false
	}
	return m.entries[i], true
}

// add appends an entry as one write of one whole line, so that a crash
// leaves at most a cut-off last line (which the reader reports) and never
// loses earlier lines. The evidence file is in place before its line is
// written; Flush makes both durable.
func (m *manifest) add(e Entry) error {
	if m.f == nil {
		f, err := os.OpenFile(m.path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open manifest: %w", err)
		}
		// a line cut off by a crash must not swallow the next entry
		if st, err := f.Stat(); err == nil && st.Size() > 0 {
			last := make([]byte, 1)
			if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				if _, err := f.Write([]byte("\n")); err != nil {
					f.Close()
					return fmt.Errorf("write manifest: %w", err)
				}
			}
		}
		m.f = f
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := m.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	m.byPath[e.Path] = len(m.entries)
	m.entries = append(m.entries, e)
	return nil
}

// flush syncs the manifest, and everything else written to the file
// system that holds it (the evidence copies), to disk.
func (m *manifest) flush() error {
	if m.f == nil {
		return nil
	}
	if err := unix.Syncfs(int(m.f.Fd())); err != nil {
		return fmt.Errorf("sync case: %w", err)
	}
	return m.f.Sync()
}

func (m *manifest) close() error {
	if m.f == nil {
		return nil
	}
	err := m.flush()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	m.f = nil
	return err
}

// Flush makes every evidence copy and manifest entry added so far durable.
func (c *Case) Flush() error {
	c.mu.Lock()
	n := c.added
	c.mu.Unlock()
	return c.syncThrough(n)
}

// syncThrough returns once the first n manifest entries (and the evidence
// files written before them) are on disk. It is a group commit: a sync
// covers every entry added before it started, so many goroutines adding
// acquired files at once share one sync instead of queueing one each, and
// the case's lock (mu) is not held while the disk works, so downloads go
// on writing meanwhile.
func (c *Case) syncThrough(n uint64) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if c.synced >= n {
		return nil
	}
	c.mu.Lock()
	target := c.added
	m := c.manifest
	c.mu.Unlock()
	if err := m.flush(); err != nil {
		return err
	}
	c.synced = target
	return nil
}

// ManifestProblems lists damaged manifest lines (for example one cut off by
// a crash). They are kept as they are; the entries around them are read.
func (c *Case) ManifestProblems() []string {
	return append([]string(nil), c.manifest.problems...)
}
