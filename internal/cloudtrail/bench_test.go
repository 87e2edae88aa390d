package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"sync"
	"testing"
)

// benchTrail is ~50 MB of trail-log content (events of ~1.5 KB) as gzip'd
// log files of ~2 MB each, the shape a trail delivers to S3; built once.
var benchTrail = sync.OnceValue(func() (t struct {
	files  [][]byte
	size   int64 // decompressed bytes
	events int
}) {
	const total, perFile = 50 << 20, 2 << 20
	n := 0
	for t.size < total {
		var content strings.Builder
		content.WriteString(`{"Records":[`)
		for i := 0; content.Len() < perFile; i++ {
			if i > 0 {
				content.WriteByte(',')
			}
			content.WriteString(sampleEvent(n))
			n++
		}
		content.WriteString("]}")
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		io.WriteString(zw, content.String())
		zw.Close()
		t.files = append(t.files, zb.Bytes())
		t.size += int64(content.Len())
	}
	t.events = n
	return t
})

// BenchmarkDecodeParse measures the whole read path of a trail: gunzip,
// split into records, and ParseEvent on each.
func BenchmarkDecodeParse(b *testing.B) {
	benchDecode(b, true)
}

// BenchmarkDecode measures gunzip and splitting alone, to tell the two
// costs apart.
func BenchmarkDecode(b *testing.B) {
	benchDecode(b, false)
}

func benchDecode(b *testing.B, parse bool) {
	trail := benchTrail()
	b.SetBytes(trail.size)
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		for _, f := range trail.files {
			d, err := NewDecoder(bytes.NewReader(f))
			if err != nil {
				b.Fatal(err)
			}
			for {
				rec, err := d.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if parse {
					if _, err := ParseEvent(rec.Raw); err != nil {
						b.Fatal(err)
					}
				}
				events++
			}
			d.Close()
		}
	}
	if events != b.N*trail.events {
		b.Fatalf("%d events, want %d", events, b.N*trail.events)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(trail.size)/float64(trail.events), "B/event")
}
