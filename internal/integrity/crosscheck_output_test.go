package integrity

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// crossVerdict is what a verifier says about a scenario, in the terms
// both ours and `aws cloudtrail validate-logs` can express. Keys are S3
// keys from "AWSLogs/" on (the trail's prefix, when it has one, cut), so
// that our keys (named after the evidence) and the CLI's (named after the
// bucket) compare.
type crossVerdict struct {
	DigestsValid   int
	DigestsInvalid []string // present but not valid: signature, format, key, location
	DigestsMissing []string // named as previous by a later digest, absent
	Gaps           int      // the chain starts anew after its first digest
	LogsValid      int
	LogsModified   []string // present, but not what the digest records
	LogsDeleted    []string // listed by a valid digest, absent
}

func (v *crossVerdict) add(o crossVerdict) {
	v.DigestsValid += o.DigestsValid
	v.DigestsInvalid = append(v.DigestsInvalid, o.DigestsInvalid...)
	v.DigestsMissing = append(v.DigestsMissing, o.DigestsMissing...)
	v.Gaps += o.Gaps
	v.LogsValid += o.LogsValid
	v.LogsModified = append(v.LogsModified, o.LogsModified...)
	v.LogsDeleted = append(v.LogsDeleted, o.LogsDeleted...)
}

// norm sorts the lists and gives empty ones one form.
func (v crossVerdict) norm() crossVerdict {
	for _, l := range []*[]string{&v.DigestsInvalid, &v.DigestsMissing, &v.LogsModified, &v.LogsDeleted} {
		*l = slices.Sorted(slices.Values(*l))
		if len(*l) == 0 {
			*l = nil
		}
	}
	return v
}

func (v crossVerdict) equal(o crossVerdict) bool {
	v, o = v.norm(), o.norm()
	return v.DigestsValid == o.DigestsValid && v.Gaps == o.Gaps && v.LogsValid == o.LogsValid &&
		slices.Equal(v.DigestsInvalid, o.DigestsInvalid) && slices.Equal(v.DigestsMissing, o.DigestsMissing) &&
		slices.Equal(v.LogsModified, o.LogsModified) && slices.Equal(v.LogsDeleted, o.LogsDeleted)
}

// failing reports whether the CLI exits 1 for it: any digest invalid or
// missing, any log file invalid.
func (v crossVerdict) failing() bool {
	return len(v.DigestsInvalid)+len(v.DigestsMissing)+len(v.LogsModified)+len(v.LogsDeleted) > 0
}

func (v crossVerdict) String() string {
	v = v.norm()
	var b strings.Builder
	fmt.Fprintf(&b, "digests valid %d, gaps %d, log files valid %d", v.DigestsValid, v.Gaps, v.LogsValid)
	for _, l := range []struct {
		name string
		keys []string
	}{{"digests invalid", v.DigestsInvalid}, {"digests missing", v.DigestsMissing},
		{"log files modified", v.LogsModified}, {"log files deleted", v.LogsDeleted}} {
		if len(l.keys) > 0 {
			fmt.Fprintf(&b, "\n  %s: %s", l.name, strings.Join(l.keys, "\n    "))
		}
	}
	return b.String()
}

// crossKey cuts a key or path to its part from "AWSLogs/" on.
func crossKey(k string) string {
	if i := strings.Index(k, "AWSLogs/"); i >= 0 {
		return k[i:]
	}
	return k
}

// crossSummary is validate-logs' closing "valid/total" lines: [valid,
// invalid] for digests, backfill digests and log files.
type crossSummary struct{ digests, backfill, logs [2]int }

var (
	crossStatus = regexp.MustCompile(`^(\(backfill\) )?(Digest|Log) file\ts3://([^/\t]+)/([^\t]+)\t(valid|INVALID: (.+))$`)
	crossRatio  = regexp.MustCompile(`^([0-9]+)/([0-9]+) (digest|backfill digest|log) files valid(?:, ([0-9]+)/([0-9]+) (?:digest|backfill digest|log) files INVALID)?$`)
	// crossQuiet are the lines that say nothing about a file.
	crossQuiet = regexp.MustCompile(`^(|Validating log files for trail .+|Results requested for .+|Results found for .+:|No digests found|No valid digests found in range)$`)
)

// parseValidateLogs reads what `aws cloudtrail validate-logs --verbose`
// printed (its status lines on stdout, its INVALID and gap lines on
// stderr) into a verdict, and checks it against the CLI's own summary.
// A line it does not know is an error: the CLI's wording changed.
func parseValidateLogs(stdout, stderr string) (crossVerdict, error) {
	var v crossVerdict
	var got, sum crossSummary
	lines := append(strings.Split(stdout, "\n"), strings.Split(stderr, "\n")...)
	for n, line := range lines {
		line = strings.TrimRight(line, "\r")
		if m := crossStatus.FindStringSubmatch(line); m != nil {
			backfill, file, key, status, why := m[1] != "", m[2], crossKey(m[4]), m[5], m[6]
			counts := &got.logs
			if file == "Digest" {
				counts = &got.digests
				if backfill {
					counts = &got.backfill
				}
			}
			switch {
			case status == "valid":
				counts[0]++
			case file == "Digest" && why == "not found":
				counts[1]++
				v.DigestsMissing = append(v.DigestsMissing, key)
			case file == "Digest":
				counts[1]++
				v.DigestsInvalid = append(v.DigestsInvalid, key)
			case why == "not found":
				counts[1]++
				v.LogsDeleted = append(v.LogsDeleted, key)
			case why == "hash value doesn't match" || why == "invalid format":
				counts[1]++
				v.LogsModified = append(v.LogsModified, key)
			default:
				return v, fmt.Errorf("line %d: unknown log file status %q", n+1, line)
			}
			continue
		}
		if m := crossRatio.FindStringSubmatch(line); m != nil {
			valid, _ := strconv.Atoi(m[1])
			total, _ := strconv.Atoi(m[2])
			invalid := 0
			if m[4] != "" {
				invalid, _ = strconv.Atoi(m[4])
			}
			if valid+invalid != total || (m[5] != "" && m[5] != m[2]) {
				return v, fmt.Errorf("line %d: %q does not add up", n+1, line)
			}
			switch m[3] {
			case "digest":
				sum.digests = [2]int{valid, invalid}
			case "backfill digest":
				sum.backfill = [2]int{valid, invalid}
			default:
				sum.logs = [2]int{valid, invalid}
			}
			continue
		}
		if strings.HasPrefix(line, "No log files were delivered by CloudTrail between ") ||
			strings.HasPrefix(line, "(backfill) No log files were delivered by CloudTrail between ") {
			v.Gaps++
			continue
		}
		if !crossQuiet.MatchString(line) {
			return v, fmt.Errorf("line %d: unexpected output %q", n+1, line)
		}
	}
	if got != sum {
		return v, fmt.Errorf("the status lines count %+v, the summary says %+v", got, sum)
	}
	if !strings.Contains(stdout, "Results requested for ") {
		return v, fmt.Errorf("no summary in the output")
	}
	v.DigestsValid = got.digests[0] + got.backfill[0]
	v.LogsValid = got.logs[0]
	return v, nil
}

// TestCrossCheckParse checks the reading of validate-logs' output, with
// the messages of awscli/customizations/cloudtrail/validation.py, without
// running the CLI.
func TestCrossCheckParse(t *testing.T) {
	const (
		d1 = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/14/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260314T090000Z.json.gz"
		d2 = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/14/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260314T100000Z.json.gz"
		d3 = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/14/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260314T110000Z_backfill.json.gz"
		l1 = "AWSLogs/1/CloudTrail/us-east-1/2026/03/14/a.json.gz"
		l2 = "AWSLogs/1/CloudTrail/us-east-1/2026/03/14/b.json.gz"
	)
	head := "Validating log files for trail arn:aws:cloudtrail:us-east-1:1:trail/t between 2026-03-14T08:00:00Z and 2026-03-14T14:00:00Z\n\n"
	cases := []struct {
		name, stdout, stderr string
		want                 crossVerdict
		err                  string
	}{
		{
			name:   "nothing",
			stdout: head + "Results requested for 2026-03-14T08:00:00Z to 2026-03-14T14:00:00Z\nNo digests found\n",
		},
		{
			name: "mixed",
			stdout: head + "Digest file\ts3://b/p/" + d2 + "\tvalid\nLog file\ts3://b/p/" + l1 + "\tvalid\n" +
				"(backfill) Digest file\ts3://b/" + d3 + "\tvalid\n\n" +
				"Results requested for 2026-03-14T08:00:00Z to 2026-03-14T14:00:00Z\n" +
				"Results found for 2026-03-14T09:00:00Z to 2026-03-14T11:00:00Z:\n\n" +
				"1/3 digest files valid, 2/3 digest files INVALID\n1/1 backfill digest files valid\n1/3 log files valid, 2/3 log files INVALID\n",
			stderr: "Digest file\ts3://b/" + d1 + "\tINVALID: not found\n\n" +
				"Digest file\ts3://b/" + d1 + "\tINVALID: public key not found in region us-east-1 for fingerprint 00\n\n" +
				"Log file\ts3://b/" + l2 + "\tINVALID: hash value doesn't match\n\n" +
				"Log file\ts3://b/" + l1 + "\tINVALID: not found\n\n" +
				"No log files were delivered by CloudTrail between 2026-03-14T09:00:00Z and 2026-03-14T10:00:00Z\n\n",
			want: crossVerdict{DigestsValid: 2, DigestsInvalid: []string{d1}, DigestsMissing: []string{d1}, Gaps: 1,
				LogsValid: 1, LogsModified: []string{l2}, LogsDeleted: []string{l1}},
		},
		{
			name:   "summary disagrees",
			stdout: head + "Digest file\ts3://b/" + d2 + "\tvalid\n\nResults requested for x to y\nResults found for x to y:\n\n2/2 digest files valid\n",
			err:    "summary says",
		},
		{
			name:   "unknown line",
			stdout: head + "Digest file\ts3://b/" + d2 + "\tquestionable\n",
			err:    "unexpected output",
		},
		{
			name:   "unknown log status",
			stdout: head + "Results requested for x to y\n",
			stderr: "Log file\ts3://b/" + l1 + "\tINVALID: eaten by a grue\n",
			err:    "unknown log file status",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseValidateLogs(tc.stdout, tc.stderr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.equal(tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}
