package integrity

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Sentinel errors inside a *ParseError; test them with errors.Is.
var (
	// ErrCorrupt means the gzip stream is broken or cut off.
	ErrCorrupt = errors.New("corrupt or truncated gzip stream")
	// ErrSyntax means the content is not well-formed JSON.
	ErrSyntax = errors.New("malformed JSON")
	// ErrFormat means the JSON is not of the expected shape: a required
	// field is absent or of the wrong type, a time does not parse.
	ErrFormat = errors.New("invalid format")
	// ErrTooLarge means the content exceeds what such a file can hold.
	ErrTooLarge = errors.New("too large")
)

// MaxDigestSize bounds a digest's uncompressed content. A digest lists the
// log files of one hour of one region, a few kilobytes to a few megabytes;
// the bound keeps a hostile file from exhausting memory.
const MaxDigestSize = 64 << 20

// ParseError says where a digest, metadata sidecar or public key list
// could not be read.
type ParseError struct {
	Offset int64  // byte offset in the uncompressed content, -1 when unknown
	Field  string // the JSON field at fault, when one is
	Err    error
}

// Error says what went wrong and where.
func (e *ParseError) Error() string {
	switch {
	case e.Field != "":
		return fmt.Sprintf("field %s: %v", e.Field, e.Err)
	case e.Offset >= 0:
		return fmt.Sprintf("byte offset %d: %v", e.Offset, e.Err)
	}
	return e.Err.Error()
}

// Unwrap returns the sentinel or reader error.
func (e *ParseError) Unwrap() error { return e.Err }

// Digest is one digest file as CloudTrail wrote it. Fields that are null
// in the file are empty (zero times), except PreviousSignature, whose null
// is part of what is signed.
type Digest struct {
	AccountID            string
	StartTime, EndTime   time.Time // digestStartTime and digestEndTime, UTC
	EndTimeText          string    // digestEndTime as written: it is part of the string to sign
	Bucket, Object       string    // digestS3Bucket and digestS3Object: where CloudTrail wrote it
	PublicKeyFingerprint string
	SignatureAlgorithm   string // digestSignatureAlgorithm; empty when absent
	OldestEventTime      time.Time
	NewestEventTime      time.Time
	PreviousBucket       string
	PreviousObject       string
	PreviousHashValue    string
	PreviousHashAlgo     string
	// PreviousSignature is nil when the digest names no previous one: the
	// first digest of a trail, or the first after validation or logging
	// was stopped.
	PreviousSignature *string
	LogFiles          []LogFile
	SHA256            [32]byte // of the uncompressed content, as the next digest records it
	Size              int64    // uncompressed bytes
}

// LogFile is one log file a digest lists.
type LogFile struct {
	Bucket, Object  string
	HashValue       string // hex SHA-256 of the uncompressed log file
	HashAlgorithm   string
	OldestEventTime time.Time
	NewestEventTime time.Time
}

// StringToSign is what CloudTrail signs for the digest: its end time, its
// S3 location, the hex SHA-256 of its uncompressed content and the
// signature of the previous digest ("null" when there is none), each on
// its own line.
func (d *Digest) StringToSign() string {
	prev := "null"
	if d.PreviousSignature != nil {
		prev = *d.PreviousSignature
	}
	return d.EndTimeText + "\n" + d.Bucket + "/" + d.Object + "\n" + hex.EncodeToString(d.SHA256[:]) + "\n" + prev
}

// requiredDigestFields must be present in a digest (previousDigestSignature
// may be null), as the AWS CLI requires.
var requiredDigestFields = []string{"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
	"previousDigestSignature", "digestEndTime", "digestStartTime"}

// ParseDigest reads one digest file, gzip'd (detected from its first
// bytes) or not. Errors are *ParseError wrapping ErrCorrupt, ErrSyntax,
// ErrFormat, ErrTooLarge or the reader's own error.
func ParseDigest(r io.Reader) (*Digest, error) {
	c, err := newContent(r)
	if err != nil {
		return nil, &ParseError{Offset: 0, Err: err}
	}
	defer c.close()
	b, err := io.ReadAll(io.LimitReader(c, MaxDigestSize+1))
	if err != nil {
		return nil, &ParseError{Offset: c.n, Err: err}
	}
	if len(b) > MaxDigestSize {
		return nil, &ParseError{Offset: MaxDigestSize, Err: fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxDigestSize)}
	}
	d, err := parseDigestJSON(b)
	if err != nil {
		return nil, err
	}
	d.SHA256 = sha256.Sum256(b)
	d.Size = int64(len(b))
	return d, nil
}

// fields reads the members of one JSON object, telling null from absent
// and insisting on the types CloudTrail writes. Member names are matched
// exactly (encoding/json would match struct fields in any case).
type fields struct {
	m      map[string]json.RawMessage
	prefix string
	err    error
}

func (f *fields) fail(name, why string) {
	if f.err == nil {
		f.err = &ParseError{Offset: -1, Field: f.prefix + name, Err: fmt.Errorf("%w: %s", ErrFormat, why)}
	}
}

// str returns a string member; null and absent give nil.
func (f *fields) str(name string, required bool) *string {
	raw, ok := f.m[name]
	if !ok {
		if required {
			f.fail(name, "absent")
		}
		return nil
	}
	if string(raw) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.fail(name, "not a string")
		return nil
	}
	return &s
}

func (f *fields) text(name string, required bool) string {
	if s := f.str(name, required); s != nil {
		return *s
	}
	if required {
		f.fail(name, "null")
	}
	return ""
}

func (f *fields) time(name string, required bool) (time.Time, string) {
	s := f.text(name, required)
	if s == "" {
		if required {
			f.fail(name, "empty")
		}
		return time.Time{}, ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if required {
			f.fail(name, fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
		return time.Time{}, s
	}
	return t.UTC(), s
}

func parseDigestJSON(b []byte) (*Digest, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, jsonError(b, err)
	}
	if top == nil {
		return nil, &ParseError{Offset: 0, Err: fmt.Errorf("%w: null instead of a digest object", ErrFormat)}
	}
	f := &fields{m: top}
	for _, name := range requiredDigestFields {
		if _, ok := top[name]; !ok {
			f.fail(name, "absent")
		}
	}
	d := &Digest{
		AccountID:            f.text("awsAccountId", false),
		Bucket:               f.text("digestS3Bucket", true),
		Object:               f.text("digestS3Object", true),
		PublicKeyFingerprint: f.text("digestPublicKeyFingerprint", true),
		SignatureAlgorithm:   f.text("digestSignatureAlgorithm", false),
		PreviousBucket:       f.text("previousDigestS3Bucket", false),
		PreviousObject:       f.text("previousDigestS3Object", false),
		PreviousHashValue:    f.text("previousDigestHashValue", false),
		PreviousHashAlgo:     f.text("previousDigestHashAlgorithm", false),
		PreviousSignature:    f.str("previousDigestSignature", true),
	}
	d.StartTime, _ = f.time("digestStartTime", true)
	d.EndTime, d.EndTimeText = f.time("digestEndTime", true)
	d.OldestEventTime, _ = f.time("oldestEventTime", false)
	d.NewestEventTime, _ = f.time("newestEventTime", false)
	if f.err != nil {
		return nil, f.err
	}
	if raw, ok := top["logFiles"]; ok && string(raw) != "null" {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, &ParseError{Offset: -1, Field: "logFiles", Err: fmt.Errorf("%w: not a list of objects", ErrFormat)}
		}
		d.LogFiles = make([]LogFile, 0, len(list))
		for i, m := range list {
			lf := &fields{m: m, prefix: fmt.Sprintf("logFiles[%d].", i)}
			if m == nil {
				lf.fail("", "null")
			}
			e := LogFile{
				Bucket:        lf.text("s3Bucket", false),
				Object:        lf.text("s3Object", true),
				HashValue:     lf.text("hashValue", true),
				HashAlgorithm: lf.text("hashAlgorithm", false),
			}
			e.OldestEventTime, _ = lf.time("oldestEventTime", false)
			e.NewestEventTime, _ = lf.time("newestEventTime", false)
			if lf.err != nil {
				return nil, lf.err
			}
			d.LogFiles = append(d.LogFiles, e)
		}
	}
	return d, nil
}

// jsonError turns an encoding/json error into a *ParseError that says where.
func jsonError(b []byte, err error) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &ParseError{Offset: 0, Err: fmt.Errorf("%w: empty", ErrSyntax)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &ParseError{Offset: se.Offset, Err: fmt.Errorf("%w: %v", ErrSyntax, se)}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ParseError{Offset: te.Offset, Err: fmt.Errorf("%w: %s where an object was expected", ErrFormat, te.Value)}
	}
	return &ParseError{Offset: -1, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
}

// sameHex compares two hex strings regardless of letter case and of
// surrounding white space.
func sameHex(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
