package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// MaxPageSize bounds a timeline page: the browser never holds more rows
// than it can draw, whatever the case's size.
const MaxPageSize = 500

// Row is one event as a timeline page lists it. File and Index are its
// position in the evidence, which is unique (event ids need not be), so
// they are the key of pagination and of the event's JSON.
type Row struct {
	Time        string `json:"time"` // RFC 3339, UTC; "" when the record has none
	File        string `json:"file"`
	Index       int64  `json:"index"`
	EventID     string `json:"event_id"`
	EventName   string `json:"event_name"`
	EventSource string `json:"event_source"`
	Principal   string `json:"principal"`
	AccessKeyID string `json:"access_key_id"`
	SourceIP    string `json:"source_ip"`
	UserAgent   string `json:"user_agent"`
	Region      string `json:"region"`
	Account     string `json:"account"`
	ErrorCode   string `json:"error_code"`
	ReadOnly    *bool  `json:"read_only"`
	Integrity   string `json:"integrity"`
}

// Page is one page of a timeline: its rows, the cursor of the next page
// ("" at the end) and how many events the filter selects in all.
type Page struct {
	Rows  []Row  `json:"rows"`
	Next  string `json:"next"`
	Total int64  `json:"total"`
}

// cursor is the last row of a page: the timeline is ordered by event time
// (events without one last), then evidence file and record index, which
// are unique; the next page starts strictly after it (keyset pagination,
// so page n costs what page 1 does).
type cursor struct {
	Time  string `json:"t"` // RFC 3339 Nano; "" for an event without a time
	File  string `json:"f"`
	Index int64  `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		err = d.Decode(&c)
	}
	if err == nil && c.Time != "" {
		_, err = time.Parse(time.RFC3339Nano, c.Time)
	}
	if err != nil {
		return nil, badRequest("after: not a cursor this server gave")
	}
	return &c, nil
}

// after is the keyset condition for rows past c in timeline order.
func (c *cursor) after() (string, []any) {
	if c.Time == "" {
		return "(event_time IS NULL AND (evidence_file > ? OR (evidence_file = ? AND record_index > ?)))", []any{c.File, c.File, c.Index}
	}
	t, _ := time.Parse(time.RFC3339Nano, c.Time)
	return "(event_time IS NULL OR event_time > ? OR (event_time = ? AND (evidence_file > ? OR (evidence_file = ? AND record_index > ?))))",
		[]any{t, t, c.File, c.File, c.Index}
}

// page reads up to size rows of f's timeline after the cursor.
func page(ctx context.Context, db *sql.DB, f Filter, after *cursor, size int) (Page, error) {
	cond, args := f.where()
	var p Page
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE `+cond, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("count events: %w", err)
	}
	if after != nil {
		kc, ka := after.after()
		cond += " AND " + kc
		args = append(args, ka...)
	}
	// the top-N first, then the join, so the join sees one page of rows
	q := `WITH p AS (SELECT event_time, evidence_file, record_index, coalesce(event_id, '') AS event_id, coalesce(event_name, '') AS event_name,
  coalesce(event_source, '') AS event_source, ` + store.PrincipalSQL + ` AS principal, coalesce(access_key_id, '') AS access_key_id,
  coalesce(source_ip, '') AS source_ip, coalesce(user_agent, '') AS user_agent, coalesce(aws_region, '') AS aws_region,
  coalesce(recipient_account_id, identity_account_id, '') AS account, coalesce(error_code, '') AS error_code, read_only
  FROM events WHERE ` + cond + `
  ORDER BY event_time NULLS LAST, evidence_file, record_index LIMIT ?)
SELECT p.*, coalesce((SELECT min(status) FROM evidence_integrity i WHERE i.evidence_file = p.evidence_file), '')
FROM p ORDER BY event_time NULLS LAST, evidence_file, record_index`
	rows, err := db.QueryContext(ctx, q, append(args, size+1)...)
	if err != nil {
		return p, fmt.Errorf("timeline page: %w", err)
	}
	defer rows.Close()
	p.Rows = []Row{}
	for rows.Next() {
		var r Row
		var t sql.NullTime
		var ro sql.NullBool
		if err := rows.Scan(&t, &r.File, &r.Index, &r.EventID, &r.EventName, &r.EventSource, &r.Principal, &r.AccessKeyID,
			&r.SourceIP, &r.UserAgent, &r.Region, &r.Account, &r.ErrorCode, &ro, &r.Integrity); err != nil {
			return p, fmt.Errorf("timeline page: %w", err)
		}
		if t.Valid {
			r.Time = t.Time.UTC().Format(time.RFC3339Nano)
		}
		if ro.Valid {
			r.ReadOnly = &ro.Bool
		}
		p.Rows = append(p.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("timeline page: %w", err)
	}
	if len(p.Rows) > size {
		p.Rows = p.Rows[:size]
		last := p.Rows[size-1]
		p.Next = cursor{Time: last.Time, File: last.File, Index: last.Index}.encode()
	}
	return p, nil
}

// Facet is the most frequent values of one field among the filtered
// events, with their counts; More says values were left off.
type Facet struct {
	Field  string       `json:"field"`
	Values []FacetValue `json:"values"`
	More   bool         `json:"more"`
}

// FacetValue is one value of a facet and how many events have it.
type FacetValue struct {
	Value  string `json:"value"`
	Events int64  `json:"events"`
}

// facetFields are the pivots the UI offers, by name, as SQL.
var facetFields = []struct{ name, expr string }{
	{"event", "event_name"},
	{"principal", store.PrincipalSQL},
	{"ip", "source_ip"},
	{"key", "access_key_id"},
}

// MaxFacetValues bounds each facet's list.
const MaxFacetValues = 100

// facets counts the filtered events by each pivot field in SQL, keeping
// the limit most frequent values of each (ties by value, for stable output).
// A field name ("ip") counts that field only: the page's "more" asks for
// one field's longer list.
func facets(ctx context.Context, db *sql.DB, f Filter, field string, limit int) ([]Facet, error) {
	cond, args := f.where()
	out := []Facet{}
	known := field == ""
	for _, ff := range facetFields {
		if field != "" && ff.name != field {
			continue
		}
		known = true
		q := `SELECT v, count(*) AS n FROM (SELECT ` + ff.expr + ` AS v FROM events WHERE ` + cond + `)
WHERE v IS NOT NULL AND v <> '' GROUP BY v ORDER BY n DESC, v LIMIT ?`
		rows, err := db.QueryContext(ctx, q, append(args[:len(args):len(args)], limit+1)...)
		if err != nil {
			return nil, fmt.Errorf("facet %s: %w", ff.name, err)
		}
		fc := Facet{Field: ff.name, Values: []FacetValue{}}
		for rows.Next() {
			var v FacetValue
			if err := rows.Scan(&v.Value, &v.Events); err != nil {
				rows.Close()
				return nil, fmt.Errorf("facet %s: %w", ff.name, err)
			}
			fc.Values = append(fc.Values, v)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if len(fc.Values) > limit {
			fc.Values, fc.More = fc.Values[:limit], true
		}
		out = append(out, fc)
	}
	if !known {
		return nil, badRequest("field %q: one of event, principal, ip, key", field)
	}
	return out, nil
}

// Histogram is the filtered events counted per time bucket, for the
// timeline's chart. Buckets without events are left out.
type Histogram struct {
	BucketSeconds int64    `json:"bucket_seconds"`
	Buckets       []Bucket `json:"buckets"`
	NoTime        int64    `json:"events_without_time"`
}

// Bucket is one bar of the histogram.
type Bucket struct {
	Start  string `json:"start"`
	Events int64  `json:"events"`
}

// bucketWidths are the widths a histogram may use, in seconds: the
// smallest that keeps it within maxBuckets bars. A week of logs gets hourly
// bars (168), so an intrusion of a few hours stands out from the days
// around it instead of vanishing into a six-hour bar.
var bucketWidths = []int64{60, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400}

// maxBuckets bounds the bars: about one per three pixels of the page's chart.
const maxBuckets = 300

func histogram(ctx context.Context, db *sql.DB, f Filter) (Histogram, error) {
	cond, args := f.where()
	var h Histogram
	var first, last sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT min(event_time), max(event_time), count(*) FILTER (WHERE event_time IS NULL) FROM events WHERE `+cond, args...).
		Scan(&first, &last, &h.NoTime); err != nil {
		return h, fmt.Errorf("histogram: %w", err)
	}
	h.Buckets = []Bucket{}
	if !first.Valid {
		return h, nil
	}
	span := int64(last.Time.Sub(first.Time).Seconds())
	h.BucketSeconds = bucketWidths[len(bucketWidths)-1]
	for _, w := range bucketWidths {
		if span/w < maxBuckets {
			h.BucketSeconds = w
			break
		}
	}
	q := `SELECT b, count(*) FROM (SELECT CAST(floor(epoch(event_time) / ?) AS BIGINT) * ? AS b FROM events WHERE ` + cond + ` AND event_time IS NOT NULL)
GROUP BY b ORDER BY b`
	rows, err := db.QueryContext(ctx, q, append([]any{h.BucketSeconds, h.BucketSeconds}, args...)...)
	if err != nil {
		return h, fmt.Errorf("histogram: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b Bucket
		var start int64
		if err := rows.Scan(&start, &b.Events); err != nil {
			return h, fmt.Errorf("histogram: %w", err)
		}
		b.Start = time.Unix(start, 0).UTC().Format(time.RFC3339)
		h.Buckets = append(h.Buckets, b)
	}
	return h, rows.Err()
}

// errNotFound is a request for something the case does not hold: 404.
var errNotFound = errors.New("not found")

// EventJSON is one event's full record, indented for reading.
type EventJSON struct {
	File  string `json:"file"`
	Index int64  `json:"index"`
	Raw   string `json:"raw"`
}

func eventJSON(ctx context.Context, db *sql.DB, file string, index int64) (EventJSON, error) {
	e := EventJSON{File: file, Index: index}
	var raw string
	err := db.QueryRowContext(ctx, `SELECT raw FROM events WHERE evidence_file = ? AND record_index = ?`, file, index).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("event %s #%d: %w", file, index, errNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("event %s #%d: %w", file, index, err)
	}
	var b bytes.Buffer
	if json.Indent(&b, []byte(raw), "", "  ") == nil {
		e.Raw = b.String()
	} else {
		e.Raw = raw // stored as read; shown as it is
	}
	return e, nil
}
