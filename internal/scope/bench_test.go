package scope

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/store"
)

// BenchmarkScope1M scopes a key with a million events of its own (and a
// role session it opened), in a case of two million events:
//
//	go test ./internal/scope -run XXX -bench Scope1M -benchtime 3x
func BenchmarkScope1M(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "harrier.duckdb"), store.Options{MemoryLimit: "512MB"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	load, err := st.BeginLoad(ctx, store.LoadInfo{Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	sink, err := load.NewSink(ctx)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"GetObject", "ListBuckets", "DescribeInstances", "GetCallerIdentity", "ListUsers", "PutObject", "CreateTags", "GetSecretValue"}
	const n = 1_000_000
	var added int64
	add := func(i int, key, user string, r rec) {
		added++
		raw := r.json(fmt.Sprintf("ev-%s-%07d", key, i), i/1000)
		ev, err := cloudtrail.ParseEvent(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := sink.Append(ctx, &ev, raw, "evidence/bench.jsonl", added, 0); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		name := names[i%len(names)]
		r := rec{"userIdentity": iamUserID("alice", "AKIABIG"), "eventSource": "s3.amazonaws.com", "eventName": name,
			"sourceIPAddress": fmt.Sprintf("203.0.113.%d", i%50), "readOnly": name != "PutObject" && name != "CreateTags"}
		if name == "GetObject" {
			r["requestParameters"] = map[string]any{"bucketName": fmt.Sprintf("bucket-%d", i%7), "key": fmt.Sprintf("k/%d", i%1000)}
			r["additionalEventData"] = map[string]any{"bytesTransferredOut": 1024}
		}
		if i == 10 {
			r["eventSource"], r["eventName"], r["responseElements"] = "sts.amazonaws.com", "AssumeRole", creds("ASIABIG2")
		}
		add(i, "AKIABIG", "alice", r)
		// background: other principals
		add(i, "AKIAOTHER", "bob", rec{"userIdentity": iamUserID(fmt.Sprintf("user%d", i%300), fmt.Sprintf("AKIAOTHER%03d", i%300)),
			"eventSource": "ec2.amazonaws.com", "eventName": name, "sourceIPAddress": "10.0.0.1"})
		if i%1000 == 0 {
			add(i, "ASIABIG2", "x", rec{"userIdentity": roleID(acctA, "Admin", "alice", "ASIABIG2", 0, ""), "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "readOnly": false,
				"requestParameters": map[string]any{"userName": fmt.Sprintf("u%d", i)}})
		}
	}
	if _, err := load.Finish(ctx, []store.FileResult{{EvidenceFile: "evidence/bench.jsonl", Records: added, Appended: added}}, time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Run(ctx, st, Options{Seeds: []Seed{{Kind: "key", Value: "AKIABIG"}}})
		if err != nil {
			b.Fatal(err)
		}
		if r.EventCount < n {
			b.Fatalf("scope holds %d events", r.EventCount)
		}
		b.ReportMetric(float64(r.EventCount), "events-in-scope")
	}
}
