package flowlogs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/cwlogs"
	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// wanted are the keys Collect must take.
func wanted(objs []seeded) []string {
	var keys []string
	for _, o := range objs {
		if o.want {
			keys = append(keys, o.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// storedS3 returns the case's S3 files by key.
func storedS3(t *testing.T, c *casefile.Case) map[string]casefile.Entry {
	t.Helper()
	out := map[string]casefile.Entry{}
	for _, e := range c.Latest() {
		if k, ok := strings.CutPrefix(e.Path, casefile.EvidenceDir+"/s3/"+bucket+"/"); ok {
			out[k] = e
		}
	}
	return out
}

// checkPruned fails for a listing outside the two layouts' roots of the
// account and region, without the delimiter, or of a day not asked for.
func checkPruned(t *testing.T, lists []string) {
	t.Helper()
	since, until := testWindow()
	for _, l := range lists {
		prefix, delim, _ := strings.Cut(l, "|")
		if delim != "/" {
			t.Errorf("listed %q without delimiter", prefix)
		}
		var rest string
		ok := false
		for _, root := range roots("", account, awstest.Region) {
			if r, found := strings.CutPrefix(prefix, root); found {
				rest, ok = r, true
			}
		}
		if !ok {
			t.Errorf("listed %q, outside the account and region's folders", prefix)
			continue
		}
		parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
		if len(parts) >= 3 {
			var ymd [3]string
			for i := range ymd {
				ymd[i] = strings.TrimPrefix(parts[i], levels[i].hive)
			}
			d, err := time.Parse("2006/01/02", strings.Join(ymd[:], "/"))
			if err != nil || d.Before(since) || !d.Before(until.Add(Grace)) {
				t.Errorf("listed %q, a day not asked for", prefix)
			}
		}
	}
}

func TestCollect(t *testing.T) {
	e := newEnv(t)
	c := openCase(t)
	sink := cwlogs.CaseSink(c)
	res, err := Collect(context.Background(), e.clients(awstest.Region), options(awstest.Region), sink)
	if err != nil {
		t.Fatal(err)
	}
	lists, gets := e.rec.take()
	want := wanted(e.objs)
	got := storedS3(t, c)
	if keys := slices.Sorted(mapKeys(got)); !slices.Equal(keys, want) {
		t.Errorf("stored:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	if slices.Sort(gets); !slices.Equal(gets, want) {
		t.Errorf("read %d objects, want the %d in the window", len(gets), len(want))
	}
	checkPruned(t, lists)
	for _, o := range e.objs {
		ent, ok := got[o.key]
		if !ok {
			continue
		}
		data, err := os.ReadFile(c.Path(ent.Path))
		if err != nil || string(data) != string(o.body) {
			t.Errorf("%s is not stored byte for byte (%v)", o.key, err)
		}
		var src evidence.Source
		if err := json.Unmarshal(ent.Source, &src); err != nil {
			t.Fatal(err)
		}
		wantContent := ContentLog
		if strings.HasSuffix(o.key, ".parquet") {
			wantContent = ContentParquet
		}
		if ent.Content != wantContent || src.Service != "s3" || src.API != "GetObject" || src.Bucket != bucket || src.Key != o.key ||
			src.ETag == "" || strings.Contains(src.ETag, `"`) || src.Size != int64(len(o.body)) || src.LastModified == nil ||
			src.Metadata["delivered-by"] != "delivery.logs.amazonaws.com" || src.Account != account || !src.RequestTime.Equal(fixedNow()) {
			t.Errorf("%s: content %q, provenance %+v", o.key, ent.Content, src)
		}
	}
	if res.FlowLogs != 3 || res.Listed != len(want) || res.Downloaded != len(want) || res.Skipped != 0 || len(res.Failed) != 0 || len(res.Problems) != 0 {
		t.Errorf("result %+v", res)
	}
	since, until := testWindow()
	if !res.FirstDay.Equal(since) || !res.LastDay.Equal(until) {
		t.Errorf("days %s to %s, want %s to %s (grace)", res.FirstDay, res.LastDay, since, until)
	}
	if len(res.Logs.Groups) != 1 || res.Logs.Groups[0].Group != flowGroup || res.Logs.Groups[0].Events != 2 || !res.Logs.Groups[0].Complete {
		t.Errorf("CloudWatch Logs destination: %+v", res.Logs.Groups)
	}
	if len(res.Coverage) != 2 || res.Coverage[1].Source != "cloudwatch" {
		t.Fatalf("coverage %+v", res.Coverage)
	}
	row := res.Coverage[0]
	for _, s := range []string{e.vpcs[0], e.vpcs[1], e.subnet, "s3://" + bucket, "CloudWatch Logs group " + flowGroup, firehose, "cannot be collected"} {
		if !strings.Contains(row.Detail, s) {
			t.Errorf("detail %q lacks %q", row.Detail, s)
		}
	}
	if row.Source != "flowlogs" || row.Exists != "yes" || row.Items != 3 || row.Files != len(want) || !row.From.Equal(since) || !row.To.Equal(until.AddDate(0, 0, 1)) {
		t.Errorf("coverage row %+v", row)
	}
	var described struct {
		FlowLogs []struct{ FlowLogId, ResourceId, LogDestinationType string }
	}
	readJSON(t, c, "aws/"+account+"/"+awstest.Region+"/flowlogs/"+DescribeName, &described)
	if len(described.FlowLogs) != 3 || described.FlowLogs[0].FlowLogId == "" || described.FlowLogs[0].ResourceId == "" {
		t.Errorf("stored DescribeFlowLogs: %+v", described)
	}

	t.Run("a re-run downloads nothing", func(t *testing.T) {
		again, err := Collect(context.Background(), e.clients(awstest.Region), options(awstest.Region), sink)
		if err != nil {
			t.Fatal(err)
		}
		_, gets := e.rec.take()
		if len(gets) != 0 || again.Downloaded != 0 || again.Skipped != len(want) || !again.Logs.Groups[0].Skipped {
			t.Errorf("re-run read %d objects: %+v", len(gets), again)
		}
	})
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func readJSON(t *testing.T, c *casefile.Case, rel string, v any) {
	t.Helper()
	data, err := os.ReadFile(c.Path(casefile.EvidenceDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func TestCollectRegions(t *testing.T) {
	e := newEnv(t)
	c := openCase(t)
	tests := []struct {
		region string
		exists string
		detail string
		denied bool
	}{
		{emptyIn, "no", "no network evidence", false},
		{deniedIn, "unknown", "not known", true},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			res, err := Collect(context.Background(), e.clients(tt.region), options(tt.region), cwlogs.CaseSink(c))
			if err != nil {
				t.Fatal(err)
			}
			row := res.Coverage[0]
			if row.Exists != tt.exists || !strings.Contains(row.Detail, tt.detail) || row.Region != tt.region || (len(row.Problems) > 0) != tt.denied {
				t.Errorf("row %+v", row)
			}
			if tt.denied && (!row.Problems[0].Denied || row.Problems[0].API != "DescribeFlowLogs") {
				t.Errorf("problem %+v", row.Problems[0])
			}
		})
	}
}

// cancelSink cancels the run after n flow-log files are stored.
type cancelSink struct {
	cwlogs.Sink
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (s *cancelSink) Put(rel, content string, data []byte, src evidence.Source) error {
	err := s.Sink.Put(rel, content, data, src)
	if content == ContentLog || content == ContentParquet {
		s.mu.Lock()
		if s.n--; s.n == 0 {
			s.cancel()
		}
		s.mu.Unlock()
	}
	return err
}

func TestCollectResumes(t *testing.T) {
	e := newEnv(t)
	c := openCase(t)
	want := wanted(e.objs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := Collect(ctx, e.clients(awstest.Region), options(awstest.Region), &cancelSink{Sink: cwlogs.CaseSink(c), n: 3, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	held := len(storedS3(t, c))
	if held < 3 || held >= len(want) || first.Downloaded != held {
		t.Fatalf("the interrupted run stored %d of %d (said %d)", held, len(want), first.Downloaded)
	}
	e.rec.take()
	res, err := Collect(context.Background(), e.clients(awstest.Region), options(awstest.Region), cwlogs.CaseSink(c))
	if err != nil {
		t.Fatal(err)
	}
	_, gets := e.rec.take()
	if res.Downloaded != len(want)-held || res.Skipped != held || len(gets) != len(want)-held {
		t.Errorf("resumed: downloaded %d, skipped %d, read %d; %d were held of %d", res.Downloaded, res.Skipped, len(gets), held, len(want))
	}
	if keys := slices.Sorted(mapKeys(storedS3(t, c))); !slices.Equal(keys, want) {
		t.Errorf("after resuming the case holds %d files, want %d", len(keys), len(want))
	}
	for _, ent := range c.Entries() {
		if strings.Contains(ent.Path, ".harrier-") {
			t.Errorf("stored twice: %s", ent.Path)
		}
	}
}

func TestOptions(t *testing.T) {
	since, until := testWindow()
	tests := []struct {
		name string
		opts Options
	}{
		{"no account", Options{Region: "r", Since: since, Until: until}},
		{"no region", Options{Account: "a", Since: since, Until: until}},
		{"empty window", Options{Account: "a", Region: "r", Since: until, Until: since}},
		{"negative concurrency", Options{Account: "a", Region: "r", Since: since, Until: until, Concurrency: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Collect(context.Background(), Clients{}, tt.opts, nil); !errors.Is(err, ErrOptions) {
				t.Errorf("err = %v, want ErrOptions", err)
			}
		})
	}
}
