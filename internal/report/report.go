// Package report writes what a case holds for people who were not at the
// keyboard: a self-contained HTML report (styles and charts inline, nothing
// loaded when it is opened, printable to PDF from a browser) that puts the
// evidence's integrity first, then the findings and their ATT&CK
// techniques, the event volume with the attack marked on it, the scope of
// each compromised credential, and the attacker's events.
//
// Everything is aggregated in the store: a case of millions of events
// gives the report a few hundred rows, and every table is capped and says
// so.
package report

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// Options say what to report on and how much.
type Options struct {
	// Case is the case folder's record (id, who made it, the evidence
	// manifest); nil reports on the store alone.
	Case *casefile.Case
	// Generated is the time the report says it was made (inject it for
	// reproducible output); zero says "(not given)".
	Generated time.Time
	// Version is harrier's version, printed in the report's header.
	Version string
	// Seeds are the compromised credentials to scope, as `harrier timeline
	// --scope` takes them. None: the access keys (or, without keys, the
	// principals) behind high and critical findings, most severe first,
	// at most MaxSeeds.
	Seeds []scope.Seed
	// Since and Until bound the scopes. A zero Since for a seed taken from
	// findings starts at the hour of its first high or critical finding; a seed given
	// explicitly without Since is scoped over the whole case.
	Since, Until time.Time
	// VolumeBy groups the volume chart: "account" (default) or "principal".
	VolumeBy string
	// MaxRows caps every table (default 500); MaxSeeds caps the scoped
	// credentials (default 5); MaxFindingEvents caps the events listed
	// under each finding (default 20).
	MaxRows, MaxSeeds, MaxFindingEvents int
	// Coverage is what acquisition recorded of each source, account and
	// region, when the evidence was acquired by harrier.
	Coverage []evidence.Coverage
	// SilenceAtLeast is the shortest stretch without any event of an
	// account that the report lists as a gap (default 3 hours).
	SilenceAtLeast time.Duration
}

func (o *Options) defaults() {
	if o.MaxRows <= 0 {
		o.MaxRows = 500
	}
	if o.MaxSeeds <= 0 {
		o.MaxSeeds = 5
	}
	if o.MaxFindingEvents <= 0 {
		o.MaxFindingEvents = 20
	}
	if o.VolumeBy == "" {
		o.VolumeBy = "account"
	}
	if o.SilenceAtLeast <= 0 {
		o.SilenceAtLeast = 3 * time.Hour
	}
}

// Write gathers the case's report from st and writes it to w as one HTML
// document.
func Write(ctx context.Context, w io.Writer, st *store.Store, opts Options) error {
	opts.defaults()
	if opts.VolumeBy != "account" && opts.VolumeBy != "principal" {
		return fmt.Errorf("report: volume by account or principal, not %q", opts.VolumeBy)
	}
	doc, err := gather(ctx, st, opts)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := render(w, doc); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
