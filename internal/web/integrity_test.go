package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// TestIntegrityShown: the summary carries verify's verdict (never run,
// all verified, some events not vouched for) and each timeline row its
// evidence file's status, which the page shows.
func TestIntegrityShown(t *testing.T) {
	files := map[string][][]byte{"evidence/a.json": breach()[:8], "evidence/b.json": breach()[8:]}
	for _, c := range []struct {
		name      string
		flags     []store.IntegrityFlag
		verified  bool
		untrusted int64
		rows      map[string]string // file -> integrity of its rows
	}{
		{"never verified", nil, false, 0, map[string]string{"evidence/a.json": "", "evidence/b.json": ""}},
		{"all verified", []store.IntegrityFlag{{EvidenceFile: "evidence/a.json", Status: "verified"}, {EvidenceFile: "evidence/b.json", Status: "verified"}},
			true, 0, map[string]string{"evidence/a.json": "verified", "evidence/b.json": "verified"}},
		{"one file modified", []store.IntegrityFlag{{EvidenceFile: "evidence/a.json", Status: "verified"}, {EvidenceFile: "evidence/b.json", Status: "modified"}},
			true, 6, map[string]string{"evidence/a.json": "verified", "evidence/b.json": "modified"}},
		{"one file not in the verified manifest", []store.IntegrityFlag{{EvidenceFile: "evidence/a.json", Status: "verified"}},
			true, 6, map[string]string{"evidence/a.json": "verified", "evidence/b.json": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, _ := openVerifiedCase(t, files, false, c.flags)
			s, _ := serve(t, st)
			var sum summaryView
			if code := getJSON(t, s, "/api/summary", &sum); code != 200 {
				t.Fatal(code)
			}
			iv := sum.Integrity
			if iv.Verified != c.verified || iv.Untrusted != c.untrusted {
				t.Fatalf("integrity %+v, want verified=%v untrusted=%d", iv, c.verified, c.untrusted)
			}
			if c.verified && iv.VerifiedAt != time.Date(2026, 3, 20, 2, 0, 0, 0, time.UTC).Format(time.RFC3339) {
				t.Errorf("verified at %q", iv.VerifiedAt)
			}
			if c.untrusted > 0 && iv.Events["verified"] != 8 {
				t.Errorf("events by status %v", iv.Events)
			}
			var p Page
			if code := getJSON(t, s, "/api/events", &p); code != 200 || len(p.Rows) != 14 {
				t.Fatalf("%d %d rows", code, len(p.Rows))
			}
			for _, r := range p.Rows {
				if r.Integrity != c.rows[r.File] {
					t.Fatalf("row %s#%d integrity %q, want %q", r.File, r.Index, r.Integrity, c.rows[r.File])
				}
			}
		})
	}
}

// TestHistogramShowsHours: a week of quiet activity with a five-hour
// burst in it is drawn hourly, so the burst is its own bars.
func TestHistogramShowsHours(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var recs [][]byte
	for h := 0; h < 7*24; h++ {
		recs = append(recs, rec{id: fmt.Sprintf("q-%d", h), at: t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339), name: "ListBuckets",
			source: "s3.amazonaws.com", arn: alice, key: aliceKey, ip: "198.51.100.7"}.json())
	}
	burst := t0.Add(80 * time.Hour)
	for i := 0; i < 5*60; i++ {
		recs = append(recs, rec{id: fmt.Sprintf("b-%d", i), at: burst.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), name: "GetObject",
			source: "s3.amazonaws.com", arn: mallory, key: malloryKey, ip: "203.0.113.66"}.json())
	}
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": recs}, false)
	s, _ := serve(t, st)
	var h Histogram
	if code := getJSON(t, s, "/api/histogram", &h); code != 200 {
		t.Fatal(code)
	}
	if h.BucketSeconds != 3600 || len(h.Buckets) != 7*24 {
		t.Fatalf("%d buckets of %ds, want 168 hourly", len(h.Buckets), h.BucketSeconds)
	}
	var burstBars int
	for _, b := range h.Buckets {
		if b.Events > 1 {
			burstBars++
		}
	}
	if burstBars != 5 {
		t.Fatalf("%d bars stand out, want the burst's 5", burstBars)
	}
}

// TestFacetMore: the page's "more" asks one field's longer list.
func TestFacetMore(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	s, _ := serve(t, st)
	var fs []Facet
	if code := getJSON(t, s, "/api/facets?field=event&limit=100", &fs); code != 200 {
		t.Fatal(code)
	}
	if len(fs) != 1 || fs[0].Field != "event" || len(fs[0].Values) != 7 || fs[0].More {
		t.Fatalf("facets %+v, want the 7 event names only", fs)
	}
	if code := getJSON(t, s, "/api/facets?field=nonsense", nil); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
}
