package cloudtrail

import (
	"bytes"
	"fmt"

	"github.com/goccy/go-json"
)

// Streaming the elements of a Records or Events array.

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
