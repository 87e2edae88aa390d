package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testStore loads testdata/events.jsonl: hostile field values (quotes,
// commas, line breaks, formulas, <script>, control and bidi characters, a
// lone surrogate escape, partition-escaping account and region) and an
// event without a time.
func testStore(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "harrier.duckdb"), store.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	data, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		recs = append(recs, l)
	}
	if err := st.LoadRecords(ctx, "evidence/events.jsonl", recs, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return st
}

// exportAll runs one event format over the store and returns the output and
// the events refused with ErrNoTime.
func exportAll(t *testing.T, st *store.Store, format string, opts Options) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewEventWriter(format, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	err = st.ExportEvents(context.Background(), store.Filter{}, func(ev *store.ExportEvent) error {
		err := w.Write(ev)
		if errors.Is(err, ErrNoTime) {
			refused++
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), refused
}

func events(t *testing.T, st *store.Store) []store.ExportEvent {
	t.Helper()
	var out []store.ExportEvent
	err := st.ExportEvents(context.Background(), store.Filter{}, func(ev *store.ExportEvent) error {
		e := *ev
		e.Record = append([]byte(nil), ev.Record...)
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 6 {
		t.Fatalf("the fixture holds %d events, want 6", len(out))
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestEventFormatsGolden(t *testing.T) {
	st := testStore(t)
	cases := []struct {
		name, format, file string
		opts               Options
		refused            int
	}{
		{"csv", "csv", "events.csv", Options{}, 0},
		{"jsonl with records", "jsonl", "events.jsonl", Options{}, 0},
		{"jsonl without records", "jsonl", "events-norecord.jsonl", Options{OmitRecord: true}, 0},
		{"timesketch", "timesketch", "timesketch.jsonl", Options{}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, refused := exportAll(t, st, c.format, c.opts)
			if refused != c.refused {
				t.Errorf("%d events refused, want %d", refused, c.refused)
			}
			golden(t, c.file, out)
		})
	}
	if _, err := NewEventWriter("xml", &bytes.Buffer{}, Options{}); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// TestCSVRoundTrip reads the CSV back with encoding/csv: every cell is the
// event's value, except formulas, which carry their quote.
func TestCSVRoundTrip(t *testing.T) {
	st := testStore(t)
	out, _ := exportAll(t, st, "csv", Options{})
	if !strings.HasSuffix(out, "\r\n") || strings.Count(out, "\r\n") < 7 {
		t.Error("records are not ended by CRLF (RFC 4180)")
	}
	r := csv.NewReader(strings.NewReader(out))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], CSVHeader) {
		t.Errorf("header %q", rows[0])
	}
	evs := events(t, st)
	if len(rows) != len(evs)+1 {
		t.Fatalf("%d rows for %d events", len(rows)-1, len(evs))
	}
	defused := 0
	for i, ev := range evs {
		ro := ""
		if ev.ReadOnly.Valid {
			ro = strconv.FormatBool(ev.ReadOnly.Bool)
		}
		want := []string{timeText(ev.Time), ev.EventID, ev.Account, ev.Region, ev.Principal(), ev.IdentityType, ev.AccessKeyID,
			ev.SourceIP, ev.UserAgent, ev.EventSource, ev.EventName, ev.Resource, ro, ev.ErrorCode, ev.ErrorMessage,
			ev.EvidenceFile, strconv.FormatInt(ev.RecordIndex, 10), ev.Integrity}
		for j, cell := range rows[i+1] {
			w := want[j]
			if d, ok := DefuseFormula(w); ok {
				defused++
				if cell[0] != '\'' {
					t.Errorf("event %s %s: formula %q left live", ev.EventID, CSVHeader[j], cell)
				}
				w = d
			}
			// encoding/csv reads CRLF inside a quoted field as LF
			if cell != strings.ReplaceAll(w, "\r\n", "\n") {
				t.Errorf("event %s %s: %q, want %q", ev.EventID, CSVHeader[j], cell, w)
			}
		}
	}
	if defused < 5 {
		t.Errorf("only %d formula cells in the fixture; it should exercise = + - @ tab and CR", defused)
	}
}

func TestDefuseFormula(t *testing.T) {
	cases := []struct {
		name, in, out string
		changed       bool
	}{
		{"equals", "=1+1", "'=1+1", true},
		{"plus", "+1", "'+1", true},
		{"minus", "-1", "'-1", true},
		{"at", "@SUM(A1)", "'@SUM(A1)", true},
		{"tab", "\tx", "'\tx", true},
		{"carriage return", "\rx", "'\rx", true},
		{"plain", "aws-cli/2", "aws-cli/2", false},
		{"formula later", "a=1", "a=1", false},
		{"empty", "", "", false},
		{"already quoted", "'=1", "'=1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, changed := DefuseFormula(c.in)
			if out != c.out || changed != c.changed {
				t.Errorf("DefuseFormula(%q) = %q, %v; want %q, %v", c.in, out, changed, c.out, c.changed)
			}
		})
	}
}

// TestJSONLRoundTrip decodes each line: the timeline's fields, and the
// record equal to the evidence's.
func TestJSONLRoundTrip(t *testing.T) {
	st := testStore(t)
	out, _ := exportAll(t, st, "jsonl", Options{})
	evs := events(t, st)
	sc := bufio.NewScanner(strings.NewReader(out))
	i := 0
	for ; sc.Scan(); i++ {
		var got EventJSON
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		want := eventJSON(&evs[i], false)
		rec := got.Record
		got.Record = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line %d\n%+v\nwant\n%+v", i+1, got, want)
		}
		var a, b any
		if err := json.Unmarshal(rec, &a); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(evs[i].Record, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("line %d: record\n%s\nwant\n%s", i+1, rec, evs[i].Record)
		}
	}
	if i != len(evs) {
		t.Errorf("%d lines for %d events", i, len(evs))
	}
	// a record that is not JSON is kept as text
	bad := store.ExportEvent{Record: []byte(`{"eventID": "x", truncated`)}
	j := eventJSON(&bad, true)
	var s string
	if err := json.Unmarshal(j.Record, &s); err != nil || s != string(bad.Record) {
		t.Errorf("damaged record became %s", j.Record)
	}
}

// TestTimesketchLines checks every line against Timesketch's documented
// import format.
func TestTimesketchLines(t *testing.T) {
	st := testStore(t)
	out, _ := exportAll(t, st, "timesketch", Options{})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want the 5 events with a time", len(lines))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range []string{"message", "datetime", "timestamp_desc", "timestamp", "event_name", "event_source", "principal",
			"access_key_id", "source_ip", "user_agent", "region", "account", "error_code", "event_id"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %s", i+1, k)
			}
		}
		dt, err := time.Parse(time.RFC3339Nano, m["datetime"].(string))
		if err != nil || !strings.HasSuffix(m["datetime"].(string), "+00:00") {
			t.Errorf("line %d: datetime %v (%v)", i+1, m["datetime"], err)
		}
		if int64(m["timestamp"].(float64)) != dt.UnixMicro() {
			t.Errorf("line %d: timestamp %v is not datetime %v in microseconds", i+1, m["timestamp"], dt)
		}
		if msg := m["message"].(string); msg == "" || strings.ContainsAny(msg, "\x00\x1b\r\n\u202e") {
			t.Errorf("line %d: message %q", i+1, msg)
		}
	}
}

func TestMessage(t *testing.T) {
	cases := []struct {
		name string
		ev   store.TimelineEvent
		want string
	}{
		{"ok", store.TimelineEvent{ARN: "arn:aws:iam::1:user/a", EventSource: "iam.amazonaws.com", EventName: "CreateUser", Resource: "bob", Account: "1", Region: "us-east-1", SourceIP: "192.0.2.1"},
			"arn:aws:iam::1:user/a called iam:CreateUser on bob in 1/us-east-1 from 192.0.2.1: OK"},
		{"failed", store.TimelineEvent{ARN: "a", EventSource: "s3.amazonaws.com", EventName: "GetObject", ErrorCode: "AccessDenied", ErrorMessage: "no\nway"},
			`a called s3:GetObject: failed, AccessDenied (no\nway)`},
		{"failed without message", store.TimelineEvent{EventName: "X", ErrorCode: "Throttling", Region: "eu-west-1"},
			"(unknown principal) called :X in eu-west-1: failed, Throttling"},
		{"modified evidence", store.TimelineEvent{ARN: "a", EventSource: "sts.amazonaws.com", EventName: "GetCallerIdentity", Integrity: "modified"},
			"[evidence modified] a called sts:GetCallerIdentity: OK"},
		{"hostile", store.TimelineEvent{ARN: "\u202eevil\x1b[0m", EventName: "E"}, `\u202eevil\x1b[0m called :E: OK`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Message(&c.ev); got != c.want {
				t.Errorf("Message = %q\nwant      %q", got, c.want)
			}
		})
	}
}
