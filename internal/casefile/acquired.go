package casefile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// AddAcquired stores evidence harrier fetched itself (an API response, not
// a file someone handed over) at rel under evidence/, read-only, hashed, and
// listed in the manifest with its provenance in Source. origin says where it
// came from (e.g. "aws:cloudtrail:ListPublicKeys:us-east-1"). An existing
// path is never overwritten: the name then carries the content's hash.
func (c *Case) AddAcquired(rel, origin, content string, data []byte, source any) (Entry, error) {
	src, err := json.Marshal(source)
	if err != nil {
		return Entry{}, fmt.Errorf("acquired %s: %w", rel, err)
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	target := path.Join(EvidenceDir, path.Clean("/" + filepath.ToSlash(rel))[1:])
	if !c.claim(target) {
		if e, ok := c.lookup(target); ok && e.SHA256 == hexSum {
			return e, nil
		}
		target += ".harrier-" + hexSum[:12]
		if e, ok := c.lookup(target); ok && e.SHA256 == hexSum {
			return e, nil
		}
		if !c.claim(target) {
			return Entry{}, fmt.Errorf("acquired %s: its place in the case is taken", rel)
		}
	}
	defer c.release(target)
	tmp, err := os.CreateTemp(c.TempPath(), "acquired-*")
	if err != nil {
		return Entry{}, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return Entry{}, fmt.Errorf("acquired %s: %w", rel, err)
	}
	if err := tmp.Close(); err != nil {
		return Entry{}, err
	}
	dst := c.Path(filepath.FromSlash(target))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Entry{}, err
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return Entry{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Entry{}, fmt.Errorf("acquired %s: %w", rel, err)
	}
	e := Entry{Path: target, OriginalPath: origin, Size: int64(len(data)), SHA256: hexSum, AddedAt: c.Now().UTC(),
		HarrierVersion: c.Version, Operator: c.Op, Content: content, Source: src}
	c.mu.Lock()
	err = c.manifest.add(e)
	c.added++
	n := c.added
	c.mu.Unlock()
	if err != nil {
		return Entry{}, err
	}
	return e, c.syncThrough(n)
}
