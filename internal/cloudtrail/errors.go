package cloudtrail

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on; they are wrapped in *ParseError or
// *RecordError, so test them with errors.Is.
var (
	// ErrNotCloudTrail means the content is valid JSON but not a shape of
	// CloudTrail evidence this package knows.
	ErrNotCloudTrail = errors.New("not CloudTrail evidence")
	// ErrEmpty means the file (after decompression) holds nothing but whitespace.
	ErrEmpty = errors.New("empty file")
	// ErrTruncated means the input ended inside a JSON value: a cut-off
	// download, a truncated gzip stream, or a file still being written.
	ErrTruncated = errors.New("unexpected end of input (truncated?)")
	// ErrTooLarge means one record exceeded the decoder's size limit; it was
	// skipped without being held in memory.
	ErrTooLarge = errors.New("record exceeds size limit")
	// ErrSyntax means the JSON structure is broken.
	ErrSyntax = errors.New("malformed JSON")
	// ErrNotEvent means a record is JSON but not a CloudTrail event.
	ErrNotEvent = errors.New("not a CloudTrail event")
)

// ParseError is a failure that stops reading a file: nothing after Offset
// could be read. Records returned before it are sound.
type ParseError struct {
	Offset int64 // byte offset in the decompressed content
	Record int64 // index of the record being read, -1 when between records
	Err    error
}

func (e *ParseError) Error() string {
	if e.Record >= 0 {
		return fmt.Sprintf("byte offset %d (record %d): %v", e.Offset, e.Record, e.Err)
	}
	return fmt.Sprintf("byte offset %d: %v", e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// RecordError rejects one record; the Decoder can go on to the next one.
type RecordError struct {
	Offset int64 // byte offset of the record in the decompressed content
	Record int64 // the record's index in the file
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d at byte offset %d: %v", e.Record, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }
