package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// HuntInfo describes a hunt run for the case's hunts table.
type HuntInfo struct {
	Started, Finished time.Time
	HarrierVersion    string
	Operator, Host    string
	Sources           []string // "builtin" and the rule folders given
	Rules             int
	Analytics         bool
	Baseline          any // the analytics' baseline window, as JSON
}

// Save records a hunt and replaces the case's findings with its own, in one
// transaction: the findings table always holds one whole hunt.
func Save(ctx context.Context, st *store.Store, info HuntInfo, hits []Hit) (int64, error) {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(hunt_id), 0) + 1 FROM hunts`).Scan(&id); err != nil {
		return 0, fmt.Errorf("save hunt: %w", err)
	}
	sources, _ := json.Marshal(info.Sources)
	baseline := ""
	if info.Baseline != nil {
		b, _ := json.Marshal(info.Baseline)
		baseline = string(b)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO hunts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, info.Started.UTC(), info.Finished.UTC(), info.HarrierVersion, info.Operator, info.Host,
		string(sources), info.Rules, info.Analytics, baseline, len(hits)); err != nil {
		return 0, fmt.Errorf("save hunt: %w", err)
	}
	for _, q := range []string{`DELETE FROM findings`, `DELETE FROM finding_events`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("save hunt: %w", err)
		}
	}
	js := func(v []string) string {
		if v == nil {
			v = []string{}
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	for i, h := range hits {
		fid := int64(i + 1)
		src := "analytics"
		if h.Rule != nil {
			src = h.Rule.Source
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, fid, h.RuleID, h.Title, string(h.Severity), h.Severity.Rank(), js(h.Techniques), js(h.Tactics), h.Principal,
			js(h.AccessKeyIDs), js(h.SourceIPs), js(h.Accounts), js(h.Regions), nullTime(h.FirstSeen), nullTime(h.LastSeen),
			h.Count, h.Description, src); err != nil {
			return 0, fmt.Errorf("save finding: %w", err)
		}
		ids := h.AllIDs
		if ids == nil {
			ids = h.EventIDs
		}
		if len(ids) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO finding_events SELECT ?, ?, unnest(?::VARCHAR[])`, id, fid, ids); err != nil {
				return 0, fmt.Errorf("save finding events: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("save hunt: %w", err)
	}
	return id, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// FromFinding wraps a finding made elsewhere (the behavioural analytics) so
// it is sorted, saved and printed with the rules' findings.
func FromFinding(f Finding) Hit {
	h := Hit{Finding: f, AllIDs: f.EventIDs}
	if len(f.EventIDs) > MaxListedEvents {
		h.EventIDs, h.Truncate = f.EventIDs[:MaxListedEvents], true
	}
	return h
}
