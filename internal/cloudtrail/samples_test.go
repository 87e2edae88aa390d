package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// samplesDir holds real CloudTrail evidence published by AWS (the user
// guide's examples) and by Elastic (its pipeline test inputs). They are not
// copied into testdata/ because of their licences (CC BY-SA 4.0, Elastic
// License 2.0); see SOURCE.txt in each directory.
func samplesDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HARRIER_SAMPLES")
	if dir == "" {
		dir = "/work/shared/samples"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no samples (set HARRIER_SAMPLES): %v", err)
	}
	return dir
}

// sampleShape is what encoding/json, independently of this package, says
// a sample holds.
type sampleShape struct {
	Records         []json.RawMessage `json:"Records"`
	Events          []json.RawMessage `json:"Events"`
	EventVersion    *string           `json:"eventVersion"`
	DigestStartTime *string           `json:"digestStartTime"`
}

// TestDecodeSamples decodes every example of the CloudTrail user guide,
// plain and gzip'd, and checks the format, the records (byte for byte) and
// that each event parses.
func TestDecodeSamples(t *testing.T) {
	f, err := os.Open(filepath.Join(samplesDir(t), "aws-docs", "cloudtrail_user_guide_examples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var kinds = map[Format]int{}
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	n := 0
	for lines.Scan() {
		var entry struct {
			Heading string          `json:"heading"`
			Kind    string          `json:"kind"`
			JSON    json.RawMessage `json:"json"`
		}
		if err := json.Unmarshal(lines.Bytes(), &entry); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		var shape sampleShape
		if err := json.Unmarshal(entry.JSON, &shape); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		var format Format
		var want []json.RawMessage
		switch {
		case shape.Records != nil:
			format, want = FormatTrailLog, shape.Records
		case shape.Events != nil:
			format, want = FormatLookupEvents, shape.Events
		case shape.EventVersion != nil:
			format, want = FormatJSONLines, []json.RawMessage{entry.JSON}
		case shape.DigestStartTime != nil:
			format = FormatDigest
		}
		kinds[format]++
		for _, gz := range []bool{false, true} {
			input := string(entry.JSON)
			if gz {
				input = gzipped(input)
			}
			got := decodeAll(t, strings.NewReader(input), 0, 1000)
			if len(got.rejects) > 0 {
				t.Errorf("%d %s (gzip %t): rejected %v", n, entry.Heading, gz, got.rejects[0])
			}
			if format == FormatUnknown {
				// the guide's other JSON: trail settings, Lake query results
				if !errors.Is(got.final, ErrNotCloudTrail) {
					t.Errorf("%d %s (gzip %t): ended with %v, want ErrNotCloudTrail", n, entry.Heading, gz, got.final)
				}
				continue
			}
			if got.final != io.EOF || got.format != format || len(got.records) != len(want) {
				t.Errorf("%d %s (gzip %t): %v, %d records, ended with %v; want %v, %d records, io.EOF",
					n, entry.Heading, gz, got.format, len(got.records), got.final, format, len(want))
				continue
			}
			for i, r := range got.records {
				if !bytes.Equal(r.Raw, want[i]) {
					t.Errorf("%d %s: record %d is\n%.200s\nwant\n%.200s", n, entry.Heading, i, r.Raw, want[i])
				}
				checkSampleEvent(t, entry.Heading, r.Raw)
			}
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	// What the guide holds, so that a sample that stopped being read as
	// its kind does not pass unnoticed.
	wantKinds := map[Format]int{
		FormatTrailLog:     9,
		FormatLookupEvents: 1,
		FormatJSONLines:    13,
		FormatDigest:       2,
		FormatUnknown:      5,
	}
	for f, c := range wantKinds {
		if kinds[f] != c {
			t.Errorf("%d samples of format %v, want %d", kinds[f], f, c)
		}
	}
}

// TestDecodeElasticSamples decodes Elastic's CloudTrail pipeline inputs:
// JSON Lines of events, and a digest file.
func TestDecodeElasticSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir(t), "elastic-integrations-aws", "cloudtrail", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("%d files, want 3", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			format := FormatJSONLines
			var want [][]byte
			for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
				var shape sampleShape
				if err := json.Unmarshal(line, &shape); err != nil {
					t.Fatal(err)
				}
				if shape.DigestStartTime != nil {
					format = FormatDigest
					continue
				}
				want = append(want, line)
			}
			got := decodeAll(t, bytes.NewReader(data), 0, 1000)
			if got.final != io.EOF || got.format != format || len(got.rejects) > 0 || len(got.records) != len(want) {
				t.Fatalf("%v, %d records, %d rejected, ended with %v; want %v, %d records, io.EOF",
					got.format, len(got.records), len(got.rejects), got.final, format, len(want))
			}
			for i, r := range got.records {
				if !bytes.Equal(r.Raw, want[i]) {
					t.Errorf("record %d is\n%.200s\nwant\n%.200s", i, r.Raw, want[i])
				}
				checkSampleEvent(t, filepath.Base(name), r.Raw)
			}
		})
	}
}

// checkSampleEvent parses a real event and compares what ParseEvent took
// out of it with what encoding/json reads there.
func checkSampleEvent(t *testing.T, name string, raw []byte) {
	t.Helper()
	var want struct {
		EventTime, EventName, EventSource, EventID, AWSRegion string
		UserIdentity                                          *struct {
			Type, PrincipalID, ARN, AccountID, UserName, InvokedBy string
			SessionContext                                         *struct {
				SessionIssuer *struct{ ARN, UserName string }
			}
		}
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ev, err := ParseEvent(raw)
	if want.EventTime == "" && want.EventName == "" {
		// the guide's userIdentity example is a fragment of an event
		if !errors.Is(err, ErrNotEvent) {
			t.Errorf("%s: ParseEvent of a fragment: %v, want ErrNotEvent", name, err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: ParseEvent: %v", name, err)
		return
	}
	wantTime, err := time.Parse(time.RFC3339, want.EventTime)
	if err != nil {
		t.Fatalf("%s: eventTime %q: %v", name, want.EventTime, err)
	}
	if !ev.Time.Equal(wantTime) || ev.Time.Location() != time.UTC {
		t.Errorf("%s: Time = %v, want %v in UTC", name, ev.Time, wantTime)
	}
	if ev.EventName != want.EventName || ev.EventSource != want.EventSource || ev.EventID != want.EventID || ev.Region != want.AWSRegion {
		t.Errorf("%s: event %q %q %q %q, want %q %q %q %q", name, ev.EventName, ev.EventSource, ev.EventID, ev.Region,
			want.EventName, want.EventSource, want.EventID, want.AWSRegion)
	}
	if u := want.UserIdentity; u != nil {
		id := ev.Identity
		if id.Type != u.Type || id.PrincipalID != u.PrincipalID || id.ARN != u.ARN ||
			id.AccountID != u.AccountID || id.UserName != u.UserName || id.InvokedBy != u.InvokedBy {
			t.Errorf("%s: identity %+v, want %+v", name, id, *u)
		}
		if sc := u.SessionContext; sc != nil && sc.SessionIssuer != nil {
			if id.SessionIssuerARN != sc.SessionIssuer.ARN || id.SessionIssuerName != sc.SessionIssuer.UserName {
				t.Errorf("%s: session issuer %q %q, want %q %q", name, id.SessionIssuerARN, id.SessionIssuerName,
					sc.SessionIssuer.ARN, sc.SessionIssuer.UserName)
			}
		}
	}
}
