package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// gather asks the store for every section, in the order the report shows
// them.
func gather(ctx context.Context, st *store.Store, opts Options) (*document, error) {
	doc := &document{Version: opts.Version, MaxRows: opts.MaxRows, Generated: "(not given)"}
	if !opts.Generated.IsZero() {
		doc.Generated = timeText(opts.Generated)
	}
	sum, err := st.Summarize(ctx)
	if err != nil {
		return nil, err
	}
	doc.Case = caseOf(opts, sum)
	if doc.Integrity, err = integrityOf(ctx, st, opts.MaxRows); err != nil {
		return nil, err
	}
	if doc.Coverage, err = coverageOf(ctx, st, opts); err != nil {
		return nil, err
	}
	found, err := findingsOf(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	doc.Findings = found.section
	doc.Matrix = matrixOf(found.all)
	if doc.Volume, err = volumeOf(ctx, st, sum, found.all, doc.Integrity.Periods, opts); err != nil {
		return nil, err
	}
	scopes, set, note, err := scopesOf(ctx, st, found.all, opts)
	if err != nil {
		return nil, err
	}
	doc.Scopes, doc.ScopeNote = scopes, note
	if set != nil {
		if doc.Attacker, err = runsOf(ctx, st, store.Filter{Scope: set, Since: scopeSince(scopes), Until: opts.Until}, opts.MaxRows); err != nil {
			return nil, err
		}
	}
	if doc.FindingEvents, err = findingEventsOf(ctx, st, found, opts); err != nil {
		return nil, err
	}
	return doc, nil
}

// scopeSince is the earliest start of the scopes: the attacker's timeline
// starts where the first scope does (zero: the whole case).
func scopeSince(scopes []scopeSection) time.Time {
	var first time.Time
	for i, s := range scopes {
		if s.Err != "" {
			continue
		}
		if s.Since == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, s.Since)
		if err != nil {
			return time.Time{}
		}
		if i == 0 || first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

func caseOf(opts Options, sum store.Summary) caseSection {
	cs := caseSection{Summary: sum, ID: "(no case record)", First: ptrTime(sum.First), Last: ptrTime(sum.Last)}
	if sum.First != nil {
		cs.Span = durationText(sum.Last.Sub(*sum.First))
	}
	cs.Accounts, cs.Regions = sum.ByAccount, sum.ByRegion
	if c := opts.Case; c != nil {
		cs.ID, cs.CreatedAt = c.Meta.ID, timeText(c.Meta.CreatedAt)
		cs.CreatedBy = c.Meta.CreatedBy.User + "@" + c.Meta.CreatedBy.Host
		cs.ManifestProblems = c.ManifestProblems()
		byContent := map[string]int64{}
		var bytes int64
		for _, en := range c.Entries() {
			cs.EvidenceFiles++
			bytes += en.Size
			if en.Referenced {
				cs.Referenced++
			}
			content := en.Content
			if content == "" {
				content = "unknown"
			}
			byContent[content]++
		}
		cs.EvidenceBytes = bytesHuman(bytes)
		cs.EvidenceContent = tallies(byContent)
	}
	return cs
}

// tallies sorts a map's counts by name.
func tallies(m map[string]int64) []tally {
	out := make([]tally, 0, len(m))
	for k, v := range m {
		out = append(out, tally{k, v})
	}
	slices.SortFunc(out, func(a, b tally) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// joinCapped joins up to n values, saying how many more there are.
func joinCapped(vals []string, n int) string {
	if len(vals) <= n {
		return strings.Join(vals, ", ")
	}
	return strings.Join(vals[:n], ", ") + fmt.Sprintf(" … and %d more", len(vals)-n)
}
