package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// jv is a JSON value decoded keeping member order and number spelling, so
// the reference matcher can render values exactly as DuckDB's JSON functions
// do (json_extract_string): strings unescaped, objects and arrays as compact
// JSON, floats normalised.
type jv struct {
	kind byte // 's' string, 'n' number, 'b' bool, 'z' null, 'o' object, 'a' array
	s    string
	keys []string
	vals []*jv
}

func decodeJV(data []byte) (*jv, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func decodeValue(d *json.Decoder) (*jv, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			v := &jv{kind: 'o'}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				c, err := decodeValue(d)
				if err != nil {
					return nil, err
				}
				// a repeated key: DuckDB (yyjson) finds the first
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, c)
			}
			_, err := d.Token()
			return v, err
		case '[':
			v := &jv{kind: 'a'}
			for d.More() {
				c, err := decodeValue(d)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, c)
			}
			_, err := d.Token()
			return v, err
		}
	case string:
		return &jv{kind: 's', s: x}, nil
	case json.Number:
		return &jv{kind: 'n', s: normNumber(string(x))}, nil
	case bool:
		return &jv{kind: 'b', s: strconv.FormatBool(x)}, nil
	case nil:
		return &jv{kind: 'z'}, nil
	}
	return nil, errors.New("unexpected JSON token")
}

func (v *jv) member(k string) *jv {
	if v == nil || v.kind != 'o' {
		return nil
	}
	for i, key := range v.keys {
		if key == k {
			return v.vals[i]
		}
	}
	return nil
}

// text is the value as json_extract_string gives it; ok is false for null
// and absent values.
func (v *jv) text() (string, bool) {
	if v == nil || v.kind == 'z' {
		return "", false
	}
	switch v.kind {
	case 's', 'n', 'b':
		return v.s, true
	}
	var b strings.Builder
	v.write(&b)
	return b.String(), true
}

func (v *jv) write(b *strings.Builder) {
	switch v.kind {
	case 's':
		writeJSONString(b, v.s)
	case 'n', 'b':
		b.WriteString(v.s)
	case 'z':
		b.WriteString("null")
	case 'o':
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			v.vals[i].write(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, c := range v.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			c.write(b)
		}
		b.WriteByte(']')
	}
}

// writeJSONString escapes as DuckDB's JSON writer does: quote, backslash and
// control characters only.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// normNumber spells a JSON number as DuckDB prints it back: integers as
// written, other numbers as the shortest double, with ".0" when integral and
// an exponent outside 1e-6 … 1e21.
func normNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return lit
	}
	a := math.Abs(f)
	if a != 0 && (a < 1e-6 || a >= 1e21) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		s = strings.Replace(s, "e+", "e", 1)
		s = strings.Replace(s, "e0", "e", 1)
		s = strings.Replace(s, "e-0", "e-", 1)
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
