package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// exportRecords are events whose account and region would escape a naive
// partition directory, one without a time, and ordinary ones.
var exportRecords = []string{
	`{"eventID":"e1","eventTime":"2026-03-14T09:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","recipientAccountId":"111111111111","readOnly":true,"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111","accessKeyId":"AKIAALICE"}}`,
	`{"eventID":"e2","eventTime":"2026-03-14T23:59:59Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"2001:db8::5","recipientAccountId":"111111111111","readOnly":false,"errorCode":"AccessDenied","errorMessage":"no, \"really\"\n<script>","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111","accessKeyId":"AKIAALICE"}}`,
	`{"eventID":"e3","eventTime":"2026-03-15T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"../../x","sourceIPAddress":"198.51.100.1","recipientAccountId":"../../etc","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::222222222222:user/ci","accountId":"222222222222","accessKeyId":"AKIACI"}}`,
	`{"eventID":"e4","eventTime":"garbage","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.2","userIdentity":{"type":"AWSService","invokedBy":"s3.amazonaws.com"}}`,
}

func exportStore(t testing.TB) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var recs [][]byte
	for _, r := range exportRecords {
		recs = append(recs, []byte(r))
	}
	if err := st.LoadRecords(ctx, "evidence/export.jsonl", recs, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestExportEventsMatchesTimeline keeps ExportEvents' copy of the
// timeline's query in step with Timeline's: the same events, the same
// fields, the same order, and each with its own raw record.
func TestExportEventsMatchesTimeline(t *testing.T) {
	st := exportStore(t)
	ctx := context.Background()
	filters := map[string]Filter{
		"all":         {},
		"errors only": {ErrorsOnly: true},
		"ipv6 cidr":   {IPs: []string{"2001:db8::/32"}},
		"limit":       {Limit: 2},
		"scope":       {Scope: &ScopeSet{AccessKeys: []string{"AKIACI"}, EventIDs: []string{"e1"}}},
		"since":       {Since: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var want, got []TimelineEvent
			if err := st.Timeline(ctx, f, func(e *TimelineEvent) error { want = append(want, *e); return nil }); err != nil {
				t.Fatal(err)
			}
			err := st.ExportEvents(ctx, f, func(e *ExportEvent) error {
				got = append(got, e.TimelineEvent)
				if !strings.Contains(string(e.Record), `"eventID":"`+e.EventID+`"`) {
					t.Errorf("event %s carries another record: %s", e.EventID, e.Record)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 && name != "ipv6 cidr" {
				t.Fatal("the filter selects nothing; the test proves nothing")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ExportEvents\n%+v\nTimeline\n%+v", got, want)
			}
		})
	}
}

func TestExportEventsStopsOnError(t *testing.T) {
	st := exportStore(t)
	stop := errors.New("stop")
	n := 0
	err := st.ExportEvents(context.Background(), Filter{}, func(*ExportEvent) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d events, want stop after 1", err, n)
	}
}

// TestExportParquet writes the partitioned layout, checks it on disk, and
// reads it back through DuckDB against the events table.
func TestExportParquet(t *testing.T) {
	st := exportStore(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		filter Filter
		dirs   []string // partition directories holding a file
		events []string
	}{
		{
			name:   "all",
			filter: Filter{},
			dirs: []string{
				"account=..%2F..%2Fetc/region=..%2F..%2Fx/date=2026-03-15",
				"account=111111111111/region=us-east-1/date=2026-03-14",
				"account=__HIVE_DEFAULT_PARTITION__/region=eu-west-1/date=__HIVE_DEFAULT_PARTITION__",
			},
			events: []string{"e1", "e2", "e3", "e4"},
		},
		{
			name:   "filtered in SQL",
			filter: Filter{AccessKeys: []string{"AKIAALICE"}, ErrorsOnly: true},
			dirs:   []string{"account=111111111111/region=us-east-1/date=2026-03-14"},
			events: []string{"e2"},
		},
		{
			name:   "scope and limit",
			filter: Filter{Scope: &ScopeSet{EventIDs: []string{"e1", "e3"}}, Limit: 1},
			dirs:   []string{"account=111111111111/region=us-east-1/date=2026-03-14"},
			events: []string{"e1"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "parquet")
			n, err := st.ExportParquet(ctx, c.filter, dir)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(c.events)) {
				t.Errorf("wrote %d events, want %d", n, len(c.events))
			}
			var dirs []string
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if !strings.HasSuffix(p, ".parquet") {
						t.Errorf("unexpected file %s", p)
					}
					rel, _ := filepath.Rel(dir, filepath.Dir(p))
					dirs = append(dirs, filepath.ToSlash(rel))
				}
				return nil
			})
			sort.Strings(dirs)
			if !reflect.DeepEqual(dirs, c.dirs) {
				t.Errorf("partitions\n%q\nwant\n%q", dirs, c.dirs)
			}
			got := readParquet(t, st, dir)
			if len(got) != len(c.events) {
				t.Fatalf("read back %d events, want %d", len(got), len(c.events))
			}
			for i, id := range c.events {
				var want string
				if err := st.db.QueryRow(`SELECT concat_ws('|', event_time, event_id, event_name, aws_region, recipient_account_id, error_message, raw, evidence_file, record_index)
FROM events WHERE event_id = ?`, id).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if got[i] != want {
					t.Errorf("row %d\n%s\nwant\n%s", i, got[i], want)
				}
			}
		})
	}
}

// readParquet reads an export back, partition columns included, ordered as
// written, one line of fields per event.
func readParquet(t *testing.T, st *Store, dir string) []string {
	t.Helper()
	var types []string
	rows, err := st.db.Query(`SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet(` +
		sqlString(dir+"/**/*.parquet") + `, hive_partitioning = false))`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		types = append(types, s)
	}
	rows.Close()
	// Athena reads TIMESTAMP; TIMESTAMP WITH TIME ZONE it does not
	for _, want := range []string{"event_time TIMESTAMP", "session_created TIMESTAMP", "record_index BIGINT", "read_only BOOLEAN", "principal VARCHAR", "integrity VARCHAR"} {
		if !contains(types, want) {
			t.Errorf("column %q missing from %v", want, types)
		}
	}
	for _, p := range ParquetPartitions {
		for _, ty := range types {
			if strings.HasPrefix(ty, p+" ") {
				t.Errorf("partition column %s is also written into the files; Athena refuses a table with both", p)
			}
		}
	}
	rows, err = st.db.Query(`SELECT concat_ws('|', event_time, event_id, event_name, aws_region, recipient_account_id, error_message, raw, evidence_file, record_index),
  account, region, date FROM read_parquet(` + sqlString(dir+"/**/*.parquet") + `, hive_partitioning = true, hive_types = {'account': VARCHAR, 'region': VARCHAR, 'date': VARCHAR})
ORDER BY event_time NULLS LAST, evidence_file, record_index`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		var account, region, date sql.NullString
		if err := rows.Scan(&line, &account, &region, &date); err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(line, "|")
		// the partition values come back as they were, decoded
		if !strings.Contains(line, "|"+region.String+"|") || (account.Valid && !strings.Contains(line, account.String)) {
			t.Errorf("partition account=%v region=%v do not match the row %s", account, region, line)
		}
		if date.Valid && !strings.HasPrefix(parts[0], date.String) {
			t.Errorf("partition date=%s, event time %s", date.String, parts[0])
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func TestExportParquetRefuses(t *testing.T) {
	st := exportStore(t)
	ctx := context.Background()
	if _, err := st.ExportParquet(ctx, Filter{IPs: []string{"2001:db8::/32"}}, filepath.Join(t.TempDir(), "p")); !errors.Is(err, ErrGoFilter) {
		t.Errorf("IPv6 CIDR: %v, want ErrGoFilter", err)
	}
	// a quote in the path is data, not SQL
	dir := filepath.Join(t.TempDir(), "it's here")
	if _, err := st.ExportParquet(ctx, Filter{}, dir); err != nil {
		t.Fatalf("path with a quote: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "account=111111111111")); err != nil {
		t.Error(err)
	}
	// the setting was put back for the store's other work
	var v string
	if err := st.db.QueryRow(`SELECT current_setting('preserve_insertion_order')::VARCHAR`).Scan(&v); err != nil || v != "false" {
		t.Errorf("preserve_insertion_order = %q (%v) after the export, want false", v, err)
	}
}
