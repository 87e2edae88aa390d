package report

import (
	"context"
	"strings"

	"github.com/harrier-ir/harrier/internal/store"
)

// rowOf is one event in a sentence's parts: who, from where, did what, to
// what, with what outcome. Evidence that verify could not vouch for is
// marked on the row.
func rowOf(ev *store.TimelineEvent) eventRow {
	r := eventRow{Time: timeText(ev.Time), NoTime: ev.Time.IsZero(), Account: ev.Account, Region: ev.Region,
		Who: ev.Principal(), Key: ev.AccessKeyID, IP: ev.SourceIP, UserAgent: ev.UserAgent,
		What: strings.TrimSuffix(ev.EventSource, ".amazonaws.com") + ":" + ev.EventName, Target: ev.Resource,
		Failed: ev.ErrorCode != "", EventID: ev.EventID, EvidenceFile: ev.EvidenceFile, RecordIndex: ev.RecordIndex}
	r.Untrusted = ev.Integrity != "" && ev.Integrity != "verified"
	r.Outcome = ev.Outcome()
	return r
}

// findingEventsOf lists the events behind each finding shown, capped per
// finding; the findings themselves are capped at the report's row limit
// divided by the events per finding, so the section stays readable.
func findingEventsOf(ctx context.Context, st *store.Store, found foundSet, opts Options) ([]findingEvents, error) {
	most := max(opts.MaxRows/opts.MaxFindingEvents, 1)
	var out []findingEvents
	for i, f := range found.all {
		if i == most {
			break
		}
		// Findings read at most MaxFindingEvents ids of each
		ids := f.EventIDs
		fe := findingEvents{Finding: findingRowOf(f), Events: eventTable{Total: f.Count}}
		if len(ids) > 0 {
			err := st.Timeline(ctx, store.Filter{Scope: &store.ScopeSet{EventIDs: ids}}, func(ev *store.TimelineEvent) error {
				fe.Events.Rows = append(fe.Events.Rows, rowOf(ev))
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		out = append(out, fe)
	}
	return out, nil
}
