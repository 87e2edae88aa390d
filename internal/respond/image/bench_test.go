package image

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCopy measures the core: read, hash both ways, write, from
// memory to nowhere (the ceiling the disk then lowers).
func BenchmarkCopy(b *testing.B) {
	data := pattern(64 << 20)
	src := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Copy(context.Background(), src, int64(len(data)), io.Discard, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAcquireFile measures a whole acquisition between files: copy,
// sync, read back, logs.
func BenchmarkAcquireFile(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	data := pattern(64 << 20)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		i++
		dst := filepath.Join(dir, "dst"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		if _, err := Acquire(context.Background(), Request{Source: src, Dest: dst}); err != nil {
			b.Fatal(err)
		}
		os.Remove(dst)
	}
}
