package image

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// Sums are an image's hashes: SHA-256 for integrity, MD5 because courts,
// labs and older tools (dc3dd, FTK Imager, EnCase) still quote it.
type Sums struct {
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5"`
}

// hasher computes both hashes in one pass: it is the io.Writer every byte
// of the image goes through once.
type hasher struct {
	sha, md hash.Hash
	w       io.Writer
}

func newHasher() *hasher {
	h := &hasher{sha: sha256.New(), md: md5.New()}
	h.w = io.MultiWriter(h.sha, h.md)
	return h
}

func (h *hasher) Write(p []byte) (int, error) { return h.w.Write(p) }

func (h *hasher) sums() Sums {
	return Sums{SHA256: hex.EncodeToString(h.sha.Sum(nil)), MD5: hex.EncodeToString(h.md.Sum(nil))}
}

// HashFile hashes a file (a written image, read back) with both hashes in
// one pass. Holes in a sparse file read as zeros, as they are in the image.
// progress, when not nil, is called with the bytes hashed so far.
func HashFile(ctx context.Context, path string, progress func(done int64)) (Sums, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return Sums{}, 0, fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := newHasher()
	buf := make([]byte, DefaultChunk)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return Sums{}, done, err
		}
		n, err := f.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			done += int64(n)
			if progress != nil {
				progress(done)
			}
		}
		if err == io.EOF {
			return h.sums(), done, nil
		}
		if err != nil {
			return Sums{}, done, fmt.Errorf("hash %s at byte %d: %w", path, done, err)
		}
	}
}
