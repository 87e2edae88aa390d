// Package analytics finds behaviour that is new for the principal doing it:
// a key used from a network it never used, a client it never ran, a region
// or API it never touched, a burst of denied calls, a principal that did not
// exist. Rules (internal/detect) say what is bad anywhere; these say what is
// unusual here, against a baseline learned from the case itself, which is
// how a leaked key used "normally" by an attacker still shows.
//
// Everything is set-based SQL over the case's events table, run on the
// *sql.DB the store hands out: the events are normalised once into a
// connection-local temporary table and each analytic is one query over it,
// so the cost grows with the events, not with the number of principals.
// docs/ANALYTICS.md explains the method and its thresholds.
package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
)

// ErrInvalidOptions is wrapped by Run's error for windows or thresholds it
// cannot use, so a CLI can report a usage error rather than a failure.
var ErrInvalidOptions = errors.New("invalid analytics options")

// Options choose the windows and thresholds. Zero values take the defaults
// documented on each field.
type Options struct {
	// BaselineStart and BaselineEnd bound what is normal, [start, end).
	// Defaults: the first event of the case, and DetectStart.
	BaselineStart, BaselineEnd time.Time
	// DetectStart and DetectEnd bound what is judged, [start, end).
	// Defaults: the 24 hours ending with the minute after the case's
	// last event.
	DetectStart, DetectEnd time.Time

	// MinBaselineEvents is how many baseline events a principal needs
	// before anything it does can be "new" for it (new-source-ip,
	// new-user-agent-family, new-api and new-region's per-principal
	// test): fewer, and its history says too little. Default 10.
	MinBaselineEvents int
	// MaxBaselineNetworks skips, for new-source-ip, principals whose
	// baseline already spans more networks than this (or that met a new
	// network on more than half of their baseline days): CI runners,
	// Lambda functions and NAT pools change address all the time, so one
	// more network means nothing. Result.Notes names them. Default 10.
	MaxBaselineNetworks int
	// NewAPIMinScore is the weight of new APIs a principal needs for a
	// new-api finding: a new write call weighs 3, a new read-only call 1.
	// New sensitive APIs (IAM, STS, KMS, secrets, logging) are always
	// reported. Default 3.
	NewAPIMinScore int
	// ErrorBurstMin is how many AccessDenied/Unauthorized/Forbidden errors
	// within an hour make a burst. Default 10.
	ErrorBurstMin int
	// ErrorBurstFactor is how many times the principal's busiest baseline
	// hour of such errors a burst must also reach. Default 5.
	ErrorBurstFactor int
}

// Defaults of Options.
const (
	DefaultDetectWindow        = 24 * time.Hour
	DefaultMinBaselineEvents   = 10
	DefaultMaxBaselineNetworks = 10
	DefaultNewAPIMinScore      = 3
	DefaultErrorBurstMin       = 10
	DefaultErrorBurstFactor    = 5
	// thinBaseline is the span of a case below which the baseline is
	// called thin in Result.Notes.
	thinBaseline = 48 * time.Hour
)

// Window is a span of the case and what it held. Its JSON keys are part of
// `hunt --format json` (docs/CLI.md).
type Window struct {
	Start      time.Time `json:"start"`      // inclusive, UTC
	End        time.Time `json:"end"`        // exclusive, UTC
	Events     int64     `json:"events"`     // events in it, AWS services' own included
	Principals int64     `json:"principals"` // distinct principals (as the baseline keys them) that called
}

// Result is what Run found and what it compared against.
type Result struct {
	// Findings are sorted by severity (most severe first), first seen,
	// rule id and principal. Each lists at most detect.MaxListedEvents
	// event ids; Count is the true number.
	Findings []detect.Finding
	// AllEventIDs[i] is every event behind Findings[i], in time order, for
	// the case's finding_events table.
	AllEventIDs [][]string
	Baseline    Window
	Detect      Window
	// Notes explain what limited the analysis: a thin baseline, principals
	// skipped as IP-volatile, an empty case.
	Notes []string
}

// Rule ids, one per analytic.
const (
	RuleNewSourceIP  = "harrier.analytics.new-source-ip"
	RuleNewUserAgent = "harrier.analytics.new-user-agent-family"
	RuleNewRegion    = "harrier.analytics.new-region"
	RuleNewAPI       = "harrier.analytics.new-api"
	RuleErrorBurst   = "harrier.analytics.error-burst"
	RuleNewPrincipal = "harrier.analytics.new-principal"
)

const (
	timeLayout     = "2006-01-02T15:04Z" // how descriptions and notes print times
	tempEvents     = "harrier_analytics_events"
	tempUserAgents = "harrier_analytics_user_agents"
)

// analytic is one query over the prepared events.
type analytic struct {
	id  string
	run func(ctx context.Context, q querier, r *runner) ([]hit, error)
}

// analytics is every analytic, in the order they run; ids are unique (a
// test checks).
var analytics = []analytic{
	{RuleNewSourceIP, newSourceIP},
	{RuleNewUserAgent, newUserAgent},
	{RuleNewRegion, newRegion},
	{RuleNewAPI, newAPI},
	{RuleErrorBurst, errorBurst},
	{RuleNewPrincipal, newPrincipal},
}

// querier is the part of *sql.Conn the analytics use.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runner carries one run's resolved options to the analytics.
type runner struct {
	opts     Options
	baseline Window
	detect   Window
	notes    []string
}

// Run learns the baseline from the case's events and reports what in the
// detection window departs from it. It reads db only; the temporary table it
// builds lives on one connection and is dropped before it returns.
func Run(ctx context.Context, db *sql.DB, opts Options) (Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("analytics: connect: %w", err)
	}
	defer conn.Close()

	r := &runner{opts: opts}
	var first, last sql.NullTime
	if err := conn.QueryRowContext(ctx, `SELECT min(event_time), max(event_time) FROM events`).Scan(&first, &last); err != nil {
		return Result{}, fmt.Errorf("analytics: case span: %w", err)
	}
	if !first.Valid {
		return Result{Notes: []string{"the case has no timed events: nothing to learn a baseline from"}}, nil
	}
	if err := r.resolveWindows(first.Time.UTC(), last.Time.UTC()); err != nil {
		return Result{}, err
	}
	defer dropTemp(ctx, conn)
	if err := prepare(ctx, conn, r); err != nil {
		return Result{}, err
	}
	var hits []hit
	for _, a := range analytics {
		hs, err := a.run(ctx, conn, r)
		if err != nil {
			return Result{}, fmt.Errorf("analytics: %s: %w", a.id, err)
		}
		hits = append(hits, hs...)
	}
	sortHits(hits)
	res := Result{Baseline: r.baseline, Detect: r.detect, Notes: r.notes,
		Findings: make([]detect.Finding, len(hits)), AllEventIDs: make([][]string, len(hits))}
	for i, h := range hits {
		res.Findings[i], res.AllEventIDs[i] = h.Finding, h.all
	}
	return res, nil
}

func (o Options) withDefaults() (Options, error) {
	def := func(v *int, d int, name string) error {
		if *v < 0 {
			return fmt.Errorf("%w: %s %d is negative", ErrInvalidOptions, name, *v)
		}
		if *v == 0 {
			*v = d
		}
		return nil
	}
	for _, e := range []error{
		def(&o.MinBaselineEvents, DefaultMinBaselineEvents, "MinBaselineEvents"),
		def(&o.MaxBaselineNetworks, DefaultMaxBaselineNetworks, "MaxBaselineNetworks"),
		def(&o.NewAPIMinScore, DefaultNewAPIMinScore, "NewAPIMinScore"),
		def(&o.ErrorBurstMin, DefaultErrorBurstMin, "ErrorBurstMin"),
		def(&o.ErrorBurstFactor, DefaultErrorBurstFactor, "ErrorBurstFactor"),
	} {
		if e != nil {
			return o, e
		}
	}
	return o, nil
}

// resolveWindows fills the zero window bounds from the case's span and
// checks that the baseline ends before detection starts.
func (r *runner) resolveWindows(first, last time.Time) error {
	o := &r.opts
	if o.DetectEnd.IsZero() {
		o.DetectEnd = last.Truncate(time.Minute).Add(time.Minute)
	}
	if o.DetectStart.IsZero() {
		o.DetectStart = o.DetectEnd.Add(-DefaultDetectWindow)
	}
	if o.BaselineEnd.IsZero() {
		o.BaselineEnd = o.DetectStart
	}
	if o.BaselineStart.IsZero() {
		o.BaselineStart = first.Truncate(time.Minute)
		if o.BaselineStart.After(o.BaselineEnd) {
			o.BaselineStart = o.BaselineEnd // the whole case is in the detection window
		}
	}
	for _, t := range []*time.Time{&o.BaselineStart, &o.BaselineEnd, &o.DetectStart, &o.DetectEnd} {
		*t = t.UTC()
	}
	switch {
	case !o.DetectStart.Before(o.DetectEnd):
		return fmt.Errorf("%w: detection window %s–%s is empty", ErrInvalidOptions, o.DetectStart.Format(timeLayout), o.DetectEnd.Format(timeLayout))
	case o.BaselineEnd.Before(o.BaselineStart):
		return fmt.Errorf("%w: baseline ends (%s) before it starts (%s)", ErrInvalidOptions, o.BaselineEnd.Format(timeLayout), o.BaselineStart.Format(timeLayout))
	case o.BaselineEnd.After(o.DetectStart):
		return fmt.Errorf("%w: baseline (to %s) overlaps the detection window (from %s)", ErrInvalidOptions, o.BaselineEnd.Format(timeLayout), o.DetectStart.Format(timeLayout))
	}
	r.baseline = Window{Start: o.BaselineStart, End: o.BaselineEnd}
	r.detect = Window{Start: o.DetectStart, End: o.DetectEnd}
	if span := last.Sub(first); span < thinBaseline {
		r.notef("the case spans only %s (less than %s): the baseline %s is thin, so more of what follows is new only because it was not seen yet",
			span.Round(time.Minute), thinBaseline, r.baseline)
	}
	return nil
}

func (r *runner) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// String prints the window as the descriptions name it.
func (w Window) String() string {
	return w.Start.Format(timeLayout) + "–" + w.End.Format(timeLayout)
}

// sortHits orders findings most severe first, then by first seen, rule id
// and principal (as detect.SortHits does), with the description breaking
// any remaining tie so the order never depends on the database's.
func sortHits(hs []hit) {
	slices.SortFunc(hs, func(a, b hit) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			a.FirstSeen.Compare(b.FirstSeen),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Principal, b.Principal),
			cmp.Compare(a.Description, b.Description),
		)
	})
}
