package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// FileResult is what ingestion learnt of one evidence file.
type FileResult struct {
	EvidenceFile string
	OriginalPath string
	SHA256       string
	Size         int64
	Format       string
	Records      int64 // records read
	Appended     int64 // records handed to the store (before deduplication)
	Rejected     int64
	Error        string
	Warning      string // something the responder must know, not a failure
	Discard      bool   // the rows read must not be kept (the file changed while read)
	Duplicates   int64  // set by Finish
}

// Rejection is a record read and not stored.
type Rejection struct {
	EvidenceFile string
	RecordIndex  int64 // -1 when the problem was not inside a record
	ByteOffset   int64
	Reason       string
}

// Totals sums a finished load.
type Totals struct {
	Files, FilesFailed                        int64
	Conflicts                                 int64 // duplicates whose content differs from the copy kept
	RecordsRead, Stored, Duplicates, Rejected int64
}

// Finish commits the sinks, removes duplicates (events already in the case,
// or seen twice in this load: the first by evidence file and record index is
// kept), records the files, and marks the load completed. It sets
// Duplicates on each file result.
func (l *Load) Finish(ctx context.Context, files []FileResult, end time.Time) (Totals, error) {
	for _, k := range l.sinks {
		if err := k.Close(ctx); err != nil {
			return Totals{}, err
		}
	}
	db := l.st.db
	conn, err := db.Conn(ctx)
	if err != nil {
		return Totals{}, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Totals{}, err
	}
	defer tx.Rollback()
	// The decoder checks a record's structure, not every byte of its
	// syntax; a record DuckDB cannot read as JSON would break every query
	// over the JSON columns, so it becomes a rejection here.
	invalid, err := rejectInvalidJSON(ctx, tx, l.ID)
	if err != nil {
		return Totals{}, err
	}
	for i := range files {
		if f := &files[i]; f.Discard {
			n, err := rejectFile(ctx, tx, l.ID, f.EvidenceFile, "the file changed while it was read: the evidence copy does not hold this record")
			if err != nil {
				return Totals{}, err
			}
			f.Appended -= n
			f.Rejected += n
		}
	}
	// An event's identity is its eventID; a record without one is
	// identified by its content. Rows without an eventID are filtered out
	// before hashing, so only they pay for reading the raw record.
	if _, err := tx.ExecContext(ctx, `
CREATE TEMP TABLE dup AS
WITH new AS (
    SELECT rowid AS rid, evidence_file, record_index, event_id AS k FROM events WHERE load_id = $1 AND event_id IS NOT NULL
    UNION ALL
    SELECT rowid, evidence_file, record_index, 'md5:' || md5(raw) FROM events WHERE load_id = $1 AND event_id IS NULL),
old AS (
    SELECT event_id AS k FROM events WHERE load_id <> $1 AND event_id IS NOT NULL
    UNION ALL
    SELECT 'md5:' || md5(raw) FROM events WHERE load_id <> $1 AND event_id IS NULL)
SELECT rid, evidence_file FROM (
    SELECT rid, evidence_file, row_number() OVER (PARTITION BY k ORDER BY evidence_file, record_index) AS rn FROM new)
WHERE rn > 1
UNION
SELECT rid, evidence_file FROM new SEMI JOIN old USING (k)`, l.ID); err != nil {
		return Totals{}, fmt.Errorf("find duplicates: %w", err)
	}
	conflicts, err := recordConflicts(ctx, tx, l.ID)
	if err != nil {
		return Totals{}, err
	}
	dups := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT evidence_file, count(*) FROM dup GROUP BY 1`)
	if err != nil {
		return Totals{}, fmt.Errorf("count duplicates: %w", err)
	}
	for rows.Next() {
		var f string
		var n int64
		if err := rows.Scan(&f, &n); err != nil {
			rows.Close()
			return Totals{}, err
		}
		dups[f] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Totals{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE load_id = $1 AND rowid IN (SELECT rid FROM dup)`, l.ID); err != nil {
		return Totals{}, fmt.Errorf("remove duplicates: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE dup`); err != nil {
		return Totals{}, err
	}

	t := Totals{Conflicts: conflicts}
	for i := range files {
		f := &files[i]
		f.Duplicates = dups[f.EvidenceFile]
		f.Appended -= invalid[f.EvidenceFile]
		f.Rejected += invalid[f.EvidenceFile]
		t.Files++
		if f.Error != "" {
			t.FilesFailed++
		}
		t.RecordsRead += f.Records
		t.Rejected += f.Rejected
		t.Duplicates += f.Duplicates
		t.Stored += f.Appended - f.Duplicates
	}
	if err := l.appendFiles(ctx, files); err != nil {
		return Totals{}, err
	}
	// The accounting must balance; if it does not, the load is not marked
	// complete and recovery removes it.
	var stored int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE load_id = ?`, l.ID).Scan(&stored); err != nil {
		return Totals{}, err
	}
	if stored != t.Stored {
		return Totals{}, fmt.Errorf("load %d: %d rows stored but the files account for %d", l.ID, stored, t.Stored)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE loads SET finished_at = ?, files = ?, files_failed = ?, records_read = ?, stored = ?, duplicates = ?, rejected = ?, completed = true WHERE load_id = ?`,
		end.UTC(), t.Files, t.FilesFailed, t.RecordsRead, t.Stored, t.Duplicates, t.Rejected, l.ID); err != nil {
		return Totals{}, fmt.Errorf("complete load: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Totals{}, fmt.Errorf("commit load: %w", err)
	}
	return t, nil
}

// Abort abandons the load: its rows are removed now, or by recovery at the
// next open if that fails too.
func (l *Load) Abort(ctx context.Context) error {
	for _, k := range l.sinks {
		k.abort(ctx)
	}
	var errs []error
	for _, q := range []string{`DELETE FROM events WHERE load_id = ?`, `DELETE FROM rejections WHERE load_id = ?`, `DELETE FROM conflicts WHERE load_id = ?`, `DELETE FROM files WHERE load_id = ?`, `DELETE FROM loads WHERE load_id = ?`} {
		if _, err := l.st.db.ExecContext(ctx, q, l.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// appendFiles records the load's files. Like events, the rows are scoped by
// load id, so recovery removes them if the load does not complete.
func (l *Load) appendFiles(ctx context.Context, files []FileResult) error {
	conn, err := l.st.connector.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ap, err := duckdb.NewAppenderFromConn(conn, "", "files")
	if err != nil {
		return fmt.Errorf("files appender: %w", err)
	}
	for _, f := range files {
		if err := ap.AppendRow(l.ID, f.EvidenceFile, nstr(f.OriginalPath), nstr(f.SHA256), f.Size, nstr(f.Format),
			f.Records, f.Appended-f.Duplicates, f.Duplicates, f.Rejected, nstr(f.Error)); err != nil {
			ap.Close()
			return fmt.Errorf("record file %s: %w", f.EvidenceFile, err)
		}
	}
	if err := ap.Close(); err != nil {
		return fmt.Errorf("record files: %w", err)
	}
	return nil
}

// rejectInvalidJSON moves the load's rows whose raw record is not valid JSON
// into the rejections table and returns how many each file had.
func rejectInvalidJSON(ctx context.Context, tx *sql.Tx, load int64) (map[string]int64, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE bad AS SELECT rowid AS rid, evidence_file, record_index, byte_offset FROM events WHERE load_id = $1 AND NOT json_valid(raw)`, load); err != nil {
		return nil, fmt.Errorf("validate records: %w", err)
	}
	for _, q := range []string{
		`INSERT INTO rejections SELECT $1, evidence_file, record_index, byte_offset, 'malformed JSON inside the record' FROM bad`,
		`DELETE FROM events WHERE load_id = $1 AND rowid IN (SELECT rid FROM bad)`,
	} {
		if _, err := tx.ExecContext(ctx, q, load); err != nil {
			return nil, fmt.Errorf("validate records: %w", err)
		}
	}
	counts := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT evidence_file, count(*) FROM bad GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		var n int64
		if err := rows.Scan(&f, &n); err != nil {
			return nil, err
		}
		counts[f] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE bad`)
	return counts, err
}

// rejectFile moves the load's rows of one evidence file into rejections.
func rejectFile(ctx context.Context, tx *sql.Tx, load int64, file, reason string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO rejections SELECT $1, evidence_file, record_index, byte_offset, $3 FROM events WHERE load_id = $1 AND evidence_file = $2`, load, file, reason); err != nil {
		return 0, fmt.Errorf("reject %s: %w", file, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE load_id = $1 AND evidence_file = $2`, load, file)
	if err != nil {
		return 0, fmt.Errorf("reject %s: %w", file, err)
	}
	return res.RowsAffected()
}

// fingerprint is what two copies of one event must agree on. It leaves out
// formatting (lookup-events and trail logs may lay the same JSON out
// differently) but covers everything a timeline or a rule reads.
const fingerprint = `md5(concat_ws('|', event_time, event_name, event_source, aws_region, source_ip, user_agent,
    error_code, error_message, identity_type, identity_arn, access_key_id, recipient_account_id,
    json(request_parameters), json(response_elements), json(additional_event_data), json(resources)))`

// recordConflicts finds duplicates (in the temp table dup) whose content
// differs from the copy kept, and records them in conflicts.
func recordConflicts(ctx context.Context, tx *sql.Tx, load int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `
INSERT INTO conflicts
WITH d AS (
    SELECT event_id, evidence_file, record_index, raw, `+fingerprint+` AS fp
    FROM events WHERE rowid IN (SELECT rid FROM dup) AND event_id IS NOT NULL),
k AS (
    SELECT event_id, evidence_file, record_index, `+fingerprint+` AS fp
    FROM events WHERE event_id IN (SELECT event_id FROM d) AND rowid NOT IN (SELECT rid FROM dup))
SELECT $1, d.event_id, k.evidence_file, k.record_index, d.evidence_file, d.record_index, d.raw
FROM d JOIN k USING (event_id) WHERE d.fp IS DISTINCT FROM k.fp`, load)
	if err != nil {
		return 0, fmt.Errorf("compare duplicates: %w", err)
	}
	return res.RowsAffected()
}

// Conflict is a copy of an event whose content differs from the copy kept.
type Conflict struct {
	EventID    string
	KeptFile   string
	KeptIndex  int64
	OtherFile  string
	OtherIndex int64
}

// Conflicts lists up to limit conflicts found by a load.
func (s *Store) Conflicts(ctx context.Context, load int64, limit int) ([]Conflict, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT event_id, kept_file, kept_index, other_file, other_index FROM conflicts
WHERE load_id = ? ORDER BY other_file, other_index LIMIT ?`, load, limit)
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		if err := rows.Scan(&c.EventID, &c.KeptFile, &c.KeptIndex, &c.OtherFile, &c.OtherIndex); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
