package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/store"
)

// BenchmarkAPI1M asks the UI's endpoints what opening and using it asks,
// over a case of a million events (300 principals, 50 IPs, 8 event names,
// 1,000 events a second), through the whole handler (guard, SQL, JSON):
//
//	go test ./internal/web -run XXX -bench API1M -benchtime 10x
func BenchmarkAPI1M(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "harrier.duckdb")
	st, err := store.Open(ctx, path, store.Options{MemoryLimit: "512MB"})
	if err != nil {
		b.Fatal(err)
	}
	load, err := st.BeginLoad(ctx, store.LoadInfo{Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	sink, err := load.NewSink(ctx)
	if err != nil {
		b.Fatal(err)
	}
	const n = 1_000_000
	names := []string{"GetObject", "ListBuckets", "DescribeInstances", "GetCallerIdentity", "ListUsers", "PutObject", "CreateTags", "GetSecretValue"}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		u := i % 300
		raw := rec{id: fmt.Sprintf("ev-%07d", i), at: t0.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano), name: names[i%len(names)],
			source: "s3.amazonaws.com", arn: fmt.Sprintf("arn:aws:iam::111122223333:user/u%03d", u), key: fmt.Sprintf("AKIABENCH%011d", u),
			ip: fmt.Sprintf("203.0.113.%d", i%50), ua: "aws-cli/2.15"}.json()
		ev, err := cloudtrail.ParseEvent(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := sink.Append(ctx, &ev, raw, "evidence/bench.jsonl", int64(i), 0); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := load.Finish(ctx, []store.FileResult{{EvidenceFile: "evidence/bench.jsonl", Records: n, Appended: n}}, time.Now()); err != nil {
		b.Fatal(err)
	}
	st.Close()
	ro, err := store.Open(ctx, path, store.Options{ReadOnly: true, Sandbox: true, MemoryLimit: "1GB"}) // as serve opens it
	if err != nil {
		b.Fatal(err)
	}
	defer ro.Close()
	s, err := New(ro, "127.0.0.1:8123", Options{Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	// a cursor deep in the timeline: the page after the 900,000th event
	deep := cursor{Time: t0.Add(900_000 * time.Millisecond).Format(time.RFC3339Nano), File: "evidence/bench.jsonl", Index: 900_000}.encode()
	u7 := url.QueryEscape("arn:aws:iam::111122223333:user/u007")
	for _, c := range []struct{ name, path string }{
		{"summary", "/api/summary"},
		{"events-first-page", "/api/events?limit=100"},
		{"events-deep-page", "/api/events?limit=100&after=" + deep},
		{"events-max-page", "/api/events?limit=500"},
		{"events-principal", "/api/events?limit=100&principal=" + u7},
		{"events-search", "/api/events?limit=100&q=u007"},
		{"facets", "/api/facets?limit=10"},
		{"facets-principal", "/api/facets?limit=10&principal=" + u7},
		{"histogram", "/api/histogram"},
		{"histogram-window", "/api/histogram?since=2026-03-01T00:02:00Z&until=2026-03-01T00:03:00Z"},
		{"event-json", "/api/event?file=evidence/bench.jsonl&index=500000"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", c.path, nil)
				req.Host = "127.0.0.1:8123"
				req.Header.Set(TokenHeader, testToken)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d %s", c.path, w.Code, w.Body.String())
				}
			}
		})
	}
}
