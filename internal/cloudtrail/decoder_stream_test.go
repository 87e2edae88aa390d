package cloudtrail

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	kgzip "github.com/klauspost/compress/gzip"
)

// TestDecoderTruncatedGzip cuts a gzip'd trail log in half, as an
// interrupted download does: every record decompressed before the cut must
// come back, then a ParseError wrapping ErrTruncated at the cut.
func TestDecoderTruncatedGzip(t *testing.T) {
	var content strings.Builder
	content.WriteString(`{"Records":[`)
	var raws []string
	var offsets []int
	for i := range 400 {
		if i > 0 {
			content.WriteString(",")
		}
		ev := sampleEvent(i)
		offsets = append(offsets, content.Len())
		raws = append(raws, ev)
		content.WriteString(ev)
	}
	content.WriteString("]}")
	full := gzipped(content.String())
	cut := full[:len(full)/2]

	// What the decompressor can give back from the first half, read on
	// its own: the decoder must lose none of it.
	zr, err := kgzip.NewReader(strings.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	prefix, err := io.ReadAll(zr)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the cut stream: %v, want io.ErrUnexpectedEOF", err)
	}
	var want []wantRecord
	for i, ev := range raws {
		if offsets[i]+len(ev) <= len(prefix) {
			want = append(want, wantRecord{i, offsets[i], ev})
		}
	}
	if len(want) < 100 || len(want) == len(raws) {
		t.Fatalf("the cut leaves %d of %d records; the test needs some on each side", len(want), len(raws))
	}
	for _, rk := range readerKinds {
		got := decodeAll(t, rk.wrap(strings.NewReader(cut)), 0, 10000)
		final := &ParseError{Offset: int64(len(prefix)), Record: int64(len(want)), Err: ErrTruncated}
		if end := offsets[len(want)-1] + len(raws[len(want)-1]); len(prefix) < end+2 {
			final.Record = -1 // cut between records
		}
		checkDecoded(t, rk.name, got, FormatTrailLog, want, nil, final)
	}
}

// lazyReader yields n bytes of b without ever holding them.
type lazyReader struct {
	n int64
	b byte
}

func (r *lazyReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// TestDecoderHugeRecord feeds a record of 200 MB (one string value) between
// two small ones: it must be rejected with ErrTooLarge, the next record
// must still be read, and the decoder must not have held it in memory.
func TestDecoderHugeRecord(t *testing.T) {
	size := int64(200 << 20)
	if testing.Short() {
		size = 20 << 20
	}
	head := `{"Records":[` + evA + `,{"eventVersion":"1.08","blob":"`
	tail := `"},` + evB + `]}`
	r := io.MultiReader(strings.NewReader(head), &lazyReader{n: size, b: 'x'}, strings.NewReader(tail))

	var before, after runtimeMem
	before.read()
	got := decodeAll(t, r, 1<<20, 10)
	after.read()

	hugeAt := 12 + 39 + 1
	checkDecoded(t, "lazy", got, FormatTrailLog,
		[]wantRecord{{0, 12, evA}, {2, len(head) + int(size) + 3, evB}},
		[]wantReject{{1, hugeAt, ErrTooLarge}}, nil)
	hugeSize := fmt.Sprintf("%d bytes", int64(len(`{"eventVersion":"1.08","blob":"`))+size+2)
	if len(got.rejects) == 1 && !strings.Contains(got.rejects[0].Error(), hugeSize) {
		t.Errorf("rejection %q does not give the record's size (%s)", got.rejects[0], hugeSize)
	}
	// The decoder's buffers and one record up to the limit (1 MB) are all
	// it may allocate; the record alone is 200 times that.
	if alloc := after.totalAlloc - before.totalAlloc; alloc > 16<<20 {
		t.Errorf("decoding allocated %d MB for a %d MB record; want it bounded by the size limit", alloc>>20, size>>20)
	}
}

// runtimeMem is a snapshot of the allocation counters.
type runtimeMem struct{ totalAlloc uint64 }

func (m *runtimeMem) read() {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.totalAlloc = s.TotalAlloc
}

// TestDecoderClose checks that a closed Decoder fails instead of reading
// buffers that went back to the pool, and that decoders open at the same
// time do not share buffers.
func TestDecoderClose(t *testing.T) {
	in1 := gzipped(`{"Records":[` + evA + `,` + evB + `]}`)
	in2 := evC + "\n" + evA + "\n"
	d1, err := NewDecoder(strings.NewReader(in1))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := NewDecoder(strings.NewReader(in2))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]string{{evA, evC}, {evB, evA}} {
		r1, err1 := d1.Next()
		r2, err2 := d2.Next()
		if err1 != nil || err2 != nil || string(r1.Raw) != want[0] || string(r2.Raw) != want[1] {
			t.Fatalf("step %d: %q %v, %q %v; want %q, %q", i, r1.Raw, err1, r2.Raw, err2, want[0], want[1])
		}
	}
	for _, d := range []*Decoder{d1, d2} {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := d.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := d.Next(); err == nil || err == io.EOF {
			t.Errorf("Next after Close: %v, want an error", err)
		}
	}
}

func TestNewDecoderErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"gzip magic without a header", strings.NewReader("\x1f\x8b")},
		{"bad gzip header", strings.NewReader("\x1f\x8b\x09\x00garbage")},
		{"read error", iotest.ErrReader(errors.New("disk on fire"))},
	} {
		if d, err := NewDecoder(tt.r); err == nil {
			d.Close()
			t.Errorf("%s: NewDecoder succeeded", tt.name)
		}
	}
	// An error after the first bytes ends the file with that error.
	fire := errors.New("disk on fire")
	d, err := NewDecoder(io.MultiReader(strings.NewReader(`{"Records":[`+evA+`,`), iotest.ErrReader(fire)))
	if err != nil {
		t.Fatal(err)
	}
	got := runDecoder(t, d, 10)
	d.Close()
	checkDecoded(t, "failing", got, FormatTrailLog, []wantRecord{{0, 12, evA}}, nil,
		&ParseError{Offset: 12 + 39 + 1, Record: 1, Err: fire})
}
