package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"sync"
	"syscall"
	"testing"
)

// faulty is a source that fails where a test says: always (a bad sector),
// the first time only (a transient error), with short reads, or ends early.
type faulty struct {
	data      []byte
	bad       [][2]int64 // [from, to) that always fail
	transient [][2]int64 // [from, to) that fail on the first read touching them
	short     int        // when > 0, no read returns more than this, without an error
	mu        sync.Mutex
	failed    map[int]bool
	reads     int
}

func (f *faulty) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	end := off + int64(len(p))
	for _, b := range f.bad {
		if off < b[1] && end > b[0] {
			return 0, syscall.EIO
		}
	}
	for i, b := range f.transient {
		if off < b[1] && end > b[0] && !f.failed[i] {
			if f.failed == nil {
				f.failed = map[int]bool{}
			}
			f.failed[i] = true
			return 0, syscall.EIO
		}
	}
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	if f.short > 0 && len(p) > f.short {
		p = p[:f.short]
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

// zeroed is data with [from, to) ranges set to zero: what the image of a
// source with those bad sectors must hold.
func zeroed(data []byte, ranges ...[2]int64) []byte {
	out := bytes.Clone(data)
	for _, r := range ranges {
		clear(out[r[0]:min(r[1], int64(len(out)))])
	}
	return out
}

func sumsOf(b []byte) Sums {
	s, m := sha256.Sum256(b), md5.Sum(b)
	return Sums{SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:])}
}

func TestCopy(t *testing.T) {
	const mib = 1 << 20
	data := pattern(3*mib + 100)
	eio := syscall.EIO.Error()
	tests := []struct {
		name       string
		src        *faulty
		size       int64
		want       []byte
		wantSums   *Sums // a hash known from outside (sha256sum, md5sum)
		bad        []BadRange
		retried    int
		sectorWise int
	}{
		{name: "zeros, known hashes", src: &faulty{data: make([]byte, mib)}, size: mib, want: make([]byte, mib),
			wantSums: &Sums{SHA256: "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58", MD5: "b6d81b360a5672d80c27430f39153e2c"}},
		{name: "pattern, size not a whole sector", src: &faulty{data: data}, size: int64(len(data)), want: data},
		{name: "size unknown: read to the end", src: &faulty{data: data}, size: -1, want: data},
		{name: "empty source", src: &faulty{}, size: 0, want: []byte{}},
		{name: "empty source, size unknown", src: &faulty{}, size: -1, want: []byte{}},
		{name: "short reads are read on", src: &faulty{data: data, short: 1000}, size: int64(len(data)), want: data},
		{name: "transient error: read again, nothing lost", src: &faulty{data: data, transient: [][2]int64{{mib + 5, mib + 6}}},
			size: int64(len(data)), want: data, retried: 1},
		{name: "bad sectors: zero-filled, adjacent ones joined", src: &faulty{data: data, bad: [][2]int64{{1024, 1536}, {1536, 2048}, {2*mib + 700, 2*mib + 701}}},
			size: int64(len(data)), want: zeroed(data, [2]int64{1024, 2048}, [2]int64{2*mib + 512, 2*mib + 1024}),
			bad: []BadRange{{1024, 1024, eio}, {2*mib + 512, 512, eio}}, retried: 2, sectorWise: 2},
		{name: "bad partial last sector", src: &faulty{data: data, bad: [][2]int64{{3*mib + 50, 3*mib + 51}}},
			size: int64(len(data)), want: zeroed(data, [2]int64{3 * mib, 3*mib + 100}),
			bad: []BadRange{{3 * mib, 100, eio}}, retried: 1, sectorWise: 1},
		{name: "source shorter than its size: the rest is bad", src: &faulty{data: data[:mib+512]}, size: mib + 2048,
			want: zeroed(append(bytes.Clone(data[:mib+512]), make([]byte, 1536)...)),
			bad:  []BadRange{{mib + 512, 1536, io.EOF.Error()}}, retried: 1, sectorWise: 1},
		// with no size to go by, an unreadable last sector counts whole
		{name: "size unknown, bad sector in the last chunk", src: &faulty{data: data, bad: [][2]int64{{3*mib + 10, 3*mib + 11}}},
			size: -1, want: append(bytes.Clone(data[:3*mib]), make([]byte, 512)...),
			bad: []BadRange{{3 * mib, 512, eio}}, retried: 1, sectorWise: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			var last int64 = -1
			c, err := Copy(context.Background(), tc.src, tc.size, &out, Options{Progress: func(done, total int64) {
				if done < last || total != tc.size {
					t.Errorf("progress %d/%d after %d", done, total, last)
				}
				last = done
			}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), tc.want) {
				t.Fatalf("image differs from the source: %d bytes, want %d", out.Len(), len(tc.want))
			}
			want := sumsOf(tc.want)
			if tc.wantSums != nil && *tc.wantSums != want {
				t.Fatalf("test's known hashes %+v != %+v", *tc.wantSums, want)
			}
			if c.Sums != want || c.Bytes != int64(len(tc.want)) {
				t.Errorf("sums %+v over %d bytes, want %+v over %d", c.Sums, c.Bytes, want, len(tc.want))
			}
			if !reflect.DeepEqual(c.Bad, tc.bad) {
				t.Errorf("bad ranges %+v, want %+v", c.Bad, tc.bad)
			}
			var badBytes int64
			for _, b := range tc.bad {
				badBytes += b.Length
			}
			if c.BadBytes != badBytes || c.Retried != tc.retried || c.SectorWise != tc.sectorWise {
				t.Errorf("bad bytes %d retried %d sector-wise %d, want %d %d %d", c.BadBytes, c.Retried, c.SectorWise, badBytes, tc.retried, tc.sectorWise)
			}
		})
	}
}

func TestCopySectorSize(t *testing.T) {
	data := pattern(64 << 10)
	src := &faulty{data: data, bad: [][2]int64{{5000, 5001}}}
	var out bytes.Buffer
	c, err := Copy(context.Background(), src, int64(len(data)), &out, Options{SectorSize: 4096, ChunkSize: 10000})
	if err != nil {
		t.Fatal(err)
	}
	want := []BadRange{{4096, 4096, syscall.EIO.Error()}}
	if !reflect.DeepEqual(c.Bad, want) || !bytes.Equal(out.Bytes(), zeroed(data, [2]int64{4096, 8192})) {
		t.Errorf("bad %+v, want %+v", c.Bad, want)
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, syscall.ENOSPC
	}
	return len(p), nil
}

func TestCopyStops(t *testing.T) {
	data := pattern(4 << 20)
	t.Run("destination fails", func(t *testing.T) {
		_, err := Copy(context.Background(), &faulty{data: data}, int64(len(data)), &failWriter{after: 2 << 20}, Options{})
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("err %v, want ENOSPC", err)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		c, err := Copy(ctx, &faulty{data: data}, int64(len(data)), io.Discard, Options{Progress: func(done, _ int64) {
			if done >= 1<<20 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) || c.Bytes != 1<<20 {
			t.Fatalf("err %v after %d bytes, want context.Canceled after 1 MiB", err, c.Bytes)
		}
	})
}

func FuzzCopy(f *testing.F) {
	f.Add([]byte("hello, disk"), int64(3), int64(5), 7)
	f.Fuzz(func(t *testing.T, data []byte, from, n int64, short int) {
		if len(data) == 0 || from < 0 || n <= 0 || short < 0 {
			return
		}
		from %= int64(len(data))
		src := &faulty{data: data, bad: [][2]int64{{from, from + n}}, short: short % 600}
		var out bytes.Buffer
		c, err := Copy(context.Background(), src, int64(len(data)), &out, Options{ChunkSize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		if out.Len() != len(data) || c.Sums != sumsOf(out.Bytes()) {
			t.Fatalf("image of %d bytes, %d written, sums %+v", len(data), out.Len(), c.Sums)
		}
		for i := range data {
			inBad := false
			for _, b := range c.Bad {
				inBad = inBad || (int64(i) >= b.Offset && int64(i) < b.Offset+b.Length)
			}
			if inBad && out.Bytes()[i] != 0 || !inBad && out.Bytes()[i] != data[i] {
				t.Fatalf("byte %d: %d, source %d, bad %v", i, out.Bytes()[i], data[i], inBad)
			}
		}
	})
}
