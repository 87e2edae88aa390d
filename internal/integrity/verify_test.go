package integrity

import (
	"context"
	"crypto/rsa"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

// scenario is the evidence of one test case as it is being built.
type scenario struct {
	ev     *evidence
	tr     trail
	b      built               // of the default trail
	keys   []byte              // list-public-keys output; key1 as PKCS#1 when nil
	adjust func([]File) []File // changes the Files after they are written
}

type logCounts struct{ valid, modified, deleted, unverifiable int }

type want struct {
	digests DigestCounts
	logs    logCounts
	kinds   []ProblemKind // the kinds of problem found, sorted
	ranges  int           // untrusted ranges
	ok      bool
}

func valid(n int) DigestCounts { return DigestCounts{Valid: n} }

var verifyCases = []struct {
	name  string
	trail func(tr *trail)    // changes the default trail before it is made
	store func(ev *evidence) // changes how metadata is kept before anything is made
	opts  options            // how the default trail's digests are made
	setup func(s *scenario)  // changes the evidence afterwards
	want  want
	check func(t *testing.T, s *scenario, r Report)
}{
	{
		name: "all good: two accounts, two regions",
		setup: func(s *scenario) {
			for _, acct := range []string{"111122223333", "555566667777"} {
				for _, region := range []string{"eu-west-1", "us-east-1"} {
					if acct == s.tr.account && region == s.tr.region {
						continue
					}
					tr := s.tr
					tr.account, tr.region = acct, region
					s.ev.add(tr, options{})
				}
			}
		},
		want: want{digests: valid(20), logs: logCounts{valid: 40}, ok: true},
		check: func(t *testing.T, s *scenario, r Report) {
			if len(r.Chains) != 4 {
				t.Fatalf("%d chains, want 4", len(r.Chains))
			}
			c := r.Chains[0]
			if c.Account != "111122223333" || c.Region != "eu-west-1" || c.Trail != "org_audit-trail" || c.HomeRegion != "us-east-1" ||
				c.Digests != valid(5) || c.LogFiles != 10 || !c.First.Equal(s.tr.start.Add(time.Hour)) ||
				!c.Last.Equal(s.tr.start.Add(5*time.Hour)) || c.StartsAfter != "" || len(c.Problems) != 0 {
				t.Errorf("first chain %+v", c)
			}
		},
	},
	{
		name:  "edited log",
		setup: func(s *scenario) { s.ev.files[s.b.logs[1][0]] = gz([]byte(`{"Records":[]}`)) },
		want:  want{digests: valid(5), logs: logCounts{valid: 9, modified: 1}, kinds: kinds(ProblemLogModified), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if !slices.Equal(r.LogFiles.Modified, []string{s.b.objects[1][0]}) {
				t.Errorf("modified %q, want %q", r.LogFiles.Modified, s.b.objects[1][0])
			}
			want := Range{Account: s.tr.account, Region: s.tr.region, Trail: s.tr.name,
				Start: s.tr.start.Add(70 * time.Minute), End: s.tr.start.Add(72 * time.Minute), Reason: "log file modified: " + s.b.objects[1][0]}
			if r.UntrustedRanges[0] != want {
				t.Errorf("range %+v, want %+v", r.UntrustedRanges[0], want)
			}
			if c := r.Chains[0]; len(c.Problems) != 1 || !strings.HasPrefix(c.Problems[0], s.b.objects[1][0]+": evidence/") {
				t.Errorf("chain problems %q", c.Problems)
			}
		},
	},
	{
		name: "truncated log",
		setup: func(s *scenario) {
			b := s.ev.files[s.b.logs[3][1]]
			s.ev.files[s.b.logs[3][1]] = b[:len(b)/2]
		},
		want: want{digests: valid(5), logs: logCounts{valid: 9, modified: 1}, kinds: kinds(ProblemLogModified), ranges: 1},
	},
	{
		name:  "deleted log",
		setup: func(s *scenario) { s.ev.remove(s.b.logs[2][1]) },
		want:  want{digests: valid(5), logs: logCounts{valid: 9, deleted: 1}, kinds: kinds(ProblemLogDeleted), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if !slices.Equal(r.LogFiles.Deleted, []string{s.b.objects[2][1]}) {
				t.Errorf("deleted %q", r.LogFiles.Deleted)
			}
		},
	},
	{
		name:  "deleted digest",
		setup: func(s *scenario) { s.ev.remove(s.b.digests[2]) },
		want: want{digests: DigestCounts{Valid: 4, Missing: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemLogUnverifiable, ProblemMissing), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			p := find(r, ProblemMissing)
			if p.Key != strings.TrimPrefix(s.b.digests[2], s.tr.bucket+"/") || p.Path != "" {
				t.Errorf("missing problem %+v", p)
			}
			got := r.UntrustedRanges[0]
			if !got.Start.Equal(s.tr.start.Add(2*time.Hour)) || !got.End.Equal(s.tr.start.Add(3*time.Hour)) {
				t.Errorf("range %+v", got)
			}
		},
	},
	{
		name:  "evidence starts in the middle of the chain",
		setup: func(s *scenario) { s.ev.remove(append([]string{s.b.digests[0]}, s.b.logs[0]...)...) },
		want:  want{digests: valid(4), logs: logCounts{valid: 8}, ok: true},
		check: func(t *testing.T, s *scenario, r Report) {
			if c := r.Chains[0]; c.StartsAfter != strings.TrimPrefix(s.b.digests[0], s.tr.bucket+"/") {
				t.Errorf("chain starts after %q", c.StartsAfter)
			}
		},
	},
	{
		name:  "two consecutive missing digests",
		setup: func(s *scenario) { s.ev.remove(s.b.digests[1], s.b.digests[2]) },
		want: want{digests: DigestCounts{Valid: 3, Missing: 2}, logs: logCounts{valid: 6, unverifiable: 4},
			kinds: kinds(ProblemLogUnverifiable, ProblemMissing), ranges: 1},
	},
	{
		name: "edited digest hides a log file",
		setup: func(s *scenario) {
			s.ev.editDigest(s.b.digests[2], func(d *digestDoc) { d.LogFiles = d.LogFiles[:1] })
		},
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemBadSignature, ProblemLogUnverifiable, ProblemPreviousHash), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			p := find(r, ProblemPreviousHash)
			if p.Path != "evidence/"+s.b.digests[2] || !strings.Contains(p.Detail, "changed after CloudTrail signed") {
				t.Errorf("the hash mismatch is not blamed on the edited digest: %+v", p)
			}
		},
	},
	{
		name: "broken chain: previousDigestHashValue",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 3 {
				d.PreviousDigestHashValue = ptr(strings.Repeat("ab", 32))
			}
		}},
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 10}, kinds: kinds(ProblemPreviousHash), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if p := find(r, ProblemPreviousHash); p.Path != "evidence/"+s.b.digests[3] {
				t.Errorf("blamed %s, want digest 3", p.Path)
			}
		},
	},
	{
		name: "broken chain: previousDigestSignature",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 3 {
				d.PreviousDigestSignature = ptr(strings.Repeat("0f", 256))
			}
		}},
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 10}, kinds: kinds(ProblemPreviousSignature), ranges: 1},
	},
	{
		name: "signed with the wrong key",
		opts: options{signer: func(i int) *rsa.PrivateKey {
			if i == 2 {
				return testKeys()[1]
			}
			return nil
		}},
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemBadSignature, ProblemLogUnverifiable), ranges: 1},
	},
	{
		name: "unknown key fingerprint",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 2 {
				d.DigestPublicKeyFingerprint = "0123456789abcdef0123456789abcdef"
			}
		}},
		want: want{digests: DigestCounts{Valid: 4, UnknownKey: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemLogUnverifiable, ProblemUnknownKey), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if p := find(r, ProblemUnknownKey); !strings.Contains(p.Detail, "whose signature verifies, records it") {
				t.Errorf("no note that the next digest vouches for it: %s", p.Detail)
			}
		},
	},
	{
		name:  "only another region's key given",
		setup: func(s *scenario) { s.keys = keyList(s.ev.t, false, false, testKeys()[1]) },
		want: want{digests: DigestCounts{UnknownKey: 5}, logs: logCounts{unverifiable: 10},
			kinds: kinds(ProblemLogUnverifiable, ProblemUnknownKey), ranges: 5},
	},
	{
		name: "moved digest",
		setup: func(s *scenario) {
			s.ev.move(s.b.digests[2], strings.Replace(s.b.digests[2], "/2026/03/14/", "/2026/03/15/", 1))
		},
		want: want{digests: DigestCounts{Valid: 4, Moved: 1}, logs: logCounts{valid: 10}, kinds: kinds(ProblemMoved)},
	},
	{
		name: "digest acquired from another bucket",
		setup: func(s *scenario) {
			s.adjust = func(files []File) []File {
				for i := range files {
					if files[i].Path == "evidence/"+s.b.digests[2] {
						files[i].Bucket = "attacker-bucket"
					}
				}
				return files
			}
		},
		want: want{digests: DigestCounts{Valid: 4, Moved: 1}, logs: logCounts{valid: 10}, kinds: kinds(ProblemMoved)},
	},
	{
		name:  "backfill digest",
		setup: func(s *scenario) { s.ev.addBackfill(s.tr, s.tr.start.Add(3*time.Hour+20*time.Minute), 2, nil) },
		want:  want{digests: valid(6), logs: logCounts{valid: 12}, ok: true},
		check: func(t *testing.T, s *scenario, r Report) {
			if c := r.Chains[0]; c.Backfill != 1 || c.Digests != valid(6) || !c.Last.Equal(s.tr.start.Add(5*time.Hour)) {
				t.Errorf("chain %+v", c)
			}
		},
	},
	{
		name: "tampered backfill digest",
		setup: func(s *scenario) {
			p, _ := s.ev.addBackfill(s.tr, s.tr.start.Add(3*time.Hour+20*time.Minute), 2, nil)
			s.ev.editDigest(p, func(d *digestDoc) { d.LogFiles = d.LogFiles[1:] })
		},
		want: want{digests: DigestCounts{Valid: 5, Invalid: 1}, logs: logCounts{valid: 10, unverifiable: 2},
			kinds: kinds(ProblemBadSignature, ProblemLogUnverifiable), ranges: 1},
	},
	{
		name: "gap: no previous digest in the middle",
		opts: options{edit: func(i int, d *digestDoc) {
			if i == 3 {
				d.PreviousDigestS3Bucket, d.PreviousDigestS3Object, d.PreviousDigestHashValue = nil, nil, nil
				d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = nil, nil
			}
		}},
		want: want{digests: DigestCounts{Valid: 5, Gaps: 1}, logs: logCounts{valid: 10}, kinds: kinds(ProblemGap), ranges: 1},
	},
	{
		name:  "organisation trail",
		trail: func(tr *trail) { tr.org = "o-a1b2c3d4e5" },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
		check: func(t *testing.T, s *scenario, r Report) {
			if c := r.Chains[0]; c.Org != "o-a1b2c3d4e5" || c.Account != s.tr.account {
				t.Errorf("chain %+v", c)
			}
		},
	},
	{
		name:  "trail with an S3 key prefix",
		trail: func(tr *trail) { tr.prefix = "cloudtrail/prod" },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
	{
		name: "log file no digest lists",
		setup: func(s *scenario) {
			s.ev.files[s.tr.bucket+"/"+s.tr.logKey(s.tr.start.Add(9*time.Hour), 99, 0)] = gz(logContent(s.tr, s.tr.start, 99, 0))
		},
		want: want{digests: valid(5), logs: logCounts{valid: 10, unverifiable: 1}, kinds: kinds(ProblemLogUnverifiable)},
	},
	{
		name:  "PKIX public keys with epoch times",
		setup: func(s *scenario) { s.keys = keyList(s.ev.t, true, true, testKeys()[1], testKeys()[0]) },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
	{
		name:  "sidecars in head-object shape",
		store: func(ev *evidence) { ev.headObject = true },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
	{
		name:  "metadata recorded at acquisition",
		store: func(ev *evidence) { ev.metaInFile = true },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
	{
		name: "corrupt gzip digest",
		setup: func(s *scenario) {
			b := s.ev.files[s.b.digests[2]]
			s.ev.files[s.b.digests[2]] = b[:len(b)-12]
		},
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemLogUnverifiable, ProblemUnreadable), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if p := find(r, ProblemUnreadable); p.Path != "evidence/"+s.b.digests[2] || !strings.Contains(p.Detail, "cut off") {
				t.Errorf("problem %+v", p)
			}
		},
	},
	{
		name:  "digest that is not JSON",
		setup: func(s *scenario) { s.ev.files[s.b.digests[2]] = gz([]byte("{{{")) },
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemFormat, ProblemLogUnverifiable), ranges: 1},
	},
	{
		name:  "no signature metadata",
		setup: func(s *scenario) { delete(s.ev.files, s.b.digests[2]+SidecarSuffix) },
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemLogUnverifiable, ProblemNoSignature), ranges: 1},
	},
	{
		name:  "unreadable sidecar",
		setup: func(s *scenario) { s.ev.files[s.b.digests[2]+SidecarSuffix] = []byte(`{"signature":`) },
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemLogUnverifiable, ProblemNoSignature, ProblemUnreadable), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if p := find(r, ProblemNoSignature); !strings.Contains(p.Detail, "its sidecar could not be read") {
				t.Errorf("problem %+v", p)
			}
		},
	},
	{
		name: "unknown signature algorithm",
		setup: func(s *scenario) {
			s.ev.files[s.b.digests[2]+SidecarSuffix] = []byte(strings.Replace(string(s.ev.files[s.b.digests[2]+SidecarSuffix]), "SHA256withRSA", "SHA1withRSA", 1))
		},
		want: want{digests: DigestCounts{Valid: 4, Invalid: 1}, logs: logCounts{valid: 10}, kinds: kinds(ProblemUnknownAlgorithm), ranges: 1},
		check: func(t *testing.T, s *scenario, r Report) {
			if p := find(r, ProblemUnknownAlgorithm); !strings.Contains(p.Detail, `"SHA1withRSA"`) {
				t.Errorf("problem %+v does not name the algorithm", p)
			}
		},
	},
	{
		name:  "metadata sidecar without its digest",
		setup: func(s *scenario) { delete(s.ev.files, s.b.digests[4]) },
		want: want{digests: valid(4), logs: logCounts{valid: 8, unverifiable: 2},
			kinds: kinds(ProblemLogUnverifiable, ProblemMetadata)},
	},
	{
		name: "copied by hand under bare names",
		setup: func(s *scenario) {
			s.adjust = func(files []File) []File {
				for i := range files {
					files[i].Path = "loose/" + path.Base(files[i].Path)
				}
				return files
			}
		},
		want: want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
	{
		name:  "log file renamed",
		setup: func(s *scenario) { s.ev.move(s.b.logs[1][0], "exports/suspicious-activity.json.gz") },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
	{
		name: "a case's differing second copy of a log file",
		setup: func(s *scenario) {
			s.ev.files[s.b.logs[0][0]+".harrier-0123456789ab"] = gz([]byte(`{"Records":[{"eventName":"Forged"}]}`))
		},
		want: want{digests: valid(5), logs: logCounts{valid: 9, modified: 1}, kinds: kinds(ProblemLogModified), ranges: 1},
	},
	{
		name:  "the same digest taken twice",
		setup: func(s *scenario) { s.ev.files["copy/"+path.Base(s.b.digests[1])] = s.ev.files[s.b.digests[1]] },
		want:  want{digests: valid(5), logs: logCounts{valid: 10}, ok: true},
	},
}

func TestVerify(t *testing.T) {
	for _, tc := range verifyCases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scenario{ev: newEvidence(t), tr: defaultTrail()}
			if tc.store != nil {
				tc.store(s.ev)
			}
			if tc.trail != nil {
				tc.trail(&s.tr)
			}
			s.b = s.ev.add(s.tr, tc.opts)
			if tc.setup != nil {
				tc.setup(s)
			}
			r := run(t, s)
			got := want{digests: r.Digests, ranges: len(r.UntrustedRanges), ok: r.OK(),
				logs: logCounts{r.LogFiles.Valid, len(r.LogFiles.Modified), len(r.LogFiles.Deleted), len(r.LogFiles.Unverifiable)}}
			for _, p := range r.Problems {
				if !slices.Contains(got.kinds, p.Kind) {
					got.kinds = append(got.kinds, p.Kind)
				}
			}
			slices.Sort(got.kinds)
			if got.digests != tc.want.digests || got.logs != tc.want.logs || !slices.Equal(got.kinds, tc.want.kinds) ||
				got.ranges != tc.want.ranges || got.ok != tc.want.ok {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
				for _, p := range r.Problems {
					t.Logf("problem %s %s %s: %s", p.Kind, p.Path, p.Key, p.Detail)
				}
				for _, g := range r.UntrustedRanges {
					t.Logf("range %+v", g)
				}
			}
			if tc.check != nil {
				tc.check(t, s, r)
			}
		})
	}
}

// run writes the scenario's evidence to a folder and verifies it.
func run(t *testing.T, s *scenario) Report {
	t.Helper()
	files := s.ev.write(t.TempDir())
	if s.adjust != nil {
		files = s.adjust(files)
	}
	if s.keys == nil {
		s.keys = keyList(t, false, false, testKeys()[0])
	}
	r, err := Verify(t.Context(), files, parseKeys(t, s.keys))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestVerifyCancelled checks that Verify stops, with the context's error,
// when its context ends.
func TestVerifyCancelled(t *testing.T) {
	ev := newEvidence(t)
	ev.add(defaultTrail(), options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Verify(ctx, ev.inMemory(), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestVerifyUnopenable checks that a file that cannot be opened is a
// finding, not a failure.
func TestVerifyUnopenable(t *testing.T) {
	files := []File{
		{Path: "evidence/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/x.json.gz"},
		{Path: "evidence/gone.json.gz", Open: func() (io.ReadCloser, error) { return nil, fs.ErrNotExist }},
	}
	r, err := Verify(t.Context(), files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.LogFiles.Unverifiable) != 2 || r.OK() {
		t.Errorf("report %+v", r)
	}
}

// TestVerifyEmpty checks that no evidence verifies as nothing wrong.
func TestVerifyEmpty(t *testing.T) {
	r, err := Verify(t.Context(), nil, nil)
	if err != nil || !r.OK() || len(r.Chains) != 0 {
		t.Errorf("Verify(nil) = %+v, %v", r, err)
	}
}

func kinds(k ...ProblemKind) []ProblemKind { return k }

// find returns the first problem of a kind.
func find(r Report, k ProblemKind) Problem {
	for _, p := range r.Problems {
		if p.Kind == k {
			return p
		}
	}
	return Problem{}
}
