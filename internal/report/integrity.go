package report

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/store"
)

// periodJoin is how far apart two untrusted files' events may be and still
// count as one period: CloudTrail delivers a file about every five minutes
// per region, so an hour bridges quiet stretches, not real gaps.
const periodJoin = time.Hour

// integrityOf reads what the latest `harrier verify` recorded: the events
// per status of their evidence, and the periods the unverified evidence
// covers. A case never verified says so; it is not presented as clean.
func integrityOf(ctx context.Context, st *store.Store, maxRows int) (integritySection, error) {
	var sec integritySection
	rec, err := st.Integrity(ctx)
	if err != nil {
		return sec, err
	}
	flagged, err := st.FlaggedEvents(ctx)
	if err != nil {
		return sec, err
	}
	sec.Events, sec.Files = tallies(flagged), tallies(rec.Files)
	sec.Verified = !rec.VerifiedAt.IsZero()
	if !sec.Verified {
		return sec, nil
	}
	sec.VerifiedAt = timeText(rec.VerifiedAt)
	for k, n := range flagged {
		if k != "verified" {
			sec.Untrusted += n
		}
	}
	sec.AllVerified = sec.Untrusted == 0
	periods, err := st.UntrustedPeriods(ctx)
	if err != nil {
		return sec, err
	}
	merged := mergePeriods(periods, periodJoin)
	sec.PeriodsAll = len(merged)
	if len(merged) > maxRows {
		merged = merged[:maxRows]
	}
	sec.Periods = merged
	return sec, nil
}

// mergePeriods joins periods of one account, region and status that are at
// most join apart, and sorts the result by start.
func mergePeriods(in []store.Period, join time.Duration) []store.Period {
	ps := slices.Clone(in)
	slices.SortFunc(ps, func(a, b store.Period) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Status, b.Status), a.Start.Compare(b.Start))
	})
	var out []store.Period
	for _, p := range ps {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.Account == p.Account && last.Region == p.Region && last.Status == p.Status && !p.Start.After(last.End.Add(join)) {
				if p.End.After(last.End) {
					last.End = p.End
				}
				last.Events += p.Events
				last.Files += p.Files
				continue
			}
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b store.Period) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return out
}

// coverageOf is what acquisition recorded, or what the evidence is when it
// recorded nothing, and the stretches in which an account logged nothing.
func coverageOf(ctx context.Context, st *store.Store, opts Options) (coverageSection, error) {
	sec := coverageSection{SilenceAtMin: durText(opts.SilenceAtLeast)}
	sec.Rows = slices.Clone(opts.Coverage)
	slices.SortFunc(sec.Rows, func(a, b evidence.Coverage) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	if len(sec.Rows) > opts.MaxRows {
		sec.Rows = sec.Rows[:opts.MaxRows]
	}
	var err error
	sec.Silences, sec.SilencesAll, err = st.Silences(ctx, opts.SilenceAtLeast, opts.MaxRows)
	return sec, err
}
