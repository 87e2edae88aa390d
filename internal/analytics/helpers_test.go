package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/store"
)

// ev is a crafted event: only the columns the analytics read. The zero
// value of a field means the column is NULL.
type ev struct {
	t          time.Time
	id         string
	name       string
	source     string
	region     string
	ip         string
	ua         string
	errCode    string
	readOnly   string // "true", "false" or "" (NULL)
	eventType  string
	recipient  string
	itype      string
	arn        string
	pid        string
	acct       string
	key        string
	issuerARN  string
	issuerType string
}

const acctA = "111122223333"

// day is the first instant of a day of the crafted cases: days 0-5 are the
// baseline, day 6 the detection window.
func day(d int) time.Time { return time.Date(2026, 3, 8+d, 0, 0, 0, 0, time.UTC) }

// craftedOpts are windows matching day: baseline days 0-5, detection day 6.
var craftedOpts = Options{BaselineStart: day(0), BaselineEnd: day(6), DetectStart: day(6), DetectEnd: day(7)}

// alice is an IAM user calling from the CLI at her office.
func alice() ev {
	return ev{
		name: "DescribeInstances", source: "ec2.amazonaws.com", region: "us-east-1", ip: "198.51.100.7",
		ua:       "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.3.0 md/command#ec2.describe-instances",
		readOnly: "true", eventType: "AwsApiCall", recipient: acctA,
		itype: "IAMUser", arn: "arn:aws:iam::" + acctA + ":user/alice", pid: "AIDAALICE", acct: acctA, key: "AKIAALICE00000000001",
	}
}

// user is alice's twin under another name.
func user(name string) ev {
	e := alice()
	e.arn, e.pid, e.key = "arn:aws:iam::"+acctA+":user/"+name, "AIDA"+strings.ToUpper(name), "AKIA"+strings.ToUpper(name)+"000000000"
	return e
}

// session is a session of role called name.
func session(role, name, key string) ev {
	e := alice()
	e.itype, e.key = "AssumedRole", key
	e.arn = "arn:aws:sts::" + acctA + ":assumed-role/" + role + "/" + name
	e.pid = "AROA" + strings.ToUpper(role) + ":" + name
	e.issuerARN, e.issuerType = "arn:aws:iam::"+acctA+":role/"+role, "Role"
	e.ua = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0"
	e.ip = "10.0.1.20"
	return e
}

// with returns e changed by fs.
func (e ev) with(fs ...func(*ev)) ev {
	for _, f := range fs {
		f(&e)
	}
	return e
}

func at(t time.Time) func(*ev)     { return func(e *ev) { e.t = t } }
func ip(s string) func(*ev)        { return func(e *ev) { e.ip = s } }
func ua(s string) func(*ev)        { return func(e *ev) { e.ua = s } }
func region(s string) func(*ev)    { return func(e *ev) { e.region = s } }
func denied(code string) func(*ev) { return func(e *ev) { e.errCode = code } }
func key(k string) func(*ev)       { return func(e *ev) { e.key = k } }
func itype(s string) func(*ev)     { return func(e *ev) { e.itype = s } }
func call(source, name string, write bool) func(*ev) {
	return func(e *ev) {
		e.source, e.name, e.readOnly = source, name, "true"
		if write {
			e.readOnly = "false"
		}
	}
}

// daily repeats e n times on each baseline day (days 0-5), a minute apart
// from 09:00, as changed by fs.
func daily(e ev, n int, fs ...func(*ev)) []ev {
	var out []ev
	for d := 0; d < 6; d++ {
		for i := 0; i < n; i++ {
			out = append(out, e.with(fs...).with(at(day(d).Add(9*time.Hour+time.Duration(i)*time.Minute))))
		}
	}
	return out
}

// burst repeats e n times on the detection day from 10:00, spaced apart.
func burst(e ev, n int, spacing time.Duration, fs ...func(*ev)) []ev {
	var out []ev
	for i := 0; i < n; i++ {
		out = append(out, e.with(fs...).with(at(day(6).Add(10*time.Hour+time.Duration(i)*spacing))))
	}
	return out
}

// once is e on the detection day at 12:00.
func once(e ev, fs ...func(*ev)) []ev {
	return []ev{e.with(fs...).with(at(day(6).Add(12 * time.Hour)))}
}

func join(sets ...[]ev) []ev {
	var out []ev
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// craftedDB is a fresh case database holding evs (event ids assigned in
// order where unset).
func craftedDB(t testing.TB, evs []ev) *sql.DB {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "case.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	insertEvents(t, st.DB(), evs)
	return st.DB()
}

// insertEvents stores evs in a case database's events table.
func insertEvents(t testing.TB, db *sql.DB, evs []ev) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (event_time, event_id, event_name, event_source, aws_region,
		source_ip, user_agent, error_code, read_only, event_type, recipient_account_id, identity_type, identity_arn,
		principal_id, identity_account_id, access_key_id, session_issuer_arn, session_issuer_type,
		raw, evidence_file, record_index, byte_offset, load_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', 'evidence/crafted.json', ?, 0, 1)`)
	if err != nil {
		t.Fatal(err)
	}
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	for i, e := range evs {
		id := e.id
		if id == "" {
			id = fmt.Sprintf("ev-%05d", i)
		}
		var ro any
		if e.readOnly != "" {
			ro = e.readOnly == "true"
		}
		var tm any
		if !e.t.IsZero() {
			tm = e.t
		}
		if _, err := stmt.ExecContext(ctx, tm, id, null(e.name), null(e.source), null(e.region), null(e.ip), null(e.ua),
			null(e.errCode), ro, null(e.eventType), null(e.recipient), null(e.itype), null(e.arn), null(e.pid), null(e.acct),
			null(e.key), null(e.issuerARN), null(e.issuerType), i); err != nil {
			t.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// got is a finding reduced to what the crafted tests assert.
type got struct {
	rule      string
	principal string
	severity  detect.Severity
}

func (g got) String() string {
	return fmt.Sprintf("%s %s %s", g.severity, strings.TrimPrefix(g.rule, "harrier.analytics."), g.principal)
}

// findingsOf runs the analytics and keeps the findings of one rule.
func findingsOf(t *testing.T, db *sql.DB, opts Options, rule string) ([]detect.Finding, Result) {
	t.Helper()
	res, err := Run(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	var fs []detect.Finding
	for _, f := range res.Findings {
		if f.RuleID == rule {
			fs = append(fs, f)
		}
	}
	return fs, res
}

func gots(fs []detect.Finding) []got {
	var out []got
	for _, f := range fs {
		out = append(out, got{f.RuleID, f.Principal, f.Severity})
	}
	return out
}

const (
	aliceARN = "arn:aws:iam::" + acctA + ":user/alice"
	kaliUA   = "Boto3/1.26.90 Python/3.11.8 Linux/6.5.0-kali3-amd64 Botocore/1.29.90"
)
