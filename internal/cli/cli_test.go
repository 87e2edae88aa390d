package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// harrier runs the CLI in-process as a user would, with a clean environment.
func harrier(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = e.run(context.Background(), args)
	return out.String(), errb.String(), code
}

// ev is a compact description of one crafted event.
type ev struct {
	id, name, source, key, arn, issuer, ip, account, region, errCode, ua string
	sec                                                                  int
}

func (e ev) json() string {
	m := map[string]any{
		"eventVersion": "1.08", "eventID": e.id, "eventName": e.name, "eventSource": e.source,
		"eventTime": fmt.Sprintf("2026-03-%02dT10:00:%02dZ", 10+e.sec/60, e.sec%60),
		"awsRegion": e.region, "sourceIPAddress": e.ip, "userAgent": e.ua, "recipientAccountId": e.account,
		"eventType": "AwsApiCall", "readOnly": true,
	}
	id := map[string]any{"type": "IAMUser", "arn": e.arn, "accessKeyId": e.key, "accountId": e.account}
	if e.issuer != "" {
		id["type"] = "AssumedRole"
		id["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": e.issuer}}
	}
	m["userIdentity"] = id
	if e.errCode != "" {
		m["errorCode"], m["errorMessage"] = e.errCode, "denied"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

var crafted = []ev{
	{id: "a1", name: "GetCallerIdentity", source: "sts.amazonaws.com", key: "AKIAAAAAAAAAAAAAAAA1", arn: "arn:aws:iam::111111111111:user/alice", ip: "198.51.100.7", account: "111111111111", region: "us-east-1", ua: "aws-cli/2", sec: 0},
	{id: "a2", name: "ListBuckets", source: "s3.amazonaws.com", key: "AKIAAAAAAAAAAAAAAAA1", arn: "arn:aws:iam::111111111111:user/alice", ip: "203.0.113.9", account: "111111111111", region: "us-east-1", errCode: "AccessDenied", ua: "python-requests/2.31", sec: 61},
	{id: "b1", name: "CreateUser", source: "iam.amazonaws.com", key: "ASIABBBBBBBBBBBBBBB1", arn: "arn:aws:sts::111111111111:assumed-role/Admin/x", issuer: "arn:aws:iam::111111111111:role/Admin", ip: "203.0.113.10", account: "111111111111", region: "us-east-1", ua: "\x1b[31mevil\x1b[0m", sec: 122},
	{id: "c1", name: "RunInstances", source: "ec2.amazonaws.com", key: "AKIACCCCCCCCCCCCCCC1", arn: "arn:aws:iam::222222222222:user/ci", ip: "2001:db8::5", account: "222222222222", region: "eu-west-1", ua: "terraform", sec: 183},
	{id: "c2", name: "StopLogging", source: "cloudtrail.amazonaws.com", key: "AKIACCCCCCCCCCCCCCC1", arn: "arn:aws:iam::222222222222:user/ci", ip: "2001:db9::5", account: "222222222222", region: "eu-west-1", errCode: "AccessDenied", ua: "terraform", sec: 244},
}

func craftedCase(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var lines []string
	for _, e := range crafted {
		lines = append(lines, e.json())
	}
	src := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir := filepath.Join(dir, "case")
	if out, errOut, code := harrier(t, "ingest", "--case", caseDir, src); code != 0 {
		t.Fatalf("ingest exit %d\n%s%s", code, out, errOut)
	}
	return caseDir
}

func TestTimelineFilters(t *testing.T) {
	caseDir := craftedCase(t)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"all", nil, []string{"a1", "a2", "b1", "c1", "c2"}},
		{"key", []string{"--key", "AKIAAAAAAAAAAAAAAAA1"}, []string{"a1", "a2"}},
		{"two keys", []string{"--key", "AKIAAAAAAAAAAAAAAAA1,AKIACCCCCCCCCCCCCCC1"}, []string{"a1", "a2", "c1", "c2"}},
		{"principal exact", []string{"--principal", "arn:aws:iam::111111111111:user/alice"}, []string{"a1", "a2"}},
		{"principal glob", []string{"--principal", "arn:aws:iam::222222222222:*"}, []string{"c1", "c2"}},
		{"principal matches the role of a session", []string{"--principal", "arn:aws:iam::111111111111:role/Admin"}, []string{"b1"}},
		{"ip exact", []string{"--ip", "203.0.113.9"}, []string{"a2"}},
		{"ip cidr v4", []string{"--ip", "203.0.113.0/24"}, []string{"a2", "b1"}},
		{"ip cidr v6", []string{"--ip", "2001:db8::/32"}, []string{"c1"}},
		{"ip v4 and v6", []string{"--ip", "198.51.100.7", "--ip", "2001:db9::/32"}, []string{"a1", "c2"}},
		{"event glob any case", []string{"--event", "list*,stoplogging"}, []string{"a2", "c2"}},
		{"source", []string{"--source", "iam*"}, []string{"b1"}},
		{"account", []string{"--account", "222222222222"}, []string{"c1", "c2"}},
		{"region", []string{"--region", "us-east-1"}, []string{"a1", "a2", "b1"}},
		{"errors", []string{"--errors"}, []string{"a2", "c2"}},
		{"since", []string{"--since", "2026-03-11T10:00:02Z"}, []string{"b1", "c1", "c2"}},
		{"until is exclusive", []string{"--until", "2026-03-11T10:00:02Z"}, []string{"a1", "a2"}},
		{"until a date means its end", []string{"--until", "2026-03-12"}, []string{"a1", "a2", "b1"}},
		{"combined", []string{"--account", "111111111111", "--errors"}, []string{"a2"}},
		{"limit", []string{"--limit", "2"}, []string{"a1", "a2"}},
		{"nothing", []string{"--key", "AKIANOPE"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"timeline", "--case", caseDir, "--format", "jsonl"}, tc.args...)
			out, errOut, code := harrier(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				var j map[string]any
				if err := json.Unmarshal([]byte(line), &j); err != nil {
					t.Fatalf("bad jsonl line %q: %v", line, err)
				}
				got = append(got, j["event_id"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTimelineJSONLKeys(t *testing.T) {
	caseDir := craftedCase(t)
	out, _, _ := harrier(t, "timeline", "--case", caseDir, "--format", "jsonl", "--key", "ASIABBBBBBBBBBBBBBB1")
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range j {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := "access_key_id account error_code error_message event_id event_name event_source evidence_file identity_type integrity principal read_only record_index region resource source_ip time user_agent"
	if strings.Join(keys, " ") != want {
		t.Errorf("keys %v\nwant %s", keys, want)
	}
	if j["principal"] != "arn:aws:sts::111111111111:assumed-role/Admin/x" || j["time"] != "2026-03-12T10:00:02Z" {
		t.Errorf("line %s", out)
	}
}

func TestTimelineTableEscapesHostileText(t *testing.T) {
	caseDir := craftedCase(t)
	out, _, code := harrier(t, "timeline", "--case", caseDir)
	if code != 0 || strings.Contains(out, "\x1b") {
		t.Fatalf("exit %d; a raw escape character reached the terminal:\n%q", code, out)
	}
	out, _, _ = harrier(t, "query", "--case", caseDir, "SELECT user_agent FROM events WHERE event_id = 'b1'")
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `\x1b[31mevil`) {
		t.Errorf("query table output: %q", out)
	}
}

func TestTimelineCSV(t *testing.T) {
	caseDir := craftedCase(t)
	out, _, code := harrier(t, "timeline", "--case", caseDir, "--format", "csv", "--errors")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "time,event_id,account") || !strings.Contains(lines[1], ",a2,") {
		t.Errorf("exit %d csv:\n%s", code, out)
	}
}

func TestQuery(t *testing.T) {
	caseDir := craftedCase(t)
	q := "SELECT event_name, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"
	out, _, code := harrier(t, "query", "--case", caseDir, "--format", "csv", q)
	if code != 0 || !strings.HasPrefix(out, "event_name,n\nCreateUser,1\nGetCallerIdentity,1\n") {
		t.Errorf("csv exit %d:\n%s", code, out)
	}
	out, _, code = harrier(t, "query", "--case", caseDir, "--format", "json", "SELECT event_id, event_time, read_only FROM events WHERE event_id = 'a1'")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 || rows[0]["event_time"] != "2026-03-10T10:00:00Z" || rows[0]["read_only"] != true {
		t.Errorf("json exit %d err %v: %s", code, err, out)
	}
	out, _, code = harrier(t, "query", "--case", caseDir, q)
	if code != 0 || !strings.Contains(out, "GetCallerIdentity") {
		t.Errorf("table exit %d:\n%s", code, out)
	}
	// read-only: the evidence store cannot be changed through query
	_, errOut, code := harrier(t, "query", "--case", caseDir, "DELETE FROM events")
	if code != ExitError || !strings.Contains(strings.ToLower(errOut), "read-only") {
		t.Errorf("DELETE through query: exit %d, %s", code, errOut)
	}
	if out, _, _ := harrier(t, "query", "--case", caseDir, "--format", "csv", "SELECT count(*) FROM events"); !strings.Contains(out, "5") {
		t.Errorf("events changed: %s", out)
	}
	// nor can it reach outside the database: files, other databases, settings
	outside := filepath.Join(t.TempDir(), "x")
	for _, q := range []string{
		"COPY (SELECT 1) TO '" + filepath.Join(caseDir, "evidence", "evil.csv") + "'",
		"COPY (SELECT * FROM events) TO '" + outside + ".csv'",
		"SELECT * FROM read_text('/etc/hostname')",
		"ATTACH '" + outside + ".duckdb' AS o",
		"SET enable_external_access = true",
		"INSTALL httpfs",
	} {
		if _, errOut, code := harrier(t, "query", "--case", caseDir, q); code != ExitError {
			t.Errorf("%s: exit %d, want refusal (%s)", q, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(caseDir, "evidence", "evil.csv")); err == nil {
		t.Errorf("query wrote into the evidence folder")
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(crafted[0].json()+"\n"), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"not":"cloudtrail"}`), 0o644)
	caseDir := filepath.Join(dir, "case")
	cases := []struct {
		name string
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{"no command", nil, ExitUsage, "Commands:"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"help", []string{"--help"}, ExitOK, "Commands:"},
		{"ingest without case", []string{"ingest", good}, ExitUsage, "--case"},
		{"ingest without paths", []string{"ingest", "--case", caseDir}, ExitUsage, "at least one"},
		{"ingest good", []string{"ingest", "--case", caseDir, good}, ExitOK, "1 read = 1 stored + 0 duplicates + 0 rejected"},
		{"flags after paths", []string{"ingest", good, "--case", caseDir}, ExitOK, "1 read = 0 stored + 1 duplicates"},
		{"ingest some bad", []string{"ingest", "--case", caseDir, good, bad}, ExitPartial, "not CloudTrail"},
		{"bad format flag", []string{"timeline", "--case", caseDir, "--format", "xml"}, ExitUsage, "--format"},
		{"bad since", []string{"timeline", "--case", caseDir, "--since", "yesterday"}, ExitUsage, "--since"},
		{"bad cidr", []string{"timeline", "--case", caseDir, "--ip", "10.0.0.0/99"}, ExitUsage, "--ip"},
		{"not an ip", []string{"timeline", "--case", caseDir, "--ip", "not-an-ip"}, ExitUsage, "--ip"},
		{"scale zero", []string{"simulate", "--out", dir, "--scale", "0"}, ExitUsage, "--scale"},
		{"case missing", []string{"case", "info", "--case", filepath.Join(dir, "nope")}, ExitError, "ingest evidence"},
		{"version", []string{"version"}, ExitOK, "harrier "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := harrier(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.out) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.out, out, errOut)
			}
		})
	}
}

// TestCaseInfoGolden checks `case info` on a simulated case against golden
// files; run with -update to rewrite them after a deliberate change.
func TestCaseInfoGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a week of activity")
	}
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if _, errOut, code := harrier(t, "simulate", "--out", evidence, "--seed", "7"); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	caseDir := filepath.Join(dir, "golden-case")
	if out, errOut, code := harrier(t, "ingest", "--case", caseDir, evidence); code != 0 {
		t.Fatalf("ingest exit %d: %s%s", code, out, errOut)
	}
	volatile := regexp.MustCompile(`created [0-9TZ:-]+ by [^)]*`)
	out, _, code := harrier(t, "case", "info", "--case", caseDir, "--detail")
	if code != 0 {
		t.Fatalf("case info exit %d", code)
	}
	golden(t, "caseinfo.golden.txt", volatile.ReplaceAllString(out, "created (time) by (operator)"))

	out, _, code = harrier(t, "case", "info", "--case", caseDir, "--format", "json")
	if code != 0 {
		t.Fatalf("case info json exit %d", code)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	c := info["case"].(map[string]any)
	c["created_at"], c["created_by"] = "(time)", "(operator)"
	b, _ := json.MarshalIndent(info, "", "  ")
	golden(t, "caseinfo.golden.json", string(b)+"\n")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./internal/cli -run %s -update to accept):\n--- got\n%s", name, t.Name(), got)
	}
}

func TestVerifyNeedsACaseWithEvidence(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	if _, _, code := harrier(t, "verify", "--case", missing); code != ExitError {
		t.Errorf("verify of a missing case: exit %d", code)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("verify created the case it was asked to check")
	}
}

func TestVerifyChainOfCustody(t *testing.T) {
	caseDir := craftedCase(t)
	out, errOut, code := harrier(t, "verify", "--case", caseDir, "--format", "json")
	if code != ExitUnverified {
		t.Fatalf("exit %d (%s): an export covered by no digest is not verified", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	for _, k := range []string{"ok", "custody", "digests", "log_files", "untrusted_ranges", "chains", "problems", "public_keys", "events_by_integrity"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("verify --format json lacks %q", k)
		}
	}
	cu := rep["custody"].(map[string]any)
	if cu["files"].(float64) != 1 || cu["verified"].(float64) != 1 {
		t.Errorf("custody %v", cu)
	}
	if n := rep["events_by_integrity"].(map[string]any)["unverifiable"]; n != float64(len(crafted)) {
		t.Errorf("events_by_integrity %v", rep["events_by_integrity"])
	}
	// timelines now say where an event's evidence stands
	tl, _, _ := harrier(t, "timeline", "--case", caseDir, "--format", "jsonl", "--limit", "1")
	if !strings.Contains(tl, `"integrity":"unverifiable"`) {
		t.Errorf("timeline line lacks the integrity flag: %s", tl)
	}
	if tbl, _, _ := harrier(t, "timeline", "--case", caseDir, "--limit", "1"); !strings.Contains(tbl, "[evidence unverifiable]") {
		t.Errorf("timeline table does not mark unverified evidence:\n%s", tbl)
	}

	// the evidence is altered, a file goes missing, another appears
	evidence := filepath.Join(caseDir, "evidence", "events.jsonl")
	os.Chmod(evidence, 0o644)
	if err := os.WriteFile(evidence, []byte(crafted[0].json()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(caseDir, "evidence", "planted.json"), []byte("{}"), 0o644)
	out, _, code = harrier(t, "verify", "--case", caseDir)
	for _, want := range []string{"NOT VERIFIED", "1 changed", "CHANGED   evidence/events.jsonl", "UNLISTED  evidence/planted.json", "changed-since-acquired"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if code != ExitUnverified {
		t.Errorf("exit %d, want %d", code, ExitUnverified)
	}
	os.Remove(evidence)
	if out, _, _ := harrier(t, "verify", "--case", caseDir); !strings.Contains(out, "MISSING   evidence/events.jsonl") {
		t.Errorf("a deleted evidence file is not reported:\n%s", out)
	}
}

// TestVerifySimulatedDigests runs verify over a simulated case whose digests
// are signed like CloudTrail's, then over the same case after a log file was
// altered in place.
func TestVerifySimulatedDigests(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and verifies a day of evidence")
	}
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if _, errOut, code := harrier(t, "simulate", "--out", evidence, "--seed", "3", "--days", "1"); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	caseDir := filepath.Join(dir, "case")
	if out, errOut, code := harrier(t, "ingest", "--case", caseDir, evidence); code != 0 {
		t.Fatalf("ingest exit %d: %s%s", code, out, errOut)
	}
	type report struct {
		OK       bool
		Digests  struct{ Valid, Invalid, Missing, Gaps, UnknownKey int }
		LogFiles struct {
			Valid        int
			Modified     []string
			Unverifiable []string
		} `json:"log_files"`
		Untrusted []struct{ Reason string } `json:"untrusted_ranges"`
		Custody   struct{ Changed []struct{ Path string } }
	}
	// the key document that came with the evidence is not trusted: whoever
	// forged digests could have planted it
	out, _, code := harrier(t, "verify", "--case", caseDir, "--format", "json")
	var untrusted struct {
		Digests struct {
			Valid      int
			UnknownKey int `json:"unknown_key"`
		}
		Files []string `json:"untrusted_key_files"`
	}
	json.Unmarshal([]byte(out), &untrusted)
	if code != ExitUnverified || untrusted.Digests.Valid != 0 || untrusted.Digests.UnknownKey == 0 || len(untrusted.Files) != 1 {
		t.Fatalf("keys from the evidence were trusted: exit %d, %+v", code, untrusted)
	}
	keys := filepath.Join(evidence, "public-keys.json")
	run := func() (report, int) {
		out, errOut, code := harrier(t, "verify", "--case", caseDir, "--format", "json", "--public-keys", keys)
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("verify json: %v\n%s%s", err, out, errOut)
		}
		return r, code
	}
	r, code := run()
	// the attacker stopped the trail: every victim chain has a gap and
	// nothing else is wrong
	if code != ExitUnverified || r.OK || r.Digests.Valid == 0 || r.Digests.Invalid != 0 || r.Digests.Missing != 0 ||
		r.Digests.Gaps == 0 || r.Digests.UnknownKey != 0 || len(r.LogFiles.Modified) != 0 || len(r.LogFiles.Unverifiable) != 0 ||
		len(r.Untrusted) != r.Digests.Gaps || r.LogFiles.Valid == 0 {
		t.Fatalf("exit %d, report %+v", code, r)
	}
	// alter one log file in the case, as an attacker with access would
	var victim string
	filepath.WalkDir(filepath.Join(caseDir, "evidence"), func(p string, d os.DirEntry, err error) error {
		if victim == "" && err == nil && strings.Contains(p, "/CloudTrail/us-east-1/") && strings.HasSuffix(p, ".json.gz") {
			victim = p
		}
		return nil
	})
	if victim == "" {
		t.Fatal("no us-east-1 log file in the case")
	}
	os.Chmod(victim, 0o644)
	if err := os.WriteFile(victim, gzipped(t, `{"Records":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, code = run()
	key := victim[strings.Index(victim, "AWSLogs/"):]
	if code != ExitUnverified || len(r.LogFiles.Modified) != 1 || r.LogFiles.Modified[0] != key || len(r.Custody.Changed) != 1 {
		t.Errorf("after altering %s: exit %d, modified %v, custody changed %v", key, code, r.LogFiles.Modified, r.Custody.Changed)
	}
}

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestVerifyFetchesKeys has verify ask a CloudTrail endpoint (an httptest
// server speaking CloudTrail's JSON 1.1 protocol) for the public keys the
// case lacks, keep them as evidence, and verify with them.
func TestVerifyFetchesKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a day of evidence")
	}
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if _, errOut, code := harrier(t, "simulate", "--out", evidence, "--seed", "5", "--days", "1"); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	// the case gets the logs and digests, not the keys
	keysFile := filepath.Join(dir, "keys.json")
	if err := os.Rename(filepath.Join(evidence, "public-keys.json"), keysFile); err != nil {
		t.Fatal(err)
	}
	var listed struct {
		PublicKeyList []struct{ Value, Fingerprint, ValidityStartTime, ValidityEndTime string }
	}
	b, _ := os.ReadFile(keysFile)
	if err := json.Unmarshal(b, &listed); err != nil || len(listed.PublicKeyList) == 0 {
		t.Fatalf("simulated keys: %v", err)
	}
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		var keys []map[string]any
		for _, k := range listed.PublicKeyList {
			from, _ := time.Parse(time.RFC3339, k.ValidityStartTime)
			to, _ := time.Parse(time.RFC3339, k.ValidityEndTime)
			keys = append(keys, map[string]any{"Value": k.Value, "Fingerprint": k.Fingerprint, "ValidityStartTime": from.Unix(), "ValidityEndTime": to.Unix()})
		}
		json.NewEncoder(w).Encode(map[string]any{"PublicKeyList": keys})
	}))
	defer srv.Close()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_CLOUDTRAIL": srv.URL, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
	caseDir := filepath.Join(dir, "case")
	if _, errOut, code := harrier(t, "ingest", "--case", caseDir, evidence); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	out, _, code := harrier(t, "verify", "--case", caseDir, "--format", "json")
	var r struct {
		Digests struct {
			Valid      int
			UnknownKey int `json:"unknown_key"`
		}
	}
	json.Unmarshal([]byte(out), &r)
	if code != ExitUnverified || r.Digests.Valid != 0 || r.Digests.UnknownKey == 0 {
		t.Fatalf("without keys: exit %d, digests %+v", code, r.Digests)
	}
	out, errOut, _ := harrier(t, "verify", "--case", caseDir, "--fetch-keys", "--format", "json")
	json.Unmarshal([]byte(out), &r)
	if r.Digests.Valid == 0 || r.Digests.UnknownKey != 0 || len(calls) == 0 || !strings.Contains(errOut, "stored as evidence/cloudtrail-public-keys/") {
		t.Fatalf("with fetched keys: digests %+v, %d calls, %s", r.Digests, len(calls), errOut)
	}
	// the keys are evidence now: a plain verify uses them
	out, _, _ = harrier(t, "verify", "--case", caseDir, "--format", "json")
	json.Unmarshal([]byte(out), &r)
	if r.Digests.UnknownKey != 0 {
		t.Errorf("fetched keys were not kept in the case: %+v", r.Digests)
	}
	man, _ := os.ReadFile(filepath.Join(caseDir, "manifest.jsonl"))
	if !strings.Contains(string(man), `"api":"ListPublicKeys"`) || strings.Contains(string(man), "example") {
		t.Errorf("manifest entry for fetched keys lacks provenance or holds a secret")
	}
}

// TestVerifyPlantedDigestCannotDiscreditLogs plants an unsigned digest that
// lists a genuine log file with a wrong hash: the log file stays verified.
func TestVerifyPlantedDigestCannotDiscreditLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a day of evidence")
	}
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if _, errOut, code := harrier(t, "simulate", "--out", evidence, "--seed", "9", "--days", "1"); code != 0 {
		t.Fatalf("simulate: %s", errOut)
	}
	var logKey string
	filepath.WalkDir(evidence, func(p string, d os.DirEntry, err error) error {
		if logKey == "" && err == nil && strings.Contains(p, "/CloudTrail/us-east-1/") && strings.HasSuffix(p, ".json.gz") {
			logKey = p[strings.Index(p, "AWSLogs/"):]
		}
		return nil
	})
	account := strings.Split(logKey, "/")[1]
	planted := fmt.Sprintf(`{"awsAccountId":%q,"digestStartTime":"2026-03-08T00:00:00Z","digestEndTime":"2026-03-08T01:00:00Z","digestS3Bucket":"b","digestS3Object":"AWSLogs/%s/CloudTrail-Digest/us-east-1/2026/03/08/%s_CloudTrail-Digest_us-east-1_zz_us-east-1_20260308T010000Z.json.gz","digestPublicKeyFingerprint":"00","digestSignatureAlgorithm":"SHA256withRSA","previousDigestSignature":null,"logFiles":[{"s3Bucket":"b","s3Object":%q,"hashValue":"%s","hashAlgorithm":"SHA-256"}]}`,
		account, account, account, logKey, strings.Repeat("1", 64))
	pdir := filepath.Join(evidence, "AWSLogs", account, "CloudTrail-Digest", "us-east-1", "2026", "03", "08")
	os.MkdirAll(pdir, 0o755)
	if err := os.WriteFile(filepath.Join(pdir, account+"_CloudTrail-Digest_us-east-1_zz_us-east-1_20260308T010000Z.json.gz"), gzipped(t, planted), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir := filepath.Join(dir, "case")
	harrier(t, "ingest", "--case", caseDir, evidence)
	out, _, _ := harrier(t, "verify", "--case", caseDir, "--format", "json", "--public-keys", filepath.Join(evidence, "public-keys.json"))
	var r struct {
		LogFiles struct{ Modified, Deleted []string } `json:"log_files"`
		Digests  struct{ Invalid int }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.LogFiles.Modified) != 0 || len(r.LogFiles.Deleted) != 0 || r.Digests.Invalid == 0 {
		t.Errorf("a planted digest discredited genuine evidence: modified %v deleted %v, invalid digests %d", r.LogFiles.Modified, r.LogFiles.Deleted, r.Digests.Invalid)
	}
}
