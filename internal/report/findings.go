package report

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/harrier-ir/harrier/internal/attack"
	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/store"
)

// foundSet is the latest hunt's findings: all of them (for the matrix, the
// chart and the choice of seeds) and the capped table.
type foundSet struct {
	all     []detect.Stored
	section findingsSection
}

// severities in the order the report lists them.
var severities = []detect.Severity{detect.Critical, detect.High, detect.Medium, detect.Low, detect.Informational}

func findingsOf(ctx context.Context, st *store.Store, opts Options) (foundSet, error) {
	var fs foundSet
	all, err := detect.Findings(ctx, st, opts.MaxFindingEvents)
	if errors.Is(err, detect.ErrNoHunt) {
		return fs, nil
	}
	if err != nil {
		return fs, err
	}
	fs.all = all
	fs.section.Ran = true
	fs.section.Total = len(all)
	by := map[detect.Severity]int64{}
	for _, f := range all {
		by[f.Severity]++
	}
	for _, s := range severities {
		fs.section.BySeverity = append(fs.section.BySeverity, tally{string(s), by[s]})
	}
	for i, f := range all {
		if i == opts.MaxRows {
			break
		}
		fs.section.Rows = append(fs.section.Rows, findingRowOf(f))
	}
	return fs, nil
}

func findingRowOf(f detect.Stored) findingRow {
	r := findingRow{ID: f.ID, Severity: string(f.Severity), Title: f.Title, RuleID: f.RuleID, Principal: f.Principal,
		Keys: f.AccessKeyIDs, IPs: f.SourceIPs, Accounts: f.Accounts, Regions: f.Regions,
		First: timeText(f.FirstSeen), Last: timeText(f.LastSeen), Count: f.Count}
	cat := attack.Enterprise()
	for _, id := range f.Techniques {
		name := "(not in ATT&CK v18)"
		if t, ok := cat.Technique(id); ok {
			name = t.Name
		}
		r.Techniques = append(r.Techniques, techRef{ID: id, Name: name})
	}
	return r
}

// matrixOf lays the findings on ATT&CK's matrix for the cloud: a column per
// tactic, a cell per cloud technique (and any other technique a finding
// names), coloured by how many findings name it there. Techniques with
// findings come first in their column, most findings first.
func matrixOf(all []detect.Stored) []matrixColumn {
	cat := attack.Enterprise()
	items := make([]attack.Item, 0, len(all))
	for _, f := range all {
		it := attack.Item{ID: strconv.FormatInt(f.ID, 10), Title: f.Title}
		for _, t := range f.Techniques {
			if _, ok := cat.Technique(t); ok {
				it.Techniques = append(it.Techniques, t)
			}
		}
		for _, t := range f.Tactics {
			if _, ok := cat.Tactic(t); ok {
				it.Tactics = append(it.Tactics, t)
			}
		}
		items = append(items, it)
	}
	cov, err := cat.Coverage(items)
	if err != nil {
		// unknown names were filtered out above; an error here is a bug
		// in the catalogue, and the matrix is left out rather than wrong
		return nil
	}
	var cols []matrixColumn
	for _, tc := range cov.Tactics {
		col := matrixColumn{ID: tc.ID, Name: tc.Name}
		for _, t := range tc.Techniques {
			col.Cells = append(col.Cells, matrixCell{ID: t.ID, Name: t.Name, Findings: t.Count, Level: level(t.Count)})
		}
		slices.SortStableFunc(col.Cells, func(a, b matrixCell) int { return b.Findings - a.Findings })
		for _, t := range tc.Uncovered {
			col.Cells = append(col.Cells, matrixCell{ID: t.ID, Name: t.Name})
		}
		if len(col.Cells) > 0 {
			cols = append(cols, col)
		}
	}
	return cols
}

// level is a cell's colour step: 1, 2-3, 4-9, 10 or more findings.
func level(n int) int {
	switch {
	case n <= 0:
		return 0
	case n == 1:
		return 1
	case n <= 3:
		return 2
	case n <= 9:
		return 3
	}
	return 4
}
