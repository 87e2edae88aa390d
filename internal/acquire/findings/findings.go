// Package findings acquires, read-only, what AWS's own detectors already
// said about the account: the findings of GuardDuty, Security Hub (ASFF),
// Inspector (inspector2) and Macie (macie2) updated within the
// investigation window, per region. Archived findings are collected too
// (attackers archive the findings that name them), and every page of every
// answer is stored whole, as the SDK decoded it, with its provenance, so
// that the case holds what the service said and with which filter.
//
// A region where a service is not enabled is a coverage row saying so
// ("no"), not an error; a denied or failed call is a problem on the row
// ("unknown" when nothing could be learnt) while the other services and
// regions are collected. Only errors that did not come from AWS (the
// network, the context, the case) end a collection.
package findings

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// DefaultConcurrency is how many regions one service is collected in at
// once unless told otherwise: each region has its own rate limits, and the
// SDK's adaptive retryer paces each client; this bounds the burst.
const DefaultConcurrency = 4

// Options say what to collect.
type Options struct {
	Account     string    // the account the credentials are in (paths and provenance)
	Stamp       string    // the acquisition's UTC stamp, e.g. 20260301T120000Z: one folder per run
	Since       time.Time // findings updated at or after Since
	Until       time.Time // and at or before Until
	Regions     []string  // the regions to collect
	Concurrency int       // regions at once per service; DefaultConcurrency when 0
	// Now is the clock of request times; time.Now when nil.
	Now func() time.Time
}

// validate checks what a collection cannot go without.
func (o Options) validate() error {
	switch {
	case o.Account == "":
		return errors.New("findings: no account")
	case o.Stamp == "" || strings.ContainsAny(o.Stamp, `/\`) || o.Stamp == "." || o.Stamp == "..":
		return fmt.Errorf("findings: bad stamp %q", o.Stamp)
	case o.Since.IsZero() || o.Until.IsZero():
		return errors.New("findings: the window needs both since and until")
	case o.Until.Before(o.Since):
		return fmt.Errorf("findings: until %s is before since %s", o.Until.UTC().Format(time.RFC3339), o.Since.UTC().Format(time.RFC3339))
	case len(o.Regions) == 0:
		return errors.New("findings: no regions")
	}
	return nil
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// eachRegion runs collect in every region of opts, at most
// opts.Concurrency at once, and returns the rows sorted by region. The
// first error collect returns (one that did not come from AWS) cancels the
// regions not yet done and is returned with the rows finished.
func eachRegion(ctx context.Context, sink evidence.Sink, opts Options, source, service string,
	collect func(ctx context.Context, r *regionRun) error) ([]evidence.Coverage, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	regions := slices.Clone(opts.Regions)
	slices.Sort(regions)
	regions = slices.Compact(regions)

	var (
		mu    sync.Mutex
		rows  []evidence.Coverage
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, n)
	)
	for _, region := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			r := newRegionRun(sink, opts, source, service, region)
			err := collect(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("%s %s: %w", source, region, err)
				}
				cancel()
				return
			}
			rows = append(rows, r.finish())
		}()
	}
	wg.Wait()
	slices.SortFunc(rows, func(a, b evidence.Coverage) int { return strings.Compare(a.Region, b.Region) })
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return rows, first
}

// regionRun is the collection of one service in one region: where its
// files go, what it stored, and the coverage row it builds.
type regionRun struct {
	opts      Options
	service   string // the AWS service, as in provenance and paths
	region    string
	base      string // aws/<account>/<region>/<service>/<stamp>
	sink      *countingSink
	row       evidence.Coverage
	throttles *throttles
	detail    []string // what exists, in a few words, in order
	span      span
	read      bool // a page of findings (or of their ids) was read: put saw a filtered call
}

func newRegionRun(sink evidence.Sink, opts Options, source, service, region string) *regionRun {
	return &regionRun{
		opts:      opts,
		service:   service,
		region:    region,
		base:      path.Join("aws", opts.Account, region, service, opts.Stamp),
		sink:      &countingSink{Sink: sink},
		row:       evidence.Coverage{Source: source, Account: opts.Account, Region: region, Exists: "unknown"},
		throttles: &throttles{},
	}
}

// window is the provenance parameters every filtered call shares.
func (r *regionRun) window(filter string) map[string]string {
	return map[string]string{
		"since":  r.opts.Since.UTC().Format(time.RFC3339Nano),
		"until":  r.opts.Until.UTC().Format(time.RFC3339Nano),
		"filter": filter,
	}
}

// put stores one answer as the SDK decoded it, at rel under the run's
// folder, with its provenance.
func (r *regionRun) put(rel, api string, page int, params map[string]string, v any, at time.Time) error {
	src := evidence.Source{Service: r.service, API: api, Account: r.opts.Account, Region: r.region,
		Params: params, Page: page, RequestTime: at}
	if err := evidence.PutJSON(r.sink, path.Join(r.base, rel), v, src); err != nil {
		return fmt.Errorf("store %s: %w", api, err)
	}
	if params["filter"] != "" {
		r.read = true
	}
	return nil
}

// problem records a call AWS refused or failed and returns nil, or
// returns err when it did not come from AWS: that ends the collection.
func (r *regionRun) problem(api, target string, err error) error {
	if !evidence.Answered(err) {
		return fmt.Errorf("%s: %w", api, err)
	}
	r.row.Problems = append(r.row.Problems, evidence.NewProblem(r.service, api, r.opts.Account, r.region, target, err))
	return nil
}

// finish completes the row: files and bytes stored, the findings' span,
// the detail with the throttles seen.
func (r *regionRun) finish() evidence.Coverage {
	row := r.row
	row.Files, row.Bytes = r.sink.files, r.sink.bytes
	row.From, row.To = r.span.from, r.span.to
	detail := slices.Clone(r.detail)
	if n := r.throttles.count(); n > 0 {
		detail = append(detail, plural(n, "throttled request")+" retried or failed")
	}
	row.Detail = strings.Join(detail, ", ")
	return row
}

// findingsDetail is the summary every service's row gives: how many
// findings, how many archived (or, for Inspector, closed or suppressed),
// how many high or critical; or that none could be read, rather than a
// "0 findings" that would read as a clean bill.
func (r *regionRun) findingsDetail(total, archived int, archivedAs string, high int) string {
	if !r.read {
		return "findings not read"
	}
	s := plural(total, "finding")
	if archived > 0 {
		s += fmt.Sprintf(" (%d %s)", archived, archivedAs)
	}
	if high > 0 {
		s += fmt.Sprintf(", %d high or critical", high)
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// span is the time range findings cover: from the earliest first-seen or
// created time to the latest last-seen or updated time.
type span struct{ from, to time.Time }

func (s *span) add(ts ...time.Time) {
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		t = t.UTC()
		if s.from.IsZero() || t.Before(s.from) {
			s.from = t
		}
		if t.After(s.to) {
			s.to = t
		}
	}
}

// addStrings adds the ISO 8601 times GuardDuty and Security Hub give as
// strings; one that does not parse is left out of the span (the finding
// is stored as it came all the same).
func (s *span) addStrings(ts ...*string) {
	for _, p := range ts {
		if p == nil {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, *p); err == nil {
			s.add(t)
		}
	}
}

func (s *span) addTimes(ts ...*time.Time) {
	for _, p := range ts {
		if p != nil {
			s.add(*p)
		}
	}
}

// countingSink counts what one region's collection stored.
type countingSink struct {
	evidence.Sink
	files int
	bytes int64
}

func (c *countingSink) Put(rel, content string, data []byte, src evidence.Source) error {
	if err := c.Sink.Put(rel, content, data, src); err != nil {
		return err
	}
	c.files++
	c.bytes += int64(len(data))
	return nil
}

// batches cuts ids into groups of at most n, the most a Get call takes.
func batches(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// epochMillis is how GuardDuty and Macie criteria give times.
func epochMillis(t time.Time) int64 { return t.UTC().UnixMilli() }
