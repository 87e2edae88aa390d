package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/harrier-ir/harrier/internal/browsertest"
	"github.com/harrier-ir/harrier/internal/store"
)

// busyCase is 130 events with 13 event names, over two evidence files:
// verify found the first verified and the second modified.
func busyCase(t *testing.T) *store.Store {
	files := map[string][][]byte{}
	for i := 0; i < 130; i++ {
		file := "evidence/a.json"
		if i >= 120 {
			file = "evidence/b.json"
		}
		files[file] = append(files[file], rec{id: fmt.Sprintf("ev-%d", i), at: fmt.Sprintf("2026-03-10T%02d:%02d:00Z", 8+i/60, i%60),
			name: fmt.Sprintf("Call%02d", i%13), source: "s3.amazonaws.com", arn: alice, key: aliceKey, ip: "198.51.100.7", ua: strings.Repeat("long-user-agent/1.0 ", 20)}.json())
	}
	st, _ := openVerifiedCase(t, files, false, []store.IntegrityFlag{{EvidenceFile: "evidence/a.json", Status: "verified"}, {EvidenceFile: "evidence/b.json", Status: "modified"}})
	return st
}

// TestBrowserPagingAndIntegrity: the header says 10 events are not
// vouched for and their rows say so in words; a double click on Next
// turns one page, so Previous goes back to the first; "… more" lists the
// rest of a facet.
func TestBrowserPagingAndIntegrity(t *testing.T) {
	ctx := browsertest.New(t)
	s, _ := serve(t, busyCase(t))
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL())); err != nil {
		t.Fatal(err)
	}
	waitLoads(t, ctx, 0)
	if v := run[string](t, ctx, `document.getElementById('integrity').className + ': ' + document.getElementById('integrity').textContent`); !strings.HasPrefix(v, "integrity warn: 10 events come from evidence harrier verify could not vouch for (10 modified)") {
		t.Errorf("integrity banner %q", v)
	}
	// the first page is all verified; the second has the modified file's 10 rows
	if n := run[int](t, ctx, `document.querySelectorAll('#timeline tbody tr.untrusted').length`); n != 0 {
		t.Errorf("%d untrusted rows on the first page", n)
	}

	// "… more" on the event names
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#facets button.more[data-field="event"]`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#facets ul[data-field="event"] button.pivot').length === 13`)); err != nil {
		t.Fatalf("the event names after more: %v", err)
	}

	// a double click on Next turns one page
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const b = document.getElementById('next'); b.click(); b.click(); })()`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.pages === '1' && document.getElementById('count').textContent.includes('101–130')`)); err != nil {
		t.Fatalf("after a double click on Next: %v (%s)", err, run[string](t, ctx, `document.getElementById('count').textContent`))
	}
	labels := run[[]string](t, ctx, `Array.from(document.querySelectorAll('#timeline tbody tr.untrusted .integ-label')).map(l => l.textContent)`)
	if len(labels) != 10 || labels[0] != "MODIFIED" {
		t.Errorf("integrity labels on page 2: %v, want 10 MODIFIED", labels)
	}
	browsertest.Screenshot(t, ctx, "page-2")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#prev`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.pages === '2'`)); err != nil {
		t.Fatal(err)
	}
	if c := run[string](t, ctx, `document.getElementById('count').textContent + ' prev:' + document.getElementById('prev').disabled`); c != "130 events match; showing 1–100 prev:true" {
		t.Errorf("after Previous: %q, want the first page", c)
	}
}

// TestBrowserLatestViewWins: two searches in quick succession, the first
// answered last (the test holds its timeline page until the second's has
// been sent): the table shows the second search's rows, not the first's.
func TestBrowserLatestViewWins(t *testing.T) {
	ctx := browsertest.New(t)
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	ts := httptest.NewUnstartedServer(nil)
	s, err := New(st, ts.Listener.Addr().String(), Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	secondSent := make(chan struct{})
	firstDone := make(chan struct{})
	var once sync.Once
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if r.URL.Path == "/api/events" && q == "stoplogging" {
			defer close(firstDone)
			select {
			case <-secondSent:
			case <-r.Context().Done(): // the page gave it up: fine
				return
			}
		}
		s.ServeHTTP(w, r)
		if r.URL.Path == "/api/events" && q == "listusers" {
			once.Do(func() { close(secondSent) })
		}
	})
	ts.Start()
	t.Cleanup(ts.Close)

	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL())); err != nil {
		t.Fatal(err)
	}
	loads := waitLoads(t, ctx, 0)
	search := func(q string) string {
		return `(() => { const s = document.getElementById('search'); s.value = '` + q + `';
  s.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })); })();`
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](search("stoplogging")+search("listusers"))); err != nil {
		t.Fatal(err)
	}
	waitLoads(t, ctx, loads)
	<-firstDone
	// let the browser take in whatever the first request answered: one
	// more round trip to the server comes after it
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`fetch('/app.css').then(r => r.text()).then(() => new Promise(r => setTimeout(r, 0))).then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	if ev := run[[]string](t, ctx, rowsJS+`.map(r => r.querySelector('td.event').textContent)`); len(ev) != 1 || ev[0] != "ListUsers" {
		t.Fatalf("the table shows %v, want the last search's ListUsers", ev)
	}
	if c := run[string](t, ctx, `document.getElementById('count').textContent`); !strings.HasPrefix(c, "1 events match") {
		t.Errorf("count %q", c)
	}
}

// TestBrowserScopeButtons: a service's hostname in the IP facet and a
// service as a principal get no scope button; IPs, keys and ARNs do.
func TestBrowserScopeButtons(t *testing.T) {
	ctx := browsertest.New(t)
	s, _ := serve(t, serviceCase(t))
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL())); err != nil {
		t.Fatal(err)
	}
	waitLoads(t, ctx, 0)
	got := run[[]string](t, ctx, `Array.from(document.querySelectorAll('#facets li')).filter(li => li.querySelector('button.pivot')).map(li =>
  li.closest('ul').dataset.field + ' ' + li.querySelector('button.pivot').dataset.value + ' ' + !!li.querySelector('button.scope-btn'))`)
	want := map[string]bool{"ip lambda.amazonaws.com false": true, "ip config.amazonaws.com false": true, "principal lambda.amazonaws.com false": true,
		"ip 203.0.113.66 true": true, "principal " + mallory + " true": true, "key " + malloryKey + " true": true}
	for _, g := range got {
		delete(want, g)
	}
	if len(want) != 0 {
		t.Fatalf("facets %v lack %v", got, want)
	}
}
