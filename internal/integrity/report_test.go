package integrity

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// TestReportJSON pins the JSON report, the public output of `harrier
// verify --format json`, on a scenario with a problem of most kinds:
// an organisation trail in two regions, with an edited log file, two
// missing digests, a gap, a digest with an unknown key and a log file no
// digest lists. Rewrite it with -update after a deliberate change.
func TestReportJSON(t *testing.T) {
	ev := newEvidence(t)
	tr := defaultTrail()
	tr.org, tr.digests, tr.logs = "o-a1b2c3d4e5", 6, 1
	east := ev.add(tr, options{})
	ev.files[east.logs[0][0]] = gz([]byte(`{"Records":[]}`))
	ev.remove(east.digests[2], east.digests[3])

	tr.region = "eu-west-1"
	ev.add(tr, options{edit: func(i int, d *digestDoc) {
		switch i {
		case 2:
			d.DigestPublicKeyFingerprint = "0123456789abcdef0123456789abcdef"
		case 4: // validation was off for 40 minutes
			d.DigestStartTime = tr.start.Add(4*time.Hour + 40*time.Minute).Format(stamp)
			d.PreviousDigestS3Bucket, d.PreviousDigestS3Object, d.PreviousDigestHashValue = nil, nil, nil
			d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = nil, nil
		}
	}})
	ev.files["trail-bucket/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2026/03/15/"+
		"111122223333_CloudTrail_eu-west-1_20260315T0000Z_unlisted0000000.json.gz"] = gz([]byte(`{"Records":[]}`))

	r, err := Verify(t.Context(), ev.write(t.TempDir()), parseKeys(t, keyList(t, false, false, testKeys()[0])))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "report.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/integrity -run TestReportJSON -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the report differs from %s (go test ./internal/integrity -run TestReportJSON -update to accept):\n%s", golden, got)
	}
}

// TestReportJSONShape checks the names of the report's JSON members,
// which scripts depend on, and that empty lists are [] rather than null.
func TestReportJSONShape(t *testing.T) {
	r := Report{Chains: []Chain{{}}, UntrustedRanges: []Range{{}}, Problems: []Problem{{}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	wantKeys := map[string][]string{
		"":                 {"chains", "digests", "log_files", "ok", "problems", "untrusted_ranges"},
		"digests":          {"gaps", "invalid", "missing", "moved", "unknown_key", "valid"},
		"log_files":        {"deleted", "modified", "unverifiable", "valid"},
		"untrusted_ranges": {"account", "end", "reason", "region", "start", "trail"},
		"chains":           {"account", "backfill", "digests", "first", "home_region", "last", "log_files", "problems", "region", "trail"},
		"problems":         {"detail", "kind"},
	}
	for member, want := range wantKeys {
		v := any(doc)
		if member != "" {
			v = doc[member]
			if list, ok := v.([]any); ok {
				v = list[0]
			}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s is %T, want an object", member, v)
			continue
		}
		var got []string
		for k := range obj {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s has %q, want %q", member, got, want)
		}
	}
	if !strings.Contains(string(b), `"modified":[],"deleted":[],"unverifiable":[]`) {
		t.Errorf("empty lists are not []: %s", b)
	}
	if !strings.HasPrefix(string(b), `{"ok":false,`) {
		t.Errorf("ok is not first: %s", b)
	}
}

// TestOK checks that each kind of finding makes a report not OK.
func TestOK(t *testing.T) {
	if !(Report{}).OK() {
		t.Error("an empty report is not OK")
	}
	for name, r := range map[string]Report{
		"invalid":      {Digests: DigestCounts{Invalid: 1}},
		"missing":      {Digests: DigestCounts{Missing: 1}},
		"gap":          {Digests: DigestCounts{Gaps: 1}},
		"unknown key":  {Digests: DigestCounts{UnknownKey: 1}},
		"moved":        {Digests: DigestCounts{Moved: 1}},
		"modified":     {LogFiles: LogFileCounts{Modified: []string{"k"}}},
		"deleted":      {LogFiles: LogFileCounts{Deleted: []string{"k"}}},
		"unverifiable": {LogFiles: LogFileCounts{Unverifiable: []string{"k"}}},
		"problem":      {Problems: []Problem{{Kind: ProblemMetadata}}},
	} {
		if r.OK() {
			t.Errorf("%s: OK", name)
		}
	}
	r := Report{Digests: DigestCounts{Valid: 3}, LogFiles: LogFileCounts{Valid: 9}, UntrustedRanges: nil}
	if !r.OK() {
		t.Error("valid digests and logs are not OK")
	}
}
