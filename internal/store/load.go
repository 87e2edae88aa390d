package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/harrier-ir/harrier/internal/cloudtrail"
)

// commitBytes bounds the data a sink holds in one transaction. DuckDB keeps
// a transaction's appended rows outside its memory_limit until commit, so
// this (per sink) plus the limit bounds memory whatever the evidence size.
// Smaller commits cost more CPU; atomicity of the whole load comes from the
// loads table, not from one transaction.
const commitBytes = 48 << 20

// LoadInfo describes an ingest run for the loads table.
type LoadInfo struct {
	Started        time.Time
	HarrierVersion string
	Operator       string
	Host           string
	Inputs         []string
}

// Load is one ingest run in progress. Its rows are invisible to recovery
// only once Finish marks it completed.
type Load struct {
	st *Store
	ID int64

	mu       sync.Mutex
	sinks    []*Sink
	commitMu sync.Mutex // one sink commits at a time: commits are when DuckDB's memory peaks
}

// BeginLoad registers a new load.
func (s *Store) BeginLoad(ctx context.Context, info LoadInfo) (*Load, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(load_id), 0) + 1 FROM loads`).Scan(&id); err != nil {
		return nil, fmt.Errorf("begin load: %w", err)
	}
	inputs, _ := json.Marshal(info.Inputs)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO loads (load_id, started_at, harrier_version, operator, host, inputs, completed) VALUES (?, ?, ?, ?, ?, ?, false)`,
		id, info.Started.UTC(), info.HarrierVersion, info.Operator, info.Host, string(inputs)); err != nil {
		return nil, fmt.Errorf("begin load: %w", err)
	}
	return &Load{st: s, ID: id}, nil
}

// Sink appends events on its own connection; each goroutine that loads uses
// its own sink, so DuckDB's work on appended data runs in parallel.
type Sink struct {
	load    *Load
	conn    driver.Conn
	ap      *duckdb.Appender
	rej     *duckdb.Appender
	row     []driver.Value
	pending int // bytes appended since the last commit
}

// NewSink opens a connection and appender for this load.
func (l *Load) NewSink(ctx context.Context) (*Sink, error) {
	conn, err := l.st.connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	k := &Sink{load: l, conn: conn, row: make([]driver.Value, 43)}
	if err := k.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		return nil, err
	}
	ap, err := duckdb.NewAppenderFromConn(conn, "", "events")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sink appender: %w", err)
	}
	k.ap = ap
	if k.rej, err = duckdb.NewAppenderFromConn(conn, "", "rejections"); err != nil {
		ap.Close()
		conn.Close()
		return nil, fmt.Errorf("sink appender: %w", err)
	}
	l.mu.Lock()
	l.sinks = append(l.sinks, k)
	l.mu.Unlock()
	return k, nil
}

func (k *Sink) exec(ctx context.Context, q string) error {
	if _, err := k.conn.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// Append adds one event. raw must be valid UTF-8 (cloudtrail.ValidUTF8).
func (k *Sink) Append(ctx context.Context, ev *cloudtrail.Event, raw []byte, file string, index, offset int64) error {
	r := k.row
	r[0] = ts(ev.Time)
	r[1] = nstr(ev.EventID)
	r[2] = nstr(ev.EventName)
	r[3] = nstr(ev.EventSource)
	r[4] = nstr(ev.Region)
	r[5] = nstr(ev.SourceIP)
	r[6] = nstr(ev.UserAgent)
	r[7] = nstr(ev.ErrorCode)
	r[8] = nstr(ev.ErrorMessage)
	r[9] = nbool(ev.ReadOnly)
	r[10] = nstr(ev.EventType)
	r[11] = nstr(ev.EventCategory)
	r[12] = nbool(ev.ManagementEvent)
	r[13] = nstr(ev.RecipientAccountID)
	r[14] = nstr(ev.SharedEventID)
	r[15] = nstr(ev.RequestID)
	r[16] = nstr(ev.EventVersion)
	r[17] = nstr(ev.VPCEndpointID)
	id := &ev.Identity
	r[18] = nstr(id.Type)
	r[19] = nstr(id.ARN)
	r[20] = nstr(id.PrincipalID)
	r[21] = nstr(id.AccountID)
	r[22] = nstr(id.AccessKeyID)
	r[23] = nstr(id.UserName)
	r[24] = nstr(id.SessionIssuerType)
	r[25] = nstr(id.SessionIssuerARN)
	r[26] = nstr(id.SessionIssuerName)
	r[27] = nstr(id.SessionIssuerAccountID)
	r[28] = nbool(id.MFAAuthenticated)
	r[29] = ts(id.SessionCreated)
	r[30] = nstr(id.InvokedBy)
	r[31] = nstr(id.IdentityProvider)
	r[32] = nstr(id.SourceIdentity)
	r[33] = nstr(ev.Resource)
	r[34] = njson(ev.RequestParameters)
	r[35] = njson(ev.ResponseElements)
	r[36] = njson(ev.AdditionalEventData)
	r[37] = njson(ev.Resources)
	r[38] = bstr(raw)
	r[39] = file
	r[40] = index
	r[41] = offset
	r[42] = k.load.ID
	if err := k.ap.AppendRow(r...); err != nil {
		return fmt.Errorf("append %s record %d: %w", file, index, err)
	}
	// the raw record and the JSON members are most of a row's bytes
	k.pending += 64 + len(raw) + len(ev.RequestParameters) + len(ev.ResponseElements) + len(ev.AdditionalEventData) + len(ev.Resources)
	if k.pending >= commitBytes {
		return k.commit(ctx, true)
	}
	return nil
}

// Reject records a record that was read and not stored.
func (k *Sink) Reject(r Rejection) error {
	if err := k.rej.AppendRow(k.load.ID, r.EvidenceFile, r.RecordIndex, r.ByteOffset, r.Reason); err != nil {
		return fmt.Errorf("record rejection in %s: %w", r.EvidenceFile, err)
	}
	return nil
}

func (k *Sink) commit(ctx context.Context, again bool) error {
	k.load.commitMu.Lock()
	defer k.load.commitMu.Unlock()
	if err := k.ap.Flush(); err != nil {
		return fmt.Errorf("flush appender: %w", err)
	}
	if err := k.rej.Flush(); err != nil {
		return fmt.Errorf("flush rejections: %w", err)
	}
	if err := k.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	k.pending = 0
	if again {
		return k.exec(ctx, "BEGIN TRANSACTION")
	}
	return nil
}

// Close flushes and commits what the sink appended.
func (k *Sink) Close(ctx context.Context) error {
	if k.ap == nil {
		return nil
	}
	err := k.commit(ctx, false)
	if cerr := k.ap.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close appender: %w", cerr)
	}
	if cerr := k.rej.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close appender: %w", cerr)
	}
	k.ap = nil
	if cerr := k.conn.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// abort drops a sink's uncommitted rows.
func (k *Sink) abort(ctx context.Context) {
	if k.ap == nil {
		return
	}
	k.ap.Close()
	k.rej.Close()
	k.exec(ctx, "ROLLBACK")
	k.conn.Close()
	k.ap = nil
}

func ts(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t
}

func nstr(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func njson(b []byte) driver.Value {
	if len(b) == 0 {
		return nil
	}
	return bstr(b)
}

// bstr views b as a string without copying: the appender copies the bytes
// into DuckDB before AppendRow returns, and b is not changed meanwhile.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func nbool(b cloudtrail.OptBool) driver.Value {
	if !b.Valid {
		return nil
	}
	return b.Value
}

// LoadRecords stores CloudTrail records as one complete load, as if read
// from one evidence file named file: for tests and tools that build a case
// from records in memory. Records that do not parse are an error.
func (s *Store) LoadRecords(ctx context.Context, file string, records [][]byte, started time.Time) error {
	load, err := s.BeginLoad(ctx, LoadInfo{Started: started})
	if err != nil {
		return err
	}
	sink, err := load.NewSink(ctx)
	if err != nil {
		return err
	}
	for i, raw := range records {
		ev, err := cloudtrail.ParseEvent(raw)
		if err != nil {
			load.Abort(ctx)
			return fmt.Errorf("record %d: %w", i, err)
		}
		if err := sink.Append(ctx, &ev, raw, file, int64(i), 0); err != nil {
			load.Abort(ctx)
			return err
		}
	}
	_, err = load.Finish(ctx, []FileResult{{EvidenceFile: file, Records: int64(len(records)), Appended: int64(len(records))}}, started)
	return err
}
