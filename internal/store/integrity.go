package store

import (
	"context"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// IntegrityFlag is what verification found of one evidence file.
type IntegrityFlag struct {
	EvidenceFile string
	Status       string // verified, modified, unverifiable, changed-since-acquired
	Detail       string
}

// SetIntegrity replaces the recorded verification results with flags. The
// rows go through DuckDB's Appender into a staging table, then replace the
// old ones in one transaction.
func (s *Store) SetIntegrity(ctx context.Context, flags []IntegrityFlag, at time.Time) error {
	for _, q := range []string{`DROP TABLE IF EXISTS integrity_staging`, `CREATE TABLE integrity_staging AS SELECT * FROM evidence_integrity LIMIT 0`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("record integrity: %w", err)
		}
	}
	conn, err := s.connector.Connect(ctx)
	if err != nil {
		return err
	}
	ap, err := duckdb.NewAppenderFromConn(conn, "", "integrity_staging")
	if err != nil {
		conn.Close()
		return fmt.Errorf("record integrity: %w", err)
	}
	for _, f := range flags {
		if err := ap.AppendRow(f.EvidenceFile, f.Status, nstr(f.Detail), at.UTC()); err != nil {
			ap.Close()
			conn.Close()
			return fmt.Errorf("record integrity of %s: %w", f.EvidenceFile, err)
		}
	}
	err = ap.Close()
	conn.Close()
	if err != nil {
		return fmt.Errorf("record integrity: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM evidence_integrity`, `INSERT INTO evidence_integrity SELECT * FROM integrity_staging`, `DROP TABLE integrity_staging`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("record integrity: %w", err)
		}
	}
	return tx.Commit()
}

// FlaggedEvents counts the events per integrity status (files never
// verified are "unchecked").
func (s *Store) FlaggedEvents(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT coalesce(i.status, 'unchecked'), count(*) FROM events e
LEFT JOIN evidence_integrity i USING (evidence_file) GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("count flagged events: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
