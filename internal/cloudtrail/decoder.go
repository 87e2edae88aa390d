package cloudtrail

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// DefaultMaxRecordSize bounds one record. CloudTrail's own limit is 256 KB
// per event; the margin covers exports that wrap events, while a hostile
// multi-gigabyte "line" is skipped instead of exhausting memory.
const DefaultMaxRecordSize = 16 << 20

// Record is one event as it stands in the evidence.
type Record struct {
	Index  int64  // position in the file: array index, or value number for JSON Lines
	Offset int64  // byte offset in the decompressed content
	Raw    []byte // the event's JSON, exactly as in the file; valid until the next call to Next or Close
}

// Decoder reads the records of one piece of evidence. Call Next until it
// returns io.EOF; a *RecordError rejects one record and Next may be called
// again; any other error is final.
//
// Records and Events arrays are streamed when they are the first key of
// their object, as CloudTrail and the AWS CLI write them. An object where
// another key comes first ({"NextToken": ..., "Events": [...]}) is read
// whole before its array is streamed, so it must fit in the record size
// limit, or it is rejected with ErrTooLarge.
type Decoder struct {
	s      *scanner
	parent *scanner // while replaying a buffered container (see replay), the file's scanner
	zr     *gzip.Reader
	p      *pooled
	max    int
	format Format

	state     int
	arrayKind int
	first     bool // next array element is the first
	inObject  bool // the array streams inside a top-level object
	index     int64
	lineMode  int // 0 unknown, 1 JSON Lines, -1 not
	sawValue  bool
	val       valueReader
	scratch   []byte
	lookupBuf []byte
	err       error
}

const (
	stTop = iota
	stArray
	stObjectRest
)

const (
	kindEvents = iota // elements are events
	kindLookup        // elements are lookup-events items
	kindAny           // a bare array: events or lookup items
)

// NewDecoder returns a Decoder over r, decompressing gzip (detected from its
// magic bytes, not a file name) as it reads.
func NewDecoder(r io.Reader) (*Decoder, error) {
	p := decoderPool.Get().(*pooled)
	p.br.Reset(r)
	magic, err := p.br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		p.release()
		return nil, fmt.Errorf("read: %w", err)
	}
	d := &Decoder{max: DefaultMaxRecordSize, p: p}
	var src io.Reader = p.br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if err := p.zr.Reset(p.br); err != nil {
			p.release()
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		d.zr = &p.zr
		src = d.zr
	}
	d.s = &scanner{r: src, buf: p.buf}
	d.val.dst = p.val[:0]
	return d, nil
}

// pooled holds the buffers of a Decoder, reused from file to file: a case
// of a hundred thousand small log files would otherwise allocate gigabytes.
type pooled struct {
	br  *bufio.Reader
	zr  gzip.Reader
	buf []byte // the scanner's window
	val []byte // the current record
}

var decoderPool = sync.Pool{New: func() any {
	return &pooled{br: bufio.NewReaderSize(nil, 64<<10), buf: make([]byte, 256<<10)}
}}

func (p *pooled) release() {
	p.br.Reset(nil)
	if cap(p.val) > 1<<20 {
		p.val = nil // do not keep a rare huge record's buffer alive
	}
	decoderPool.Put(p)
}

// SetMaxRecordSize changes the size limit of one record.
func (d *Decoder) SetMaxRecordSize(n int) { d.max = n }

// Format is the format detected so far (FormatUnknown before the first value).
func (d *Decoder) Format() Format { return d.format }

// Offset is the decoder's position in the decompressed content.
func (d *Decoder) Offset() int64 { return d.s.offset() }

// Records is how many records (stored or rejected) the decoder has returned.
func (d *Decoder) Records() int64 { return d.index }

func (d *Decoder) setFormat(f Format) {
	if d.format == FormatUnknown {
		d.format = f
	}
}

// fatal makes err final: every later call to Next returns it again.
func (d *Decoder) fatal(record int64, err error) error {
	d.err = &ParseError{Offset: d.s.offset(), Record: record, Err: err}
	return d.err
}

func (d *Decoder) reject(idx, off int64, err error) error {
	return &RecordError{Record: idx, Offset: off, Err: err}
}

// Next returns the next record.
func (d *Decoder) Next() (Record, error) {
	if d.err != nil {
		return Record{}, d.err
	}
	for {
		switch d.state {
		case stArray:
			rec, done, err := d.nextElement()
			if done {
				continue
			}
			return rec, err
		case stObjectRest:
			if err := d.finishObject(); err != nil {
				return Record{}, d.fatal(-1, err)
			}
			continue
		}
		rec, skip, err := d.nextTop()
		if skip {
			continue
		}
		return rec, err
	}
}

// Close releases the decompressor. It does not close the underlying reader.
func (d *Decoder) Close() error {
	if d.p == nil {
		return nil
	}
	var err error
	if d.zr != nil {
		err = d.zr.Close()
	}
	d.p.val = d.val.dst[:0]
	d.p.release()
	d.p, d.val.dst = nil, nil
	d.err = errors.New("cloudtrail: decoder closed")
	return err
}
