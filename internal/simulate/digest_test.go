package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/integrity"
)

// evidenceFiles offers files to integrity.Verify from memory, with their
// keys; the public key list is left out (it is not evidence to verify).
// replace swaps the content of the files it names.
func evidenceFiles(files []logFile, replace map[string][]byte) []integrity.File {
	var out []integrity.File
	for _, f := range files {
		if f.rel == PublicKeysFile {
			continue
		}
		b := f.gz
		if r, ok := replace[f.rel]; ok {
			if r == nil {
				continue // deleted
			}
			b = r
		}
		out = append(out, integrity.File{Path: "evidence/" + f.rel, Key: f.rel,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
	}
	return out
}

// demoKeys reads the public key list among files.
func demoKeys(t *testing.T, files []logFile) []integrity.PublicKey {
	t.Helper()
	for _, f := range files {
		if f.rel == PublicKeysFile {
			keys, err := integrity.ParsePublicKeys(bytes.NewReader(f.gz))
			if err != nil || len(keys) != 1 {
				t.Fatalf("public keys: %d keys, %v", len(keys), err)
			}
			return keys
		}
	}
	t.Fatalf("no %s written", PublicKeysFile)
	return nil
}

func verify(t *testing.T, files []integrity.File, keys []integrity.PublicKey) integrity.Report {
	t.Helper()
	rep, err := integrity.Verify(context.Background(), files, keys)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestDigestsVerify checks the simulated evidence as `harrier verify`
// would: every digest valid and every log file vouched for, and the only
// finding the gap stopping the victim's trail left in each of its chains.
func TestDigestsVerify(t *testing.T) {
	t.Parallel()
	res, files := fixtureAll(t)
	if res.PublicKeys != filepath.Join(fixtureDir, PublicKeysFile) {
		t.Errorf("Result.PublicKeys = %s", res.PublicKeys)
	}
	if _, err := os.Stat(res.PublicKeys); err != nil {
		t.Error(err)
	}
	checkVerified(t, res, verify(t, evidenceFiles(files, nil), demoKeys(t, files)))
}

// TestDigestsSplitAtTheGap simulates a day on which the trail was
// restarted in the five minutes it was stopped in: what was logged before
// and after goes in two files, one in each chain, and verification finds
// the gap as it does otherwise.
func TestDigestsSplitAtTheGap(t *testing.T) {
	t.Parallel()
	o := Options{Days: 1, Start: fixtureOpts.Start}
	var p *plan
	for o.Seed = 1; ; o.Seed++ {
		p = newPlan(newCast(uint64(o.Seed), 1), o.Start, o.Days)
		if (p.gapStart-1)/window == p.gapEnd/window {
			break // StopLogging and StartLogging in the same window
		}
	}
	res, files := writeMem(t, o)
	win := p.gapEnd - p.gapEnd%window
	stamp := time.Unix(win+window, 0).UTC().Format("20060102T1504Z")
	var sides []string
	for _, f := range logsOnly(files) {
		if !strings.Contains(f.rel, res.Truth.VictimAccount+"_CloudTrail_us-east-1_"+stamp) {
			continue
		}
		recs, err := rawRecords(f.gz)
		if err != nil {
			t.Fatal(err)
		}
		first, last := string(recs[0]), string(recs[len(recs)-1])
		switch {
		case strings.Contains(last, `"eventName":"StopLogging"`):
			sides = append(sides, "before")
		case strings.Contains(first, `"eventName":"StartLogging"`):
			sides = append(sides, "after")
		default:
			sides = append(sides, "both?")
		}
	}
	slices.Sort(sides)
	if !slices.Equal(sides, []string{"after", "before"}) {
		t.Errorf("seed %d: us-east-1 files delivered at %s hold events %v of the gap, want one before, one after", o.Seed, stamp, sides)
	}
	checkVerified(t, res, verify(t, evidenceFiles(files, nil), demoKeys(t, files)))
}

// checkVerified checks the report of unchanged simulated evidence.
func checkVerified(t *testing.T, res Result, rep integrity.Report) {
	t.Helper()
	tr := res.Truth
	gap := tr.DigestGap
	if gap.Start != tr.LoggingStopped || gap.End != tr.LoggingRestarted || gap.Account != tr.VictimAccount || len(gap.Regions) == 0 {
		t.Fatalf("DigestGap = %+v, want the victim's trail from LoggingStopped to LoggingRestarted", gap)
	}
	d := rep.Digests
	if d.Valid != res.Digests || d.Invalid != 0 || d.Missing != 0 || d.UnknownKey != 0 || d.Moved != 0 || d.Gaps != len(gap.Regions) {
		t.Errorf("digests %+v, want %d valid and %d gaps, nothing else", d, res.Digests, len(gap.Regions))
	}
	if res.Digests != tr.Digests || len(rep.Chains) != tr.DigestChains {
		t.Errorf("%d digests in %d chains, truth says %d in %d", res.Digests, len(rep.Chains), tr.Digests, tr.DigestChains)
	}
	lf := rep.LogFiles
	if lf.Valid != res.Files || len(lf.Modified)+len(lf.Deleted)+len(lf.Unverifiable) != 0 {
		t.Errorf("log files: %d valid of %d, modified %v, deleted %v, unverifiable %v", lf.Valid, res.Files, lf.Modified, lf.Deleted, lf.Unverifiable)
	}
	for _, p := range rep.Problems {
		if p.Kind != integrity.ProblemGap {
			t.Errorf("unexpected problem: %+v", p)
		}
	}
	if len(rep.Problems) != len(gap.Regions) {
		t.Errorf("%d problems, want a gap for each of %d regions", len(rep.Problems), len(gap.Regions))
	}
	var gapRegions []string
	for _, r := range rep.UntrustedRanges {
		if r.Account != gap.Account || r.Trail != gap.Trail || !r.Start.Equal(gap.Start) || !r.End.Equal(gap.End) {
			t.Errorf("untrusted range %+v, want %s %s from %s to %s", r, gap.Account, gap.Trail, gap.Start, gap.End)
		}
		gapRegions = append(gapRegions, r.Region)
	}
	if !slices.Equal(gapRegions, gap.Regions) {
		t.Errorf("untrusted ranges in %v, want one in each of %v", gapRegions, gap.Regions)
	}
	if rep.OK() {
		t.Error("report OK despite the gap")
	}
	for _, c := range rep.Chains {
		wantGaps, wantOrg := 0, ""
		if c.Account == gap.Account {
			wantGaps = 1
		} else {
			wantOrg = tr.OrgID
		}
		if c.Digests.Gaps != wantGaps || c.Org != wantOrg || c.HomeRegion != digestHomeRegion || c.StartsAfter != "" {
			t.Errorf("chain %s %s %s: %d gaps, org %q, home %s, starts after %q", c.Account, c.Region, c.Trail,
				c.Digests.Gaps, c.Org, c.HomeRegion, c.StartsAfter)
		}
	}
}

// TestDigestsCatchTampering changes the simulated evidence the ways an
// intruder would and checks that verification notices.
func TestDigestsCatchTampering(t *testing.T) {
	t.Parallel()
	res, files := fixtureAll(t)
	keys := demoKeys(t, files)
	// A log file of the victim's, and a digest of its us-east-1 chain in
	// the middle of the day, away from the gap.
	var logKey, digestKey string
	for _, f := range files {
		switch {
		case logKey == "" && isLog(f.rel) && strings.Contains(f.rel, "/"+res.Truth.VictimAccount+"/CloudTrail/us-east-1/") && strings.Contains(f.rel, "T12"):
			logKey = f.rel
		case digestKey == "" && strings.HasSuffix(f.rel, ".json.gz") && strings.Contains(f.rel, "_CloudTrail-Digest_us-east-1_management-events_us-east-1_") && strings.Contains(f.rel, "T12"):
			digestKey = f.rel
		}
	}
	if logKey == "" || digestKey == "" {
		t.Fatalf("no log file (%q) or digest (%q) to tamper with", logKey, digestKey)
	}
	content := func(rel string) []byte {
		for _, f := range files {
			if f.rel == rel {
				zr, err := gzip.NewReader(bytes.NewReader(f.gz))
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		t.Fatalf("no file %s", rel)
		return nil
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	// The intruder removes a record from the log file.
	logBytes := content(logKey)
	cut := bytes.Replace(logBytes, []byte(`{"eventVersion"`), []byte(`{"eventVersiom"`), 1)
	// ... or edits a digest.
	digestBytes := bytes.Replace(content(digestKey), []byte(`"hashValue":"`), []byte(`"hashValue":"0`), 1)

	tests := []struct {
		name    string
		replace map[string][]byte
		check   func(t *testing.T, rep integrity.Report)
	}{
		{"log file modified", map[string][]byte{logKey: gz(cut)}, func(t *testing.T, rep integrity.Report) {
			if !slices.Equal(rep.LogFiles.Modified, []string{logKey}) || rep.LogFiles.Valid != res.Files-1 {
				t.Errorf("modified %v, %d valid; want %s modified", rep.LogFiles.Modified, rep.LogFiles.Valid, logKey)
			}
		}},
		{"log file recompressed, same content", map[string][]byte{logKey: gz(logBytes)}, func(t *testing.T, rep integrity.Report) {
			if rep.LogFiles.Valid != res.Files || len(rep.LogFiles.Modified) != 0 {
				t.Errorf("modified %v, %d valid; want all %d valid (the hash is of the content)", rep.LogFiles.Modified, rep.LogFiles.Valid, res.Files)
			}
		}},
		{"log file deleted", map[string][]byte{logKey: nil}, func(t *testing.T, rep integrity.Report) {
			if !slices.Equal(rep.LogFiles.Deleted, []string{logKey}) {
				t.Errorf("deleted %v, want %s", rep.LogFiles.Deleted, logKey)
			}
		}},
		{"digest edited", map[string][]byte{digestKey: gz(digestBytes)}, func(t *testing.T, rep integrity.Report) {
			if rep.Digests.Invalid == 0 {
				t.Errorf("digests %+v: the edited digest is not invalid", rep.Digests)
			}
		}},
		{"digest deleted", map[string][]byte{digestKey: nil, digestKey + sidecarSuffix: nil}, func(t *testing.T, rep integrity.Report) {
			if rep.Digests.Missing != 1 || rep.Digests.Invalid != 0 {
				t.Errorf("digests %+v, want 1 missing", rep.Digests)
			}
		}},
		{"signature removed", map[string][]byte{digestKey + sidecarSuffix: nil}, func(t *testing.T, rep integrity.Report) {
			if rep.Digests.Invalid != 1 {
				t.Errorf("digests %+v, want the unsigned digest invalid", rep.Digests)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, verify(t, evidenceFiles(files, tc.replace), keys))
		})
	}
}
