package cloudtrail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/goccy/go-json"
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

// nextTop reads the next top-level value.
func (d *Decoder) nextTop() (Record, bool, error) {
	d.s.skipSpace(nil, false)
	if d.s.atEOF() {
		if d.parent != nil { // the replayed container is done: back to the file
			d.s, d.parent = d.parent, nil
			return Record{}, true, nil
		}
		if !d.sawValue {
			d.err = &ParseError{Offset: d.s.offset(), Record: -1, Err: ErrEmpty}
			return Record{}, false, d.err
		}
		d.err = io.EOF
		return Record{}, false, io.EOF
	}
	c, ok := d.s.peek()
	if !ok {
		return Record{}, false, d.fatal(-1, d.s.readErr())
	}
	first := !d.sawValue
	d.sawValue = true
	off := d.s.offset()
	switch {
	case c == '[':
		d.s.pos++
		d.setFormat(FormatJSONArray)
		d.state, d.arrayKind, d.first, d.inObject = stArray, kindAny, true, false
		return Record{}, true, nil
	case c == '{':
		return d.topObject(off)
	case first && c == 0xEF: // a UTF-8 byte order mark before the first value
		if !d.s.skipBOM() {
			d.err = &ParseError{Offset: off, Record: -1, Err: fmt.Errorf("%w: content starts with a broken byte order mark", ErrNotCloudTrail)}
			return Record{}, false, d.err
		}
		d.sawValue = false
		return Record{}, true, nil
	}
	if d.format == FormatUnknown && d.lineMode == 0 {
		s := d.s
		// a first line cut at its head, then JSON Lines: reject the line
		s.skipLine()
		if c2, ok := s.peek(); ok && c2 == '{' {
			d.lineMode = 1
			d.setFormat(FormatJSONLines)
			d.index++
			return Record{}, false, d.reject(0, off, fmt.Errorf("%w: the first line is not a JSON object", ErrSyntax))
		}
		d.err = &ParseError{Offset: off, Record: -1, Err: fmt.Errorf("%w: content starts with %q, not a JSON object or array", ErrNotCloudTrail, c)}
		return Record{}, false, d.err
	}
	idx := d.index
	if d.lineMode == 1 {
		d.s.skipLine()
	} else {
		d.val = valueReader{dst: d.val.dst[:0], max: 0}
		d.s.startValue()
		if err := d.s.readValue(&d.val, false); err != nil {
			return Record{}, false, d.fatal(idx, err)
		}
		if d.val.size == 0 {
			// ',', ':', ']' or '}' where a value should start: the
			// structure is broken, and rejecting it would not move on.
			return Record{}, false, d.fatal(-1, fmt.Errorf("%w: unexpected %q", ErrSyntax, c))
		}
	}
	d.index++
	return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: a top-level %q value", ErrNotEvent, c))
}

// topObject reads a top-level object: a container to stream ({"Records":
// [...]}, {"Events": [...]}) or one value to classify (an event, a digest).
func (d *Decoder) topObject(off int64) (Record, bool, error) {
	s := d.s
	idx := d.index
	d.val = valueReader{dst: d.val.dst[:0], max: d.max}
	lineMode := d.lineMode == 1
	broken := func(err error) (Record, bool, error) {
		if errors.Is(err, errNewline) {
			// A newline inside a string (never valid JSON) or, in JSON
			// Lines, anywhere in the object: the line is broken.
			d.lineMode, lineMode = 1, true
			err = fmt.Errorf("%w: line ends inside the JSON object", ErrSyntax)
		}
		if lineMode {
			s.skipLine()
			d.index++
			return Record{}, false, d.reject(idx, off, err)
		}
		return Record{}, false, d.fatal(idx, err)
	}
	if err := s.expect(&d.val, '{'); err != nil {
		return broken(err)
	}
	s.skipSpace(&d.val, lineMode)
	var key []byte
	if c, ok := s.peek(); ok && c == '"' {
		var err error
		if key, err = s.readKey(&d.val, d.lineMode != -1); err != nil {
			return broken(err)
		}
		s.skipSpace(&d.val, lineMode)
		if err := s.expect(&d.val, ':'); err != nil {
			return broken(err)
		}
		s.skipSpace(&d.val, lineMode)
		if c, ok := s.peek(); ok && c == '[' {
			switch string(key) {
			case `"Records"`:
				s.pos++
				d.setFormat(FormatTrailLog)
				d.state, d.arrayKind, d.first, d.inObject = stArray, kindEvents, true, true
				return Record{}, true, nil
			case `"Events"`:
				s.pos++
				d.setFormat(FormatLookupEvents)
				d.state, d.arrayKind, d.first, d.inObject = stArray, kindLookup, true, true
				return Record{}, true, nil
			}
		}
	}
	// Not a container: read the whole object, bounded, and classify it.
	s.startValue('{')
	err := s.readValue(&d.val, d.lineMode != -1)
	if errors.Is(err, errNewline) && d.lineMode == 0 && !s.inStr {
		if s.nextLineStartsObject() {
			// the next line opens an object at its very start, as only a
			// new top-level value does: JSON Lines whose first line is
			// broken, not pretty-printed JSON (which indents what it nests)
			d.setFormat(FormatJSONLines)
			return broken(err)
		}
		// a newline between tokens of the first object: pretty-printed
		// JSON, not JSON Lines
		d.lineMode = -1
		err = s.resumeValue(&d.val)
	}
	if err != nil {
		return broken(err)
	}
	if d.lineMode == 0 {
		d.lineMode = 1
	}
	if d.val.tooLarge {
		d.index++
		d.setFormat(FormatJSONLines)
		return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, d.val.size, d.max))
	}
	return d.classify(d.val.dst, key, idx, off)
}

// classify decides what a complete top-level object is.
func (d *Decoder) classify(raw, firstKey []byte, idx, off int64) (Record, bool, error) {
	kind := objectKind(raw, firstKey)
	switch kind {
	case objEvent:
		d.setFormat(FormatJSONLines)
		d.index++
		return Record{Index: idx, Offset: off, Raw: raw}, false, nil
	case objEventBridge:
		// EventBridge delivers the CloudTrail record as "detail"; the
		// offset stays the envelope's
		d.setFormat(FormatJSONLines)
		d.index++
		return Record{Index: idx, Offset: off, Raw: eventBridgeDetail(raw)}, false, nil
	case objLookupItem:
		d.setFormat(FormatLookupEvents)
		d.index++
		ev, err := lookupEvent(raw)
		if err != nil {
			return Record{}, false, d.reject(idx, off, err)
		}
		return Record{Index: idx, Offset: off, Raw: ev}, false, nil
	case objDigest, objDigestMetadata:
		if d.format.HasEvents() {
			// inside a stream of events it is a record like any other, and
			// must be accounted for as one
			d.index++
			return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: a digest file's content among events", ErrNotEvent))
		}
		if kind == objDigest {
			d.setFormat(FormatDigest)
		} else {
			d.setFormat(FormatDigestMetadata)
		}
		return Record{}, true, nil
	case objSmallContainer:
		return d.replay(raw, off)
	}
	if d.format == FormatUnknown {
		return Record{}, false, d.fatal(-1, fmt.Errorf("%w: a JSON object with keys %s", ErrNotCloudTrail, keyList(raw)))
	}
	d.index++
	return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: an object with keys %s", ErrNotEvent, keyList(raw)))
}

// replay streams a container whose array is not its first key
// ({"NextToken": ..., "Events": [...]}, as lookup-events pages may be
// printed). topObject has already read the whole object, so it is streamed
// from memory by a scanner over those bytes, at their offsets in the file;
// Next goes back to the file's scanner when it is done.
func (d *Decoder) replay(raw []byte, off int64) (Record, bool, error) {
	d.parent = d.s
	d.s = &scanner{buf: raw, n: len(raw), base: off, err: io.EOF}
	d.val.dst = nil // raw now belongs to the replaying scanner
	s := d.s
	discard := valueReader{}
	if err := s.expect(&discard, '{'); err != nil {
		return Record{}, false, d.fatal(-1, err)
	}
	for {
		s.skipSpace(nil, false)
		k := valueReader{max: len(`"Records"`)}
		key, err := s.readKey(&k, false)
		if err != nil {
			return Record{}, false, d.fatal(-1, err)
		}
		s.skipSpace(nil, false)
		if err := s.expect(&discard, ':'); err != nil {
			return Record{}, false, d.fatal(-1, err)
		}
		s.skipSpace(nil, false)
		if c, ok := s.peek(); ok && c == '[' {
			switch string(key) {
			case `"Records"`:
				s.pos++
				d.setFormat(FormatTrailLog)
				d.state, d.arrayKind, d.first, d.inObject = stArray, kindEvents, true, true
				return Record{}, true, nil
			case `"Events"`:
				s.pos++
				d.setFormat(FormatLookupEvents)
				d.state, d.arrayKind, d.first, d.inObject = stArray, kindLookup, true, true
				return Record{}, true, nil
			}
		}
		s.startValue()
		if err := s.readValue(&discard, false); err != nil {
			return Record{}, false, d.fatal(-1, err)
		}
		s.skipSpace(nil, false)
		if c, ok := s.peek(); !ok || c != ',' {
			// objectKind saw the array, so this cannot happen with
			// valid JSON; end the object rather than loop.
			d.state = stObjectRest
			return Record{}, true, nil
		}
		s.pos++
	}
}

// nextElement reads the next element of a streamed array. done means the
// array ended.
func (d *Decoder) nextElement() (Record, bool, error) {
	s := d.s
	s.skipSpace(nil, false)
	c, ok := s.peek()
	if !ok {
		return Record{}, false, d.fatal(-1, s.readErr())
	}
	if c == ']' {
		s.pos++
		d.state = stTop
		if d.inObject {
			d.state = stObjectRest
		}
		return Record{}, true, nil
	}
	if !d.first {
		if c != ',' {
			return Record{}, false, d.fatal(-1, fmt.Errorf("%w: expected ',' or ']' between records, found %q", ErrSyntax, c))
		}
		s.pos++
		s.skipSpace(nil, false)
	}
	d.first = false
	idx, off := d.index, s.offset()
	d.val = valueReader{dst: d.val.dst[:0], max: d.max}
	s.startValue()
	if err := s.readValue(&d.val, false); err != nil {
		return Record{}, false, d.fatal(idx, err)
	}
	d.index++
	if d.val.size == 0 { // "[{...},]" or "[{...},,{...}]"
		return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: expected a record, found %q", ErrSyntax, c))
	}
	if d.val.tooLarge {
		return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, d.val.size, d.max))
	}
	raw := d.val.dst
	if len(raw) == 0 || raw[0] != '{' {
		return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: array element is not an object", ErrNotEvent))
	}
	lookup := d.arrayKind == kindLookup
	if d.arrayKind == kindAny && bytes.Contains(raw, []byte(`"CloudTrailEvent"`)) {
		lookup = objectKind(raw, nil) == objLookupItem
	}
	if lookup {
		ev, err := lookupEvent(raw)
		switch {
		case err == nil:
			raw = ev
		case objectKind(raw, nil) != objEvent:
			return Record{}, false, d.reject(idx, off, err)
		}
		// else the element is an event itself, as in the lookup-events
		// Insights example of the CloudTrail user guide: keep it
	}
	return Record{Index: idx, Offset: off, Raw: raw}, false, nil
}

// finishObject reads the keys that follow a streamed array up to the end of
// the top-level object (a lookup-events page's NextToken, say).
func (d *Decoder) finishObject() error {
	s := d.s
	discard := valueReader{}
	for {
		s.skipSpace(nil, false)
		c, ok := s.peek()
		if !ok {
			return s.readErr()
		}
		switch c {
		case '}':
			s.pos++
			d.state = stTop
			return nil
		case ',':
			s.pos++
			s.skipSpace(nil, false)
			if _, err := s.readKey(&discard, false); err != nil {
				return err
			}
			s.skipSpace(nil, false)
			if err := s.expect(&discard, ':'); err != nil {
				return err
			}
			s.skipSpace(nil, false)
			s.startValue()
			if err := s.readValue(&discard, false); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: expected ',' or '}' after the records, found %q", ErrSyntax, c)
		}
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

// lookupEvent extracts the CloudTrail event from a lookup-events item, where
// it is a JSON document inside the string field CloudTrailEvent.
func lookupEvent(item []byte) ([]byte, error) {
	var v struct {
		CloudTrailEvent json.RawMessage `json:"CloudTrailEvent"`
	}
	if err := json.Unmarshal(item, &v); err != nil {
		return nil, fmt.Errorf("%w: lookup-events item: %v", ErrSyntax, err)
	}
	if len(v.CloudTrailEvent) == 0 || string(v.CloudTrailEvent) == "null" {
		return nil, fmt.Errorf("%w: lookup-events item without CloudTrailEvent", ErrNotEvent)
	}
	var text string
	if v.CloudTrailEvent[0] != '"' || json.Unmarshal(v.CloudTrailEvent, &text) != nil {
		return nil, fmt.Errorf("%w: CloudTrailEvent is not a JSON string", ErrNotEvent)
	}
	ev := []byte(text)
	if t := bytes.TrimSpace(ev); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: CloudTrailEvent is not a JSON object", ErrNotEvent)
	}
	return ev, nil
}
