package integrity

import (
	"crypto/rsa"
	"slices"
	"strings"
	"testing"
	"time"
)

// crossCases are the scenarios of TestCrossCheck: the default trail
// (five hourly digests of two log files each, as TestVerify makes it),
// changed, and what both verifiers must say of it.
var crossCases = []struct {
	name  string
	trail func(tr *trail) // changes the default trail before it is made
	opts  options
	// setup changes the evidence; it returns the trails to run the CLI
	// for, one run each, when there is more than the default one.
	setup        func(s *scenario) []trail
	bucketRegion string        // where the bucket is; us-east-1 when empty
	from         time.Duration // the CLI's --start-time after the first digest's start, when not 0
	noStamp      bool          // backfill digests without backfill-generation-timestamp
	want         func(s *scenario) crossVerdict
	// differs checks our side of a documented difference and makes our
	// view say what the CLI, checking less, says.
	differs func(t *testing.T, s *scenario, r Report, ours *crossVerdict)
}{
	{
		name: "all good: two accounts, two regions (a run per chain)",
		setup: func(s *scenario) []trail {
			runs := []trail{s.tr}
			for _, acct := range []string{"111122223333", "555566667777"} {
				for _, region := range []string{"eu-west-1", "us-east-1"} {
					if acct == s.tr.account && region == s.tr.region {
						continue
					}
					tr := s.tr
					tr.account, tr.region = acct, region
					s.ev.add(tr, options{})
					runs = append(runs, tr)
				}
			}
			return runs
		},
		want: crossGood(20),
	},
	{
		name:         "all good: the bucket in eu-west-1",
		bucketRegion: "eu-west-1",
		want:         crossGood(5),
	},
	{
		name:  "edited log",
		setup: func(s *scenario) []trail { s.ev.files[s.b.logs[1][0]] = gz([]byte(`{"Records":[]}`)); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 5, LogsValid: 9, LogsModified: []string{crossLogKey(s, 1, 0)}}
		},
	},
	{
		name: "truncated log",
		setup: func(s *scenario) []trail {
			b := s.ev.files[s.b.logs[3][1]]
			s.ev.files[s.b.logs[3][1]] = b[:len(b)/2]
			return nil
		},
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 5, LogsValid: 9, LogsModified: []string{crossLogKey(s, 3, 1)}}
		},
	},
	{
		name:  "deleted log",
		setup: func(s *scenario) []trail { s.ev.remove(s.b.logs[2][1]); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 5, LogsValid: 9, LogsDeleted: []string{crossLogKey(s, 2, 1)}}
		},
	},
	{
		name:  "deleted digest",
		setup: func(s *scenario) []trail { s.ev.remove(s.b.digests[2]); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 4, DigestsMissing: []string{crossDigestKey(s, 2)}, LogsValid: 8}
		},
	},
	{
		name:  "two consecutive missing digests",
		setup: func(s *scenario) []trail { s.ev.remove(s.b.digests[1], s.b.digests[2]); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 3, DigestsMissing: []string{crossDigestKey(s, 2)}, LogsValid: 6}
		},
		differs: func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
			// The CLI names digest 2, which digest 3 names, and jumps to
			// digest 0; Verify also infers that two are missing.
			if r.Digests.Missing != 2 {
				t.Errorf("Verify counts %d missing digests, want 2", r.Digests.Missing)
			}
		},
	},
	{
		name:  "newest digest deleted: neither can tell",
		setup: func(s *scenario) []trail { s.ev.remove(s.b.digests[4]); return nil },
		want:  crossGood(4),
	},
	{
		name: "evidence starts in the middle of the chain",
		setup: func(s *scenario) []trail {
			s.ev.remove(append([]string{s.b.digests[0]}, s.b.logs[0]...)...)
			return nil
		},
		from: time.Hour + 4*time.Minute, // after digest 1 starts: the CLI stops there
		want: crossGood(4),
	},
	{
		name:  "first digest deleted, within the period asked",
		setup: func(s *scenario) []trail { s.ev.remove(s.b.digests[0]); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 4, DigestsMissing: []string{crossDigestKey(s, 0)}, LogsValid: 8}
		},
		differs: func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
			// Verify is not told the period: a chain that names a digest
			// before the evidence starts after it (Chain.StartsAfter); the
			// CLI, asked for a period that covers it, reports it missing.
			if len(r.Chains) != 1 || crossKey(r.Chains[0].StartsAfter) != crossDigestKey(s, 0) {
				t.Fatalf("Verify's chains %+v do not start after digest 0", r.Chains)
			}
			ours.DigestsMissing = append(ours.DigestsMissing, crossKey(r.Chains[0].StartsAfter))
		},
	},
	{
		name: "edited digest hides a log file",
		setup: func(s *scenario) []trail {
			s.ev.editDigest(s.b.digests[2], func(d *digestDoc) { d.LogFiles = d.LogFiles[:1] })
			return nil
		},
		want: crossDigest2Invalid,
	},
	{
		name: "broken chain: previousDigestHashValue, signed",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 3 {
				d.PreviousDigestHashValue = ptr(strings.Repeat("ab", 32))
			}
		}},
		want:    crossGood(5),
		differs: crossOursFind(ProblemPreviousHash, 3),
	},
	{
		name: "broken chain: previousDigestSignature, signed",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 3 {
				d.PreviousDigestSignature = ptr(strings.Repeat("0f", 256))
			}
		}},
		want:    crossGood(5),
		differs: crossOursFind(ProblemPreviousSignature, 3),
	},
	{
		name: "signed with the wrong key",
		opts: options{signer: func(i int) *rsa.PrivateKey {
			if i == 2 {
				return testKeys()[1]
			}
			return nil
		}},
		want: crossDigest2Invalid,
	},
	{
		name: "unknown key fingerprint",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 2 {
				d.DigestPublicKeyFingerprint = "0123456789abcdef0123456789abcdef"
			}
		}},
		want: crossDigest2Invalid,
	},
	{
		name:  "only another region's key listed",
		setup: func(s *scenario) []trail { s.keys = keyList(s.ev.t, false, false, testKeys()[1]); return nil },
		want: func(s *scenario) crossVerdict {
			var v crossVerdict
			for i := range s.b.digests {
				v.DigestsInvalid = append(v.DigestsInvalid, crossDigestKey(s, i))
			}
			return v
		},
	},
	{
		name: "gap: no previous digest in the middle",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 3 {
				d.PreviousDigestS3Bucket, d.PreviousDigestS3Object, d.PreviousDigestHashValue = nil, nil, nil
				d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = nil, nil
			}
		}},
		want: func(*scenario) crossVerdict { return crossVerdict{DigestsValid: 5, Gaps: 1, LogsValid: 10} },
	},
	{
		name: "corrupt gzip digest",
		setup: func(s *scenario) []trail {
			b := s.ev.files[s.b.digests[2]]
			s.ev.files[s.b.digests[2]] = b[:len(b)-12]
			return nil
		},
		want: crossDigest2Invalid,
	},
	{
		name:  "digest that is not JSON",
		setup: func(s *scenario) []trail { s.ev.files[s.b.digests[2]] = gz([]byte("{{{")); return nil },
		want:  crossDigest2Invalid,
	},
	{
		name:  "no signature metadata",
		setup: func(s *scenario) []trail { delete(s.ev.files, s.b.digests[2]+SidecarSuffix); return nil },
		want:  crossDigest2Invalid,
	},
	{
		name: "unknown signature algorithm",
		setup: func(s *scenario) []trail {
			p := s.b.digests[2] + SidecarSuffix
			s.ev.files[p] = []byte(strings.Replace(string(s.ev.files[p]), "SHA256withRSA", "SHA1withRSA", 1))
			return nil
		},
		want:    crossGood(5),
		differs: crossOursFind(ProblemUnknownAlgorithm, 2),
	},
	{
		name: "moved digest, to a later date folder",
		setup: func(s *scenario) []trail {
			s.ev.move(s.b.digests[2], strings.Replace(s.b.digests[2], "/2026/03/14/", "/2026/03/15/", 1))
			return nil
		},
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 2, DigestsInvalid: []string{crossMovedKey(s, "/2026/03/15/")}, LogsValid: 4}
		},
		differs: func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
			// The CLI walks back from the last digest S3 lists, by key:
			// the moved one, under the later folder. It reports it moved
			// and goes on with the digests dated before it, so digests 3
			// and 4 and the log files of 2, 3 and 4 are never checked.
			// Verify checks them all, and digest 2's content and
			// signature are intact.
			if r.Digests != (DigestCounts{Valid: 4, Moved: 1}) || r.LogFiles.Valid != 10 {
				t.Fatalf("Verify says %+v, %d log files valid", r.Digests, r.LogFiles.Valid)
			}
			ours.DigestsValid -= 2
			ours.LogsValid -= 6
		},
	},
	{
		name: "moved digest, to an earlier date folder",
		setup: func(s *scenario) []trail {
			s.ev.move(s.b.digests[2], strings.Replace(s.b.digests[2], "/2026/03/14/", "/2026/03/13/", 1))
			return nil
		},
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 4, DigestsMissing: []string{crossDigestKey(s, 2)}, LogsValid: 8}
		},
		differs: func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
			// The CLI follows digest 3's previousDigestS3Object to where
			// digest 2 was written, finds nothing there and calls it
			// missing; it never looks at the copy in the other folder,
			// which Verify finds, reports moved, and whose log files it
			// checks.
			if r.Digests != (DigestCounts{Valid: 4, Moved: 1}) || r.LogFiles.Valid != 10 ||
				!slices.Equal(ours.DigestsInvalid, []string{crossMovedKey(s, "/2026/03/13/")}) {
				t.Fatalf("Verify says %+v, %d log files valid, %q invalid", r.Digests, r.LogFiles.Valid, ours.DigestsInvalid)
			}
			ours.DigestsInvalid, ours.DigestsMissing = nil, []string{crossDigestKey(s, 2)}
			ours.LogsValid -= 2
		},
	},
	{
		name: "backfill digest",
		setup: func(s *scenario) []trail {
			s.ev.addBackfill(s.tr, s.tr.start.Add(crossBackfillEnd), 2, nil)
			return nil
		},
		want: crossGood(6),
	},
	{
		name: "tampered backfill digest",
		setup: func(s *scenario) []trail {
			p, _ := s.ev.addBackfill(s.tr, s.tr.start.Add(crossBackfillEnd), 2, nil)
			s.ev.editDigest(p, func(d *digestDoc) { d.LogFiles = d.LogFiles[1:] })
			return nil
		},
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 5, DigestsInvalid: []string{crossBackfillKey(s)}, LogsValid: 10}
		},
	},
	{
		name: "backfill digest without backfill-generation-timestamp",
		setup: func(s *scenario) []trail {
			s.ev.addBackfill(s.tr, s.tr.start.Add(crossBackfillEnd), 2, nil)
			return nil
		},
		noStamp: true,
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 5, DigestsInvalid: []string{crossBackfillKey(s)}, LogsValid: 10}
		},
		differs: func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
			// The CLI calls it "invalid format"; the metadata is not
			// signed and Verify does not read it.
			if r.Digests != valid(6) || r.LogFiles.Valid != 12 {
				t.Fatalf("Verify says %+v, %d log files valid", r.Digests, r.LogFiles.Valid)
			}
			ours.DigestsValid--
			ours.LogsValid -= 2
			ours.DigestsInvalid = append(ours.DigestsInvalid, crossBackfillKey(s))
		},
	},
	{
		name:  "organisation trail, edited log",
		trail: func(tr *trail) { tr.org = "o-a1b2c3d4e5" },
		setup: func(s *scenario) []trail { s.ev.files[s.b.logs[4][1]] = gz([]byte(`{"Records":[]}`)); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 5, LogsValid: 9, LogsModified: []string{crossLogKey(s, 4, 1)}}
		},
	},
	{
		name:  "trail with an S3 key prefix, deleted digest",
		trail: func(tr *trail) { tr.prefix = "cloudtrail/prod" },
		setup: func(s *scenario) []trail { s.ev.remove(s.b.digests[3]); return nil },
		want: func(s *scenario) crossVerdict {
			return crossVerdict{DigestsValid: 4, DigestsMissing: []string{crossDigestKey(s, 3)}, LogsValid: 8}
		},
	},
	{
		name: "log file no digest lists",
		setup: func(s *scenario) []trail {
			s.ev.files[s.tr.bucket+"/"+s.tr.logKey(s.tr.start.Add(2*time.Hour), 99, 0)] = gz(logContent(s.tr, s.tr.start, 99, 0))
			return nil
		},
		want: crossGood(5),
		differs: func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
			// The CLI reads only the log files digests list.
			if len(r.LogFiles.Unverifiable) != 1 {
				t.Errorf("Verify's unverifiable log files: %q", r.LogFiles.Unverifiable)
			}
		},
	},
}

// crossOursFind checks that Verify finds, beyond the CLI, a problem of kind
// with digest i, and no other.
func crossOursFind(kind ProblemKind, i int) func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
	return func(t *testing.T, s *scenario, r Report, ours *crossVerdict) {
		var kinds []ProblemKind
		for _, p := range r.Problems {
			kinds = append(kinds, p.Kind)
			if p.Kind == kind && crossKey(p.Key) != crossDigestKey(s, i) {
				t.Errorf("Verify blames %s, want digest %d", p.Key, i)
			}
		}
		if !slices.Equal(kinds, []ProblemKind{kind}) || r.Digests.Invalid != 1 {
			t.Errorf("Verify finds %v, %+v; want one %s on digest %d", kinds, r.Digests, kind, i)
		}
	}
}

// crossDigestKey and crossLogKey are the keys of digest i and of log file
// j of digest i, as crossVerdict names them.
func crossDigestKey(s *scenario, i int) string { return crossKey(s.b.digests[i]) }
func crossLogKey(s *scenario, i, j int) string { return crossKey(s.b.objects[i][j]) }

// crossMovedKey is digest 2's key moved to the folder of another day.
func crossMovedKey(s *scenario, folder string) string {
	return strings.Replace(crossDigestKey(s, 2), "/2026/03/14/", folder, 1)
}

// crossGood is the verdict on n digests with 2 log files each, all valid.
func crossGood(n int) func(*scenario) crossVerdict {
	return func(*scenario) crossVerdict { return crossVerdict{DigestsValid: n, LogsValid: 2 * n} }
}

// crossDigest2Invalid is the verdict when digest 2 of 5 is invalid: no
// valid digest vouches for its log files, the CLI does not read them.
func crossDigest2Invalid(s *scenario) crossVerdict {
	return crossVerdict{DigestsValid: 4, DigestsInvalid: []string{crossDigestKey(s, 2)}, LogsValid: 8}
}

// crossBackfillEnd is when the backfill digest of the scenarios ends,
// after the trail's first digest starts.
const crossBackfillEnd = 3*time.Hour + 20*time.Minute

// crossBackfillKey is the backfill digest's key.
func crossBackfillKey(s *scenario) string {
	return crossKey(s.tr.digestKey(s.tr.start.Add(crossBackfillEnd), true))
}
