package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The queries below feed `harrier report`: each aggregates in DuckDB so that
// a case of millions of events gives the report a few hundred rows.

// CountEvents counts the events f selects (its Limit ignored), for a
// report's "showing N of M".
func (s *Store) CountEvents(ctx context.Context, f Filter) (int64, error) {
	cond, args, goIP, err := f.where()
	if err != nil {
		return 0, err
	}
	if goIP != nil {
		// IPv6 blocks are matched in Go: count as the timeline would list
		var n int64
		f.Limit = 0
		err := s.Timeline(ctx, f, func(*TimelineEvent) error { n++; return nil })
		return n, err
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE `+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// VolumeBin is how many events one group made in one time bin.
type VolumeBin struct {
	Bin    int64 // the bin's index from the series' start
	Group  string
	Events int64
}

// Volume counts events per time bin of width bin from start, per account
// (by "account") or per principal (by "principal"). Only the top groups by
// event count are kept by name; the rest are summed as "(other)". It
// returns the bins and the groups kept, largest first.
func (s *Store) Volume(ctx context.Context, by string, start time.Time, bin time.Duration, top int) ([]VolumeBin, []string, error) {
	var expr string
	switch by {
	case "account":
		expr = accountExpr
	case "principal":
		expr = PrincipalSQL
	default:
		return nil, nil, fmt.Errorf("volume: group by account or principal, not %q", by)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+expr+` AS g, count(*) FROM events WHERE event_time IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?`, top)
	if err != nil {
		return nil, nil, fmt.Errorf("volume groups: %w", err)
	}
	var groups []string
	for rows.Next() {
		var g string
		var n int64
		if err := rows.Scan(&g, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		groups = append(groups, g)
	}
	rows.Close()
	if len(groups) == 0 {
		return nil, nil, nil
	}
	ph := make([]string, len(groups))
	args := []any{start.UTC(), int64(bin / time.Microsecond)}
	for i, g := range groups {
		ph[i] = "?"
		args = append(args, g)
	}
	q := `SELECT (epoch_us(event_time) - epoch_us(?::TIMESTAMP)) // ? AS b,
  CASE WHEN g IN (` + strings.Join(ph, ", ") + `) THEN g ELSE '(other)' END AS grp, count(*)
FROM (SELECT event_time, ` + expr + ` AS g FROM events WHERE event_time IS NOT NULL)
GROUP BY ALL ORDER BY 1, 2`
	rows, err = s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("volume: %w", err)
	}
	defer rows.Close()
	var out []VolumeBin
	other := false
	for rows.Next() {
		var v VolumeBin
		if err := rows.Scan(&v.Bin, &v.Group, &v.Events); err != nil {
			return nil, nil, fmt.Errorf("volume: %w", err)
		}
		other = other || v.Group == "(other)"
		out = append(out, v)
	}
	if other {
		groups = append(groups, "(other)")
	}
	return out, groups, rows.Err()
}

// IntegrityRecord is what the latest `harrier verify` recorded: when it
// ran (zero if never) and how many evidence files it gave each status.
type IntegrityRecord struct {
	VerifiedAt time.Time
	Files      map[string]int64
}

// Integrity reads the latest verification's record.
func (s *Store) Integrity(ctx context.Context) (IntegrityRecord, error) {
	rec := IntegrityRecord{Files: map[string]int64{}}
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*), max(verified_at) FROM evidence_integrity GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return rec, fmt.Errorf("read integrity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int64
		var at sql.NullTime
		if err := rows.Scan(&st, &n, &at); err != nil {
			return rec, fmt.Errorf("read integrity: %w", err)
		}
		rec.Files[st] = n
		if at.Valid && at.Time.After(rec.VerifiedAt) {
			rec.VerifiedAt = at.Time.UTC()
		}
	}
	return rec, rows.Err()
}

// Period is a stretch of time in one account and region.
type Period struct {
	Status  string // for untrusted periods: the evidence's integrity status
	Account string
	Region  string
	Start   time.Time
	End     time.Time
	Events  int64
	Files   int64
}

// UntrustedPeriods lists, per evidence file that verify did not find
// verified, the account, region and time its events span, in account,
// region and time order; the caller merges neighbours.
func (s *Store) UntrustedPeriods(ctx context.Context) ([]Period, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT i.status, `+accountExpr+`, coalesce(aws_region, '(none)'), min(event_time), max(event_time), count(*)
FROM events JOIN evidence_integrity i USING (evidence_file)
WHERE i.status <> 'verified' AND event_time IS NOT NULL
GROUP BY i.status, evidence_file, 2, 3 ORDER BY 2, 3, 4, 5, 1`)
	if err != nil {
		return nil, fmt.Errorf("untrusted periods: %w", err)
	}
	defer rows.Close()
	var out []Period
	for rows.Next() {
		p := Period{Files: 1}
		if err := rows.Scan(&p.Status, &p.Account, &p.Region, &p.Start, &p.End, &p.Events); err != nil {
			return nil, fmt.Errorf("untrusted periods: %w", err)
		}
		p.Start, p.End = p.Start.UTC(), p.End.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Silences lists the stretches of at least min during which an account
// logged no event at all, between its first and last event: a stopped
// trail, missing log files, or evidence not acquired. Longest first, at
// most limit; the count says how many there are in all.
func (s *Store) Silences(ctx context.Context, min time.Duration, limit int) ([]Period, int64, error) {
	q := `WITH t AS (SELECT ` + accountExpr + ` AS account, event_time FROM events WHERE event_time IS NOT NULL),
g AS (SELECT account, lag(event_time) OVER (PARTITION BY account ORDER BY event_time) AS prev, event_time FROM t)
SELECT account, prev, event_time, count(*) OVER () FROM g
WHERE prev IS NOT NULL AND epoch_us(event_time) - epoch_us(prev) >= ?
ORDER BY epoch_us(event_time) - epoch_us(prev) DESC, account, prev LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, int64(min/time.Microsecond), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("silences: %w", err)
	}
	defer rows.Close()
	var out []Period
	var total int64
	for rows.Next() {
		var p Period
		if err := rows.Scan(&p.Account, &p.Start, &p.End, &total); err != nil {
			return nil, 0, fmt.Errorf("silences: %w", err)
		}
		p.Start, p.End = p.Start.UTC(), p.End.UTC()
		out = append(out, p)
	}
	return out, total, rows.Err()
}
