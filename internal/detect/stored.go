package detect

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/harrier-ir/harrier/internal/store"
)

// Stored is a finding as the case keeps it: the latest hunt's finding with
// its id (finding_events' key) and the source of its rule ("builtin", a
// rule folder, "analytics"). EventIDs holds up to the limit Findings was
// given; Count says how many events there are in all.
type Stored struct {
	Finding
	ID         int64  `json:"finding_id"`
	HuntID     int64  `json:"hunt_id"`
	RuleSource string `json:"rule_source"`
}

// ErrNoHunt is returned by Findings when the case has never been hunted.
var ErrNoHunt = fmt.Errorf("no hunt has been run on this case (harrier hunt)")

// Findings reads the findings of the case's latest hunt, most severe
// first, then by first time seen and rule: the order every report prints.
// Each carries up to eventLimit of its event ids (0: none, -1: all), in
// event time order.
func Findings(ctx context.Context, st *store.Store, eventLimit int) ([]Stored, error) {
	var hunts int64
	if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM hunts`).Scan(&hunts); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	if hunts == 0 {
		return nil, ErrNoHunt
	}
	rows, err := st.DB().QueryContext(ctx, `SELECT hunt_id, finding_id, rule_id, coalesce(title, ''), coalesce(severity, ''),
  coalesce(techniques, '[]'), coalesce(tactics, '[]'), coalesce(principal, ''), coalesce(access_key_ids, '[]'),
  coalesce(source_ips, '[]'), coalesce(accounts, '[]'), coalesce(regions, '[]'), first_seen, last_seen,
  coalesce(event_count, 0), coalesce(description, ''), coalesce(rule_source, '')
FROM findings ORDER BY severity_rank DESC, first_seen NULLS LAST, rule_id, finding_id`)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var f Stored
		var sev, techs, tacts, keys, ips, accts, regs string
		var first, last sql.NullTime
		if err := rows.Scan(&f.HuntID, &f.ID, &f.RuleID, &f.Title, &sev, &techs, &tacts, &f.Principal, &keys, &ips, &accts, &regs,
			&first, &last, &f.Count, &f.Description, &f.RuleSource); err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		f.Severity = Severity(sev)
		for _, l := range []struct {
			text string
			into *[]string
		}{{techs, &f.Techniques}, {tacts, &f.Tactics}, {keys, &f.AccessKeyIDs}, {ips, &f.SourceIPs}, {accts, &f.Accounts}, {regs, &f.Regions}} {
			if err := json.Unmarshal([]byte(l.text), l.into); err != nil {
				return nil, fmt.Errorf("read finding %d: %w", f.ID, err)
			}
		}
		if first.Valid {
			f.FirstSeen = first.Time.UTC()
		}
		if last.Valid {
			f.LastSeen = last.Time.UTC()
		}
		f.EventIDs = []string{}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	rows.Close()
	if eventLimit == 0 || len(out) == 0 {
		return out, nil
	}
	byID := map[int64]int{}
	for i, f := range out {
		byID[f.ID] = i
	}
	q := `SELECT finding_id, event_id FROM (
  SELECT fe.finding_id, fe.event_id, row_number() OVER (PARTITION BY fe.finding_id ORDER BY e.event_time, fe.event_id) AS n
  FROM finding_events fe LEFT JOIN events e ON e.event_id = fe.event_id
  WHERE fe.hunt_id = ?) WHERE ? < 0 OR n <= ? ORDER BY finding_id, n`
	erows, err := st.DB().QueryContext(ctx, q, out[0].HuntID, eventLimit, eventLimit)
	if err != nil {
		return nil, fmt.Errorf("read finding events: %w", err)
	}
	defer erows.Close()
	for erows.Next() {
		var fid int64
		var eid string
		if err := erows.Scan(&fid, &eid); err != nil {
			return nil, fmt.Errorf("read finding events: %w", err)
		}
		if i, ok := byID[fid]; ok {
			out[i].EventIDs = append(out[i].EventIDs, eid)
		}
	}
	return out, erows.Err()
}

// FindingEvents is every event id behind one stored finding, in event
// time order.
func FindingEvents(ctx context.Context, st *store.Store, findingID int64) ([]string, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT fe.event_id FROM finding_events fe LEFT JOIN events e ON e.event_id = fe.event_id
WHERE fe.finding_id = ? AND fe.hunt_id = (SELECT max(hunt_id) FROM hunts) ORDER BY e.event_time, fe.event_id`, findingID)
	if err != nil {
		return nil, fmt.Errorf("read finding %d events: %w", findingID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
