package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/cloudtrail"
	"github.com/harrier-ir/harrier/internal/store"
)

// event renders a small but real-shaped CloudTrail event.
func event(id, name string, sec int) string {
	t := time.Date(2026, 3, 14, 9, 0, sec, 0, time.UTC).Format(time.RFC3339)
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLEKEY000001","userName":"alice"},"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":{"userName":"bob"},"responseElements":null,"requestID":"r-%s","eventID":%q,"readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`, t, name, id, id)
}

func trailLog(events ...string) string { return `{"Records":[` + strings.Join(events, ",") + `]}` }

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func lookupPage(next string, events ...string) string {
	var items []string
	for _, e := range events {
		q, _ := json.Marshal(e)
		items = append(items, fmt.Sprintf(`{"EventId":"x","EventName":"y","ReadOnly":"false","CloudTrailEvent":%s}`, q))
	}
	return fmt.Sprintf(`{"Events":[%s],"NextToken":%q}`, strings.Join(items, ","), next)
}

func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type fixture struct {
	c  *casefile.Case
	st *store.Store
}

func openCase(t testing.TB, dir string) *fixture {
	t.Helper()
	c, err := casefile.Open(dir, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	c.Now = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }
	st, err := store.Open(context.Background(), c.StorePath(), store.Options{MemoryLimit: "256MB"})
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	f := &fixture{c: c, st: st}
	t.Cleanup(f.close)
	return f
}

func (f *fixture) close() {
	if f.st != nil {
		f.st.Close()
		f.st = nil
	}
	if f.c != nil {
		f.c.Close()
		f.c = nil
	}
}

func (f *fixture) count(t testing.TB, q string) int64 {
	t.Helper()
	var n int64
	if err := f.st.DB().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (f *fixture) ingest(t testing.TB, inputs ...string) Summary {
	t.Helper()
	sum, err := Run(context.Background(), f.c, f.st, Options{Inputs: inputs, Workers: 2})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	tot := sum.Totals
	if tot.RecordsRead != tot.Stored+tot.Duplicates+tot.Rejected {
		t.Fatalf("accounting does not balance: %+v", tot)
	}
	return sum
}

func TestIngestEachFormat(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string][]byte{
		"ev/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/111122223333_CloudTrail_us-east-1_20260314T0900Z_a.json.gz": gz(t, trailLog(event("e1", "CreateUser", 1), event("e2", "CreateAccessKey", 2))),
		"ev/AWSLogs/o-abc123/444455556666/CloudTrail/eu-west-1/2026/03/14/org.json":                                          []byte(trailLog(event("e3", "ListUsers", 3))),
		"ev/lookup.json":   []byte(lookupPage("tok", event("e4", "GetUser", 4)) + "\n" + lookupPage("", event("e5", "GetRole", 5))),
		"ev/lake.jsonl.gz": gz(t, event("e6", "ListRoles", 6)+"\n"+event("e7", "ListGroups", 7)+"\n"),
		"ev/array.json":    []byte("[" + event("e8", "ListPolicies", 8) + "," + event("e9", "GetPolicy", 9) + "]"),
		"ev/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/d.json.gz":               gz(t, `{"awsAccountId":"111122223333","digestStartTime":"2026-03-14T08:00:00Z","digestEndTime":"2026-03-14T09:00:00Z","logFiles":[]}`),
		"ev/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/d.json.gz.metadata.json": []byte(`{"signature":"00ff","signature-algorithm":"SHA256withRSA"}`),
	})
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	sum := f.ingest(t, filepath.Join(src, "ev"))
	if !sum.OK() {
		t.Fatalf("failures: %+v rejections: %+v", sum.Failures, sum.Rejections)
	}
	want := map[string]int{"cloudtrail-log": 2, "lookup-events": 1, "jsonl": 1, "json-array": 1, "cloudtrail-digest": 1, "digest-metadata": 1}
	for k, v := range want {
		if sum.ByFormat[k] != v {
			t.Errorf("format %s: %d files, want %d (all: %v)", k, sum.ByFormat[k], v, sum.ByFormat)
		}
	}
	if sum.Totals.Stored != 9 || sum.Totals.RecordsRead != 9 || sum.NewFiles != 7 {
		t.Fatalf("totals %+v new %d, want 9 stored of 9 read, 7 new files", sum.Totals, sum.NewFiles)
	}
	if n := f.count(t, `SELECT count(DISTINCT event_id) FROM events`); n != 9 {
		t.Errorf("distinct events %d, want 9", n)
	}
	// typed columns come through
	var name, key, who, res, file string
	var idx int64
	var tm time.Time
	if err := f.st.DB().QueryRow(`SELECT event_name, access_key_id, identity_arn, resource, evidence_file, record_index, event_time FROM events WHERE event_id = 'e2'`).
		Scan(&name, &key, &who, &res, &file, &idx, &tm); err != nil {
		t.Fatal(err)
	}
	if name != "CreateAccessKey" || key != "AKIAEXAMPLEKEY000001" || who != "arn:aws:iam::111122223333:user/alice" || res != "user/bob" || idx != 1 ||
		!tm.Equal(time.Date(2026, 3, 14, 9, 0, 2, 0, time.UTC)) || !strings.HasPrefix(file, "evidence/ev/AWSLogs/111122223333/CloudTrail/") {
		t.Errorf("row = %s %s %s %s %s %d %s", name, key, who, res, file, idx, tm)
	}
	// the lookup-events page's second page is read and its raw is the event itself
	var raw string
	if err := f.st.DB().QueryRow(`SELECT raw FROM events WHERE event_id = 'e5'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != event("e5", "GetRole", 5) {
		t.Errorf("raw of a lookup-events event = %s", raw)
	}
	// JSON columns are JSON documents SQL can read into, not quoted strings
	var rawName, param, kind string
	if err := f.st.DB().QueryRow(`SELECT raw->>'$.eventName', request_parameters->>'$.userName', json_type(raw->'$.userIdentity') FROM events WHERE event_id = 'e5'`).
		Scan(&rawName, &param, &kind); err != nil {
		t.Fatal(err)
	}
	if rawName != "GetRole" || param != "bob" || kind != "OBJECT" {
		t.Errorf("JSON columns read as %q %q %q", rawName, param, kind)
	}
}

func TestIngestIsIdempotent(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string][]byte{
		"a.json.gz": gz(t, trailLog(event("e1", "CreateUser", 1), event("e2", "AttachUserPolicy", 2))),
		"b.jsonl":   []byte(event("e3", "CreateLoginProfile", 3) + "\n"),
	})
	caseDir := filepath.Join(t.TempDir(), "case")
	f := openCase(t, caseDir)
	first := f.ingest(t, src)
	manifest1, _ := os.ReadFile(filepath.Join(caseDir, casefile.ManifestFile))
	second := f.ingest(t, src)
	manifest2, _ := os.ReadFile(filepath.Join(caseDir, casefile.ManifestFile))
	if first.Totals.Stored != 3 || second.Totals.Stored != 0 || second.Totals.Duplicates != 3 || second.Totals.RecordsRead != 3 {
		t.Fatalf("first %+v second %+v", first.Totals, second.Totals)
	}
	if second.NewFiles != 0 || second.KnownFiles != 2 {
		t.Errorf("second run: %d new, %d known files; want 0 and 2", second.NewFiles, second.KnownFiles)
	}
	if !bytes.Equal(manifest1, manifest2) {
		t.Errorf("re-ingest changed the manifest:\n%s\n---\n%s", manifest1, manifest2)
	}
	if n := f.count(t, `SELECT count(*) FROM events`); n != 3 {
		t.Errorf("%d rows after re-ingest, want 3", n)
	}
	if n := f.count(t, `SELECT sum(duplicates) FROM files WHERE load_id = 2`); n != 3 {
		t.Errorf("files table counts %d duplicates in load 2, want 3", n)
	}
}

func TestIngestDeduplicatesAcrossFormats(t *testing.T) {
	src := t.TempDir()
	shared := event("same", "StopLogging", 1)
	writeFiles(t, src, map[string][]byte{
		"trail.json.gz": gz(t, trailLog(shared, event("other", "DeleteTrail", 2))),
		"lookup.json":   []byte(lookupPage("", shared)),
		"dup.jsonl":     []byte(shared + "\n" + shared + "\n"),
	})
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	sum := f.ingest(t, src)
	if sum.Totals.RecordsRead != 5 || sum.Totals.Stored != 2 || sum.Totals.Duplicates != 3 {
		t.Fatalf("totals %+v, want 5 read = 2 stored + 3 duplicates", sum.Totals)
	}
	// the copy kept is the first by evidence file and record index
	var file string
	if err := f.st.DB().QueryRow(`SELECT evidence_file FROM events WHERE event_id = 'same'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(file, "/dup.jsonl") {
		t.Errorf("kept the copy from %s, want the first in evidence order (dup.jsonl)", file)
	}
}

func TestIngestReportsConflictingCopies(t *testing.T) {
	src := t.TempDir()
	real := event("same", "StopLogging", 1)
	forged := strings.Replace(real, `"198.51.100.7"`, `"10.9.9.9"`, 1)
	writeFiles(t, src, map[string][]byte{
		"a-trail.json":   []byte(trailLog(real, event("other", "DeleteTrail", 2))),
		"b-lookup.json":  []byte(lookupPage("", real)), // the same event, laid out by lookup-events: no conflict
		"c-forged.jsonl": []byte(forged + "\n"),
	})
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	sum := f.ingest(t, src)
	if sum.Totals.Conflicts != 1 || len(sum.Conflicts) != 1 || sum.OK() {
		t.Fatalf("conflicts %d %+v", sum.Totals.Conflicts, sum.Conflicts)
	}
	c := sum.Conflicts[0]
	if c.EventID != "same" || !strings.HasSuffix(c.OtherFile, "c-forged.jsonl") || !strings.HasSuffix(c.KeptFile, "a-trail.json") {
		t.Errorf("conflict %+v", c)
	}
	if sum.Totals.Duplicates != 2 || sum.Totals.Stored != 2 {
		t.Errorf("totals %+v", sum.Totals)
	}
	if n := f.count(t, `SELECT count(*) FROM conflicts WHERE other_raw LIKE '%10.9.9.9%'`); n != 1 {
		t.Errorf("the differing copy is not kept in conflicts")
	}
}

func TestIngestEvidenceIsCopiedHashedAndReadOnly(t *testing.T) {
	src := t.TempDir()
	data := gz(t, trailLog(event("e1", "CreateUser", 1)))
	writeFiles(t, src, map[string][]byte{"logs/x.json.gz": data})
	caseDir := filepath.Join(t.TempDir(), "case")
	f := openCase(t, caseDir)
	f.ingest(t, filepath.Join(src, "logs"))
	entries := f.c.Entries()
	if len(entries) != 1 {
		t.Fatalf("%d manifest entries", len(entries))
	}
	e := entries[0]
	sum := sha256.Sum256(data)
	if e.Path != "evidence/logs/x.json.gz" || e.SHA256 != hex.EncodeToString(sum[:]) || e.Size != int64(len(data)) ||
		e.OriginalPath != filepath.Join(src, "logs", "x.json.gz") || e.Content != "cloudtrail-log" || e.HarrierVersion != "test" ||
		e.Operator.Host == "" || !e.AddedAt.Equal(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("entry %+v", e)
	}
	p := filepath.Join(caseDir, "evidence", "logs", "x.json.gz")
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copy differs from the source (%v)", err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o444 {
		t.Errorf("evidence mode %v, want read-only", st.Mode().Perm())
	}
	// a different file with the same name goes beside it, not over it
	data2 := gz(t, trailLog(event("e2", "DeleteUser", 2)))
	writeFiles(t, src, map[string][]byte{"logs/x.json.gz": data2})
	changed := f.ingest(t, filepath.Join(src, "logs"))
	if len(changed.Warnings) != 1 || !strings.Contains(changed.Warnings[0].Err, "differs from the evidence ingested") || changed.OK() {
		t.Errorf("changed evidence was not reported: %+v", changed.Warnings)
	}
	entries = f.c.Entries()
	sum2 := sha256.Sum256(data2)
	if len(entries) != 2 || entries[1].Path != "evidence/logs/x.json.gz.harrier-"+hex.EncodeToString(sum2[:])[:12] {
		t.Fatalf("entries %+v", entries)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Errorf("the first copy was overwritten")
	}
}

func TestIngestReference(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string][]byte{"big.json": []byte(trailLog(event("e1", "CreateUser", 1)))})
	caseDir := filepath.Join(t.TempDir(), "case")
	f := openCase(t, caseDir)
	sum, err := Run(context.Background(), f.c, f.st, Options{Inputs: []string{src}, Reference: true})
	if err != nil || sum.Totals.Stored != 1 {
		t.Fatalf("%+v %v", sum.Totals, err)
	}
	e := f.c.Entries()[0]
	if !e.Referenced || e.Path != filepath.Join(src, "big.json") || e.SHA256 == "" {
		t.Errorf("entry %+v", e)
	}
	if files, _ := os.ReadDir(filepath.Join(caseDir, "evidence")); len(files) != 0 {
		t.Errorf("referenced evidence was copied: %v", files)
	}
}

func TestIngestBadInputGoesOn(t *testing.T) {
	good := gz(t, trailLog(event("g1", "CreateUser", 1)))
	full := gz(t, trailLog(event("t1", "CreateUser", 1), event("t2", "CreateUser", 2), strings.Repeat(" ", 1<<16), event("t3", "CreateUser", 3)))
	huge := event("h1", "ListUsers", 1) + "\n" + `{"eventVersion":"1.08","userAgent":"` + strings.Repeat("A", 17<<20) + `"}` + "\n" + event("h2", "ListUsers", 2) + "\n"
	cases := []struct {
		name       string
		data       []byte
		wantStored int64
		wantRej    int64
		wantFail   string // substring of the file's error; "" for none
	}{
		{"truncated gzip", full[:len(full)/2], 2, 0, "truncated"},
		{"malformed json", []byte(`{"Records":[` + event("m1", "CreateUser", 1) + `,{"eventVersion": oops}]}`), 1, 1, ""},
		{"not cloudtrail", []byte(`{"hello":"world"}`), 0, 0, "not CloudTrail"},
		{"csv", []byte("a,b,c\n1,2,3\n"), 0, 0, "not CloudTrail"},
		{"empty", nil, 0, 0, "empty file"},
		{"zero byte gzip", gz(t, ""), 0, 0, "empty file"},
		{"bad json inside a member", []byte(`{"Records":[{"eventVersion":"1.08","eventID":"x","eventName":"A","requestParameters":[1,,2]},` + event("v1", "GetUser", 1) + `]}`), 1, 1, ""},
		{"huge line", []byte(huge), 2, 1, ""},
		{"broken jsonl line", []byte(event("j1", "GetUser", 1) + "\n" + `{"eventVersion":"1.08",` + "\n" + event("j2", "GetUser", 2) + "\n"), 2, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			writeFiles(t, src, map[string][]byte{"bad.json.gz": tc.data, "good.json.gz": good})
			f := openCase(t, filepath.Join(t.TempDir(), "case"))
			sum := f.ingest(t, src)
			if sum.OK() {
				t.Fatalf("summary says OK for bad input")
			}
			if got := sum.Totals.Stored; got != tc.wantStored+1 {
				t.Errorf("stored %d, want %d (good file included)", got, tc.wantStored+1)
			}
			if sum.Totals.Rejected != tc.wantRej {
				t.Errorf("rejected %d, want %d: %+v", sum.Totals.Rejected, tc.wantRej, sum.Rejections)
			}
			if tc.wantFail == "" && len(sum.Failures) != 0 || tc.wantFail != "" && (len(sum.Failures) != 1 || !strings.Contains(sum.Failures[0].Err, tc.wantFail)) {
				t.Errorf("failures %+v, want one with %q", sum.Failures, tc.wantFail)
			}
			for _, r := range sum.Rejections {
				if !strings.HasSuffix(r.EvidenceFile, "bad.json.gz") || r.RecordIndex < 0 || r.Reason == "" {
					t.Errorf("rejection does not say where and why: %+v", r)
				}
			}
			if n := f.count(t, `SELECT count(*) FROM rejections`); n != tc.wantRej {
				t.Errorf("rejections table has %d rows, want %d", n, tc.wantRej)
			}
			// the bad file is kept as evidence all the same, byte for byte
			if len(f.c.Entries()) != 2 {
				t.Errorf("%d evidence files, want 2", len(f.c.Entries()))
			}
		})
	}
}

func TestIngestEmptyFolderIsReported(t *testing.T) {
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	sum := f.ingest(t, t.TempDir())
	if sum.OK() || len(sum.Failures) != 1 || !strings.Contains(sum.Failures[0].Err, "no evidence files") {
		t.Errorf("failures %+v", sum.Failures)
	}
}

func TestIngestMissingInput(t *testing.T) {
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	sum, err := Run(context.Background(), f.c, f.st, Options{Inputs: []string{filepath.Join(t.TempDir(), "nope")}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK() || sum.Totals.FilesFailed != 1 || len(sum.Failures) != 1 {
		t.Errorf("summary %+v", sum)
	}
}

func TestIngestSkipsTheCaseItself(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string][]byte{"a.json": []byte(trailLog(event("e1", "CreateUser", 1)))})
	f := openCase(t, filepath.Join(root, "case"))
	f.ingest(t, root)
	sum := f.ingest(t, root)
	if sum.Totals.Files != 1 {
		t.Errorf("second run read %d files; the case folder inside the input must be skipped", sum.Totals.Files)
	}
}

func TestIngestCancelledLeavesNoRows(t *testing.T) {
	src := t.TempDir()
	files := map[string][]byte{}
	for i := 0; i < 400; i++ {
		files[fmt.Sprintf("f%03d.json", i)] = []byte(trailLog(event(fmt.Sprint("c", i), "GetUser", i%60)))
	}
	writeFiles(t, src, files)
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	counters := &Counters{}
	go func() {
		// cancel once the run is under way: rows have been appended
		for counters.FilesDone.Load() < 20 {
			time.Sleep(100 * time.Microsecond)
		}
		cancel()
	}()
	_, err := Run(ctx, f.c, f.st, Options{Inputs: []string{src}, Counters: counters})
	if err == nil {
		t.Skip("the run finished before it could be cancelled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := f.count(t, `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d rows left by a cancelled run", n)
	}
	if n := f.count(t, `SELECT count(*) FROM loads`); n != 0 {
		t.Errorf("%d loads left by a cancelled run", n)
	}
	if n := f.count(t, `SELECT count(*) FROM rejections`); n != 0 {
		t.Errorf("%d rejections left by a cancelled run", n)
	}
}

func TestIncompleteLoadIsRecovered(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string][]byte{"a.json": []byte(trailLog(event("e1", "CreateUser", 1)))})
	caseDir := filepath.Join(t.TempDir(), "case")
	f := openCase(t, caseDir)
	f.ingest(t, src)
	// a load that appends and never finishes, as a crash would leave it
	ctx := context.Background()
	load, err := f.st.BeginLoad(ctx, store.LoadInfo{Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := load.NewSink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(event("ghost", "DeleteUser", 9))
	evs, err := cloudtrail.ParseEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Append(ctx, &evs, raw, "evidence/ghost", 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.close()
	f2 := openCase(t, caseDir)
	if n := f2.count(t, `SELECT count(*) FROM events WHERE event_id = 'ghost'`); n != 0 {
		t.Errorf("rows of an unfinished load survived reopening")
	}
	if n := f2.count(t, `SELECT count(*) FROM events`); n != 1 {
		t.Errorf("%d events after recovery, want the 1 of the completed load", n)
	}
}

func TestIngestReportsWhatItCannotRead(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string][]byte{"ok.json": []byte(trailLog(event("e1", "CreateUser", 1)))})
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	os.Symlink(t.TempDir(), filepath.Join(src, "linked-folder"))
	os.Symlink(filepath.Join(src, "ok.json"), filepath.Join(src, "linked-file.json"))
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	done := make(chan Summary)
	go func() { done <- f.ingest(t, src, filepath.Join(src, "pipe")) }()
	var sum Summary
	select {
	case sum = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ingest blocked on a FIFO")
	}
	var reasons []string
	for _, fl := range sum.Failures {
		reasons = append(reasons, filepath.Base(fl.Path)+": "+fl.Err)
	}
	got := strings.Join(reasons, "\n")
	for _, want := range []string{"pipe: not a regular file", "linked-folder: symbolic link to a folder"} {
		if !strings.Contains(got, want) {
			t.Errorf("failures lack %q:\n%s", want, got)
		}
	}
	if sum.OK() || sum.Totals.Stored != 1 || sum.Totals.Duplicates != 1 {
		t.Errorf("totals %+v: the file and its symlink are read, the rest reported", sum.Totals)
	}
}

func TestRowsOfAFileThatChangedWhileReadAreRejected(t *testing.T) {
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	ctx := context.Background()
	load, err := f.st.BeginLoad(ctx, store.LoadInfo{Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := load.NewSink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"k1", "k2"} {
		raw := []byte(event(id, "GetUser", i))
		ev, _ := cloudtrail.ParseEvent(raw)
		if err := sink.Append(ctx, &ev, raw, "evidence/changing.json", int64(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	files := []store.FileResult{{EvidenceFile: "evidence/changing.json", Records: 2, Appended: 2, Discard: true, Error: "changed"}}
	tot, err := load.Finish(ctx, files, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tot.Stored != 0 || tot.Rejected != 2 || tot.RecordsRead != 2 {
		t.Errorf("totals %+v, want 2 read = 0 stored + 2 rejected", tot)
	}
	if n := f.count(t, `SELECT count(*) FROM rejections WHERE reason LIKE 'the file changed%'`); n != 2 {
		t.Errorf("%d rejections recorded, want 2", n)
	}
}

func TestIngestSkipsTheCaseReachedThroughASymlink(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string][]byte{"ev/a.json": []byte(trailLog(event("e1", "CreateUser", 1)))})
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(root, link); err != nil {
		t.Skip(err)
	}
	// the case is named through the link, the evidence through the real path
	f := openCase(t, filepath.Join(link, "ev", "case"))
	f.ingest(t, filepath.Join(root, "ev"))
	sum := f.ingest(t, filepath.Join(root, "ev"))
	if sum.Totals.Files != 1 {
		t.Errorf("read %d files: the case's own files were taken as evidence", sum.Totals.Files)
	}
	for _, e := range f.c.Entries() {
		if strings.Contains(e.Path, "case/") || strings.HasSuffix(e.Path, ".duckdb") {
			t.Errorf("case file in the manifest: %s", e.Path)
		}
	}
}

func TestSameNamedInputsGetTheSamePlacesEveryRun(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string][]byte{
		"a/logs/f.json": []byte(trailLog(event("a1", "GetUser", 1))),
		"b/logs/f.json": []byte(trailLog(event("b1", "GetUser", 2))),
	})
	for run := 0; run < 5; run++ {
		f := openCase(t, filepath.Join(t.TempDir(), "case"))
		f.ingest(t, filepath.Join(src, "a", "logs"), filepath.Join(src, "b", "logs"))
		got := map[string]string{}
		for _, e := range f.c.Entries() {
			got[e.OriginalPath] = e.Path
		}
		if got[filepath.Join(src, "a/logs/f.json")] != "evidence/logs/f.json" || got[filepath.Join(src, "b/logs/f.json")] != "evidence/logs.2/f.json" {
			t.Fatalf("run %d: %v", run, got)
		}
		f.close()
	}
}

// TestIngestAcquired loads evidence acquire put in the case, in place, and
// refuses bytes that changed since.
func TestIngestAcquired(t *testing.T) {
	f := openCase(t, filepath.Join(t.TempDir(), "case"))
	log := `{"Records":[{"eventVersion":"1.08","eventID":"acq-1","eventTime":"2026-03-14T10:00:00Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com"},` +
		`{"eventVersion":"1.08","eventID":"acq-2","eventTime":"2026-03-14T10:01:00Z","eventName":"GetObject","eventSource":"s3.amazonaws.com"}]}`
	good, err := f.c.AddAcquired("s3/bucket/AWSLogs/1/CloudTrail/us-east-1/2026/03/14/a.json", "s3://bucket/a.json", "cloudtrail-log", []byte(log), map[string]string{"etag": "x"})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := f.c.AddAcquired("s3/bucket/AWSLogs/1/CloudTrail/us-east-1/2026/03/14/b.json", "s3://bucket/b.json", "cloudtrail-log", []byte(strings.ReplaceAll(log, "acq-", "other-")), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := f.c.Path(filepath.FromSlash(bad.Path))
	os.Chmod(p, 0o644)
	os.WriteFile(p, []byte(strings.ReplaceAll(log, "acq-", "forged-")), 0o644)
	sum, err := Run(context.Background(), f.c, f.st, Options{Acquired: []string{good.Path, bad.Path, "evidence/nope.json"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Totals.Stored != 2 || sum.Totals.Rejected != 2 {
		t.Errorf("stored %d, rejected %d: want the good file's 2 events stored and the changed file's 2 rejected", sum.Totals.Stored, sum.Totals.Rejected)
	}
	var msgs []string
	for _, fl := range sum.Failures {
		msgs = append(msgs, fl.Path+": "+fl.Err)
	}
	joined := strings.Join(msgs, "\n")
	if !strings.Contains(joined, "changed since it was acquired") || !strings.Contains(joined, "evidence/nope.json: not in the case's manifest") {
		t.Errorf("failures:\n%s", joined)
	}
}
