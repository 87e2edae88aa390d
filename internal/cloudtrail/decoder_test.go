package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// Short events for the table; the offsets below are written in terms of
// their lengths so that each case says where its records are.
const (
	evA = `{"eventVersion":"1.08","eventName":"A"}`
	evB = `{"eventVersion":"1.08","eventName":"B"}`
	evC = `{"eventVersion":"1.08","eventName":"C"}`

	// evPretty is an event as a pretty-printer writes it, at the depth of
	// an element of an indented Records array.
	evPretty = "{\n      \"eventVersion\": \"1.08\",\n      \"eventName\": \"P\"\n    }"

	digest = `{"awsAccountId":"111122223333","digestStartTime":"2026-03-14T08:00:00Z",` +
		`"digestEndTime":"2026-03-14T09:00:00Z","digestS3Bucket":"trail-bucket",` +
		`"digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/x.json.gz",` +
		`"logFiles":[{"s3Bucket":"trail-bucket","s3Object":"AWSLogs/x.json.gz",` +
		`"hashValue":"00ff","hashAlgorithm":"SHA-256"}]}`
	digestMeta = `{"signature":"0a1b2c","signature-algorithm":"SHA256withRSA"}`

	bom = "\xEF\xBB\xBF"
)

// item wraps an event as an item of `aws cloudtrail lookup-events` output,
// where the event is a JSON document inside a string.
func item(ev string) string {
	s, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return `{"EventId":"e1","EventName":"X","CloudTrailEvent":` + string(s) + `}`
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.String()
}

// storedGzip builds a gzip member by hand from deflate blocks stored
// uncompressed, one per part, so a test can corrupt the header of one block
// (corruptBlock, -1 for none) and know exactly what decompresses before it.
func storedGzip(corruptBlock int, parts ...string) string {
	var b bytes.Buffer
	b.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	crc := crc32.NewIEEE()
	size := 0
	for i, p := range parts {
		final := byte(0)
		if i == len(parts)-1 {
			final = 1
		}
		b.WriteByte(final) // BFINAL, BTYPE 00: stored
		n := uint16(len(p))
		nn := ^n
		if i == corruptBlock {
			nn = n // NLEN must be the complement of LEN
		}
		b.Write(binary.LittleEndian.AppendUint16(nil, n))
		b.Write(binary.LittleEndian.AppendUint16(nil, nn))
		b.WriteString(p)
		crc.Write([]byte(p))
		size += len(p)
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(size)))
	return b.String()
}

// badCRC damages the CRC-32 in the trailer of a gzip member.
func badCRC(s string) string {
	b := []byte(s)
	b[len(b)-8] ^= 0xff
	return string(b)
}

// errGzipCorrupt stands, in the table, for the decompressor's own error
// about a damaged stream (not a sentinel of this package).
var errGzipCorrupt = errors.New("gzip stream is corrupt")

type wantRecord struct {
	index, offset int
	raw           string
}

type wantReject struct {
	index, offset int
	err           error // a sentinel, tested with errors.Is
}

var decoderTests = []struct {
	name    string
	input   string
	gzip    bool   // compress input before decoding it
	file    string // when set, decode a file of that name holding the input
	max     int    // SetMaxRecordSize, when not 0
	format  Format
	records []wantRecord
	rejects []wantReject
	// final is the *ParseError that ends the file (Err holds the sentinel
	// it must wrap); nil means io.EOF.
	final *ParseError
}{
	// Trail log files.
	{
		name:    "trail log one record",
		input:   `{"Records":[` + evA + `]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
	},
	{
		name:   "trail log many records",
		input:  `{"Records":[` + evA + `,` + evB + `,` + evC + `]}`,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
			{1, 12 + len(evA) + 1, evB},
			{2, 12 + 2*len(evA) + 2, evC},
		},
	},
	{
		name:   "trail log pretty-printed",
		input:  "{\n  \"Records\": [\n    " + evPretty + ",\n    " + evA + "\n  ]\n}\n",
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 21, evPretty},
			{1, 21 + len(evPretty) + 6, evA},
		},
	},
	{
		name:   "trail log gzip",
		input:  `{"Records":[` + evA + `,` + evB + `]}`,
		gzip:   true,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
			{1, 12 + len(evA) + 1, evB},
		},
	},
	{
		name:   "trail log empty Records",
		input:  `{"Records":[]}`,
		format: FormatTrailLog,
	},
	{
		name:    "trail log keys after Records",
		input:   `{"Records":[` + evA + `],"x":{"y":[1,"]}"]},"z":null}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
	},
	{
		name:   "trail logs concatenated",
		input:  `{"Records":[` + evA + `]}` + `{"Records":[` + evB + `]}`,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
			{1, 14 + len(evA) + 12, evB},
		},
	},
	{
		name:    "trail log Records not first",
		input:   `{"x":1,"Records":[` + evA + `]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 18, evA}},
	},

	// lookup-events output.
	{
		name:   "lookup-events one page",
		input:  `{"Events":[` + item(evA) + `,` + item(evB) + `],"NextToken":"abc"}`,
		format: FormatLookupEvents,
		records: []wantRecord{
			{0, 11, evA},
			{1, 11 + len(item(evA)) + 1, evB},
		},
	},
	{
		name: "lookup-events pages with NextToken before and after Events",
		input: `{"NextToken":"t1","Events":[` + item(evA) + "]}\n" +
			`{"Events":[` + item(evB) + `],"NextToken":"t2"}` + "\n" +
			`{"Events":[]}`,
		format: FormatLookupEvents,
		records: []wantRecord{
			{0, 28, evA},
			{1, 28 + len(item(evA)) + 3 + 11, evB},
		},
	},
	{
		name: "lookup-events pretty-printed, NextToken first",
		input: "{\n    \"NextToken\": \"t1\",\n    \"Events\": [\n        " + item(evA) +
			",\n        " + item(evB) + "\n    ]\n}\n",
		format: FormatLookupEvents,
		records: []wantRecord{
			{0, 49, evA},
			{1, 49 + len(item(evA)) + 10, evB},
		},
	},
	{
		// what cannot be streamed must fit in the limit (see Decoder)
		name:    "lookup-events, NextToken first, page over the size limit",
		input:   `{"NextToken":"t1","Events":[` + item(evA) + `]}`,
		max:     64,
		format:  FormatJSONLines,
		rejects: []wantReject{{0, 0, ErrTooLarge}},
	},
	{
		name:    "lookup-events item without CloudTrailEvent",
		input:   `{"Events":[{"EventId":"e0","EventName":"X"},` + item(evA) + `]}`,
		format:  FormatLookupEvents,
		records: []wantRecord{{1, 44, evA}},
		rejects: []wantReject{{0, 11, ErrNotEvent}},
	},
	{
		name: "lookup-events CloudTrailEvent not an object",
		input: `{"Events":[{"CloudTrailEvent":"not json"},{"CloudTrailEvent":42},` +
			`{"CloudTrailEvent":null},{"CloudTrailEvent":"[1]"},` + item(evA) + `]}`,
		format:  FormatLookupEvents,
		records: []wantRecord{{4, 116, evA}},
		rejects: []wantReject{
			{0, 11, ErrNotEvent},
			{1, 42, ErrNotEvent},
			{2, 65, ErrNotEvent},
			{3, 90, ErrNotEvent},
		},
	},
	{
		name:    "lookup-events item with broken JSON",
		input:   `{"Events":[{"CloudTrailEvent" "x"},` + item(evA) + `]}`,
		format:  FormatLookupEvents,
		records: []wantRecord{{1, 35, evA}},
		rejects: []wantReject{{0, 11, ErrSyntax}},
	},
	{
		name:    "lookup-events element that is an event",
		input:   `{"NextToken":"t","Events":[` + evA + `]}`,
		format:  FormatLookupEvents,
		records: []wantRecord{{0, 27, evA}},
	},
	{
		name:    "lookup-events item as a JSON Lines line",
		input:   item(evA) + "\n",
		format:  FormatLookupEvents,
		records: []wantRecord{{0, 0, evA}},
	},

	// JSON Lines.
	{
		name:   "JSON Lines",
		input:  evA + "\n" + evB + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{1, 40, evB},
		},
	},
	{
		name:   "JSON Lines blank lines, no final newline",
		input:  "\n" + evA + "\n\n  \t \n" + evB,
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 1, evA},
			{1, 1 + 40 + 6, evB},
		},
	},
	{
		name:   "JSON Lines CRLF",
		input:  evA + "\r\n" + evB + "\r\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{1, 41, evB},
		},
	},
	{
		name:    "JSON Lines first line cut after a comma",
		input:   `{"eventVersion":"1.08",` + "\n" + evA + "\n" + evB + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{1, 24, evA}, {2, 24 + 40, evB}},
		rejects: []wantReject{{0, 0, ErrSyntax}},
	},
	{
		name:    "JSON Lines first line cut at its head",
		input:   `"eventName":"X"}` + "\n" + evA + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{1, 17, evA}},
		rejects: []wantReject{{0, 0, ErrSyntax}},
	},
	{
		name:    "JSON Lines garbage first line",
		input:   "#!garbage\n" + evA + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{1, 10, evA}},
		rejects: []wantReject{{0, 0, ErrSyntax}},
	},
	{
		name:    "EventBridge envelopes, one per line",
		input:   `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":` + evA + "}\n" + `{"version":"0","detail-type":"Scheduled Event","detail":{}}` + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{0, 0, evA}},
		rejects: []wantReject{{1, 128, ErrNotEvent}},
	},
	{
		name:   "digest metadata as aws s3api head-object prints it",
		input:  `{"AcceptRanges":"bytes","ContentLength":1234,"Metadata":{"signature":"00ff","signature-algorithm":"SHA256withRSA"}}`,
		format: FormatDigestMetadata,
	},
	{
		name:   "list-public-keys output",
		input:  `{"PublicKeyList":[{"Value":"AAAA","Fingerprint":"00","ValidityStartTime":"2026-03-01T00:00:00Z","ValidityEndTime":"2026-04-01T00:00:00Z"}]}`,
		format: FormatPublicKeys,
	},
	{
		name:    "JSON Lines with a digest-shaped line is counted",
		input:   evA + "\n" + `{"digestStartTime":"x","logFiles":[]}` + "\n" + evB + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{0, 0, evA}, {2, 40 + 38, evB}},
		rejects: []wantReject{{1, 40, ErrNotEvent}},
	},
	{
		name:   "JSON Lines broken line in the middle",
		input:  evA + "\n" + `{"eventVersion":"1.08","eventName":` + "\n" + evB + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{2, 40 + 36, evB},
		},
		rejects: []wantReject{{1, 40, ErrSyntax}},
	},
	{
		name:   "JSON Lines line cut inside a string",
		input:  evA + "\n" + `{"eventVersion":"1.08","eventName":"Cu` + "\n" + evB + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{2, 40 + 39, evB},
		},
		rejects: []wantReject{{1, 40, ErrSyntax}},
	},
	{
		name:   "JSON Lines line cut inside a key",
		input:  evA + "\n" + `{"eventVer` + "\n" + evB + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{2, 40 + 11, evB},
		},
		rejects: []wantReject{{1, 40, ErrSyntax}},
	},
	{
		name:   "JSON Lines line cut after a backslash",
		input:  evA + "\n" + `{"eventVersion":"1.08","x":"\` + "\n" + evB + "\n" + evC + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{2, 40 + 30, evB},
			{3, 40 + 30 + 40, evC},
		},
		rejects: []wantReject{{1, 40, ErrSyntax}},
	},
	{
		name:   "JSON Lines first line cut inside a string",
		input:  `{"eventVersion":"1.08","eventName":"Cu` + "\n" + evA + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{1, 39, evA},
		},
		rejects: []wantReject{{0, 0, ErrSyntax}},
	},
	{
		name:   "JSON Lines lines that are not events",
		input:  evA + "\n" + `{"foo":1}` + "\n42\n\"text\"\nnull\n" + evB + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{5, 40 + 10 + 3 + 7 + 5, evB},
		},
		rejects: []wantReject{
			{1, 40, ErrNotEvent},
			{2, 50, ErrNotEvent},
			{3, 53, ErrNotEvent},
			{4, 60, ErrNotEvent},
		},
	},
	{
		name:   "JSON Lines truncated last line",
		input:  evA + "\n" + `{"eventVersion":"1.08","even`,
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
		},
		rejects: []wantReject{{1, 40, ErrTruncated}},
	},
	{
		name:    "JSON Lines long first key",
		input:   `{"` + strings.Repeat("k", 300) + `":1,"eventVersion":"1.08"}` + "\n" + evA,
		format:  FormatJSONLines,
		records: []wantRecord{{0, 0, `{"` + strings.Repeat("k", 300) + `":1,"eventVersion":"1.08"}`}, {1, 329, evA}},
	},
	{
		name:    "JSON Lines whitespace inside the object kept",
		input:   `{ "eventVersion" : "1.08" , "eventName" : "A" }` + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{0, 0, `{ "eventVersion" : "1.08" , "eventName" : "A" }`}},
	},
	{
		name:    "pretty-printed single event",
		input:   "\n" + evPretty + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{0, 1, evPretty}},
	},
	{
		name:   "pretty-printed events concatenated",
		input:  evPretty + "\n" + evPretty,
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evPretty},
			{1, len(evPretty) + 1, evPretty},
		},
	},

	// JSON arrays.
	{
		name:   "JSON array of events",
		input:  `[` + evA + `,` + evB + `]`,
		format: FormatJSONArray,
		records: []wantRecord{
			{0, 1, evA},
			{1, 41, evB},
		},
	},
	{
		name:   "JSON array pretty-printed",
		input:  "[\n  " + evA + ",\n  " + evB + "\n]\n",
		format: FormatJSONArray,
		records: []wantRecord{
			{0, 4, evA},
			{1, 4 + 39 + 4, evB},
		},
	},
	{
		name:   "JSON array of lookup-events items",
		input:  `[` + item(evA) + `, ` + item(evB) + `]`,
		format: FormatJSONArray,
		records: []wantRecord{
			{0, 1, evA},
			{1, 1 + len(item(evA)) + 2, evB},
		},
	},
	{
		name:  "JSON array empty",
		input: `[]`, format: FormatJSONArray,
	},
	{
		name:    "JSON array then a stray value",
		input:   `[` + evA + `] x`,
		format:  FormatJSONArray,
		records: []wantRecord{{0, 1, evA}},
		rejects: []wantReject{{1, 42, ErrNotEvent}},
	},

	// Byte order marks.
	{
		name:    "UTF-8 BOM trail log",
		input:   bom + `{"Records":[` + evA + `]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 15, evA}},
	},
	{
		name:    "UTF-8 BOM JSON Lines",
		input:   bom + evA + "\n",
		format:  FormatJSONLines,
		records: []wantRecord{{0, 3, evA}},
	},
	{
		name:  "UTF-8 BOM only",
		input: bom,
		final: &ParseError{Offset: 3, Record: -1, Err: ErrEmpty},
	},
	{
		name:  "half a BOM",
		input: "\xEF\xBB{}",
		final: &ParseError{Offset: 0, Record: -1, Err: ErrNotCloudTrail},
	},

	// Digests.
	{
		name:   "digest file",
		input:  digest,
		format: FormatDigest,
	},
	{
		name:   "digest file gzip",
		input:  digest + "\n",
		gzip:   true,
		format: FormatDigest,
	},
	{
		name:   "digest metadata sidecar",
		input:  digestMeta,
		format: FormatDigestMetadata,
	},

	// Empty input.
	{
		name:  "empty file",
		input: "",
		final: &ParseError{Offset: 0, Record: -1, Err: ErrEmpty},
	},
	{
		name:  "whitespace only",
		input: " \n\t\r\n",
		final: &ParseError{Offset: 5, Record: -1, Err: ErrEmpty},
	},
	{
		name:  "0-byte file named .gz",
		input: "",
		file:  "empty.json.gz",
		final: &ParseError{Offset: 0, Record: -1, Err: ErrEmpty},
	},
	{
		name:  "gzip of an empty payload",
		input: "",
		gzip:  true,
		final: &ParseError{Offset: 0, Record: -1, Err: ErrEmpty},
	},

	// Gzip streams.
	{
		name:  "multi-member gzip",
		input: gzipped(bom[:1]) + gzipped(bom[1:]+`{"Records":[`+evA+`,`) + gzipped(evB+`]}`),
		// the members split the BOM and a record list; together they are one stream
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 15, evA},
			{1, 15 + 39 + 1, evB},
		},
	},
	{
		name:    "corrupt gzip block in the middle",
		input:   storedGzip(1, `{"Records":[`+evA+`,{"eventVer`, `sion":"1.08"},`+evB+`]}`),
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 11, Record: 1, Err: errGzipCorrupt},
	},
	{
		name:   "gzip checksum mismatch",
		input:  badCRC(gzipped(`{"Records":[` + evA + `]}`)),
		format: FormatTrailLog,
		// the whole content decompressed; the damage shows only at the end
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 2, Record: -1, Err: errGzipCorrupt},
	},

	// Not CloudTrail.
	{
		name:  "JSON object that is not CloudTrail",
		input: `{"foo":1}`,
		final: &ParseError{Offset: 9, Record: -1, Err: ErrNotCloudTrail},
	},
	{
		name:  "object with Events that is not an array",
		input: `{"Events":"none"}`,
		final: &ParseError{Offset: 17, Record: -1, Err: ErrNotCloudTrail},
	},
	{
		name:  "top-level number",
		input: "42\n",
		final: &ParseError{Offset: 0, Record: -1, Err: ErrNotCloudTrail},
	},
	{
		name:  "CSV file",
		input: "eventTime,eventName\n2026-03-14T09:12:33Z,ConsoleLogin\n",
		final: &ParseError{Offset: 0, Record: -1, Err: ErrNotCloudTrail},
	},
	{
		name:  "binary junk",
		input: "\x00\x01\x02\xff\xfe\x7f",
		final: &ParseError{Offset: 0, Record: -1, Err: ErrNotCloudTrail},
	},
	{
		name:  "binary junk after spaces",
		input: "  \n\x89PNG\r\n",
		final: &ParseError{Offset: 3, Record: -1, Err: ErrNotCloudTrail},
	},

	// Size limits.
	{
		name: "record over the size limit in Records",
		input: `{"Records":[` + evA + `,{"eventVersion":"1.08","blob":"` + strings.Repeat("x", 100) + `"},` +
			evB + `]}`,
		max:    64,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
			{2, 12 + 39 + 1 + 133 + 1, evB},
		},
		rejects: []wantReject{{1, 52, ErrTooLarge}},
	},
	{
		name: "record over the size limit in JSON Lines",
		input: evA + "\n" + `{"eventVersion":"1.08","blob":"` + strings.Repeat("x", 100) + `"}` + "\n" +
			evB + "\n",
		max:    64,
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{2, 40 + 134, evB},
		},
		rejects: []wantReject{{1, 40, ErrTooLarge}},
	},
	{
		name:    "first record over the size limit in JSON Lines",
		input:   `{"blob":"` + strings.Repeat("x", 100) + `","eventVersion":"1.08"}` + "\n" + evA + "\n",
		max:     64,
		format:  FormatJSONLines,
		records: []wantRecord{{1, 134, evA}},
		rejects: []wantReject{{0, 0, ErrTooLarge}},
	},
	{
		name:   "record over the size limit in a JSON array",
		input:  `[` + evA + `,[` + strings.Repeat(`1,`, 50) + `1]]`,
		max:    64,
		format: FormatJSONArray,
		records: []wantRecord{
			{0, 1, evA},
		},
		rejects: []wantReject{{1, 41, ErrTooLarge}},
	},

	// Broken structure.
	{
		name:    "nesting at maxDepth",
		input:   `{"Records":[{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`}},
	},
	{
		name:   "nesting beyond maxDepth",
		input:  `{"Records":[{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}]}`,
		format: FormatTrailLog,
		final:  &ParseError{Offset: 17 + maxDepth - 1, Record: 0, Err: ErrSyntax},
	},
	{
		name:   "nesting beyond maxDepth in JSON Lines",
		input:  evA + "\n" + `{"a":` + strings.Repeat("[", maxDepth) + "\n" + evB + "\n",
		format: FormatJSONLines,
		records: []wantRecord{
			{0, 0, evA},
			{2, 40 + 5 + maxDepth + 1, evB},
		},
		rejects: []wantReject{{1, 40, ErrSyntax}},
	},
	{
		name:    "mismatched brackets inside Records",
		input:   `{"Records":[` + evA + `,{"a":[1,2}]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 1 + 9, Record: 1, Err: ErrSyntax},
	},
	{
		name:    "garbage between records",
		input:   `{"Records":[` + evA + ` xyz ` + evB + `]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 1, Record: -1, Err: ErrSyntax},
	},
	{
		name:   "garbage element between records",
		input:  `{"Records":[` + evA + `, xyz ,` + evB + `]}`,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
			{2, 12 + 39 + 7, evB},
		},
		rejects: []wantReject{{1, 12 + 39 + 2, ErrNotEvent}},
	},
	{
		name:   "records that are not objects",
		input:  `{"Records":[1,"s",null,[` + evA + `],` + evB + `]}`,
		format: FormatTrailLog,
		records: []wantRecord{
			{4, 12 + 12 + 39 + 2, evB},
		},
		rejects: []wantReject{
			{0, 12, ErrNotEvent},
			{1, 14, ErrNotEvent},
			{2, 18, ErrNotEvent},
			{3, 23, ErrNotEvent},
		},
	},
	{
		name:    "trailing comma in Records",
		input:   `{"Records":[` + evA + `,]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		rejects: []wantReject{{1, 52, ErrSyntax}},
	},
	{
		name:    "stray bracket after a trail log",
		input:   `{"Records":[` + evA + `]} }` + evB,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 3, Record: -1, Err: ErrSyntax},
	},
	{
		name:   "top-level scalar between trail logs",
		input:  `{"Records":[` + evA + `]} 42 {"Records":[` + evB + `]}`,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
			{2, 12 + 39 + 6 + 12, evB},
		},
		rejects: []wantReject{{1, 12 + 39 + 3, ErrNotEvent}},
	},
	{
		name:    "record with invalid UTF-8",
		input:   `{"Records":[{"eventVersion":"1.08","eventName":"` + "\xff\xfe\xc3" + `"}]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, `{"eventVersion":"1.08","eventName":"` + "\xff\xfe\xc3" + `"}`}},
	},
	{
		name:    "record with escaped quotes and brackets in strings",
		input:   `{"Records":[{"eventName":"a\"}]\\","x":"[{"}]}`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, `{"eventName":"a\"}]\\","x":"[{"}`}},
	},

	// Truncation.
	{
		name:    "truncated inside a record",
		input:   `{"Records":[` + evA + `,{"eventVersion":"1.0`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 1 + 20, Record: 1, Err: ErrTruncated},
	},
	{
		name:    "truncated after the Records array",
		input:   `{"Records":[` + evA + `]`,
		format:  FormatTrailLog,
		records: []wantRecord{{0, 12, evA}},
		final:   &ParseError{Offset: 12 + 39 + 1, Record: -1, Err: ErrTruncated},
	},
	{
		name:   "truncated inside NextToken",
		input:  `{"Events":[],"NextToken":"ab`,
		format: FormatLookupEvents,
		final:  &ParseError{Offset: 28, Record: -1, Err: ErrTruncated},
	},
	{
		name:   "truncated between records",
		input:  `{"Records":[` + evA + `,`,
		format: FormatTrailLog,
		records: []wantRecord{
			{0, 12, evA},
		},
		final: &ParseError{Offset: 12 + 39 + 1, Record: 1, Err: ErrTruncated},
	},
}

// readerKinds feed the same bytes to the decoder in differently sized
// reads: nothing it returns may depend on where reads end.
var readerKinds = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data with EOF", iotest.DataErrReader},
}

// decoded is everything a Decoder returned for one input.
type decoded struct {
	format  Format
	records []Record // Raw copied
	rejects []*RecordError
	offsets []int64 // of records and rejections, in the order returned
	final   error   // io.EOF or the *ParseError
	count   int64   // Records() at the end
	offset  int64   // Offset() at the end
}

// decodeAll runs a Decoder over r to its end (see runDecoder).
func decodeAll(t *testing.T, r io.Reader, maxRecord int, limit int) decoded {
	t.Helper()
	d, err := NewDecoder(r)
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	defer d.Close()
	if maxRecord > 0 {
		d.SetMaxRecordSize(maxRecord)
	}
	return runDecoder(t, d, limit)
}

// runDecoder calls Next until the end, failing the test if the decoder
// does not end within limit calls or breaks the rules every caller relies
// on: indexes count the records and rejections returned, Records() agrees,
// and the final error repeats.
func runDecoder(t *testing.T, d *Decoder, limit int) decoded {
	t.Helper()
	var got decoded
	for calls := 0; ; calls++ {
		if calls > limit {
			t.Fatalf("no end after %d calls to Next", calls)
		}
		rec, err := d.Next()
		var re *RecordError
		switch {
		case err == nil:
			if rec.Index != int64(len(got.records)+len(got.rejects)) {
				t.Errorf("record index %d, want %d", rec.Index, len(got.records)+len(got.rejects))
			}
			rec.Raw = bytes.Clone(rec.Raw)
			got.records = append(got.records, rec)
			got.offsets = append(got.offsets, rec.Offset)
			continue
		case errors.As(err, &re):
			if re.Record != int64(len(got.records)+len(got.rejects)) {
				t.Errorf("rejection index %d, want %d", re.Record, len(got.records)+len(got.rejects))
			}
			got.rejects = append(got.rejects, re)
			got.offsets = append(got.offsets, re.Offset)
			continue
		}
		got.final = err
		if _, again := d.Next(); again != err {
			t.Errorf("Next after %v returned %v", err, again)
		}
		break
	}
	got.format, got.count, got.offset = d.Format(), d.Records(), d.Offset()
	if want := int64(len(got.records) + len(got.rejects)); got.count != want {
		t.Errorf("Records() = %d, want %d", got.count, want)
	}
	return got
}

func TestDecoder(t *testing.T) {
	for _, tt := range decoderTests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input
			if tt.gzip {
				input = gzipped(input)
			}
			for _, rk := range readerKinds {
				var r io.Reader = strings.NewReader(input)
				if tt.file != "" {
					name := filepath.Join(t.TempDir(), tt.file)
					if err := os.WriteFile(name, []byte(input), 0o600); err != nil {
						t.Fatal(err)
					}
					f, err := os.Open(name)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					r = f
				}
				got := decodeAll(t, rk.wrap(r), tt.max, 2*len(tt.input)+10)
				checkDecoded(t, rk.name, got, tt.format, tt.records, tt.rejects, tt.final)
				if tt.final == nil && !strings.HasPrefix(input, "\x1f\x8b") && got.offset != int64(len(input)) {
					t.Errorf("%s: Offset() = %d at the end, want %d", rk.name, got.offset, len(tt.input))
				}
			}
		})
	}
}

func checkDecoded(t *testing.T, reader string, got decoded, format Format, records []wantRecord, rejects []wantReject, final *ParseError) {
	t.Helper()
	if got.format != format {
		t.Errorf("%s: Format() = %v, want %v", reader, got.format, format)
	}
	for i := 0; i < max(len(got.records), len(records)); i++ {
		switch {
		case i >= len(got.records):
			t.Errorf("%s: missing record %d at %d: %.80q", reader, records[i].index, records[i].offset, records[i].raw)
		case i >= len(records):
			r := got.records[i]
			t.Errorf("%s: extra record %d at %d: %.80q", reader, r.Index, r.Offset, r.Raw)
		default:
			r, w := got.records[i], records[i]
			if r.Index != int64(w.index) || r.Offset != int64(w.offset) || string(r.Raw) != w.raw {
				t.Errorf("%s: record %d at %d: %.80q\nwant record %d at %d: %.80q", reader, r.Index, r.Offset, r.Raw, w.index, w.offset, w.raw)
			}
		}
	}
	for i := 0; i < max(len(got.rejects), len(rejects)); i++ {
		switch {
		case i >= len(got.rejects):
			t.Errorf("%s: missing rejection of record %d at %d (%v)", reader, rejects[i].index, rejects[i].offset, rejects[i].err)
		case i >= len(rejects):
			t.Errorf("%s: extra rejection: %v", reader, got.rejects[i])
		default:
			r, w := got.rejects[i], rejects[i]
			if r.Record != int64(w.index) || r.Offset != int64(w.offset) || !errors.Is(r, w.err) {
				t.Errorf("%s: rejection %v\nwant record %d at byte offset %d: %v", reader, r, w.index, w.offset, w.err)
			}
		}
	}
	if final == nil {
		if got.final != io.EOF {
			t.Errorf("%s: ended with %v, want io.EOF", reader, got.final)
		}
		return
	}
	var pe *ParseError
	if !errors.As(got.final, &pe) {
		t.Errorf("%s: ended with %v, want a *ParseError", reader, got.final)
		return
	}
	if pe.Offset != final.Offset || pe.Record != final.Record || !isErr(pe.Err, final.Err) {
		t.Errorf("%s: ended with %v\nwant %v", reader, pe, final)
	}
}

// isErr is errors.Is, with errGzipCorrupt standing for any error of the
// decompressor about damaged input.
func isErr(err, target error) bool {
	if target == errGzipCorrupt {
		var ce flate.CorruptInputError
		return errors.As(err, &ce) || errors.Is(err, kgzip.ErrChecksum) || errors.Is(err, kgzip.ErrHeader)
	}
	return errors.Is(err, target)
}
