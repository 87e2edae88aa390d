package report

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/harrier-ir/harrier/internal/browsertest"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// openReport writes the report of st to a file and opens it in the
// browser, as a responder's reader would.
func openReport(t *testing.T, ctx context.Context, st *store.Store, opts Options) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(context.Background(), f, st, opts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
}

// evalIn evaluates a JavaScript expression in the page.
func evalIn[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestReportInBrowser opens the report as a responder's reader would, from
// a file, in headless chromium: the sections and charts render with their
// styles (the CSP lets the inline stylesheet in), the attacker's markup is
// text, nothing runs, and the page loads nothing from anywhere. A
// screenshot is kept as a test artifact.
func TestReportInBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	openReport(t, ctx, hostileCase(t, 12), Options{Generated: t0, Seeds: []scope.Seed{{Kind: "key", Value: "AKIAHOSTILE000000001"}}})
	headings := evalIn[string](t, ctx, `Array.from(document.querySelectorAll('h2')).map(h => h.textContent).join('|')`)
	for _, want := range []string{"Summary", "Integrity of the evidence", "Coverage and gaps", "Findings", "ATT&CK matrix for the cloud"} {
		if !strings.Contains(headings, want) {
			t.Errorf("the report shows no %q section: %s", want, headings)
		}
	}
	// the volume chart and the scope graph are drawn, with size
	if n := evalIn[int](t, ctx, `Array.from(document.querySelectorAll('svg')).filter(s => s.getBoundingClientRect().width > 100).length`); n < 2 {
		t.Errorf("%d SVG drawings rendered with a size, want the volume chart and the credential graph", n)
	}
	// the stylesheet applied (a CSP refusing it leaves the browser's serif)
	if font := evalIn[string](t, ctx, `getComputedStyle(document.body).fontFamily`); strings.Contains(strings.ToLower(font), "times") || font == "" {
		t.Errorf("the report's styles did not apply: body font %q", font)
	}
	// attacker markup is text, and nothing ran or was made of it
	if !evalIn[bool](t, ctx, `document.body.innerText.includes('<script>alert(1)</script>')`) {
		t.Error("the hostile user agent is not shown as text")
	}
	if n := evalIn[int](t, ctx, `document.querySelectorAll('script, iframe, img[src="x"]').length`); n != 0 {
		t.Errorf("%d elements made from the attacker's markup", n)
	}
	// nothing is fetched: every resource the page loaded is itself
	if res := evalIn[string](t, ctx, `performance.getEntriesByType('resource').map(r => r.name).join(' ')`); res != "" {
		t.Errorf("the report loaded %s", res)
	}
	browsertest.Screenshot(t, ctx, "report")
}

// pdfPage is a page object of a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s\w]`)

// TestReportWithFindingsInBrowser opens the report of a hunted case: the
// findings are rows, the matrix cells of their techniques are coloured,
// the volume chart marks each finding, and the tables keep readable
// columns on screen and on paper. Printed as Chromium prints it, the
// report is A4 landscape and takes a bounded number of pages.
func TestReportWithFindingsInBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	openReport(t, ctx, huntedCase(t, 7), Options{Generated: t0})

	if n := evalIn[int](t, ctx, `document.querySelectorAll('table.findings tbody tr').length`); n != 8 {
		t.Errorf("%d findings rows, want 8", n)
	}
	// T1098.001 and T1087.004 are named by findings: their cells are coloured
	coloured := evalIn[[]string](t, ctx, `Array.from(document.querySelectorAll('.matrix .cell')).filter(c => !c.classList.contains('l0')).map(c => c.querySelector('b').textContent + ' ' + getComputedStyle(c).backgroundColor)`)
	if len(coloured) < 2 {
		t.Errorf("coloured matrix cells %v, want those of T1098.001 and T1087.004", coloured)
	}
	for _, c := range coloured {
		if strings.HasSuffix(c, "rgba(0, 0, 0, 0)") || strings.HasSuffix(c, "rgb(255, 255, 255)") {
			t.Errorf("matrix cell %s has no colour", c)
		}
	}
	if n := evalIn[int](t, ctx, `document.querySelectorAll('svg.chart.volume .marker, svg .marker').length`); n != 8 {
		t.Errorf("%d finding markers on the volume chart, want 8", n)
	}
	if n := evalIn[int](t, ctx, `Array.from(document.querySelectorAll('svg .marker')).filter(m => m.getBoundingClientRect().width > 0).length`); n != 8 {
		t.Errorf("%d finding markers drawn with a size, want 8", n)
	}

	// column widths: the principal and source IP columns never squeeze to
	// a character or two, on screen or laid out for A4 landscape paper
	widths := func(media string) {
		t.Helper()
		for _, c := range []struct {
			col  int
			name string
			min  float64
		}{{2, "finding", 150}, {4, "principal and access keys", 170}, {5, "source IPs", 90}} {
			w := evalIn[float64](t, ctx, `Math.min(...Array.from(document.querySelectorAll('table.findings tbody tr td:nth-child(`+string(rune('0'+c.col))+`)')).map(td => td.getBoundingClientRect().width))`)
			if w < c.min {
				t.Errorf("%s: the %s column is %.0f px wide, want at least %.0f", media, c.name, w, c.min)
			}
		}
		for _, c := range []struct {
			col  int
			name string
			min  float64
		}{{2, "who", 150}, {3, "from", 130}, {4, "did", 110}} {
			w := evalIn[float64](t, ctx, `Math.min(...Array.from(document.querySelectorAll('table.events tbody tr td:nth-child(`+string(rune('0'+c.col))+`)')).map(td => td.getBoundingClientRect().width))`)
			if w < c.min {
				t.Errorf("%s: the events' %s column is %.0f px wide, want at least %.0f", media, c.name, w, c.min)
			}
		}
	}
	widths("screen")
	browsertest.Screenshot(t, ctx, "findings")
	// A4 landscape less 12 mm margins is about 1030 CSS pixels wide
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1030, 700)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	widths("print")

	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(browsertest.ArtifactsDir(t), "TestReportWithFindingsInBrowser.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	// each of the nine sections starts a page; a few more for the tables
	if n := len(pdfPage.FindAll(pdf, -1)); n < 9 || n > 26 {
		t.Errorf("the report prints on %d pages, want 9 to 26 (it printed on 23 when this test was written)", n)
	}
	if !regexp.MustCompile(`/MediaBox\s*\[0 0 841\.9\d* 594\.9\d*\]`).Match(pdf) {
		t.Errorf("the report does not print on A4 landscape: %s", regexp.MustCompile(`/MediaBox\s*\[[^\]]*\]`).Find(pdf))
	}
}
