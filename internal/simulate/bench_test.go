package simulate

import (
	"context"
	"testing"
)

// discardSink drops files: it measures generation and compression alone.
type discardSink struct{}

func (discardSink) writeFile(string, []byte) error { return nil }

// BenchmarkWrite measures a day at scale 20 (about 120k records), to disk
// and without the file system, digests included, and reports records per
// second and bytes per record. Run with -benchtime=3x or more for stable
// figures. Digests cost a little over a millisecond of CPU each (one
// RSA-2048 signature) whatever the scale; hashing the log files for them,
// about a microsecond per record.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name string
		sink fileSink
	}{{"disk", nil}, {"memory", discardSink{}}} {
		b.Run(bc.name, func(b *testing.B) {
			var res Result
			for b.Loop() {
				var err error
				res, err = Write(context.Background(), b.TempDir(), Options{Seed: 1, Scale: 20, Days: 1, sink: bc.sink})
				if err != nil {
					b.Fatal(err)
				}
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(res.Events)/perOp, "events/s")
			b.ReportMetric(float64(res.JSONBytes)/float64(res.Events), "json-B/event")
			b.ReportMetric(float64(res.Bytes)/float64(res.Events), "gz-B/event")
			b.ReportMetric(float64(res.Events)/float64(res.Files), "events/file")
			b.ReportMetric(float64(res.Digests), "digests")
		})
	}
}
