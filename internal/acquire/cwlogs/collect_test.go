package cwlogs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// stored reads back the events of every page of group's window in the
// case, in page order, with the pages' provenance.
func stored(t *testing.T, c *casefile.Case, group string) (msgs, ids []string, srcs []evidence.Source) {
	t.Helper()
	o := options(0)
	prefix := path.Join(casefile.EvidenceDir, WindowDir(account, awstest.Region, group, o.Since, o.Until)) + "/page-"
	for _, e := range c.Latest() {
		if !strings.HasPrefix(e.Path, prefix) {
			continue
		}
		if e.Content != ContentPage {
			t.Errorf("%s: content %q", e.Path, e.Content)
		}
		var src evidence.Source
		if err := json.Unmarshal(e.Source, &src); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
		data, err := os.ReadFile(c.Path(e.Path))
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Events []struct {
				EventId, Message, LogStreamName string
				Timestamp, IngestionTime        int64
			}
		}
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s: %v", e.Path, err)
		}
		for _, ev := range p.Events {
			if ev.EventId == "" || ev.LogStreamName == "" || ev.Timestamp == 0 || ev.IngestionTime == 0 {
				t.Errorf("%s: an event without its fields: %+v", e.Path, ev)
			}
			msgs = append(msgs, ev.Message)
			ids = append(ids, ev.LogStreamName+"/"+ev.EventId)
		}
	}
	sort.Strings(msgs)
	return msgs, ids, srcs
}

// holds reports whether the case holds rel.
func holds(c *casefile.Case, rel string) bool {
	for _, e := range c.Latest() {
		if e.Path == path.Join(casefile.EvidenceDir, rel) {
			return true
		}
	}
	return false
}

func TestCollect(t *testing.T) {
	e := newEnv(t, 1)
	c := openCase(t)
	sink := CaseSink(c)
	opts := options(5)
	lim := NewLimiter(opts.Rate)
	opts.Limiter = lim
	res, err := Collect(context.Background(), e.api, []string{flowGroup, "missing-group", appGroup, flowGroup}, opts, sink)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]GroupStats{}
	var names []string
	for _, g := range res.Groups {
		byName[g.Group] = g
		names = append(names, g.Group)
	}
	if want := []string{flowGroup, appGroup, "missing-group"}; !slices.Equal(names, []string{flowGroup, appGroup, "missing-group"}) {
		t.Fatalf("groups %v, want %v (sorted, once each)", names, want)
	}
	for _, group := range []string{flowGroup, appGroup} {
		t.Run(group, func(t *testing.T) {
			st := byName[group]
			want := inWindow(e.events, group)
			msgs, ids, srcs := stored(t, c, group)
			if !slices.Equal(msgs, want) {
				t.Errorf("stored messages:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
			}
			if u := slices.Compact(slices.Sorted(slices.Values(ids))); len(u) != len(ids) {
				t.Errorf("%d events stored, %d distinct", len(ids), len(u))
			}
			wantPages := (len(want) + 4) / 5
			if st.Exists != "yes" || !st.Complete || st.Skipped || st.Resumed || st.Pages != wantPages || st.Events != len(want) || len(st.Problems) != 0 {
				t.Errorf("stats %+v, want %d events in %d pages", st, len(want), wantPages)
			}
			for i, s := range srcs {
				if s.Service != "logs" || s.API != "FilterLogEvents" || s.Page != i+1 || s.Account != account ||
					s.Params["logGroupName"] != group || (i == 0) != (s.Params["nextToken"] == "") || !s.RequestTime.Equal(fixedNow()) {
					t.Errorf("page %d provenance %+v", i+1, s)
				}
			}
			if !holds(c, path.Join(WindowDir(account, awstest.Region, group, opts.Since, opts.Until), MarkerName)) ||
				!holds(c, path.Join(GroupDir(account, awstest.Region, group), DescribeName)) {
				t.Error("no complete.json or describe-log-groups.json")
			}
		})
	}
	if st := byName[appGroup]; st.RetentionDays != 30 {
		t.Errorf("retention %d, want 30", st.RetentionDays)
	}
	miss := byName["missing-group"]
	if miss.Exists != "no" || len(miss.Problems) != 1 || miss.Problems[0].API != "DescribeLogGroups" || miss.Pages != 0 {
		t.Errorf("missing group: %+v", miss)
	}
	if len(res.Coverage) != 3 || res.Coverage[2].Exists != "no" || res.Coverage[0].Source != "cloudwatch" ||
		res.Coverage[0].Items != byName[flowGroup].Events || !strings.Contains(res.Coverage[1].Detail, "retention 30 days") {
		t.Errorf("coverage %+v", res.Coverage)
	}
	requests := 0
	for _, g := range res.Groups {
		requests += g.Requests
	}
	if lim.Granted() != requests || e.front.filters != byName[flowGroup].Pages+byName[appGroup].Pages {
		t.Errorf("limiter let %d requests go, %d were sent; %d FilterLogEvents seen", lim.Granted(), requests, e.front.filters)
	}

	t.Run("a re-run asks nothing", func(t *testing.T) {
		before := e.front.filters
		again, err := Collect(context.Background(), e.api, []string{flowGroup, appGroup}, opts, sink)
		if err != nil {
			t.Fatal(err)
		}
		if e.front.filters != before {
			t.Errorf("%d FilterLogEvents sent again", e.front.filters-before)
		}
		for _, g := range again.Groups {
			if !g.Skipped || g.Events != byName[g.Group].Events || g.Pages != byName[g.Group].Pages || !g.Oldest.Equal(byName[g.Group].Oldest) {
				t.Errorf("re-run %+v, first run %+v", g, byName[g.Group])
			}
		}
		noAlternatives(t, c)
	})
}

// cancelSink cancels the run after n pages are stored.
type cancelSink struct {
	Sink
	n      int
	cancel context.CancelFunc
}

func (s *cancelSink) Put(rel, content string, data []byte, src evidence.Source) error {
	err := s.Sink.Put(rel, content, data, src)
	if content == ContentPage {
		if s.n--; s.n == 0 {
			s.cancel()
		}
	}
	return err
}

func TestCollectResumes(t *testing.T) {
	tests := []struct {
		name      string
		later     time.Duration // the resuming run's clock, after the interrupted one's
		restarted bool
	}{
		{"from the last page's token", time.Hour, false},
		{"again when the token is too old", TokenLifetime + time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 1)
			c := openCase(t)
			want := inWindow(e.events, flowGroup)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := options(4)
			_, err := Collect(ctx, e.api, []string{flowGroup}, opts, &cancelSink{Sink: CaseSink(c), n: 2, cancel: cancel})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v", err)
			}
			first := e.front.filters
			opts.Now = func() time.Time { return fixedNow().Add(tt.later) }
			res, err := Collect(context.Background(), e.api, []string{flowGroup}, opts, CaseSink(c))
			if err != nil {
				t.Fatal(err)
			}
			st := res.Groups[0]
			msgs, ids, srcs := stored(t, c, flowGroup)
			pages := (len(want) + 3) / 4
			if !st.Complete || st.Resumed == tt.restarted || st.Restarted != tt.restarted || st.Events != len(want) {
				t.Errorf("stats %+v", st)
			}
			if tt.restarted {
				// the second pass stores every page again, numbered on
				if first != 2 || e.front.filters != 2+pages || len(srcs) != 2+pages || srcs[2].Params["nextToken"] != "" || st.Pages != 2+pages {
					t.Errorf("%d then %d requests, %d pages stored, stats %+v", first, e.front.filters, len(srcs), st)
				}
				return
			}
			if u := slices.Compact(slices.Sorted(slices.Values(ids))); len(u) != len(ids) || !slices.Equal(msgs, want) {
				t.Errorf("%d events stored (%d distinct), want %d", len(ids), len(u), len(want))
			}
			if first != 2 || e.front.filters != pages || len(srcs) != pages || st.Pages != pages {
				t.Errorf("%d then %d requests, %d pages stored, want %d", first, e.front.filters, len(srcs), pages)
			}
			if srcs[2].Params["nextToken"] == "" || srcs[2].Page != 3 {
				t.Errorf("page 3 was not asked with page 2's token: %+v", srcs[2])
			}
			noAlternatives(t, c)
		})
	}
}

func TestCollectThrottled(t *testing.T) {
	tests := []struct {
		name      string
		attempts  int // the client's retryer
		throttle  int // requests the front throttles; -1 all
		complete  bool
		throttled int
	}{
		{"retried and paced", 5, 3, true, 3},
		{"beyond the retries: a problem", 2, -1, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.attempts)
			e.front.throttle = tt.throttle
			c := openCase(t)
			opts := options(5)
			lim := NewLimiter(opts.Rate)
			opts.Limiter = lim
			res, err := Collect(context.Background(), e.api, []string{appGroup, flowGroup}, opts, CaseSink(c))
			if err != nil {
				t.Fatal(err)
			}
			throttled, requests := 0, 0
			for _, g := range res.Groups {
				throttled += g.Throttled
				requests += g.Requests
				if g.Complete != tt.complete || (len(g.Problems) > 0) == tt.complete {
					t.Errorf("%s: %+v", g.Group, g)
				}
			}
			if tt.throttle < 0 {
				tt.throttled *= len(res.Groups) // each group gives up after its attempts
			}
			if throttled != tt.throttled || throttled != e.front.throttld {
				t.Errorf("counted %d throttles, the front sent %d, want %d", throttled, e.front.throttld, tt.throttled)
			}
			if lim.Granted() != requests {
				t.Errorf("the limiter let %d requests go, %d were sent: a retry went unpaced", lim.Granted(), requests)
			}
			if tt.complete {
				msgs, _, _ := stored(t, c, flowGroup)
				if !slices.Equal(msgs, inWindow(e.events, flowGroup)) {
					t.Errorf("after throttles %d events stored", len(msgs))
				}
			} else if p := res.Groups[0].Problems[0]; p.API != "FilterLogEvents" || !strings.Contains(p.Error, "ThrottlingException") || !strings.Contains(res.Coverage[0].Detail, "incomplete") {
				t.Errorf("problem %+v, coverage %+v", p, res.Coverage[0])
			}
		})
	}
}

func TestMillis(t *testing.T) {
	since, until := window()
	tests := []struct {
		name        string
		since, till time.Time
		start, end  int64
	}{
		{"whole milliseconds", since, until, since.UnixMilli(), until.UnixMilli() - 1},
		{"until inside a millisecond", since, until.Add(500 * time.Microsecond), since.UnixMilli(), until.UnixMilli()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, e := millis(tt.since, tt.till); s != tt.start || e != tt.end {
				t.Errorf("millis = %d, %d; want %d, %d", s, e, tt.start, tt.end)
			}
		})
	}
}

func TestEscapeGroup(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"slashes", "/aws/vpc/flow-logs", "%2Faws%2Fvpc%2Fflow-logs"},
		{"dots kept", "app.audit", "app.audit"},
		{"dot", ".", "%2E"},
		{"dot dot", "..", "%2E%2E"},
		{"hash", "a#b", "a%23b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeGroup(tt.in); got != tt.want {
				t.Errorf("EscapeGroup(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	since, until := window()
	tests := []struct {
		name string
		opts Options
	}{
		{"no account", Options{Region: "r", Since: since, Until: until}},
		{"empty window", Options{Account: "a", Region: "r", Since: until, Until: since}},
		{"negative rate", Options{Account: "a", Region: "r", Since: since, Until: until, Rate: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Collect(context.Background(), nil, []string{"g"}, tt.opts, nil); !errors.Is(err, ErrOptions) {
				t.Errorf("err = %v, want ErrOptions", err)
			}
		})
	}
}
