package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/store"
)

// BenchmarkExport1M exports a case of 1,000,000 events (about 1 KB of
// CloudTrail JSON each, 3 accounts, 4 regions, 30 days) in each format, to
// files, opened read-only as the CLI opens it. It reports events/s, the
// output's size, the Go heap's peak during the export (the writers must
// stream: a held case would be gigabytes) and the process's peak RSS during
// the export (Linux's VmHWM, reset before each), DuckDB's memory included.
//
//	go test ./internal/report/export -run XXX -bench Export1M -benchtime 1x
func BenchmarkExport1M(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	db := filepath.Join(dir, "harrier.duckdb")
	st, err := store.Open(ctx, db, store.Options{MemoryLimit: "192MB", TempDir: filepath.Join(dir, "tmp")})
	if err != nil {
		b.Fatal(err)
	}
	n := benchEvents()
	buildCase(b, st, n)
	st.Close()
	// opened as the CLI's export opens a case (openForRead)
	st, err = store.Open(ctx, db, store.Options{ReadOnly: true, MemoryLimit: os.Getenv("HARRIER_BENCH_MEM"), TempDir: filepath.Join(dir, "tmp")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, format := range []string{"csv", "jsonl", "timesketch", "parquet"} {
		b.Run(format, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				out := filepath.Join(b.TempDir(), "out")
				// the peak RSS is the export's: the case's build is forgotten
				os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
				stop := heapPeak()
				start := time.Now()
				if format == "parquet" {
					if got, err := st.ExportParquet(ctx, store.Filter{}, out); err != nil || got != int64(n) {
						b.Fatalf("%d events, %v", got, err)
					}
				} else {
					exportFile(b, st, format, out)
				}
				took := time.Since(start)
				peak := stop()
				b.ReportMetric(float64(n)/took.Seconds(), "events/s")
				b.ReportMetric(float64(dirSize(out))/(1<<20), "MiB-out")
				b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-peak")
				b.ReportMetric(float64(hwm())/1024, "MiB-peak-RSS")
			}
		})
	}
}

func exportFile(b *testing.B, st *store.Store, format, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := NewEventWriter(format, f, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.ExportEvents(context.Background(), store.Filter{}, func(ev *store.ExportEvent) error { return w.Write(ev) }); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// heapPeak samples the Go heap until the returned function is called, and
// returns the highest it saw.
func heapPeak() func() uint64 {
	runtime.GC()
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func dirSize(p string) int64 {
	var n int64
	filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// buildCase appends n generated events through the loader, never holding
// them all.
func buildCase(b *testing.B, st *store.Store, n int) {
	ctx := context.Background()
	load, err := st.BeginLoad(ctx, store.LoadInfo{Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	sink, err := load.NewSink(ctx)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"GetObject", "DescribeInstances", "AssumeRole", "ListUsers", "PutObject", "CreateTags", "GetSecretValue", "ConsoleLogin"}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"}
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var raw []byte
	for i := 0; i < n; i++ {
		acct := fmt.Sprintf("%012d", 111111111111*(1+i%3))
		errPart := ""
		if i%17 == 0 {
			errPart = `,"errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::` + acct + `:user/u` + fmt.Sprint(i%300) + ` is not authorized to perform this action, \"quoted\""`
		}
		raw = fmt.Appendf(raw[:0], `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDA%07d","arn":"arn:aws:iam::%s:user/u%d","accountId":"%s","accessKeyId":"AKIA%016d","userName":"u%d"},"eventTime":"%s","eventSource":"s3.amazonaws.com","eventName":"%s","awsRegion":"%s","sourceIPAddress":"203.0.%d.%d","userAgent":"aws-cli/2.15.%d Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/s3.cp","requestParameters":{"bucketName":"bucket-%d","key":"reports/2026/%d.csv","Host":"bucket-%d.s3.amazonaws.com"},"responseElements":null,"additionalEventData":{"bytesTransferredOut":%d,"x-amz-id-2":"abcdefghijklmnopqrstuvwxyz0123456789"},"requestID":"REQ%012d","eventID":"%08d-0000-4000-8000-%012d","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"%s","eventCategory":"Data"%s}`,
			i%300, acct, i%300, acct, i%300, i%300, base.Add(time.Duration(i)*30*24*time.Hour/time.Duration(n)).Format(time.RFC3339),
			names[i%len(names)], regions[i%len(regions)], i%250, i%200, i%9, i%7, i, i%7, 1024+i%5000, i, i, i, acct, errPart)
		ev, err := cloudtrail.ParseEvent(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := sink.Append(ctx, &ev, raw, "evidence/bench.jsonl", int64(i), 0); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := load.Finish(ctx, []store.FileResult{{EvidenceFile: "evidence/bench.jsonl", Records: int64(n), Appended: int64(n)}}, time.Now()); err != nil {
		b.Fatal(err)
	}
}

// benchEvents is 1,000,000, or HARRIER_BENCH_EVENTS for a quicker look.
func benchEvents() int {
	if v, err := strconv.Atoi(os.Getenv("HARRIER_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// hwm is the process's peak RSS in KiB since the last reset (VmHWM).
func hwm() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
