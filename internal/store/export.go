package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// ExportEvent is a timeline event with the CloudTrail record it was read
// from, byte for byte as the evidence holds it: exports carry the record so
// that nothing the timeline's columns leave out is lost.
type ExportEvent struct {
	TimelineEvent
	Record []byte // the raw record (JSON); valid until fn returns
}

// ErrGoFilter means a filter holds a predicate SQL cannot express (an IPv6
// CIDR block in --ip), which an export done wholly in DuckDB cannot apply.
var ErrGoFilter = errors.New("an IPv6 CIDR block cannot be applied inside the database")

// ExportEvents calls fn for each event that f selects, in Timeline's order
// and with Timeline's fields, plus the raw record. Rows stream from DuckDB:
// no more than one event is held at a time, whatever the case's size.
func (s *Store) ExportEvents(ctx context.Context, f Filter, fn func(*ExportEvent) error) error {
	cond, args, goIP, err := f.where()
	if err != nil {
		return err
	}
	q := `SELECT event_time, coalesce(event_id, ''), coalesce(recipient_account_id, identity_account_id, ''), coalesce(aws_region, ''), coalesce(identity_type, ''),
	coalesce(identity_arn, ''), coalesce(principal_id, ''), coalesce(identity_account_id, ''), coalesce(user_name, ''),
	coalesce(session_issuer_arn, ''), coalesce(invoked_by, ''), coalesce(access_key_id, ''), coalesce(source_ip, ''),
	coalesce(user_agent, ''), coalesce(event_source, ''), coalesce(event_name, ''), coalesce(resource, ''), read_only,
	coalesce(error_code, ''), coalesce(error_message, ''), evidence_file, record_index, coalesce(i.status, ''), raw
	FROM events LEFT JOIN evidence_integrity i USING (evidence_file)
	WHERE ` + cond + ` ORDER BY event_time NULLS LAST, evidence_file, record_index`
	if f.Limit > 0 && goIP == nil {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("export events: %w", err)
	}
	defer rows.Close()
	n := 0
	var ev ExportEvent
	var raw sql.RawBytes
	for rows.Next() {
		ev = ExportEvent{}
		e := &ev.TimelineEvent
		var t sql.NullTime
		if err := rows.Scan(&t, &e.EventID, &e.Account, &e.Region, &e.IdentityType, &e.ARN, &e.PrincipalID, &e.IdentityAcct,
			&e.UserName, &e.IssuerARN, &e.InvokedBy, &e.AccessKeyID, &e.SourceIP, &e.UserAgent, &e.EventSource, &e.EventName,
			&e.Resource, &e.ReadOnly, &e.ErrorCode, &e.ErrorMessage, &e.EvidenceFile, &e.RecordIndex, &e.Integrity, &raw); err != nil {
			return fmt.Errorf("export events: %w", err)
		}
		if goIP != nil && !goIP(e.SourceIP) {
			continue
		}
		if t.Valid {
			e.Time = t.Time.UTC()
		}
		ev.Record = raw
		if err := fn(&ev); err != nil {
			return err
		}
		n++
		if f.Limit > 0 && n >= f.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export events: %w", err)
	}
	return nil
}

// parquetColumns are the columns of a Parquet export, in order: the events
// table's (docs/SCHEMA.md) without its load bookkeeping, the principal as
// the timeline names it, and what verify found of the evidence file. Their
// names and types are a public interface (docs/CLI.md, the Athena table).
var parquetColumns = []string{
	"event_time", "event_id", "event_name", "event_source", "aws_region", "recipient_account_id",
	PrincipalSQL + " AS principal",
	"identity_type", "identity_arn", "principal_id", "identity_account_id", "access_key_id", "user_name",
	"session_issuer_type", "session_issuer_arn", "session_issuer_name", "session_issuer_account_id",
	"mfa_authenticated", "session_created", "invoked_by", "identity_provider", "source_identity",
	"source_ip", "user_agent", "error_code", "error_message", "read_only", "event_type", "event_category",
	"management_event", "shared_event_id", "request_id", "event_version", "vpc_endpoint_id",
	"resource", "request_parameters", "response_elements", "additional_event_data", "resources",
	"raw", "evidence_file", "record_index", "byte_offset", "i.status AS integrity",
}

// ParquetPartitions are the Hive partition keys of a Parquet export, in
// directory order: account=…/region=…/date=YYYY-MM-DD/. A missing value is
// written as Hive's __HIVE_DEFAULT_PARTITION__, and DuckDB percent-encodes
// every other value, so no event field can name a path outside the export.
var ParquetPartitions = []string{"account", "region", "date"}

// ExportParquet writes the events f selects as Parquet files (ZSTD) under
// dir, partitioned as ParquetPartitions says: the layout Athena and other
// Hive-style engines read. dir must not exist or be empty. The whole copy runs
// inside DuckDB (COPY … TO), streaming. Rows are in the case's load order (a
// query engine orders them; sorting here would cost DuckDB more memory than
// the whole export), which makes the files the same for the same case. With
// Limit, the events kept are the oldest, as in a timeline. It returns how
// many events were written.
func (s *Store) ExportParquet(ctx context.Context, f Filter, dir string) (int64, error) {
	cond, args, goIP, err := f.where()
	if err != nil {
		return 0, err
	}
	if goIP != nil {
		return 0, fmt.Errorf("export parquet: %w", ErrGoFilter)
	}
	q := `SELECT ` + strings.Join(parquetColumns, ", ") + `,
	nullif(coalesce(nullif(recipient_account_id, ''), identity_account_id), '') AS account,
	nullif(aws_region, '') AS region,
	strftime(event_time, '%Y-%m-%d') AS date
	FROM events LEFT JOIN evidence_integrity i USING (evidence_file)
	WHERE ` + cond
	if f.Limit > 0 {
		// the oldest, as the timeline's --limit; a top-n costs memory for n
		// rows only
		q += fmt.Sprintf(" ORDER BY event_time NULLS LAST, evidence_file, record_index LIMIT %d", f.Limit)
	}
	// One connection: the settings below must hold for the COPY, and are
	// put back before the connection returns to the pool.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("export parquet: %w", err)
	}
	defer conn.Close()
	for _, set := range parquetSettings {
		var was string
		if err := conn.QueryRowContext(ctx, `SELECT current_setting(?)::VARCHAR`, set[0]).Scan(&was); err != nil {
			return 0, fmt.Errorf("export parquet: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "SET "+set[0]+" = "+set[1]); err != nil {
			return 0, fmt.Errorf("export parquet: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SET "+set[0]+" = "+sqlString(was))
	}
	copySQL := `COPY (` + q + `) TO ` + sqlString(dir) + ` (FORMAT PARQUET, COMPRESSION ZSTD, PARTITION_BY (` +
		strings.Join(ParquetPartitions, ", ") + `), FILENAME_PATTERN 'events_{i}', ROW_GROUP_SIZE 16384)`
	res, err := conn.ExecContext(ctx, copySQL, args...)
	if err != nil {
		return 0, fmt.Errorf("export parquet to %s: %w", dir, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("export parquet: %w", err)
	}
	return n, nil
}

// parquetSettings bound a partitioned COPY's memory: DuckDB otherwise keeps
// up to 100 partition files open, each buffering a row group of 122,880
// rows, and with the raw record in every row that runs out of a 192 MB
// limit at 100,000 events. Insertion order is preserved so that the same
// case always gives the same files.
var parquetSettings = [][2]string{
	{"preserve_insertion_order", "true"},
	{"partitioned_write_max_open_files", "8"},
	{"partitioned_write_flush_threshold", "16384"},
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
