package integrity

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCrossCheck runs AWS's own verifier, `aws cloudtrail validate-logs`,
// over the evidence of each scenario of crossCases served from a local S3
// (moto_server) and a local CloudTrail (crosscheck_env_test.go), runs
// Verify over the same files on disk, and checks that both say what the
// scenario wants, in the terms both can express (crossVerdict; crossOurs
// maps our Report to them). Each CLI run is also checked to have reached
// the local services, and only them, for what it needed.
//
// The CLI checks less than Verify, by design. Where a scenario shows it,
// the case says so, checks our side of the difference and brings our
// verdict to the CLI's:
//   - it checks each digest's signature on its own and follows
//     previousDigestS3Object, but never compares previousDigestHashValue
//     or previousDigestSignature with the digest it reaches: a broken link
//     in a properly signed digest is invisible to it (AWS's signature is
//     its guarantee), Verify reports it;
//   - it reads signature-algorithm's presence, not its value;
//   - it sees only the digests of one region, account and trail per run
//     (each scenario runs it once per chain and adds up), only within the
//     period asked for (Verify, not told it, says where the evidence
//     starts), and no log file that no digest lists;
//   - of consecutive missing digests it names and counts the one a digest
//     present names (so do Verify's problems; Verify's count infers all
//     of them from the time between);
//   - it walks back from the newest digest S3 lists, by key, and finds the
//     previous one by the name it was written under: a moved digest
//     disturbs the walk, or looks deleted;
//   - it needs backfill-generation-timestamp in a backfill digest's S3
//     metadata (to choose which public keys to list), Verify does not
//     read it.
func TestCrossCheck(t *testing.T) {
	began := time.Now()
	tools := findCrossTools(t)
	t.Logf("%s at %s; python %s", tools.awsVer, tools.aws, tools.python)
	env := newCrossEnv(t, tools)
	seen := map[string]bool{}
	for _, tc := range crossCases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scenario{ev: newEvidence(t), tr: defaultTrail()}
			if tc.trail != nil {
				tc.trail(&s.tr)
			}
			s.b = s.ev.add(s.tr, tc.opts)
			runs := []trail{s.tr}
			if tc.setup != nil {
				if more := tc.setup(s); more != nil {
					runs = more
				}
			}
			want := tc.want(s).norm()

			r := run(t, s)
			ours := crossOurs(r)
			t.Logf("Verify: %+v, log files %d valid, %d modified, %d deleted, %d unverifiable",
				r.Digests, r.LogFiles.Valid, len(r.LogFiles.Modified), len(r.LogFiles.Deleted), len(r.LogFiles.Unverifiable))
			if tc.differs != nil {
				tc.differs(t, s, r, &ours)
			}

			env.load(t, s.ev, tc.bucketRegion, tc.noStamp)
			env.ct.set(runs, parseKeys(t, s.keys))
			start := s.tr.start.Truncate(time.Hour)
			end := start.Add(time.Duration(s.tr.digests+1) * time.Hour)
			if tc.from != 0 {
				start = s.tr.start.Add(tc.from)
			}
			var cli crossVerdict
			var outputs []string
			for _, tr := range runs {
				res := env.validateLogs(t, tr, start, end)
				out := fmt.Sprintf("aws %s: exit %d\n%s%s", strings.Join(res.args, " "), res.code, res.stdout, res.stderr)
				outputs = append(outputs, out)
				v, err := parseValidateLogs(res.stdout, res.stderr)
				if err != nil {
					t.Fatalf("%v in\n%s", err, out)
				}
				if code := map[bool]int{false: 0, true: 1}[v.failing()]; res.code != code {
					t.Errorf("exit %d, want %d for %v", res.code, code, v)
				}
				checkCalls(t, res, tr, cmp.Or(tc.bucketRegion, "us-east-1"))
				for _, c := range res.calls {
					seen[c.String()] = true
				}
				cli.add(v)
			}
			t.Logf("ours %v\naws  %v", ours.norm(), cli.norm())

			if !ours.equal(cli) {
				t.Errorf("the tools disagree:\nours %v\naws  %v", ours.norm(), cli.norm())
			}
			if !ours.equal(want) {
				t.Errorf("ours %v\nwant %v", ours.norm(), want)
			}
			if !cli.equal(want) {
				t.Errorf("aws  %v\nwant %v", cli.norm(), want)
			}
			if t.Failed() {
				for _, out := range outputs {
					t.Log(out)
				}
				for _, p := range r.Problems {
					t.Logf("our problem %s %s: %s", p.Kind, p.Key, p.Detail)
				}
			}
		})
	}
	t.Logf("%d CLI runs in %v; calls: %s", env.cliRuns, time.Since(began).Round(time.Millisecond),
		strings.Join(slices.Sorted(maps.Keys(seen)), ", "))
}

// checkCalls checks that a run of the CLI for trail tr, whose bucket is
// in bucketRegion, asked nothing of the fakes that they refuse, and asked
// what it needed of the local endpoints with clients of the regions it
// needed them in: its own region's for CloudTrail (and Organizations for
// an organisation trail) and to locate the bucket, the bucket's for the
// bucket's objects.
func checkCalls(t *testing.T, res crossCLIResult, tr trail, bucketRegion string) {
	t.Helper()
	for _, b := range res.refused {
		t.Errorf("the CLI made a call the fakes refuse: %s", b)
	}
	need := []string{"cloudtrail " + tr.region + " DescribeTrails", "cloudtrail " + tr.region + " ListPublicKeys",
		"s3 " + tr.region + " GetBucketLocation", "s3 " + bucketRegion + " ListObjects", "s3 " + bucketRegion + " GetObject"}
	if tr.org != "" {
		need = append(need, "organizations "+tr.region+" DescribeOrganization")
	}
	var got []string
	for _, c := range res.calls {
		got = append(got, c.String())
	}
	for _, n := range need {
		if !slices.Contains(got, n) {
			t.Errorf("aws %s never called %s; its calls: %q", strings.Join(res.args, " "), n, got)
		}
	}
}

// crossCLIChecks are the problems validate-logs also finds in a digest on
// its own: it cannot inflate or parse it, it has no signature metadata or
// no key, the signature fails, or it is not where it says it was written.
var crossCLIChecks = map[ProblemKind]bool{ProblemUnreadable: true, ProblemFormat: true, ProblemNoSignature: true,
	ProblemBadSignature: true, ProblemUnknownKey: true, ProblemMoved: true}

// crossOurs is our Report in the CLI's terms: a digest (moved ones
// included) is invalid when it has a problem of crossCLIChecks, valid
// otherwise (a link or algorithm problem alone does not count, see
// TestCrossCheck); a missing digest is the one a ProblemMissing names;
// unverifiable log files have no counterpart.
func crossOurs(r Report) crossVerdict {
	var v crossVerdict
	invalid := map[string]bool{}
	for _, p := range r.Problems {
		switch {
		case p.Kind == ProblemMissing:
			v.DigestsMissing = append(v.DigestsMissing, crossKey(p.Key))
		case crossCLIChecks[p.Kind] && classify(p.Key) == kindDigest:
			invalid[crossKey(p.Key)] = true
		}
	}
	d := r.Digests
	v.DigestsInvalid = sortedKeys(invalid)
	v.DigestsValid = d.Valid + d.Invalid + d.UnknownKey + d.Moved - len(invalid)
	v.Gaps = d.Gaps
	v.LogsValid = r.LogFiles.Valid
	for _, k := range r.LogFiles.Modified {
		v.LogsModified = append(v.LogsModified, crossKey(k))
	}
	for _, k := range r.LogFiles.Deleted {
		v.LogsDeleted = append(v.LogsDeleted, crossKey(k))
	}
	return v.norm()
}
