package trails

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/integrity"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }

func openCase(t *testing.T) *casefile.Case {
	t.Helper()
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wanted is what opts should take of the seeded objects, as the layout
// says: the accounts, regions and days asked for, digests a day further.
func wanted(objs []seeded, opts Options) []string {
	accounts, regions := set(opts.Accounts), set(opts.Regions)
	var keys []string
	for _, o := range objs {
		w := window{since: opts.Since, until: opts.Until}
		if !w.until.IsZero() {
			w.until = w.until.Add(logGrace)
			if o.kind == kindDigest {
				w.until = opts.Until.Add(digestGrace)
			}
		}
		if (len(accounts) == 0 || accounts[o.account]) && (len(regions) == 0 || regions[o.region]) &&
			w.overlaps(o.day, o.day.AddDate(0, 0, 1)) {
			keys = append(keys, o.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// checkPruned fails the test for any listing that was not needed for opts:
// one without a delimiter, under an account, region or day not asked for,
// or outside the CloudTrail folders.
func checkPruned(t *testing.T, lists []listCall, opts Options) {
	t.Helper()
	accounts, regions := set(opts.Accounts), set(opts.Regions)
	for _, l := range lists {
		if l.delimiter != "/" {
			t.Errorf("listed %q without delimiter", l.prefix)
		}
		if !strings.HasPrefix(l.prefix, keyPrefix+"/AWSLogs/") {
			t.Errorf("listed %q, outside the trail's prefix", l.prefix)
			continue
		}
		parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l.prefix, keyPrefix+"/AWSLogs/"), "/"), "/")
		if strings.HasPrefix(parts[0], "o-") {
			parts = parts[1:]
		}
		if len(parts) >= 1 && parts[0] != "" && len(accounts) > 0 && !accounts[parts[0]] {
			t.Errorf("listed %q, an account not asked for", l.prefix)
		}
		if len(parts) >= 2 && parts[1] != kindLog && parts[1] != kindDigest {
			t.Errorf("listed %q, not CloudTrail's", l.prefix)
		}
		if len(parts) >= 3 && len(regions) > 0 && !regions[parts[2]] {
			t.Errorf("listed %q, a region not asked for", l.prefix)
		}
		if len(parts) == 6 {
			d, err := time.Parse("2006/01/02", strings.Join(parts[3:], "/"))
			w := window{since: opts.Since, until: opts.Until}
			if !w.since.IsZero() && parts[1] == kindLog {
				w.since = w.since.Add(-logLead) // the hour the first digest signs
			}
			if !w.until.IsZero() {
				w.until = w.until.Add(logGrace)
				if parts[1] == kindDigest {
					w.until = opts.Until.Add(digestGrace)
				}
			}
			if err != nil || !w.overlaps(d, d.AddDate(0, 0, 1)) {
				t.Errorf("listed %q, a day not asked for", l.prefix)
			}
		}
	}
}

func TestCollect(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		count int // objects taken: 3 accounts x 2 regions x (2 logs + 1 digest) a day, at most; logs a day past Until, digests two
	}{
		{"everything", Options{}, 90},
		{"a three-day window", Options{Since: day(3, 1), Until: day(3, 4)}, 48 + 24},
		{"window inside a day", Options{Since: day(3, 2).Add(5 * time.Hour), Until: day(3, 2).Add(6 * time.Hour)}, 24 + 18},
		{"since only, into the next month's absence", Options{Since: day(3, 3)}, 24 + 12},
		{"until only, the month before", Options{Until: day(3, 1)}, 24 + 18},
		{"accounts and a region, org layout included", Options{Accounts: []string{acctA, acctOrg}, Regions: []string{"eu-west-1"},
			Since: day(3, 1), Until: day(3, 3), Concurrency: 3}, 12 + 8},
		{"an account absent from the bucket", Options{Accounts: []string{"444444444444"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := openCase(t)
			tc.opts.Now = fixedNow
			st, err := Collect(context.Background(), e.s3, e.trail, tc.opts, CaseSink(c))
			if err != nil {
				t.Fatal(err)
			}
			lists, gets := e.rec.take()
			want := wanted(e.objs, tc.opts)
			if len(want) != tc.count {
				t.Fatalf("the fixture gives %d objects, want %d", len(want), tc.count)
			}
			slices.Sort(gets)
			if !slices.Equal(gets, want) {
				t.Errorf("fetched %d objects, want %d:\ngot  %q\nwant %q", len(gets), len(want), gets, want)
			}
			checkPruned(t, lists, tc.opts)
			if st.ListCalls != len(lists) {
				t.Errorf("ListCalls = %d, the server saw %d", st.ListCalls, len(lists))
			}
			if st.Listed != len(want) || st.Downloaded != len(want) || st.Skipped != 0 || len(st.Failed) != 0 || len(st.Problems) != 0 {
				t.Errorf("stats %+v, want %d listed and downloaded", st, len(want))
			}
			checkCase(t, c, e.objs, want)

			// A second run takes nothing: the case has it all.
			st2, err := Collect(context.Background(), e.s3, e.trail, tc.opts, CaseSink(c))
			if err != nil {
				t.Fatal(err)
			}
			if _, gets := e.rec.take(); len(gets) != 0 || st2.Downloaded != 0 || st2.Skipped != len(want) {
				t.Errorf("second run fetched %d, stats %+v; want all %d skipped", len(gets), st2, len(want))
			}
		})
	}
}

// checkCase checks that the case holds exactly the keys, once each, with
// their provenance, and beside each digest a sidecar that integrity and
// cloudtrail read as its signature.
func checkCase(t *testing.T, c *casefile.Case, objs []seeded, keys []string) {
	t.Helper()
	byKey := map[string]seeded{}
	for _, o := range objs {
		byKey[o.key] = o
	}
	seen := map[string]bool{}
	var got []string
	for _, e := range c.Entries() {
		if seen[e.Path] {
			t.Errorf("%s is in the manifest twice", e.Path)
		}
		seen[e.Path] = true
		if strings.Contains(e.Path, ".harrier-") {
			t.Errorf("%s: a second copy", e.Path)
		}
		var src Source
		if err := json.Unmarshal(e.Source, &src); err != nil {
			t.Fatalf("%s: source %s: %v", e.Path, e.Source, err)
		}
		if want := path.Join("evidence/s3", bucket, src.Key); strings.TrimSuffix(e.Path, integrity.SidecarSuffix) != want {
			t.Errorf("%s holds %s", e.Path, want)
		}
		o := byKey[src.Key]
		if src.Service != "s3" || src.API != "GetObject" || src.Bucket != bucket || src.ETag == "" || strings.Contains(src.ETag, `"`) ||
			src.LastModified.IsZero() || src.RequestTime != fixedNow() || src.Account != o.account || src.Region != o.region || src.Org != o.org {
			t.Errorf("%s: source %+v", e.Path, src)
		}
		if strings.HasSuffix(e.Path, integrity.SidecarSuffix) {
			if src.Part != "metadata" || e.Content != cloudtrail.FormatDigestMetadata.String() {
				t.Errorf("%s: part %q content %q", e.Path, src.Part, e.Content)
			}
			checkSidecar(t, c.Path(e.Path), o)
			continue
		}
		got = append(got, src.Key)
		if src.Size != e.Size {
			t.Errorf("%s: source size %d, stored %d", e.Path, src.Size, e.Size)
		}
		wantContent := cloudtrail.FormatTrailLog.String()
		if o.kind == kindDigest {
			wantContent = cloudtrail.FormatDigest.String()
			if src.Metadata["signature"] != o.signature {
				t.Errorf("%s: source metadata %v", e.Path, src.Metadata)
			}
			if !seen[e.Path+integrity.SidecarSuffix] {
				t.Errorf("%s: no sidecar before it", e.Path)
			}
			if k := integrity.KeyFromPath(e.Path); !strings.HasSuffix(src.Key, "/"+k) {
				t.Errorf("integrity reads key %q from %s, not a suffix of %s", k, e.Path, src.Key)
			}
		}
		if e.Content != wantContent {
			t.Errorf("%s: content %q, want %q", e.Path, e.Content, wantContent)
		}
		if fi, err := os.Stat(c.Path(e.Path)); err != nil || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s: not stored read-only: %v %v", e.Path, fi, err)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("the case holds %d objects, want %d", len(got), len(keys))
	}
}

// checkSidecar reads a stored sidecar with integrity's and cloudtrail's
// own parsers.
func checkSidecar(t *testing.T, file string, o seeded) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta, err := integrity.ParseMetadata(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if meta[integrity.MetaSignature] != o.signature || meta[integrity.MetaSignatureAlgorithm] != "SHA256withRSA" {
		t.Errorf("%s: integrity reads %v", file, meta)
	}
	f.Seek(0, io.SeekStart)
	d, err := cloudtrail.NewDecoder(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for {
		if _, err := d.Next(); err != nil {
			if err != io.EOF {
				t.Errorf("%s: cloudtrail decoder: %v", file, err)
			}
			break
		}
	}
	if d.Format() != cloudtrail.FormatDigestMetadata {
		t.Errorf("%s: cloudtrail reads it as %v", file, d.Format())
	}
}

// cancelAfter is a sink that ends the run after n objects are stored.
type cancelAfter struct {
	Sink
	n      int64
	puts   atomic.Int64
	cancel context.CancelFunc
}

func (s *cancelAfter) Put(rel, content string, data []byte, src Source) error {
	err := s.Sink.Put(rel, content, data, src)
	if s.puts.Add(1) == s.n {
		s.cancel()
	}
	return err
}

func TestCollectResumesAfterInterruption(t *testing.T) {
	e := newEnv(t)
	c := openCase(t)
	opts := Options{Now: fixedNow, Concurrency: 4}
	want := wanted(e.objs, opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &cancelAfter{Sink: CaseSink(c), n: 7, cancel: cancel}
	st, err := Collect(ctx, e.s3, e.trail, opts, sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	if len(st.Failed) != 0 {
		t.Errorf("the interruption was recorded as failures: %+v", st.Failed)
	}
	_, gets := e.rec.take()
	if len(gets) >= len(want) {
		t.Fatalf("the interrupted run fetched all %d objects", len(gets))
	}
	first := st.Downloaded
	checkNothingStray(t, c)

	// As a new harrier process would: the case opened again.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = casefile.Open(c.Dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err = Collect(context.Background(), e.s3, e.trail, opts, CaseSink(c))
	if err != nil {
		t.Fatal(err)
	}
	if st.Downloaded+st.Skipped != len(want) || st.Skipped < first || st.Downloaded == 0 {
		t.Errorf("re-run %+v after %d stored; want %d in all", st, first, len(want))
	}
	checkCase(t, c, e.objs, want)
}

// checkNothingStray fails the test for a file under evidence/ that the
// manifest does not list, or one left in the case's scratch folder: a
// download cut short must leave nothing.
func checkNothingStray(t *testing.T, c *casefile.Case) {
	t.Helper()
	listed := map[string]bool{}
	for _, e := range c.Entries() {
		listed[e.Path] = true
	}
	filepath.WalkDir(c.Path(casefile.EvidenceDir), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(c.Dir, p)
		if !d.IsDir() && !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is in the case but not in its manifest", rel)
		}
		return nil
	})
	if left, _ := os.ReadDir(c.TempPath()); len(left) != 0 {
		t.Errorf("left in %s: %v", c.TempPath(), left)
	}
}

func TestCollectAccessDenied(t *testing.T) {
	tests := []struct {
		name              string
		denyList, denyGet string
		problem           string // the prefix reported
		failed            []string
	}{
		{name: "a region's logs cannot be listed",
			denyList: keyPrefix + "/AWSLogs/" + acctB + "/CloudTrail/eu-west-1/",
			problem:  "s3://" + bucket + "/" + keyPrefix + "/AWSLogs/" + acctB + "/CloudTrail/eu-west-1/"},
		{name: "an organisation cannot be listed",
			denyList: keyPrefix + "/AWSLogs/" + orgID + "/",
			problem:  "s3://" + bucket + "/" + keyPrefix + "/AWSLogs/" + orgID + "/"},
		{name: "one day's digests cannot be read",
			denyGet: keyPrefix + "/AWSLogs/" + acctA + "/CloudTrail-Digest/us-east-1/2026/03/02/"},
	}
	opts := Options{Since: day(3, 1), Until: day(3, 3), Now: fixedNow}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.rec.denyList, e.rec.denyGet = tc.denyList, tc.denyGet
			c := openCase(t)
			st, err := Collect(context.Background(), e.s3, e.trail, opts, CaseSink(c))
			if err != nil {
				t.Fatalf("a refusal ended the run: %v", err)
			}
			var reachable, refused []string
			for _, k := range wanted(e.objs, opts) {
				switch {
				case tc.denyList != "" && strings.HasPrefix(k, tc.denyList):
				case tc.denyGet != "" && strings.HasPrefix(k, tc.denyGet):
					refused = append(refused, k)
				default:
					reachable = append(reachable, k)
				}
			}
			if st.Downloaded != len(reachable) {
				t.Errorf("downloaded %d, want the %d not refused", st.Downloaded, len(reachable))
			}
			if tc.problem != "" {
				if len(st.Problems) != 1 || st.Problems[0].Target != tc.problem || !st.Problems[0].Denied ||
					st.Problems[0].API != "ListObjectsV2" || !strings.Contains(st.Problems[0].Error, "AccessDenied") {
					t.Errorf("problems %+v, want AccessDenied on %s", st.Problems, tc.problem)
				}
			} else if len(st.Problems) != 0 {
				t.Errorf("problems %+v", st.Problems)
			}
			var failed []string
			for _, f := range st.Failed {
				failed = append(failed, f.Key)
				if !f.Denied {
					t.Errorf("failure %+v not recorded as denied", f)
				}
			}
			if !slices.Equal(failed, refused) {
				t.Errorf("failed %q, want %q", failed, refused)
			}
			checkCase(t, c, e.objs, reachable)
		})
	}
}

func TestCollectRejects(t *testing.T) {
	tests := []struct {
		name  string
		trail Trail
		opts  Options
		want  error
	}{
		{"no bucket", Trail{ARN: "arn:aws:cloudtrail:us-east-1:111111111111:trail/x"}, Options{}, ErrNoBucket},
		{"until before since", Trail{Bucket: "b"}, Options{Since: day(3, 2), Until: day(3, 1)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Collect(context.Background(), nil, tc.trail, tc.opts, nil)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("Collect = %v, want %v", err, tc.want)
			}
		})
	}
}
