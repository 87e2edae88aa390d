// Package lookup acquires CloudTrail event history through LookupEvents
// (read-only), for accounts and regions no trail covers: 90 days of
// management events, paged, paced under the API's limit of 2 requests per
// second per account and region, each page kept as evidence in the shape
// `aws cloudtrail lookup-events` prints, which internal/cloudtrail reads.
package lookup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// API is the one CloudTrail call this package makes.
type API interface {
	LookupEvents(ctx context.Context, params *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// DefaultRate is LookupEvents' documented limit: 2 requests per second per
// account and region.
const DefaultRate = 2

// MaxResults is the largest page LookupEvents returns.
const MaxResults = 50

// Content names of what Collect stores, as the case's manifest records them.
const (
	ContentPage   = "lookup-events"    // a page, read as cloudtrail.FormatLookupEvents
	ContentMarker = "aws-api-response" // the complete.json marker
)

// MarkerName is the file stored last in a window's folder once every page
// of it is stored; a window that has it is not fetched again.
const MarkerName = "complete.json"

// ErrOptions reports options Collect cannot run with.
var ErrOptions = errors.New("lookup options")

// Options says what to collect.
type Options struct {
	Account string    // the account the client's credentials are in: part of the evidence path
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	// Rate is the most requests per second sent, retries included;
	// 0 means DefaultRate. It holds for one Collect; ignored when Limiter
	// is set.
	Rate float64
	// Limiter paces the requests; nil means a new one at Rate. Share one
	// between successive Collects of one account and region (windows of a
	// longer period): the quota is theirs together.
	Limiter *evidence.Limiter
	// Now is the clock for request times in the provenance; nil means time.Now.
	Now func() time.Time
}

// Source is the provenance of one stored page, kept in the case's
// manifest beside its hash.
type Source struct {
	Service     string    `json:"service"` // "cloudtrail"
	API         string    `json:"api"`     // "LookupEvents"
	Region      string    `json:"region"`
	Account     string    `json:"account"`
	StartTime   time.Time `json:"start_time"` // as sent, UTC
	EndTime     time.Time `json:"end_time"`   // as sent (inclusive), UTC
	Page        int       `json:"page,omitempty"`
	NextTokenIn string    `json:"next_token_in,omitempty"` // the NextToken the request carried
	RequestTime time.Time `json:"request_time"`            // UTC
}

// Stats says what a Collect did.
type Stats struct {
	Skipped   bool // the window was already complete in the sink: nothing was requested
	Requests  int  // HTTP requests sent, retries included (calls, for an API that is not an SDK client)
	Pages     int
	Events    int
	Throttled int       // ThrottlingExceptions seen, whether or not a retry then succeeded
	Oldest    time.Time // the oldest and newest EventTime collected (UTC)
	Newest    time.Time
	Elapsed   time.Duration
}

// Dir is where the pages of a window are stored in the sink.
func Dir(account, region string, since, until time.Time) string {
	const stamp = "20060102T150405Z"
	return path.Join("lookup-events", account, region, since.UTC().Format(stamp)+"_"+until.UTC().Format(stamp))
}

// marker is the content of complete.json.
type marker struct {
	Source
	Pages  []markerPage `json:"pages"`
	Events int          `json:"events"`
}

type markerPage struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Events int    `json:"events"`
}

// Collect fetches the events of [Since, Until) in region through api, page
// by page, newest first as LookupEvents returns them, and stores each page
// in sink as it arrives, then a complete.json marker listing them. A
// window whose marker is already in sink is skipped without a request.
// An interrupted window is fetched again from its start on the next run
// (NextTokens do not outlive a run); pages already stored stay, and the
// store deduplicates their events by eventID.
//
// Throttling is retried by the SDK client's own retryer; Collect paces
// every attempt, retries included, when api is an SDK client, and counts
// the throttles it sees. An error (AccessDenied, say) ends the window and
// is returned wrapped, with the pages stored so far kept.
func Collect(ctx context.Context, api API, region string, opts Options, sink Sink) (Stats, error) {
	start := time.Now()
	var st Stats
	switch {
	case opts.Account == "" || region == "":
		return st, fmt.Errorf("%w: account and region are required", ErrOptions)
	case opts.Since.IsZero() || !opts.Until.After(opts.Since):
		return st, fmt.Errorf("%w: window %s to %s is empty", ErrOptions, opts.Since, opts.Until)
	case opts.Rate < 0:
		return st, fmt.Errorf("%w: rate %v", ErrOptions, opts.Rate)
	}
	rate := opts.Rate
	if rate == 0 {
		rate = DefaultRate
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	dir := Dir(opts.Account, region, opts.Since, opts.Until)
	if sink.Have(path.Join(dir, MarkerName)) {
		st.Skipped = true
		st.Elapsed = time.Since(start)
		return st, nil
	}

	lim := opts.Limiter
	if lim == nil {
		lim = evidence.NewLimiter(rate)
	}
	since, end := window(opts.Since, opts.Until)
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(since), EndTime: aws.Time(end), MaxResults: aws.Int32(MaxResults)}
	mk := marker{Source: Source{Service: "cloudtrail", API: "LookupEvents", Region: region, Account: opts.Account,
		StartTime: since, EndTime: end}, Pages: []markerPage{}}
	for n := 1; ; n++ {
		if err := lim.Wait(ctx); err != nil {
			st.Elapsed = time.Since(start)
			return st, fmt.Errorf("cloudtrail LookupEvents %s %s page %d: %w", opts.Account, region, n, err)
		}
		src := mk.Source
		src.Page, src.NextTokenIn, src.RequestTime = n, aws.ToString(in.NextToken), now().UTC()
		obs := &evidence.Attempts{Lim: lim}
		out, err := api.LookupEvents(ctx, in, func(o *cloudtrail.Options) { o.APIOptions = append(o.APIOptions, obs.Stack("HarrierLookupPace")) })
		obs.Done(err, &st.Requests, &st.Throttled)
		if err != nil {
			st.Elapsed = time.Since(start)
			return st, fmt.Errorf("cloudtrail LookupEvents %s %s page %d: %w", opts.Account, region, n, err)
		}
		data, err := render(out)
		if err != nil {
			st.Elapsed = time.Since(start)
			return st, fmt.Errorf("render LookupEvents page %d: %w", n, err)
		}
		rel := path.Join(dir, fmt.Sprintf("page-%05d.json", n))
		if err := sink.Put(rel, ContentPage, data, src); err != nil {
			st.Elapsed = time.Since(start)
			return st, fmt.Errorf("store %s: %w", rel, err)
		}
		sum := sha256.Sum256(data)
		mk.Pages = append(mk.Pages, markerPage{Path: rel, SHA256: hex.EncodeToString(sum[:]), Events: len(out.Events)})
		mk.Events += len(out.Events)
		st.Pages++
		st.Events += len(out.Events)
		for _, e := range out.Events {
			if e.EventTime == nil {
				continue
			}
			t := e.EventTime.UTC()
			if st.Oldest.IsZero() || t.Before(st.Oldest) {
				st.Oldest = t
			}
			if t.After(st.Newest) {
				st.Newest = t
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	mk.RequestTime = now().UTC()
	data, err := json.MarshalIndent(mk, "", "  ")
	if err == nil {
		err = sink.Put(path.Join(dir, MarkerName), ContentMarker, data, mk.Source)
	}
	st.Elapsed = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("store %s: %w", path.Join(dir, MarkerName), err)
	}
	return st, nil
}

// window turns [since, until) into LookupEvents' StartTime and EndTime,
// both of which are inclusive. Events carry whole seconds, so the last
// second before until ends the window and adjacent windows do not overlap.
func window(since, until time.Time) (time.Time, time.Time) {
	since, until = since.UTC(), until.UTC()
	end := until.Truncate(time.Second)
	if end.Equal(until) {
		end = end.Add(-time.Second)
	}
	if end.Before(since) {
		end = since
	}
	return since, end
}
