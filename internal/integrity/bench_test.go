package integrity

import (
	"testing"
	"time"
)

// BenchmarkVerify verifies a trail of 20 hourly digests listing 100 log
// files each: 2,000 gzip'd log files of ~16 KB (40 events each), held in
// memory so that it measures reading, hashing and verifying rather than
// the disk. Bytes are of uncompressed log content.
func BenchmarkVerify(b *testing.B) {
	ev := newEvidence(b)
	tr := defaultTrail()
	tr.digests, tr.logs, tr.events = 20, 100, 40
	ev.add(tr, options{})
	files, keys := ev.inMemory(), parseKeys(b, keyList(b, false, false, testKeys()[0]))
	var logs, size int64
	for _, f := range files {
		if classify(KeyFromPath(f.Path)) == kindLog {
			_, n, err := hashLog(b.Context(), f)
			if err != nil {
				b.Fatal(err)
			}
			logs++
			size += n
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		r, err := Verify(b.Context(), files, keys)
		elapsed += time.Since(start)
		if err != nil || !r.OK() || r.LogFiles.Valid != int(logs) {
			b.Fatalf("report %+v, %v", r.Digests, err)
		}
	}
	b.ReportMetric(float64(logs)*float64(b.N)/elapsed.Seconds(), "files/s")
}
