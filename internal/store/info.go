package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Counts is one slice of the events: a group and how many it holds.
type Counts struct {
	Account string     `json:"account,omitempty"`
	Region  string     `json:"region,omitempty"`
	Day     string     `json:"day,omitempty"`
	Events  int64      `json:"events"`
	First   *time.Time `json:"first"` // null when none of the events has a time
	Last    *time.Time `json:"last"`
}

// Summary is what the store holds, for `harrier case info`.
type Summary struct {
	Loads              int64      `json:"loads"`
	RecordsRead        int64      `json:"records_read"`
	Stored             int64      `json:"stored"`
	Duplicates         int64      `json:"duplicates"`
	Rejected           int64      `json:"rejected"`
	FilesLoaded        int64      `json:"files_loaded"`
	FilesFailed        int64      `json:"files_failed"`
	Events             int64      `json:"events"`
	EventsNoTime       int64      `json:"events_without_time"`
	First              *time.Time `json:"first_event,omitempty"`
	Last               *time.Time `json:"last_event,omitempty"`
	ByAccount          []Counts   `json:"by_account"`
	ByRegion           []Counts   `json:"by_region"`
	ByDay              []Counts   `json:"by_day"`
	ByAccountRegionDay []Counts   `json:"by_account_region_day"`
}

// account is the account an event belongs to: the one that received it, or
// for exports that lack recipientAccountId, the caller's.
const accountExpr = `coalesce(recipient_account_id, identity_account_id, '(unknown)')`

// Summarize counts the store's contents.
func (s *Store) Summarize(ctx context.Context) (Summary, error) {
	var sum Summary
	var first, last sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(records_read),0), coalesce(sum(stored),0), coalesce(sum(duplicates),0), coalesce(sum(rejected),0), coalesce(sum(files),0), coalesce(sum(files_failed),0) FROM loads WHERE completed`).
		Scan(&sum.Loads, &sum.RecordsRead, &sum.Stored, &sum.Duplicates, &sum.Rejected, &sum.FilesLoaded, &sum.FilesFailed)
	if err != nil {
		return sum, fmt.Errorf("summarize loads: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE event_time IS NULL), min(event_time), max(event_time) FROM events`).
		Scan(&sum.Events, &sum.EventsNoTime, &first, &last); err != nil {
		return sum, fmt.Errorf("summarize events: %w", err)
	}
	if first.Valid {
		f, l := first.Time.UTC(), last.Time.UTC()
		sum.First, sum.Last = &f, &l
	}
	groups := []struct {
		dst  *[]Counts
		cols string
	}{
		{&sum.ByAccount, accountExpr + ` AS account, NULL AS region, NULL AS day`},
		{&sum.ByRegion, `NULL, coalesce(aws_region, '(none)') AS region, NULL`},
		{&sum.ByDay, `NULL, NULL, coalesce(strftime(event_time, '%Y-%m-%d'), '(no time)') AS day`},
		{&sum.ByAccountRegionDay, accountExpr + ` AS account, coalesce(aws_region, '(none)') AS region, coalesce(strftime(event_time, '%Y-%m-%d'), '(no time)') AS day`},
	}
	for _, g := range groups {
		rows, err := s.db.QueryContext(ctx, `SELECT `+g.cols+`, count(*), min(event_time), max(event_time) FROM events GROUP BY ALL ORDER BY 1, 2, 3`)
		if err != nil {
			return sum, fmt.Errorf("summarize: %w", err)
		}
		for rows.Next() {
			var a, r, d sql.NullString
			var c Counts
			var f, l sql.NullTime
			if err := rows.Scan(&a, &r, &d, &c.Events, &f, &l); err != nil {
				rows.Close()
				return sum, err
			}
			c.Account, c.Region, c.Day = a.String, r.String, d.String
			if f.Valid {
				ft, lt := f.Time.UTC(), l.Time.UTC()
				c.First, c.Last = &ft, &lt
			}
			*g.dst = append(*g.dst, c)
		}
		if err := rows.Close(); err != nil {
			return sum, err
		}
	}
	return sum, nil
}
