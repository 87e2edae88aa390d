// Package image makes forensic images: one pass over a source (an attached
// volume, a file), SHA-256 and MD5 computed as the bytes go by, unreadable
// sectors zero-filled and recorded instead of ending the acquisition, the
// written image read back and its hashes compared, and an acquisition log
// (text, like dc3dd's, and JSON) beside it.
//
// Copy is the core, over an io.ReaderAt, so that tests can hand it a reader
// that fails where they choose; Acquire runs it between two paths.
package image

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Defaults: 1 MiB reads (large enough for a device's throughput, small
// enough that one unreadable sector costs one sector-by-sector pass over
// 2048 sectors), 512-byte sectors (every disk reports at least that).
const (
	DefaultChunk  = 1 << 20
	DefaultSector = 512
)

// Options shape a copy.
type Options struct {
	SectorSize int // the unit a bad region is measured and zero-filled in; DefaultSector if 0
	ChunkSize  int // bytes per read; DefaultChunk if 0, rounded down to whole sectors
	// Progress, when not nil, is called after each chunk with the bytes
	// done and the total (-1 when the source's size is unknown).
	Progress func(done, total int64)
}

func (o Options) sizes() (sector, chunk int) {
	sector, chunk = o.SectorSize, o.ChunkSize
	if sector <= 0 {
		sector = DefaultSector
	}
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	if chunk < sector {
		chunk = sector
	}
	return sector, chunk - chunk%sector
}

// BadRange is a run of sectors that could not be read: they are zeros in
// the image, and here with the error the source gave for the first of them.
type BadRange struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Error  string `json:"error"`
}

// Copied is what Copy did.
type Copied struct {
	Bytes      int64      // bytes written (read or zero-filled)
	Sums       Sums       // hashes of the bytes written
	Bad        []BadRange // unreadable ranges, in order
	BadBytes   int64      // their total length
	Retried    int        // chunks that failed once and were read again
	SectorWise int        // chunks that failed twice and were read sector by sector
}

// Copy reads src from offset 0 to size (or to its end when size < 0),
// writes every byte to dst and hashes it on the way. A chunk that fails is
// read once more; if it fails again it is read sector by sector, and each
// sector that still fails is written as zeros and recorded: the image keeps
// its geometry, and what is missing is said, not lost. Only dst failing,
// or ctx ending, stops the copy.
func Copy(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, o Options) (Copied, error) {
	sector, chunk := o.sizes()
	h := newHasher()
	defer h.stop()
	out := io.MultiWriter(dst, h)
	buf := make([]byte, chunk)
	var c Copied
	for off := int64(0); size < 0 || off < size; {
		if err := ctx.Err(); err != nil {
			c.Sums = h.sums()
			return c, err
		}
		p := buf
		if size >= 0 && size-off < int64(len(p)) {
			p = p[:size-off]
		}
		n, err := readAt(src, p, off)
		end := false
		switch {
		case err == nil || (errors.Is(err, io.EOF) && n == len(p)):
		case errors.Is(err, io.EOF) && size < 0:
			p, end = p[:n], true // the end of a source of unknown size
		default:
			c.Retried++
			if n, err = readAt(src, p, off); err != nil && !(errors.Is(err, io.EOF) && n == len(p)) {
				c.SectorWise++
				var got int
				got, end = c.sectorWise(src, p, off, sector, size < 0)
				p = p[:got]
			}
		}
		if len(p) > 0 {
			if _, err := out.Write(p); err != nil {
				c.Sums = h.sums()
				return c, fmt.Errorf("write image at byte %d: %w", off, err)
			}
		}
		off += int64(len(p))
		c.Bytes = off
		if o.Progress != nil {
			o.Progress(off, size)
		}
		if end || len(p) == 0 {
			break
		}
	}
	c.Sums = h.sums()
	return c, nil
}

// sectorWise reads p (at off) one sector at a time, zero-filling and
// recording the sectors that fail. When the size is unknown, an end of
// input ends p there (end is true); when it is known, a source that ends
// early is bad sectors like any other.
func (c *Copied) sectorWise(src io.ReaderAt, p []byte, off int64, sector int, unknownSize bool) (got int, end bool) {
	for i := 0; i < len(p); i += sector {
		s := p[i:min(i+sector, len(p))]
		n, err := readAt(src, s, off+int64(i))
		if err == nil || (errors.Is(err, io.EOF) && n == len(s)) {
			continue
		}
		if errors.Is(err, io.EOF) && unknownSize {
			return i + n, true
		}
		clear(s)
		c.bad(off+int64(i), int64(len(s)), err)
	}
	return len(p), false
}

// bad records an unreadable run, joining it to the previous one when they
// touch and failed alike.
func (c *Copied) bad(off, n int64, err error) {
	c.BadBytes += n
	msg := err.Error()
	if k := len(c.Bad) - 1; k >= 0 && c.Bad[k].Offset+c.Bad[k].Length == off && c.Bad[k].Error == msg {
		c.Bad[k].Length += n
		return
	}
	c.Bad = append(c.Bad, BadRange{Offset: off, Length: n, Error: msg})
}

// readAt fills p from off as io.ReadFull does for a Reader: a reader that
// returns less than asked without an error is asked again for the rest.
func readAt(r io.ReaderAt, p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.ReadAt(p[n:], off+int64(n))
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}
