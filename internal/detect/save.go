package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
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

// Save records a hunt and replaces the case's findings with hits (this run's
// and findings made elsewhere, such as the analytics', in the order given),
// in one transaction: the findings table always holds one whole hunt. Every
// event behind each of the run's findings goes into finding_events straight
// from the scratch table.
func (r *Run) Save(ctx context.Context, info HuntInfo, hits []Hit) (int64, error) {
	conn := r.h.conn
	tx, err := conn.BeginTx(ctx, nil)
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
	for _, q := range []string{`DELETE FROM findings`, `DELETE FROM finding_events`, `CREATE OR REPLACE TEMP TABLE hunt_map (rule INTEGER, k VARCHAR, finding_id BIGINT)`} {
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
	var mapRules []int32
	var mapKeys []string
	var mapIDs []int64
	// one INSERT for all findings, column by column: a hunt can make tens
	// of thousands (a rule firing on every role session), and DuckDB pays
	// a block per single-row INSERT in a transaction
	var (
		fids, counts                                   []int64
		ranks                                          []int32
		ruleIDs, titles, sevs, techs, tacts, principal []string
		keys, ips, accts, regs, firsts, lasts, descs   []string
		srcs                                           []string
	)
	tstr := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05.999999")
	}
	for i, h := range hits {
		fid := int64(i + 1)
		src := "analytics"
		if h.Rule != nil {
			src = h.Rule.Source
		}
		fids, counts, ranks = append(fids, fid), append(counts, h.Count), append(ranks, int32(h.Severity.Rank()))
		ruleIDs, titles, sevs = append(ruleIDs, h.RuleID), append(titles, h.Title), append(sevs, string(h.Severity))
		techs, tacts, principal = append(techs, js(h.Techniques)), append(tacts, js(h.Tactics)), append(principal, h.Principal)
		keys, ips, accts, regs = append(keys, js(h.AccessKeyIDs)), append(ips, js(h.SourceIPs)), append(accts, js(h.Accounts)), append(regs, js(h.Regions))
		firsts, lasts, descs, srcs = append(firsts, tstr(h.FirstSeen)), append(lasts, tstr(h.LastSeen)), append(descs, h.Description), append(srcs, src)
		if h.fromRun {
			mapRules, mapKeys, mapIDs = append(mapRules, int32(h.ruleIdx)), append(mapKeys, h.key), append(mapIDs, fid)
			continue
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
	if len(fids) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO findings
SELECT ?, unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]),
  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
  unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), nullif(unnest(?::VARCHAR[]), '')::TIMESTAMP, nullif(unnest(?::VARCHAR[]), '')::TIMESTAMP,
  unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])`,
			id, fids, ruleIDs, titles, sevs, ranks, techs, tacts, principal, keys, ips, accts, regs, firsts, lasts, counts, descs, srcs); err != nil {
			return 0, fmt.Errorf("save findings: %w", err)
		}
	}
	if len(mapIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hunt_map SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[])`, mapRules, mapKeys, mapIDs); err != nil {
			return 0, fmt.Errorf("save finding events: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO finding_events
SELECT ?, m.finding_id, `+eidSQL+` FROM hunt_map m JOIN hunt_keyed x ON x.rule = m.rule AND x.k = m.k JOIN events e ON e.rowid = x.rid`, id); err != nil {
			return 0, fmt.Errorf("save finding events: %w", err)
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
		h.EventIDs = f.EventIDs[:MaxListedEvents]
	}
	return h
}
