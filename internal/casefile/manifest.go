package casefile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
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
	path    string
	entries []Entry
	byPath  map[string]int // last entry for a path
	f       *os.File
	w       *bufio.Writer
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
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("manifest %s line %d is damaged: %w", path, line, err)
		}
		m.byPath[e.Path] = len(m.entries)
		m.entries = append(m.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
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

// add appends an entry. Lines are buffered and synced on close: evidence
// files are renamed into place before their line is written, so a crash
// can leave an unlisted file (which verify reports) but never a listed file
// that is missing.
func (m *manifest) add(e Entry) error {
	if m.f == nil {
		f, err := os.OpenFile(m.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open manifest: %w", err)
		}
		m.f, m.w = f, bufio.NewWriter(f)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := m.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	m.byPath[e.Path] = len(m.entries)
	m.entries = append(m.entries, e)
	return nil
}

// flush writes buffered lines and syncs them to disk.
func (m *manifest) flush() error {
	if m.f == nil {
		return nil
	}
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("write manifest: %w", err)
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

// Flush makes every entry added so far durable.
func (c *Case) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.manifest.flush()
}
