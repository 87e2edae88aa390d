package casefile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
)

// ErrSourceChanged means a file changed while harrier was reading it.
var ErrSourceChanged = errors.New("the file changed while it was being read")

// Intake brings one file into the case. It reads the source once: the caller
// reads through the Intake (to parse it) while the bytes are hashed and
// copied into the case. Commit finishes the copy and records it.
type Intake struct {
	c         *Case
	src       *os.File
	tmp       *os.File
	h         hash.Hash
	size      int64
	original  string
	target    string // case-relative, slash-separated; or the absolute path when referenced
	reference bool
	existing  *Entry // the same bytes are already in the case at target
	differs   *Entry // an earlier entry for the same place holds other bytes
	done      bool
}

// Intake opens original (an absolute path) to be added at rel under the
// case's evidence folder, or recorded in place when reference is set.
func (c *Case) Intake(original, rel string, reference bool) (*Intake, error) {
	src, err := os.Open(original)
	if err != nil {
		return nil, err
	}
	in := &Intake{c: c, src: src, h: sha256.New(), original: original, reference: reference}
	if reference {
		in.target = original
		if e, ok := c.lookup(original); ok {
			in.existing = &e
		}
		return in, nil
	}
	rel = path.Clean("/" + filepath.ToSlash(rel))[1:]
	if rel == "" || rel == "." {
		rel = filepath.Base(original)
	}
	target := path.Join(EvidenceDir, rel)
	if err := in.place(target); err != nil {
		src.Close()
		return nil, err
	}
	if in.existing == nil {
		if in.tmp, err = os.CreateTemp(c.TempPath(), "intake-*"); err != nil {
			src.Close()
			in.c.release(in.target)
			return nil, fmt.Errorf("copy %s: %w", original, err)
		}
	}
	return in, nil
}

// place chooses where the copy goes. When something else already holds the
// path, the source is hashed first: the same bytes mean the evidence is in
// the case already; different bytes go beside it under a name carrying
// their hash, so neither file is overwritten.
func (in *Intake) place(target string) error {
	c := in.c
	if c.claim(target) {
		in.target = target
		return nil
	}
	sum, err := hashFile(in.src)
	if err != nil {
		return fmt.Errorf("hash %s: %w", in.original, err)
	}
	if e, ok := c.lookup(target); ok && e.SHA256 != sum {
		in.differs = &e
	}
	for _, t := range []string{target, target + ".harrier-" + sum[:12]} {
		if e, ok := c.lookup(t); ok && e.SHA256 == sum {
			in.target, in.existing = t, &e
			return nil
		}
		if c.claim(t) {
			in.target = t
			return nil
		}
	}
	return fmt.Errorf("copy %s: %s and its alternative are taken", in.original, target)
}

// claim reserves a path that no entry, file or concurrent intake holds.
func (c *Case) claim(rel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved[rel] {
		return false
	}
	if _, ok := c.manifest.lookup(rel); ok {
		return false
	}
	if _, err := os.Lstat(c.Path(filepath.FromSlash(rel))); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	c.reserved[rel] = true
	return true
}

func (c *Case) release(rel string) {
	c.mu.Lock()
	delete(c.reserved, rel)
	c.mu.Unlock()
}

func (c *Case) lookup(rel string) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.manifest.lookup(rel)
}

func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Path is where the evidence is (or will be) in the case.
func (in *Intake) Path() string { return in.target }

// Differs returns the earlier manifest entry for the same place (the same
// path in the case, or the same referenced file) when its bytes differ from
// what was read this time: evidence that changed between two ingests. Valid
// after Commit.
func (in *Intake) Differs() (Entry, bool) {
	if in.differs == nil {
		return Entry{}, false
	}
	return *in.differs, true
}

// Read reads the source, hashing and copying what it returns.
func (in *Intake) Read(p []byte) (int, error) {
	n, err := in.src.Read(p)
	if n > 0 {
		in.h.Write(p[:n])
		in.size += int64(n)
		if in.tmp != nil {
			if _, werr := in.tmp.Write(p[:n]); werr != nil {
				return n, fmt.Errorf("copy into case: %w", werr)
			}
		}
	}
	return n, err
}

// Commit reads whatever the caller left unread, puts the copy in place
// (read-only) and records it in the manifest with what it contains. It
// returns the entry, and whether it is new to the case.
func (in *Intake) Commit(content string) (Entry, bool, error) {
	defer in.Abort()
	if _, err := io.Copy(io.Discard, in); err != nil {
		return Entry{}, false, fmt.Errorf("read %s: %w", in.original, err)
	}
	sum := hex.EncodeToString(in.h.Sum(nil))
	if in.existing != nil && in.existing.SHA256 == sum {
		return *in.existing, false, nil
	}
	if in.existing != nil && !in.reference {
		return Entry{}, false, fmt.Errorf("%s: %w", in.original, ErrSourceChanged)
	}
	if in.existing != nil && in.reference {
		in.differs = in.existing
	}
	if in.tmp != nil {
		if err := in.tmp.Close(); err != nil {
			return Entry{}, false, fmt.Errorf("copy %s: %w", in.original, err)
		}
		dst := in.c.Path(filepath.FromSlash(in.target))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return Entry{}, false, fmt.Errorf("copy %s: %w", in.original, err)
		}
		if err := os.Chmod(in.tmp.Name(), 0o444); err != nil {
			return Entry{}, false, fmt.Errorf("copy %s: %w", in.original, err)
		}
		if err := os.Rename(in.tmp.Name(), dst); err != nil {
			return Entry{}, false, fmt.Errorf("copy %s: %w", in.original, err)
		}
		in.tmp = nil
	}
	e := Entry{
		Path:           in.target,
		OriginalPath:   in.original,
		Size:           in.size,
		SHA256:         sum,
		AddedAt:        in.c.Now().UTC(),
		HarrierVersion: in.c.Version,
		Operator:       in.c.Op,
		Referenced:     in.reference,
		Content:        content,
	}
	in.c.mu.Lock()
	err := in.c.manifest.add(e)
	in.c.added++
	in.c.mu.Unlock()
	if err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// Abort gives up on the intake; nothing is added. It is safe after Commit.
func (in *Intake) Abort() {
	if in.done {
		return
	}
	in.done = true
	in.src.Close()
	if in.tmp != nil {
		in.tmp.Close()
		os.Remove(in.tmp.Name())
	}
	if !in.reference {
		in.c.release(in.target)
	}
}
