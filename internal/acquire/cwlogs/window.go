package cwlogs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// TokenLifetime is how long a stored NextToken is trusted on resume:
// FilterLogEvents' tokens expire after 24 hours, and an expired one may be
// answered with an empty page rather than an error, which would end the
// window early without a word. An older one is not used: the window starts
// again (a new pass, see marker).
const TokenLifetime = 23 * time.Hour

// marker is complete.json: what the window's pages hold, so that a re-run
// reports the window without reading its pages.
//
// A window is normally fetched in one pass, page 1 to the last, resumed
// after an interruption from the NextToken its last stored page carries.
// When that token is too old to trust, fetching starts again from the
// window's start as a new pass, numbered on after the pages already stored
// (which are never overwritten): the last pass is the complete one, and
// events of earlier passes reappear in it, with the same eventId.
type marker struct {
	Service     string       `json:"service"` // "logs"
	API         string       `json:"api"`     // "FilterLogEvents"
	Account     string       `json:"account"`
	Region      string       `json:"region"`
	Group       string       `json:"log_group_name"`
	StartTime   int64        `json:"start_time"` // as sent, epoch ms (inclusive)
	EndTime     int64        `json:"end_time"`   // as sent, epoch ms (inclusive)
	Passes      int          `json:"passes"`     // 1 unless a resume had to start again
	Pages       []markerPage `json:"pages"`
	Events      int          `json:"events"` // in the last, complete pass
	Oldest      *time.Time   `json:"oldest,omitempty"`
	Newest      *time.Time   `json:"newest,omitempty"`
	CompletedAt time.Time    `json:"completed_at"`
}

type markerPage struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Pass   int    `json:"pass"`
	Events int    `json:"events"`
}

// page is what Collect reads back from a stored page.
type page struct {
	Events []struct {
		Timestamp *int64 `json:"Timestamp"`
	} `json:"Events"`
	NextToken *string `json:"NextToken"`
}

var pageName = regexp.MustCompile(`^page-([0-9]{5,})\.json$`)

// windowRun is the state of one window's collection.
type windowRun struct {
	api   API
	group string
	opts  Options
	lim   *Limiter
	sink  Sink
	now   func() time.Time
	dir   string
	mk    marker
	st    *GroupStats
}

// millis returns FilterLogEvents' startTime and endTime for [since, until):
// both are inclusive, in milliseconds.
func millis(since, until time.Time) (int64, int64) {
	s, u := since.UnixMilli(), until.UnixMilli()
	if until.Equal(time.UnixMilli(u)) {
		u-- // until is exclusive
	}
	return s, max(u, s)
}

// collect fetches the group's events of the window into the sink, or
// reports them from its marker when the window is already complete.
func (w *windowRun) collect(ctx context.Context) error {
	held, err := w.sink.Held(w.dir)
	if err != nil {
		return fmt.Errorf("read what the case holds of %s: %w", w.dir, err)
	}
	var pages []Held
	for _, h := range held {
		switch name := path.Base(h.Rel); {
		case name == MarkerName:
			return w.fromMarker(h.Rel)
		case pageName.MatchString(name):
			pages = append(pages, h)
		}
	}
	start, end := millis(w.opts.Since, w.opts.Until)
	w.mk = marker{Service: "logs", API: "FilterLogEvents", Account: w.opts.Account, Region: w.opts.Region,
		Group: w.group, StartTime: start, EndTime: end, Pages: []markerPage{}}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(w.group),
		StartTime: aws.Int64(start), EndTime: aws.Int64(end)}
	if w.opts.Limit > 0 {
		in.Limit = aws.Int32(w.opts.Limit)
	}
	n := 0
	var last *page
	var lastAt time.Time
	for _, h := range pages {
		m := pageName.FindStringSubmatch(path.Base(h.Rel))
		n, _ = strconv.Atoi(m[1])
		data, err := w.sink.Read(h.Rel)
		if err != nil {
			return fmt.Errorf("resume %s: %w", w.dir, err)
		}
		var p page
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("resume %s: read %s: %w", w.dir, h.Rel, err)
		}
		if h.Source.Params["nextToken"] == "" {
			w.newPass()
		}
		w.add(h.Rel, data, &p)
		last, lastAt = &p, h.Source.RequestTime
	}
	switch {
	case last == nil:
		w.newPass()
	case aws.ToString(last.NextToken) == "":
		// every page is stored, only the marker is missing
		w.st.Resumed = true
		return w.finish()
	case w.now().Sub(lastAt) > TokenLifetime:
		w.st.Restarted = true
		w.newPass()
	default:
		w.st.Resumed = true
		in.NextToken = last.NextToken
	}
	for n++; ; n++ {
		if err := w.lim.Wait(ctx); err != nil {
			return err
		}
		src := evidence.Source{Service: "logs", API: "FilterLogEvents", Account: w.opts.Account, Region: w.opts.Region,
			Params: params(in), Page: n, RequestTime: w.now().UTC()}
		obs := &evidence.Attempts{Lim: w.lim}
		out, err := w.api.FilterLogEvents(ctx, in, func(o *cloudwatchlogs.Options) { o.APIOptions = append(o.APIOptions, obs.Stack("HarrierLogsPace")) })
		obs.Done(err, &w.st.Requests, &w.st.Throttled)
		if err != nil {
			return fmt.Errorf("logs FilterLogEvents %s page %d: %w", w.group, n, err)
		}
		data, err := evidence.MarshalJSON(out)
		if err != nil {
			return fmt.Errorf("render page %d of %s: %w", n, w.dir, err)
		}
		rel := path.Join(w.dir, fmt.Sprintf("page-%05d.json", n))
		if err := w.sink.Put(rel, ContentPage, data, src); err != nil {
			return fmt.Errorf("store %s: %w", rel, err)
		}
		var p page
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("read back %s: %w", rel, err)
		}
		w.add(rel, data, &p)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return w.finish()
}

// params is the request's provenance: what was asked, with the NextToken
// it carried ("" on a pass's first page).
func params(in *cloudwatchlogs.FilterLogEventsInput) map[string]string {
	p := map[string]string{"logGroupName": aws.ToString(in.LogGroupName),
		"startTime": strconv.FormatInt(aws.ToInt64(in.StartTime), 10),
		"endTime":   strconv.FormatInt(aws.ToInt64(in.EndTime), 10)}
	if in.Limit != nil {
		p["limit"] = strconv.Itoa(int(*in.Limit))
	}
	if in.NextToken != nil {
		p["nextToken"] = *in.NextToken
	}
	return p
}

// newPass starts counting a pass from the window's start.
func (w *windowRun) newPass() {
	w.mk.Passes++
	w.mk.Events, w.mk.Oldest, w.mk.Newest = 0, nil, nil
}

// add counts a page into the marker.
func (w *windowRun) add(rel string, data []byte, p *page) {
	sum := sha256.Sum256(data)
	w.mk.Pages = append(w.mk.Pages, markerPage{Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		Pass: w.mk.Passes, Events: len(p.Events)})
	w.mk.Events += len(p.Events)
	for _, e := range p.Events {
		if e.Timestamp == nil {
			continue
		}
		t := time.UnixMilli(*e.Timestamp).UTC()
		if w.mk.Oldest == nil || t.Before(*w.mk.Oldest) {
			w.mk.Oldest = &t
		}
		if w.mk.Newest == nil || t.After(*w.mk.Newest) {
			w.mk.Newest = &t
		}
	}
}

// finish stores the marker: the window is complete.
func (w *windowRun) finish() error {
	w.mk.CompletedAt = w.now().UTC()
	rel := path.Join(w.dir, MarkerName)
	src := evidence.Source{Service: "logs", API: "FilterLogEvents", Account: w.opts.Account, Region: w.opts.Region,
		Params: map[string]string{"logGroupName": w.group, "startTime": strconv.FormatInt(w.mk.StartTime, 10),
			"endTime": strconv.FormatInt(w.mk.EndTime, 10)}, RequestTime: w.mk.CompletedAt}
	if err := evidence.PutJSON(w.sink, rel, w.mk, src); err != nil {
		return fmt.Errorf("store %s: %w", rel, err)
	}
	w.st.Complete = true
	return nil
}

// fromMarker reports a window complete in an earlier run.
func (w *windowRun) fromMarker(rel string) error {
	data, err := w.sink.Read(rel)
	if err == nil {
		err = json.Unmarshal(data, &w.mk)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	w.st.Skipped, w.st.Complete = true, true
	return nil
}

// report puts the window's figures, as far as it got, into its stats.
func (w *windowRun) report() {
	w.st.Pages = len(w.mk.Pages)
	w.st.Events = w.mk.Events
	w.st.Bytes = 0
	for _, p := range w.mk.Pages {
		w.st.Bytes += p.Size
	}
	if w.mk.Oldest != nil {
		w.st.Oldest, w.st.Newest = *w.mk.Oldest, *w.mk.Newest
	}
}
