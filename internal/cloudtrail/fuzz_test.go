package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	kgzip "github.com/klauspost/compress/gzip"
)

// FuzzDecoder checks, on any input, that the Decoder does not panic, ends
// within a number of calls bounded by the size of the content, returns
// records that are the content's own bytes at their offsets (or, for
// lookup-events items, an event taken from the item at its offset), never
// goes back in the content, returns the same thing however its input is
// split into reads, and reads a sound gzip stream as its content.
func FuzzDecoder(f *testing.F) {
	for _, tt := range decoderTests {
		in := tt.input
		if tt.gzip {
			in = gzipped(in)
		}
		if len(in) < 4096 {
			f.Add([]byte(in), uint16(tt.max))
		}
	}
	for i := range 3 {
		f.Add([]byte(`{"Records":[`+sampleEvent(i)+`]}`), uint16(0))
		f.Add([]byte(item(sampleEvent(i))+"\n"+sampleEvent(i+3)), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxRecord uint16) {
		content, complete, zerr := decompressed(data)
		limit := 2*len(content) + 10
		run := func(r io.Reader) (decoded, bool) {
			d, err := NewDecoder(r)
			if err != nil {
				if !isGzip(data) {
					t.Fatalf("NewDecoder: %v on input that is not gzip", err)
				}
				return decoded{}, false
			}
			defer d.Close()
			if maxRecord > 0 {
				d.SetMaxRecordSize(int(maxRecord))
			}
			return runDecoder(t, d, limit), true
		}
		got, ok := run(bytes.NewReader(data))
		if !ok {
			return
		}
		max := DefaultMaxRecordSize
		if maxRecord > 0 {
			max = int(maxRecord)
		}
		for i, off := range got.offsets {
			if off < 0 || off > int64(len(content)) || (i > 0 && off < got.offsets[i-1]) {
				t.Fatalf("offsets %v: out of the content (%d bytes) or going back", got.offsets, len(content))
			}
		}
		for _, r := range got.records {
			if len(r.Raw) > max {
				t.Errorf("record %d: %d bytes, over the limit %d", r.Index, len(r.Raw), max)
			}
			if end := r.Offset + int64(len(r.Raw)); end <= int64(len(content)) && bytes.Equal(content[r.Offset:end], r.Raw) {
				continue
			}
			if bytes.Contains(content[r.Offset:], r.Raw) { // an EventBridge envelope's detail
				continue
			}
			if !fromLookupItem(content[r.Offset:], r.Raw) {
				t.Errorf("record %d at %d: %.100q is neither the content there, nor inside it, nor the event of a lookup-events item",
					r.Index, r.Offset, r.Raw)
			}
		}
		var pe *ParseError
		switch {
		case errors.As(got.final, &pe):
			if pe.Offset < 0 || pe.Offset > int64(len(content)) {
				t.Errorf("%v: offset out of the content (%d bytes)", pe, len(content))
			}
		case got.final == io.EOF:
			if complete && got.offset != int64(len(content)) {
				t.Errorf("io.EOF at offset %d, before the end of the content (%d bytes)", got.offset, len(content))
			}
		default:
			t.Errorf("ended with %v, want io.EOF or a *ParseError", got.final)
		}

		// Split into one-byte reads, the content must decode the same. (Of
		// a damaged gzip stream, the decompressor itself may give back
		// more or less depending on reads, so this is on the content.)
		if !complete {
			return
		}
		plain := got
		if isGzip(data) {
			plain, _ = run(bytes.NewReader(content))
			if zerr == nil && !isGzip(content) {
				if d1, d2 := summary(got), summary(plain); d1 != d2 {
					t.Errorf("a sound gzip stream decodes unlike its content:\n%s\nplain:\n%s", d1, d2)
				}
			}
		}
		split := iotest.OneByteReader
		if len(content) > 64<<10 { // (a gzip bomb) one byte at a time is too slow
			split = iotest.HalfReader
		}
		again, _ := run(split(bytes.NewReader(content)))
		if d1, d2 := summary(plain), summary(again); d1 != d2 {
			t.Errorf("decoding depends on how the input is read:\n%s\nwith short reads:\n%s", d1, d2)
		}
	})
}

func isGzip(b []byte) bool { return bytes.HasPrefix(b, []byte{0x1f, 0x8b}) }

// decompressed is the content the Decoder reads from data: data, or what
// gzip yields from it up to an error, err. complete is false when a gzip
// bomb had to be cut short.
func decompressed(data []byte) (content []byte, complete bool, err error) {
	if !isGzip(data) {
		return data, true, nil
	}
	zr, err := kgzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, true, err
	}
	const limit = 16 << 20
	content, err = io.ReadAll(io.LimitReader(zr, limit+1))
	return content, len(content) <= limit, err
}

// fromLookupItem reports whether content starts with a lookup-events item
// whose CloudTrailEvent is ev.
func fromLookupItem(content, ev []byte) bool {
	if len(content) == 0 || content[0] != '{' {
		return false
	}
	s := &scanner{buf: content, n: len(content), err: io.EOF}
	v := valueReader{max: len(content)}
	s.startValue()
	if s.readValue(&v, false) != nil {
		return false
	}
	got, err := lookupEvent(v.dst)
	return err == nil && bytes.Equal(got, ev)
}

// summary renders what a decoder returned, to compare two runs.
func summary(d decoded) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format %v, records %d, end %v\n", d.format, d.count, d.final)
	for _, r := range d.records {
		fmt.Fprintf(&b, "record %d at %d: %q\n", r.Index, r.Offset, r.Raw)
	}
	for _, r := range d.rejects {
		fmt.Fprintf(&b, "%v\n", r)
	}
	return b.String()
}

// FuzzParseEvent checks that ParseEvent does not panic, fails only with
// ErrSyntax or ErrNotEvent, and that what it accepts is an event (it has a
// time, a name, an id or a source) held in valid UTF-8.
func FuzzParseEvent(f *testing.F) {
	for _, tt := range parseEventTests {
		f.Add([]byte(tt.raw))
	}
	for i := range 6 {
		f.Add([]byte(sampleEvent(i)))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseEvent(raw)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrNotEvent) {
				t.Fatalf("ParseEvent: %v, want ErrSyntax or ErrNotEvent", err)
			}
			return
		}
		if ev.Time.IsZero() && ev.EventName == "" && ev.EventID == "" && ev.EventSource == "" {
			t.Errorf("accepted %q without a time, name, id or source", raw)
		}
		v := reflect.ValueOf(ev)
		for _, v := range []reflect.Value{v, v.FieldByName("Identity")} {
			for i := range v.NumField() {
				f := v.Field(i)
				switch {
				case f.Kind() == reflect.String && !utf8.ValidString(f.String()),
					f.Kind() == reflect.Slice && !utf8.Valid(f.Bytes()):
					t.Errorf("%s is not valid UTF-8: %q", v.Type().Field(i).Name, f)
				}
			}
		}
		again, err := ParseEvent(raw)
		if err != nil || !reflect.DeepEqual(ev, again) {
			t.Errorf("a second ParseEvent differs: %v", err)
		}
	})
}
