package web

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/harrier-ir/harrier/internal/browsertest"
)

// run evaluates a JavaScript expression in the page and decodes its value.
func run[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitLoads waits until the page has drawn more than n views.
func waitLoads(t *testing.T, ctx context.Context, n int) int {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[int](fmt.Sprintf(`(Number(document.body.dataset.loads || 0) > %d) && Number(document.body.dataset.loads)`, n),
		chromedp.WithPollingTimeout(0)))
	if err != nil {
		t.Fatalf("waiting for the page: %v", err)
	}
	return v
}

const rowsJS = `Array.from(document.querySelectorAll('#timeline tbody tr'))`

// TestBrowserInvestigation drives the UI in headless chromium over a small
// breached case: the findings and the chart render, a principal pivot
// filters the timeline, an event's JSON opens, and the attacker's
// <script> user agent shows as text with nothing executed.
func TestBrowserInvestigation(t *testing.T) {
	ctx := browsertest.New(t)
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, true)
	s, _ := serve(t, st)

	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL())); err != nil {
		t.Fatal(err)
	}
	loads := waitLoads(t, ctx, 0)
	if loc := run[string](t, ctx, `location.href`); strings.Contains(loc, testToken) {
		t.Errorf("the token stayed in the address bar: %s", loc)
	}
	if e := run[string](t, ctx, `document.getElementById('error').hidden ? '' : document.getElementById('error').textContent`); e != "" {
		t.Fatalf("the page shows an error: %s", e)
	}
	// the token is kept in the tab, sent as a header, never a cookie
	if tok := run[string](t, ctx, `sessionStorage.getItem('harrier-token') + ' cookies:' + document.cookie`); tok != testToken+" cookies:" {
		t.Errorf("token storage %q", tok)
	}
	if v := run[string](t, ctx, `document.getElementById('integrity').className + ': ' + document.getElementById('integrity').textContent`); !strings.HasPrefix(v, "integrity bad: NOT VERIFIED: run harrier verify") {
		t.Errorf("a case never verified shows %q", v)
	}
	if n := run[int](t, ctx, `document.querySelectorAll('#chart .finding-mark').length`); n != 4 {
		t.Errorf("the chart marks %d findings, want the 4 of the hunt", n)
	}
	if ticks := run[string](t, ctx, `Array.from(document.querySelectorAll('#chart .tick-label')).map(e => e.textContent).join(' ')`); !strings.Contains(ticks, "03-10 09:15") || !strings.HasSuffix(ticks, "UTC") {
		t.Errorf("time axis labels %q", ticks)
	}
	if hs := run[[]int](t, ctx, rowsJS+`.map(r => r.offsetHeight)`); slices.Max(hs) > 30 {
		t.Errorf("row heights %v: rows must stay one line (the hostile user agent is long)", hs)
	}
	findings := run[string](t, ctx, `Array.from(document.querySelectorAll('#findings .finding')).map(f => f.textContent).join('\n')`)
	if !strings.Contains(findings, "CloudTrail Trail Logging Stopped") || !strings.Contains(findings, mallory) {
		t.Fatalf("findings shown:\n%s", findings)
	}
	if bars := run[int](t, ctx, `document.querySelectorAll('#chart svg rect').length`); bars != 14 {
		t.Errorf("the chart has %d bars, want one per minute with events (14)", bars)
	}
	if n := run[int](t, ctx, rowsJS+`.length`); n != 14 {
		t.Fatalf("timeline shows %d rows, want 14", n)
	}
	browsertest.Screenshot(t, ctx, "overview")

	// the hostile user agent is a cell's text, and nothing ran
	ua := run[string](t, ctx, rowsJS+`.map(r => r.querySelector('td.ua').textContent).find(u => u.includes('script')) || ''`)
	if ua != hostileUA {
		t.Fatalf("user agent cell %q, want the literal %q", ua, hostileUA)
	}
	checkNothingRan(t, ctx)

	// pivot on mallory from her first timeline row
	sel := fmt.Sprintf(`#timeline tbody td.principal button.pivot[data-value=%q]`, mallory)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.AtLeast(1))); err != nil {
		t.Fatal(err)
	}
	loads = waitLoads(t, ctx, loads)
	principals := run[[]string](t, ctx, rowsJS+`.map(r => r.querySelector('td.principal').textContent)`)
	if len(principals) != 5 {
		t.Fatalf("after the pivot %d rows, want mallory's 5: %v", len(principals), principals)
	}
	for _, p := range principals {
		if p != mallory {
			t.Fatalf("after the pivot a row of %s", p)
		}
	}
	if chip := run[string](t, ctx, `document.querySelector('#active-filters .chip').textContent`); !strings.Contains(chip, mallory) {
		t.Errorf("active filter %q", chip)
	}
	if count := run[string](t, ctx, `document.getElementById('count').textContent`); !strings.HasPrefix(count, "5 events match") {
		t.Errorf("count line %q", count)
	}

	// open the hostile event's JSON
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#timeline tbody tr[data-index="9"] td.time`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('event-json').textContent.includes('ListUsers')`)); err != nil {
		t.Fatal(err)
	}
	raw := run[string](t, ctx, `document.getElementById('event-json').textContent`)
	if !strings.Contains(raw, `"userAgent": "<script>window.__pwned=1</script>`) || !strings.Contains(raw, `"eventID": "m-2"`) {
		t.Fatalf("event JSON shown:\n%s", raw)
	}
	checkNothingRan(t, ctx)
	browsertest.Screenshot(t, ctx, "pivot-and-event")

	// scope from mallory's key: the graph and the scoped timeline
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#detail-actions button.scope-btn[data-scope^="key:"]`))); err != nil {
		t.Fatal(err)
	}
	loads = waitLoads(t, ctx, loads)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.querySelector('#scope-graph img'); return !!i && i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:') })()`)); err != nil {
		t.Fatal(err)
	}
	if sum := run[string](t, ctx, `document.getElementById('scope-summary').textContent`); !strings.Contains(sum, "2 credentials") {
		t.Errorf("scope summary %q, want mallory's key and the one she made", sum)
	}
	// the scope replaces the principal filter: mallory's events and those
	// of the key she made
	if n := run[int](t, ctx, rowsJS+`.length`); n != 6 {
		t.Errorf("the scoped timeline shows %d rows, want 6", n)
	}
	checkNothingRan(t, ctx)
	browsertest.Screenshot(t, ctx, "scope")

	// a bar of the chart sets the time window; the scope follows it
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#chart rect.bar[data-start="2026-03-10T10:02:00Z"]`))); err != nil {
		t.Fatal(err)
	}
	waitLoads(t, ctx, loads)
	if w := run[string](t, ctx, `document.getElementById('since').value + ' ' + document.getElementById('until').value`); w != "2026-03-10T10:02:00Z 2026-03-10T10:03:00Z" {
		t.Errorf("window after the click %q", w)
	}
	if ev := run[[]string](t, ctx, rowsJS+`.map(r => r.querySelector('td.event').textContent)`); len(ev) != 1 || ev[0] != "CreateAccessKey" {
		t.Errorf("the bar's rows %v, want mallory's CreateAccessKey", ev)
	}
	if sum := run[string](t, ctx, `document.getElementById('scope-summary').textContent`); !strings.HasPrefix(sum, "1 events") {
		t.Errorf("scope summary in the window %q", sum)
	}
}

func checkNothingRan(t *testing.T, ctx context.Context) {
	t.Helper()
	if pwned := run[string](t, ctx, `typeof window.__pwned`); pwned != "undefined" {
		t.Fatalf("window.__pwned is %s: the page ran the attacker's markup", pwned)
	}
	if n := run[int](t, ctx, `document.querySelectorAll('img[src="x"], script:not([src="/app.js"])').length`); n != 0 {
		t.Fatalf("%d elements from the attacker's markup in the page", n)
	}
}
