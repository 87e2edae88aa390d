package cloudtrail

import (
	"errors"
	"fmt"
	"io"
)

// Top-level values: containers to stream, objects to classify.

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
		if d.startStream(key) {
			return Record{}, true, nil
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
	case objDigest, objDigestMetadata, objPublicKeys:
		if d.format.HasEvents() {
			// inside a stream of events it is a record like any other, and
			// must be accounted for as one
			d.index++
			return Record{}, false, d.reject(idx, off, fmt.Errorf("%w: a digest, digest metadata or public-keys document among events", ErrNotEvent))
		}
		switch kind {
		case objDigest:
			d.setFormat(FormatDigest)
		case objDigestMetadata:
			d.setFormat(FormatDigestMetadata)
		default:
			d.setFormat(FormatPublicKeys)
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
		if d.startStream(key) {
			return Record{}, true, nil
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

// startStream starts streaming the array that follows key when the key is
// one of the containers CloudTrail evidence comes in: "Records" of a trail
// log, "Events" of a lookup-events page. It reports whether it did.
func (d *Decoder) startStream(key []byte) bool {
	if c, ok := d.s.peek(); !ok || c != '[' {
		return false
	}
	switch string(key) {
	case `"Records"`:
		d.setFormat(FormatTrailLog)
		d.arrayKind = kindEvents
	case `"Events"`:
		d.setFormat(FormatLookupEvents)
		d.arrayKind = kindLookup
	default:
		return false
	}
	d.s.pos++
	d.state, d.first, d.inObject = stArray, true, true
	return true
}
