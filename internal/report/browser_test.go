package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/harrier-ir/harrier/internal/browsertest"
	"github.com/harrier-ir/harrier/internal/scope"
)

// TestReportInBrowser opens the report as a responder's reader would, from
// a file, in headless chromium: the sections and charts render with their
// styles (the CSP lets the inline stylesheet in), the attacker's markup is
// text, nothing runs, and the page loads nothing from anywhere. A
// screenshot is kept as a test artifact.
func TestReportInBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	st := hostileCase(t, 12)
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(context.Background(), f, st, Options{Generated: t0, Seeds: []scope.Seed{{Kind: "key", Value: "AKIAHOSTILE000000001"}}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	headings := eval(`Array.from(document.querySelectorAll('h2')).map(h => h.textContent).join('|')`)
	for _, want := range []string{"Summary", "Integrity of the evidence", "Coverage and gaps", "Findings", "ATT&CK matrix for the cloud"} {
		if !strings.Contains(headings, want) {
			t.Errorf("the report shows no %q section: %s", want, headings)
		}
	}
	// the volume chart and the scope graph are drawn, with size
	if n := eval(`String(Array.from(document.querySelectorAll('svg')).filter(s => s.getBoundingClientRect().width > 100).length)`); n < "2" {
		t.Errorf("%s SVG drawings rendered with a size, want the volume chart and the credential graph", n)
	}
	// the stylesheet applied (a CSP refusing it leaves the browser's serif)
	if font := eval(`getComputedStyle(document.body).fontFamily`); strings.Contains(strings.ToLower(font), "times") || font == "" {
		t.Errorf("the report's styles did not apply: body font %q", font)
	}
	// attacker markup is text, and nothing ran or was made of it
	if eval(`document.body.innerText.includes('<script>alert(1)</script>') ? 'yes' : 'no'`) != "yes" {
		t.Error("the hostile user agent is not shown as text")
	}
	if n := eval(`String(document.querySelectorAll('script, iframe, img[src="x"]').length)`); n != "0" {
		t.Errorf("%s elements made from the attacker's markup", n)
	}
	// nothing is fetched: every resource the page loaded is itself
	if res := eval(`performance.getEntriesByType('resource').map(r => r.name).join(' ')`); res != "" {
		t.Errorf("the report loaded %s", res)
	}
	browsertest.Screenshot(t, ctx, "report")
}
