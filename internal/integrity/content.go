package integrity

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// inflater holds the buffers that read one file, reused from file to file:
// a trail delivers tens of thousands of small log files a day.
type inflater struct {
	br  *bufio.Reader
	zr  gzip.Reader
	buf []byte
}

var inflaters = sync.Pool{New: func() any {
	return &inflater{br: bufio.NewReaderSize(nil, 64<<10), buf: make([]byte, 64<<10)}
}}

// content is the uncompressed content of one file being read.
type content struct {
	in *inflater
	r  io.Reader
	n  int64 // uncompressed bytes returned so far
}

// newContent reads r, decompressing gzip when its first bytes are the gzip
// magic number (the name says nothing reliable). Concatenated gzip members
// are read as one stream, so a member appended to a log file changes its
// hash.
func newContent(r io.Reader) (*content, error) {
	in := inflaters.Get().(*inflater)
	in.br.Reset(r)
	c := &content{in: in, r: in.br}
	magic, err := in.br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		c.close()
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if err := in.zr.Reset(in.br); err != nil {
			c.close()
			return nil, fmt.Errorf("%w: gzip header: %w", ErrCorrupt, err)
		}
		c.r = &in.zr
	}
	return c, nil
}

// Read returns uncompressed bytes; a broken or cut-off gzip stream is
// ErrCorrupt.
func (c *content) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.r == &c.in.zr {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: gzip stream cut off after %d bytes of content", ErrCorrupt, c.n)
		} else {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return n, err
}

func (c *content) close() {
	c.in.br.Reset(nil)
	inflaters.Put(c.in)
	c.in = nil
}

// ctxReader stops a long read when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read fails once the context has ended.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// open opens a file of the evidence.
func open(ctx context.Context, f File) (io.ReadCloser, error) {
	if f.Open == nil {
		return nil, errors.New("no way to open it was given")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{ctxReader{ctx, rc}, rc}, nil
}

// hashLog streams one log file through SHA-256 of its uncompressed
// content, the hash a digest records.
func hashLog(ctx context.Context, f File) (sum [32]byte, size int64, err error) {
	rc, err := open(ctx, f)
	if err != nil {
		return sum, 0, err
	}
	defer rc.Close()
	c, err := newContent(rc)
	if err != nil {
		return sum, 0, err
	}
	defer c.close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, c, c.in.buf); err != nil {
		return sum, c.n, err
	}
	h.Sum(sum[:0])
	return sum, c.n, nil
}
