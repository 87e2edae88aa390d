package integrity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// Custody is the case's own chain of custody re-checked: every evidence
// file hashed again and compared with what the manifest recorded when it
// was added.
type Custody struct {
	Files            int           `json:"files"`             // manifest entries checked
	Verified         int           `json:"verified"`          // same size and SHA-256 as recorded
	Changed          []ChangedFile `json:"changed"`           // bytes differ from the record
	Missing          []string      `json:"missing"`           // listed, but not there
	Unlisted         []string      `json:"unlisted"`          // in evidence/, but in no manifest entry
	Unreadable       []string      `json:"unreadable"`        // listed and there, but could not be read (path: error)
	ManifestProblems []string      `json:"manifest_problems"` // damaged manifest lines
}

// ChangedFile is an evidence file whose bytes are no longer those recorded.
type ChangedFile struct {
	Path           string `json:"path"`
	RecordedSHA256 string `json:"recorded_sha256"`
	ActualSHA256   string `json:"actual_sha256"`
	RecordedSize   int64  `json:"recorded_size"`
	ActualSize     int64  `json:"actual_size"`
}

// OK reports whether the evidence is exactly as recorded.
func (c Custody) OK() bool {
	return len(c.Changed) == 0 && len(c.Missing) == 0 && len(c.Unlisted) == 0 && len(c.Unreadable) == 0 && len(c.ManifestProblems) == 0
}

// Hashed is what reading a file once established: the SHA-256 and size of
// its bytes as stored.
type Hashed struct {
	SHA256 string
	Size   int64
}

// CheckCustody re-hashes every file the case's manifest lists (copied or
// referenced in place) and looks for files in evidence/ that it does not
// list. A path listed more than once is checked against its latest entry.
// known holds files already hashed in this run (by path in the case): they
// are not read again.
func CheckCustody(ctx context.Context, c *casefile.Case, known map[string]Hashed) (Custody, error) {
	out := Custody{Changed: []ChangedFile{}, Missing: []string{}, Unlisted: []string{}, Unreadable: []string{}, ManifestProblems: c.ManifestProblems()}
	if out.ManifestProblems == nil {
		out.ManifestProblems = []string{}
	}
	entries := c.Latest()
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		p := e.Path
		listed[p] = true
		out.Files++
		file := p
		if !e.Referenced {
			file = c.Path(filepath.FromSlash(p))
		}
		var sum string
		var size int64
		var err error
		if h, ok := known[p]; ok {
			sum, size = h.SHA256, h.Size
		} else {
			sum, size, err = hashPath(file)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out.Missing = append(out.Missing, p)
		case err != nil:
			// one unreadable file is a finding, not the end of the check
			out.Unreadable = append(out.Unreadable, fmt.Sprintf("%s: %v", p, err))
		case sum != e.SHA256 || size != e.Size:
			out.Changed = append(out.Changed, ChangedFile{Path: p, RecordedSHA256: e.SHA256, ActualSHA256: sum, RecordedSize: e.Size, ActualSize: size})
		default:
			out.Verified++
		}
	}
	root := c.Path(casefile.EvidenceDir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			out.Unreadable = append(out.Unreadable, fmt.Sprintf("%s: %v", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(c.Dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !listed[rel] {
			out.Unlisted = append(out.Unlisted, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return out, fmt.Errorf("list evidence: %w", err)
	}
	sort.Strings(out.Unlisted)
	return out, nil
}

func hashPath(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// HashingReader hashes what is read through it; Done reports the hash once
// the whole file was read.
type HashingReader struct {
	r    io.ReadCloser
	h    hash.Hash
	n    int64
	eof  bool
	done func(Hashed)
}

// NewHashingReader wraps r; done is called at Close if r was read to its end.
func NewHashingReader(r io.ReadCloser, done func(Hashed)) *HashingReader {
	return &HashingReader{r: r, h: sha256.New(), done: done}
}

func (h *HashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if errors.Is(err, io.EOF) {
		h.eof = true
	}
	return n, err
}

// Close closes the file, and reports its hash if it was read whole.
func (h *HashingReader) Close() error {
	if h.eof && h.done != nil {
		h.done(Hashed{SHA256: hex.EncodeToString(h.h.Sum(nil)), Size: h.n})
	}
	return h.r.Close()
}
