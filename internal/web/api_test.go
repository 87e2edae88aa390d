package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/store"
)

// tiedCase has many events sharing a few timestamps, spread over two
// evidence files, and some without a time: keyset pagination must walk
// them all exactly once, in timeline order.
func tiedCase(t testing.TB) *store.Store {
	files := map[string][][]byte{}
	for f, file := range []string{"evidence/a.json", "evidence/b.json"} {
		var recs [][]byte
		for i := 0; i < 60; i++ {
			at := fmt.Sprintf("2026-03-10T10:00:0%dZ", i%3)
			if i%20 == 19 {
				at = "" // no eventTime
			}
			who, key := alice, aliceKey
			if i%4 == 0 {
				who, key = mallory, malloryKey
			}
			recs = append(recs, rec{id: fmt.Sprintf("%d-%d", f, i), at: at, name: "ListBuckets", source: "s3.amazonaws.com", arn: who, key: key, ip: "198.51.100.7"}.json())
		}
		files[file] = recs
	}
	st, _ := openCase(t, files, false)
	return st
}

// walk pages through the timeline with the filter query q and page size n.
func walk(t *testing.T, s *Server, q url.Values, n int) []Row {
	t.Helper()
	var all []Row
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		v := url.Values{}
		for k, vals := range q {
			v[k] = vals
		}
		v.Set("limit", fmt.Sprint(n))
		if after != "" {
			v.Set("after", after)
		}
		var p Page
		if code := getJSON(t, s, "/api/events?"+v.Encode(), &p); code != 200 {
			t.Fatalf("page %d: status %d", pages, code)
		}
		if len(p.Rows) > n {
			t.Fatalf("page of %d rows, asked for %d", len(p.Rows), n)
		}
		all = append(all, p.Rows...)
		if p.Next == "" {
			if int64(len(all)) != p.Total {
				t.Fatalf("walked %d rows, total says %d", len(all), p.Total)
			}
			return all
		}
		after = p.Next
	}
}

func TestPaginationKeyset(t *testing.T) {
	st := tiedCase(t)
	s, _ := serve(t, st)
	// the reference order: the store's own timeline
	var want []string
	var wantMallory []string
	if err := st.Timeline(context.Background(), store.Filter{}, func(e *store.TimelineEvent) error {
		id := fmt.Sprintf("%s#%d", e.EvidenceFile, e.RecordIndex)
		want = append(want, id)
		if e.ARN == mallory {
			wantMallory = append(wantMallory, id)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) != 120 {
		t.Fatalf("case holds %d events", len(want))
	}
	for _, c := range []struct {
		name string
		q    url.Values
		size int
		want []string
	}{
		{"page of 1", nil, 1, want},
		{"page of 7 (pages end inside a run of equal times)", nil, 7, want},
		{"page of 40 (the pages cross files)", nil, 40, want},
		{"one page", nil, 500, want},
		{"filtered", url.Values{"principal": {mallory}}, 4, wantMallory},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := walk(t, s, c.q, c.size)
			var got []string
			seen := map[string]bool{}
			for _, r := range rows {
				id := fmt.Sprintf("%s#%d", r.File, r.Index)
				if seen[id] {
					t.Fatalf("%s appears twice", id)
				}
				seen[id] = true
				got = append(got, id)
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Fatalf("order\n got %v\nwant %v", got, c.want)
			}
		})
	}
	for _, bad := range []string{"after=nonsense", "after=eyJ0IjoieCJ9", "limit=0", "limit=501", "limit=x"} {
		if code := getJSON(t, s, "/api/events?"+bad, nil); code != 400 {
			t.Errorf("%s: status %d, want 400", bad, code)
		}
	}
}

func TestFilters(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, true)
	s, _ := serve(t, st)
	var fs findingsView
	if code := getJSON(t, s, "/api/findings", &fs); code != 200 || !fs.Hunted || len(fs.Findings) == 0 {
		t.Fatalf("findings: %d %+v", code, fs)
	}
	stop := int64(0)
	for _, f := range fs.Findings {
		if strings.Contains(f.Title, "Logging Stopped") {
			stop = f.ID
		}
	}
	if stop == 0 {
		t.Fatalf("no StopLogging finding in %+v", fs.Findings)
	}
	cases := []struct {
		name  string
		q     string
		want  int
		check func(Row) bool
	}{
		{"everything", "", 14, nil},
		{"principal pivot", "principal=" + url.QueryEscape(mallory), 5, func(r Row) bool { return r.Principal == mallory }},
		{"two principals", "principal=" + url.QueryEscape(mallory) + "&principal=" + url.QueryEscape(alice), 13, nil},
		{"key pivot", "key=" + aliceKey, 8, func(r Row) bool { return r.AccessKeyID == aliceKey }},
		{"IP pivot", "ip=203.0.113.66", 5, func(r Row) bool { return r.SourceIP == "203.0.113.66" }},
		{"event pivot", "event=ListBuckets", 5, func(r Row) bool { return r.EventName == "ListBuckets" }},
		{"pivots are exact, not globs", "event=List*", 0, nil},
		{"pivots combine with AND", "event=ListBuckets&key=" + aliceKey, 4, nil},
		{"search, any case", "q=stoplog", 1, func(r Row) bool { return r.EventName == "StopLogging" }},
		{"search finds the user agent", "q=" + url.QueryEscape("<script>"), 1, func(r Row) bool { return r.UserAgent == hostileUA }},
		{"search takes % literally", "q=%25", 0, nil},
		{"errors only", "errors=1", 1, func(r Row) bool { return r.ErrorCode == "AccessDenied" }},
		{"time window", "since=2026-03-10T10:00:00Z&until=2026-03-10T10:02:00Z", 2, nil},
		{"a finding's events", fmt.Sprintf("finding=%d", stop), 1, func(r Row) bool { return r.EventName == "StopLogging" }},
		{"scope follows the key mallory made", "scope=key:" + malloryKey, 6, func(r Row) bool { return r.AccessKeyID == malloryKey || r.AccessKeyID == "AKIASVC0000000000001" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Page
			if code := getJSON(t, s, "/api/events?"+c.q, &p); code != 200 {
				t.Fatalf("status %d", code)
			}
			if len(p.Rows) != c.want || p.Total != int64(c.want) {
				t.Fatalf("%d rows (total %d), want %d: %+v", len(p.Rows), p.Total, c.want, p.Rows)
			}
			for _, r := range p.Rows {
				if c.check != nil && !c.check(r) {
					t.Errorf("row %+v does not match", r)
				}
			}
		})
	}
	for _, bad := range []string{"since=yesterday", "finding=x", "scope=nonsense", "scope=user:x", "q=" + strings.Repeat("a", 501)} {
		if code := getJSON(t, s, "/api/events?"+bad, nil); code != 400 {
			t.Errorf("%s: status %d, want 400", bad, code)
		}
	}
	if code := getJSON(t, s, "/api/events?scope=key:AKIANOBODY0000000000", nil); code != 404 {
		t.Errorf("scope of an unknown key: status %d, want 404", code)
	}
}

func TestFacetsAreCountedAndLimited(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	s, _ := serve(t, st)
	var fs []Facet
	if code := getJSON(t, s, "/api/facets?limit=2", &fs); code != 200 {
		t.Fatalf("status %d", code)
	}
	byField := map[string]Facet{}
	for _, f := range fs {
		byField[f.Field] = f
	}
	p := byField["principal"]
	if len(p.Values) != 2 || !p.More || p.Values[0] != (FacetValue{alice, 8}) || p.Values[1] != (FacetValue{mallory, 5}) {
		t.Fatalf("principal facet %+v", p)
	}
	if e := byField["event"]; len(e.Values) != 2 || e.Values[0] != (FacetValue{"ListBuckets", 5}) || e.Values[1] != (FacetValue{"DescribeInstances", 4}) {
		t.Fatalf("event facet %+v", e)
	}
	if code := getJSON(t, s, "/api/facets?limit=10&principal="+url.QueryEscape(mallory), &fs); code != 200 {
		t.Fatal(code)
	}
	for _, f := range fs {
		if f.Field == "ip" && (len(f.Values) != 1 || f.Values[0] != (FacetValue{"203.0.113.66", 5}) || f.More) {
			t.Fatalf("filtered ip facet %+v", f)
		}
	}
	for _, bad := range []string{"limit=0", "limit=101"} {
		if code := getJSON(t, s, "/api/facets?"+bad, nil); code != 400 {
			t.Errorf("%s: status %d", bad, code)
		}
	}
	var h Histogram
	if code := getJSON(t, s, "/api/histogram", &h); code != 200 || h.BucketSeconds != 60 || len(h.Buckets) != 14 {
		t.Fatalf("histogram %d %+v", code, h)
	}
}

func TestJSONEscapesHostileText(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	s, _ := serve(t, st)
	for _, path := range []string{"/api/events?limit=500", "/api/event?file=evidence/a.json&index=9", "/api/facets", "/api/events?scope=ip:" + url.QueryEscape("<b>")} {
		req := httptest.NewRequest("GET", path, nil)
		req.Host = s.addr.String()
		req.Header.Set(TokenHeader, testToken)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		body := w.Body.String()
		if strings.ContainsAny(body, "<>") {
			t.Errorf("%s: raw < or > in the JSON: %s", path, body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
	var e EventJSON
	if code := getJSON(t, s, "/api/event?file=evidence/a.json&index=9", &e); code != 200 || !strings.Contains(e.Raw, hostileUA[:20]) {
		t.Fatalf("event JSON %d %+v", code, e)
	}
	if code := getJSON(t, s, "/api/event?file=evidence/a.json&index=999", nil); code != 404 {
		t.Errorf("missing event: %d", code)
	}
	if code := getJSON(t, s, "/api/event?file=evidence/a.json", nil); code != 400 {
		t.Errorf("event without index: %d", code)
	}
}

// TestServerNeverWrites: the store is open read-only, so DuckDB refuses a
// write, and after every endpoint has been asked (a scope included, which
// uses temporary tables) the database file is byte for byte the same.
func TestServerNeverWrites(t *testing.T) {
	st, path := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, true)
	before := fileHash(t, path)
	s, _ := serve(t, st)
	for _, p := range []string{"/", "/app.js", "/api/summary", "/api/findings", "/api/events", "/api/facets", "/api/histogram",
		"/api/event?file=evidence/a.json&index=0", "/api/scope?scope=key:" + malloryKey, "/api/scope.svg?scope=key:" + malloryKey,
		"/api/events?scope=principal:" + url.QueryEscape(mallory)} {
		if code := getJSON(t, s, p, nil); code != 200 {
			t.Errorf("%s: status %d", p, code)
		}
	}
	if _, err := st.DB().ExecContext(context.Background(), `CREATE TABLE x (i INTEGER)`); err == nil {
		t.Error("the store accepted a write")
	}
	st.Close()
	if after := fileHash(t, path); after != before {
		t.Fatal("the database changed while being served")
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
