package cloudtrail

import (
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds JSON nesting so hostile input cannot grow the bracket
// stack without limit.
const maxDepth = 10000

// errNewline is returned by readValue in line mode when a raw newline occurs
// inside a value: in JSON Lines that means the line is broken.
var errNewline = errors.New("line ends inside a JSON value")

// scanner splits a stream of JSON text into values without decoding them. It
// tracks the byte offset of everything it reads and keeps at most one value
// (up to a caller's limit) in memory, whatever the size of the input.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	n    int   // valid bytes in buf
	base int64 // stream offset of buf[0]
	err  error // sticky error from r (io.EOF at a clean end)

	// state of the value being read, kept here so a read can be resumed
	// after a newline in line mode turns out to be legitimate.
	stack []byte
	inStr bool
	esc   bool
}

// offset is the stream offset of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// fill reads more input once everything buffered was consumed. It reports
// whether unread bytes are available.
func (s *scanner) fill() bool {
	if s.pos < s.n {
		return true
	}
	if s.err != nil {
		return false
	}
	s.base += int64(s.n)
	s.pos, s.n = 0, 0
	for s.n == 0 {
		m, err := s.r.Read(s.buf)
		s.n = m
		if err != nil {
			s.err = err
			break
		}
	}
	return s.n > 0
}

// readErr is the error to report when input ran out: the reader's own
// failure (a corrupt gzip stream, an I/O error) or truncation.
func (s *scanner) readErr() error {
	if s.err == nil || errors.Is(s.err, io.EOF) {
		return ErrTruncated
	}
	if errors.Is(s.err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %v", ErrTruncated, s.err)
	}
	return s.err
}

// atEOF reports a clean end of input.
func (s *scanner) atEOF() bool {
	return !s.fill() && (s.err == nil || errors.Is(s.err, io.EOF))
}

// peek returns the next byte without consuming it.
func (s *scanner) peek() (byte, bool) {
	if !s.fill() {
		return 0, false
	}
	return s.buf[s.pos], true
}

// skipSpace consumes JSON whitespace, appending it to v when v is not nil
// (whitespace inside a record is part of its raw text). With stopAtNewline
// it stops before a newline and reports that it saw one.
func (s *scanner) skipSpace(v *valueReader, stopAtNewline bool) (sawNewline bool) {
	for s.fill() {
		start := s.pos
		for s.pos < s.n {
			switch s.buf[s.pos] {
			case '\n':
				if stopAtNewline {
					v.add(s.buf[start:s.pos])
					return true
				}
				sawNewline = true
			case ' ', '\t', '\r':
			default:
				v.add(s.buf[start:s.pos])
				return sawNewline
			}
			s.pos++
		}
		v.add(s.buf[start:s.pos])
	}
	return sawNewline
}

// skipBOM consumes a UTF-8 byte order mark, byte by byte so that it may be
// split across reads, and reports whether there was one.
func (s *scanner) skipBOM() bool {
	for _, b := range [...]byte{0xEF, 0xBB, 0xBF} {
		if c, ok := s.peek(); !ok || c != b {
			return false
		}
		s.pos++
	}
	return true
}

// skipLine consumes everything up to and including the next newline.
func (s *scanner) skipLine() {
	for s.fill() {
		for i := s.pos; i < s.n; i++ {
			if s.buf[i] == '\n' {
				s.pos = i + 1
				return
			}
		}
		s.pos = s.n
	}
}

// valueReader accumulates the bytes of one value up to a limit.
type valueReader struct {
	dst      []byte
	max      int
	size     int64
	tooLarge bool
}

func (v *valueReader) add(p []byte) {
	if v == nil {
		return
	}
	v.size += int64(len(p))
	if v.tooLarge {
		return
	}
	if len(v.dst)+len(p) > v.max {
		v.tooLarge = true
		return
	}
	v.dst = append(v.dst, p...)
}

// startValue resets the value state; stack holds brackets already open (for
// a value whose start was consumed by the caller).
func (s *scanner) startValue(open ...byte) {
	s.stack = append(s.stack[:0], open...)
	s.inStr, s.esc = false, false
}

// readValue consumes one JSON value (or, after startValue with open
// brackets, the rest of one), appending its bytes to v. It checks bracket
// structure, not full syntax: the decoder that reads the record does that.
// In line mode a newline inside the value stops it with errNewline, the
// newline unconsumed, so the caller can resume (resumeValue) or skip the line.
func (s *scanner) readValue(v *valueReader, lineMode bool) error {
	scalar := false
	if len(s.stack) == 0 && !s.inStr {
		c, ok := s.peek()
		if !ok {
			return s.readErr()
		}
		switch c {
		case '{', '[', '"':
		default:
			scalar = true
		}
	}
	for {
		if !s.fill() {
			if scalar && (s.err == nil || errors.Is(s.err, io.EOF)) {
				return nil // a number or literal may end the input
			}
			return s.readErr()
		}
		start, i, buf := s.pos, s.pos, s.buf[:s.n]
		for i < len(buf) {
			c := buf[i]
			if s.inStr {
				if s.esc {
					if c == '\n' && lineMode { // a backslash cannot carry a string over a line
						v.add(buf[start:i])
						s.pos = i
						return errNewline
					}
					s.esc = false
					i++
					continue
				}
				// fast path through the body of a string
				for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] >= 0x20 {
					i++
				}
				if i == len(buf) {
					break
				}
				switch buf[i] {
				case '"':
					s.inStr = false
					if len(s.stack) == 0 { // a top-level string
						v.add(buf[start : i+1])
						s.pos = i + 1
						return nil
					}
				case '\\':
					s.esc = true
				case '\n':
					if lineMode {
						v.add(buf[start:i])
						s.pos = i
						return errNewline
					}
				}
				i++
				continue
			}
			if scalar {
				switch c {
				case ' ', '\t', '\r', '\n', ',', ']', '}', ':', '[', '{', '"':
					v.add(buf[start:i])
					s.pos = i
					return nil
				}
				i++
				continue
			}
			switch c {
			case '"':
				s.inStr = true
			case '{', '[':
				if len(s.stack) >= maxDepth {
					s.pos = i
					return fmt.Errorf("%w: nesting deeper than %d", ErrSyntax, maxDepth)
				}
				s.stack = append(s.stack, c)
			case '}', ']':
				want := byte('{')
				if c == ']' {
					want = '['
				}
				if len(s.stack) == 0 || s.stack[len(s.stack)-1] != want {
					s.pos = i
					return fmt.Errorf("%w: unexpected %q", ErrSyntax, c)
				}
				s.stack = s.stack[:len(s.stack)-1]
				if len(s.stack) == 0 {
					v.add(buf[start : i+1])
					s.pos = i + 1
					return nil
				}
			case '\n':
				if lineMode {
					v.add(buf[start:i])
					s.pos = i
					return errNewline
				}
			}
			i++
		}
		v.add(buf[start:i])
		s.pos = i
	}
}

// resumeValue continues a value that readValue stopped at a newline, once
// the caller has decided the newline is legitimate.
func (s *scanner) resumeValue(v *valueReader) error {
	v.add(s.buf[s.pos : s.pos+1])
	s.pos++
	return s.readValue(v, false)
}

// readKey consumes an object key (a JSON string), appending it to v, and
// returns its raw text (with quotes) when it fit within v's limit, nil
// otherwise; that is enough to tell the handful of keys the decoder looks
// for. In line mode a newline inside the key stops it with errNewline.
func (s *scanner) readKey(v *valueReader, lineMode bool) ([]byte, error) {
	c, ok := s.peek()
	if !ok {
		return nil, s.readErr()
	}
	if c != '"' {
		return nil, fmt.Errorf("%w: expected an object key, found %q", ErrSyntax, c)
	}
	start := len(v.dst)
	s.startValue()
	if err := s.readValue(v, lineMode); err != nil {
		return nil, err
	}
	if v.tooLarge {
		return nil, nil
	}
	return v.dst[start:], nil
}

// expect consumes byte c, appending it to v.
func (s *scanner) expect(v *valueReader, c byte) error {
	got, ok := s.peek()
	if !ok {
		return s.readErr()
	}
	if got != c {
		return fmt.Errorf("%w: expected %q, found %q", ErrSyntax, c, got)
	}
	v.add(s.buf[s.pos : s.pos+1])
	s.pos++
	return nil
}

// nextLineStartsObject reports whether the byte after the newline at the
// current position is '{', reading ahead (without consuming) if needed.
func (s *scanner) nextLineStartsObject() bool {
	if s.pos >= s.n || s.buf[s.pos] != '\n' {
		return false
	}
	for s.pos+1 >= s.n && s.err == nil {
		// keep the unread bytes, make room, and read more
		copy(s.buf, s.buf[s.pos:s.n])
		s.base += int64(s.pos)
		s.n -= s.pos
		s.pos = 0
		m, err := s.r.Read(s.buf[s.n:])
		s.n += m
		if err != nil {
			s.err = err
		}
	}
	return s.pos+1 < s.n && s.buf[s.pos+1] == '{'
}
