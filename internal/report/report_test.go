package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	stdhtml "html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

const hostileUA = `<script>alert(1)</script>`

// hostileCase is a case whose attacker-controlled fields carry markup: a
// user agent, a resource name, an error message.
func hostileCase(t *testing.T, n int) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), store.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var recs [][]byte
	for i := range n {
		r := map[string]any{
			"eventVersion": "1.08", "eventID": fmt.Sprintf("ev-%03d", i), "eventType": "AwsApiCall",
			"eventTime":   time.Date(2026, 3, 14, 1, i, 0, 0, time.UTC).Format(time.RFC3339),
			"eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1",
			"sourceIPAddress": "192.0.2.77", "userAgent": hostileUA, "recipientAccountId": "111111111111",
			"userIdentity":      map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/mallory", "accessKeyId": "AKIAHOSTILE000000001", "accountId": "111111111111"},
			"requestParameters": map[string]any{"userName": `"><img src=x onerror=alert(2)>`},
			"errorCode":         "AccessDenied", "errorMessage": `<iframe src="https://evil.example/">`,
		}
		b, _ := json.Marshal(r)
		recs = append(recs, b)
	}
	if err := st.LoadRecords(ctx, "evidence/hostile.jsonl", recs, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestReportEscapesAttackerText(t *testing.T) {
	st := hostileCase(t, 5)
	var out bytes.Buffer
	err := Write(context.Background(), &out, st, Options{Generated: t0, Seeds: []scope.Seed{{Kind: "key", Value: "AKIAHOSTILE000000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	html := out.String()
	for _, bad := range []string{"<script", "<img", "<iframe"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("the report holds %q as markup", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;iframe src=&#34;https://evil.example/&#34;&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks the escaped text %s", want)
		}
	}
}

func TestReportIsSelfContained(t *testing.T) {
	st := hostileCase(t, 3)
	var out bytes.Buffer
	if err := Write(context.Background(), &out, st, Options{Generated: t0}); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	// html/template escapes the attribute its own way (a + in the hash
	// becomes &#43;): compare what a browser reads
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(html)
	if m == nil || stdhtml.UnescapeString(m[1]) != CSP() {
		t.Errorf("no CSP meta tag with %s: %v", CSP(), m)
	}
	if !strings.Contains(CSP(), "default-src 'none'") || strings.Contains(CSP(), "unsafe-inline") {
		t.Errorf("CSP %q is not strict", CSP())
	}
	for _, ref := range []string{`src="http`, `href="http`, `<link`, `@import`, `url(http`, `<script`} {
		if strings.Contains(html, ref) {
			t.Errorf("the report refers outside itself: %s", ref)
		}
	}
	// never verified, never hunted: said loudly, not presented as clean
	for _, want := range []string{"NOT VERIFIED: harrier verify was never run", "No hunt has been run on this case", "No findings, so no credential was taken as compromised"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// attackerSection is the report's attacker's timeline section.
func attackerSection(html string) string {
	sec := html[strings.Index(html, `<section id="attacker">`):]
	return sec[:strings.Index(sec, "</section>")]
}

// TestReportCollapsesAndCapsTheAttackersEvents: a run of like calls is
// one row that says how many; past the cap, every row that changes
// something is kept and the reads cut, and the table says so.
func TestReportCollapsesAndCapsTheAttackersEvents(t *testing.T) {
	t.Run("a run is one row", func(t *testing.T) {
		st := hostileCase(t, 12)
		var out bytes.Buffer
		err := Write(context.Background(), &out, st, Options{Generated: t0, MaxRows: 4, Seeds: []scope.Seed{{Kind: "key", Value: "AKIAHOSTILE000000001"}}})
		if err != nil {
			t.Fatal(err)
		}
		sec := attackerSection(out.String())
		if rows := strings.Count(sec, "<tr class="); rows != 1 {
			t.Errorf("the attacker's timeline shows %d rows, want the 12 calls in one", rows)
		}
		for _, want := range []string{"iam:CreateUser <b class=\"times\">×12</b>", "2026-03-14T01:00:00Z<br>to 2026-03-14T01:11:00Z", "Events: 12; rows: 1."} {
			if !strings.Contains(sec, want) {
				t.Errorf("the attacker's timeline lacks %s:\n%s", want, sec)
			}
		}
		if strings.Contains(sec, `class="cap"`) {
			t.Errorf("nothing was cut, but the table says so:\n%s", sec)
		}
	})
	t.Run("over the cap the reads go", func(t *testing.T) {
		st := huntedCase(t, 3)
		var out bytes.Buffer
		err := Write(context.Background(), &out, st, Options{Generated: t0, MaxRows: 4, Seeds: []scope.Seed{{Kind: "key", Value: seedKey(1)}, {Kind: "key", Value: seedKey(3)}}})
		if err != nil {
			t.Fatal(err)
		}
		sec := attackerSection(out.String())
		for _, want := range []string{"iam:CreateAccessKey", "k02-write", "k03-write", "iam:ListUsers <b class=\"times\">×12</b>", "Events: 39; rows: 4.",
			"not shown: 2 read-only rows (24 events), the latest, to keep every row that changes something."} {
			if !strings.Contains(sec, want) {
				t.Errorf("the attacker's timeline lacks %s:\n%s", want, sec)
			}
		}
	})
}

func TestReportIsDeterministic(t *testing.T) {
	st := hostileCase(t, 6)
	var a, b bytes.Buffer
	opts := Options{Generated: t0, Seeds: []scope.Seed{{Kind: "key", Value: "AKIAHOSTILE000000001"}}}
	if err := Write(context.Background(), &a, st, opts); err != nil {
		t.Fatal(err)
	}
	if err := Write(context.Background(), &b, st, opts); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two reports of the same case differ")
	}
	if !strings.Contains(a.String(), "Generated 2026-03-08T00:00:00Z") {
		t.Error("the injected generation time is not stated")
	}
}
