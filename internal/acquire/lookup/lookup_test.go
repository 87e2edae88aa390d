package lookup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
)

var (
	since = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clock = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }
)

const account = "111122223333"

// windowHistory is 140 events in [since, until) — three pages — plus an
// hour before since and one event at until, which the window excludes.
func windowHistory() []fakeEvent {
	evs := history(200, since.Add(-time.Hour))
	return append(evs, fakeEvent{id: "00000000-0000-4000-8000-0000000until", name: "RunInstances", at: until})
}

func opts(rate float64) Options {
	return Options{Account: account, Since: since, Until: until, Rate: rate, Now: clock}
}

func TestCollectStoresEveryPageInTheDecodersFormat(t *testing.T) {
	f := newFakeTrail(t, windowHistory())
	sink := newMemSink()
	st, err := Collect(context.Background(), f.client(), "us-east-1", opts(20), sink)
	if err != nil {
		t.Fatal(err)
	}
	wantOldest, wantNewest := since, since.Add(139*time.Minute)
	if st.Skipped || st.Requests != 3 || st.Pages != 3 || st.Events != 140 || st.Throttled != 0 ||
		!st.Oldest.Equal(wantOldest) || !st.Newest.Equal(wantNewest) || st.Elapsed <= 0 {
		t.Errorf("stats %+v, want 3 requests, 3 pages, 140 events from %s to %s", st, wantOldest, wantNewest)
	}

	// The window as sent: [since, until) as LookupEvents' inclusive times.
	calls := f.taken()
	if len(calls) != 3 {
		t.Fatalf("%d requests, want 3", len(calls))
	}
	for i, c := range calls {
		wantToken := []string{"", "tok-50", "tok-100"}[i]
		if !c.start.Equal(since) || !c.end.Equal(until.Add(-time.Second)) || c.maxResults != 50 || c.token != wantToken {
			t.Errorf("request %d: StartTime %s EndTime %s MaxResults %d NextToken %q, want %s, %s, 50, %q",
				i+1, c.start, c.end, c.maxResults, c.token, since, until.Add(-time.Second), wantToken)
		}
	}

	dir := "lookup-events/111122223333/us-east-1/20260301T000000Z_20260302T000000Z"
	wantFiles := []string{dir + "/page-00001.json", dir + "/page-00002.json", dir + "/page-00003.json", dir + "/complete.json"}
	if strings.Join(sink.order, " ") != strings.Join(wantFiles, " ") {
		t.Fatalf("stored %v, want %v", sink.order, wantFiles)
	}

	// Every page decodes as lookup-events output, to every event once.
	ids := map[string]bool{}
	for i, rel := range wantFiles[:3] {
		s := sink.files[rel]
		if s.content != "lookup-events" {
			t.Errorf("%s: content %q", rel, s.content)
		}
		if !bytes.HasPrefix(s.data, []byte("{\n    \"Events\": [")) {
			t.Errorf("%s does not start with Events as the CLI prints it: %.40q", rel, s.data)
		}
		for _, id := range decodeIDs(t, rel, s.data) {
			if ids[id] {
				t.Errorf("%s: event %s twice", rel, id)
			}
			ids[id] = true
		}
		src, ok := s.source.(Source)
		wantSrc := Source{Service: "cloudtrail", API: "LookupEvents", Region: "us-east-1", Account: account,
			StartTime: since, EndTime: until.Add(-time.Second), Page: i + 1,
			NextTokenIn: []string{"", "tok-50", "tok-100"}[i], RequestTime: clock()}
		if !ok || src != wantSrc {
			t.Errorf("%s: source %+v, want %+v", rel, s.source, wantSrc)
		}
	}
	if len(ids) != 140 || ids["00000000-0000-4000-8000-0000000until"] {
		t.Errorf("decoded %d distinct events (the one at until: %v), want 140 without it", len(ids), ids["00000000-0000-4000-8000-0000000until"])
	}

	// One item, field by field, as `aws cloudtrail lookup-events` prints it.
	var p struct {
		Events    []map[string]any
		NextToken string
	}
	if err := json.Unmarshal(sink.files[wantFiles[0]].data, &p); err != nil {
		t.Fatal(err)
	}
	first := p.Events[0]
	if p.NextToken != "tok-50" || first["EventTime"] != "2026-03-01T02:19:00+00:00" || first["EventId"] != "00000000-0000-4000-8000-000000000199" ||
		first["ReadOnly"] != "true" || first["Username"] != "alice" || first["AccessKeyId"] != "AKIAEXAMPLE00000001" {
		t.Errorf("page 1: NextToken %q, first item %v", p.NextToken, first)
	}
	if _, ok := first["CloudTrailEvent"].(string); !ok {
		t.Errorf("CloudTrailEvent is %T, want the event as a JSON string", first["CloudTrailEvent"])
	}

	var mk struct {
		Pages []struct {
			Path   string
			Events int
		}
		Events int
	}
	if m := sink.files[wantFiles[3]]; m.content != "aws-api-response" || json.Unmarshal(m.data, &mk) != nil ||
		len(mk.Pages) != 3 || mk.Pages[2].Path != wantFiles[2] || mk.Pages[2].Events != 40 || mk.Events != 140 {
		t.Errorf("marker %s: %s", m.content, m.data)
	}
}

// decodeIDs reads a stored page with the case's decoder and returns the
// eventIDs of its events.
func decodeIDs(t *testing.T, rel string, data []byte) []string {
	t.Helper()
	d, err := cloudtrail.NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ids []string
	for {
		r, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		var ev struct{ EventID string }
		if err := json.Unmarshal(r.Raw, &ev); err != nil || ev.EventID == "" {
			t.Fatalf("%s: record %d is not an event: %.80q", rel, r.Index, r.Raw)
		}
		ids = append(ids, ev.EventID)
	}
	if d.Format() != cloudtrail.FormatLookupEvents {
		t.Errorf("%s: decoded as %s, want lookup-events", rel, d.Format())
	}
	return ids
}

// gaps checks that the requests the fake saw were paced at rate: request i
// arrives at least (i-1)/rate after the first. Counting from the first and
// allowing one interval makes it immune to a late arrival (the race
// detector, a busy CI machine), while unpaced requests, which arrive within
// a few milliseconds of each other, still fail it from the third one on.
func gaps(t *testing.T, calls []fakeCall, rate float64) {
	t.Helper()
	interval := time.Duration(float64(time.Second) / rate)
	for i := 2; i < len(calls); i++ {
		if d := calls[i].at.Sub(calls[0].at); d < time.Duration(i-1)*interval {
			t.Errorf("request %d arrived %s after the first, want at least %s at %g requests/s", i+1, d, time.Duration(i-1)*interval, rate)
		}
	}
}

func TestCollectPaces(t *testing.T) {
	const rate = 20
	f := newFakeTrail(t, history(300, since)) // six pages
	st, err := Collect(context.Background(), f.client(), "us-east-1", opts(rate), newMemSink())
	if err != nil {
		t.Fatal(err)
	}
	calls := f.taken()
	if len(calls) != 6 || st.Requests != 6 {
		for _, c := range calls {
			t.Logf("%s %q", c.at.Format("05.000000"), c.token)
		}
		t.Fatalf("%d requests (stats %+v), want 6", len(calls), st)
	}
	gaps(t, calls, rate)
	if least := 5 * time.Second / rate; st.Elapsed < least {
		t.Errorf("6 requests in %s, want at least %s", st.Elapsed, least)
	}
}

func TestCollectThrottling(t *testing.T) {
	for _, tc := range []struct {
		name          string
		throttle      int
		wantErr       bool
		wantRequests  int
		wantThrottled int
	}{
		{name: "throttled twice, then served", throttle: 2, wantRequests: 3, wantThrottled: 2},
		{name: "throttled past the retries", throttle: 5, wantErr: true, wantRequests: 3, wantThrottled: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rate = 20
			f := newFakeTrail(t, history(10, since))
			f.throttle = tc.throttle
			sink := newMemSink()
			st, err := Collect(context.Background(), f.client(), "us-east-1", opts(rate), sink)
			if tc.wantErr {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
					t.Fatalf("error %v, want a ThrottlingException", err)
				}
				if len(sink.files) != 0 {
					t.Errorf("stored %v", sink.order)
				}
			} else if err != nil || st.Events != 10 || st.Pages != 1 {
				t.Fatalf("stats %+v, error %v: want 10 events in one page", st, err)
			}
			if st.Requests != tc.wantRequests || st.Throttled != tc.wantThrottled {
				t.Errorf("%d requests, %d throttled; want %d, %d", st.Requests, st.Throttled, tc.wantRequests, tc.wantThrottled)
			}
			calls := f.taken()
			if len(calls) != tc.wantRequests {
				t.Errorf("the fake saw %d requests, want %d", len(calls), tc.wantRequests)
			}
			gaps(t, calls, rate) // retries are paced too
		})
	}
}

func TestCollectAccessDenied(t *testing.T) {
	f := newFakeTrail(t, windowHistory())
	f.deny = 1
	sink := newMemSink()
	st, err := Collect(context.Background(), f.client(), "us-east-1", opts(20), sink)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("error %v, want AccessDeniedException", err)
	}
	if len(sink.files) != 0 || st.Requests != 1 || st.Pages != 0 {
		t.Errorf("stored %v after %d requests; want nothing after one (AccessDenied is not retried)", sink.order, st.Requests)
	}
}

func TestCollectResumes(t *testing.T) {
	f := newFakeTrail(t, windowHistory())
	sink := newMemSink()
	ctx := context.Background()

	// Interrupted: page 2 is denied; page 1 stays, no marker.
	f.deny = 2
	if _, err := Collect(ctx, f.client(), "us-east-1", opts(20), sink); err == nil {
		t.Fatal("no error from a denied page")
	}
	if len(sink.order) != 1 || !strings.HasSuffix(sink.order[0], "/page-00001.json") {
		t.Fatalf("after the interruption: %v", sink.order)
	}

	// The window is fetched again whole, and marked complete.
	f.mu.Lock()
	f.deny, f.calls = 0, nil
	f.mu.Unlock()
	st, err := Collect(ctx, f.client(), "us-east-1", opts(20), sink)
	if err != nil || st.Skipped || st.Pages != 3 || len(f.taken()) != 3 {
		t.Fatalf("rerun: stats %+v, %d requests, error %v", st, len(f.taken()), err)
	}

	// Complete: a third run asks nothing.
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
	st, err = Collect(ctx, f.client(), "us-east-1", opts(20), sink)
	if err != nil || !st.Skipped || st.Requests != 0 || len(f.taken()) != 0 {
		t.Errorf("complete window: stats %+v, %d requests, error %v", st, len(f.taken()), err)
	}
}

func TestCaseSink(t *testing.T) {
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := newFakeTrail(t, windowHistory())
	sink := CaseSink(c)
	if _, err := Collect(context.Background(), f.client(), "us-east-1", opts(20), sink); err != nil {
		t.Fatal(err)
	}
	entries := c.Entries()
	if len(entries) != 4 {
		t.Fatalf("%d manifest entries, want 3 pages and the marker", len(entries))
	}
	dir := "evidence/lookup-events/111122223333/us-east-1/20260301T000000Z_20260302T000000Z/"
	for i, e := range entries {
		wantPath, wantContent := dir+"page-0000"+string(rune('1'+i))+".json", "lookup-events"
		if i == 3 {
			wantPath, wantContent = dir+"complete.json", "aws-api-response"
		}
		var src Source
		if e.Path != wantPath || e.Content != wantContent || json.Unmarshal(e.Source, &src) != nil ||
			src.API != "LookupEvents" || src.Account != account || !src.RequestTime.Equal(clock()) {
			t.Errorf("entry %d: %s %s %s, want %s %s", i, e.Path, e.Content, e.Source, wantPath, wantContent)
		}
	}
	if !sink.Have("lookup-events/111122223333/us-east-1/20260301T000000Z_20260302T000000Z/complete.json") || sink.Have("lookup-events/other") {
		t.Error("Have does not answer from the manifest")
	}
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
	if st, err := Collect(context.Background(), f.client(), "us-east-1", opts(20), sink); err != nil || !st.Skipped || len(f.taken()) != 0 {
		t.Errorf("rerun on the case: %+v, %v, %d requests", st, err, len(f.taken()))
	}
}

func TestCollectRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		region string
		edit   func(*Options)
	}{
		{name: "no account", region: "us-east-1", edit: func(o *Options) { o.Account = "" }},
		{name: "no region", edit: func(*Options) {}},
		{name: "no since", region: "us-east-1", edit: func(o *Options) { o.Since = time.Time{} }},
		{name: "until before since", region: "us-east-1", edit: func(o *Options) { o.Until = since.Add(-time.Hour) }},
		{name: "empty window", region: "us-east-1", edit: func(o *Options) { o.Until = since }},
		{name: "negative rate", region: "us-east-1", edit: func(o *Options) { o.Rate = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(20)
			tc.edit(&o)
			if _, err := Collect(context.Background(), nil, tc.region, o, newMemSink()); !errors.Is(err, ErrOptions) {
				t.Errorf("error %v, want ErrOptions", err)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		name         string
		since, until time.Time
		wantEnd      time.Time
	}{
		{"whole seconds", since, until, until.Add(-time.Second)},
		{"until inside a second", since, until.Add(500 * time.Millisecond), until},
		{"one second", since, since.Add(time.Second), since},
		{"under a second", since, since.Add(time.Millisecond), since},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, e := window(tc.since, tc.until)
			if !s.Equal(tc.since) || !e.Equal(tc.wantEnd) {
				t.Errorf("window %s..%s, want %s..%s", s, e, tc.since, tc.wantEnd)
			}
		})
	}
}

func TestCLITime(t *testing.T) {
	for in, want := range map[time.Time]string{
		since:                                    "2026-03-01T00:00:00+00:00",
		since.Add(1500 * time.Millisecond):       "2026-03-01T00:00:01.500000+00:00",
		since.In(time.FixedZone("EST", -5*3600)): "2026-03-01T00:00:00+00:00",
	} {
		if got := cliTime(in); got != want {
			t.Errorf("cliTime(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestCollectSharesALimiter: windows of one region collected one after
// another with a shared limiter are paced as one stream, the first request
// of a window included.
func TestCollectSharesALimiter(t *testing.T) {
	const rate = 20
	f := newFakeTrail(t, history(300, since)) // six pages over the period
	lim := evidence.NewLimiter(rate)
	o := opts(rate)
	mid := o.Since.Add(o.Until.Sub(o.Since) / 2)
	first, second := o, o
	first.Until, second.Since = mid, mid
	first.Limiter, second.Limiter = lim, lim
	for _, w := range []Options{first, second} {
		if _, err := Collect(context.Background(), f.client(), "us-east-1", w, newMemSink()); err != nil {
			t.Fatal(err)
		}
	}
	calls := f.taken()
	if lim.Granted() != len(calls) {
		t.Fatalf("the shared limiter let %d requests go; the fake saw %d", lim.Granted(), len(calls))
	}
	gaps(t, calls, rate)
}
