package simulate

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// CloudTrail's digest key: AWSLogs/[o-org/]<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/
// <acct>_CloudTrail-Digest_<region>_<trail>_<home region>_YYYYMMDDTHHMMSSZ.json.gz
var digestKeyRE = regexp.MustCompile(`^AWSLogs/(?:(o-[a-z0-9]{10})/)?(\d{12})/CloudTrail-Digest/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/` +
	`(\d{12})_CloudTrail-Digest_([a-z]{2}-[a-z]+-\d)_([A-Za-z0-9_.-]+)_us-east-1_(\d{8}T\d{6}Z)\.json\.gz$`)

// digestOrder is the order CloudTrail writes a digest's members in.
var digestOrder = []string{"awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
	"digestPublicKeyFingerprint", "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime",
	"previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm",
	"previousDigestSignature", "logFiles"}

type digestJSON struct {
	AWSAccountID, DigestStartTime, DigestEndTime, DigestS3Bucket, DigestS3Object string
	DigestPublicKeyFingerprint, DigestSignatureAlgorithm                         string
	NewestEventTime, OldestEventTime                                             *string
	PreviousDigestS3Bucket, PreviousDigestS3Object, PreviousDigestHashValue      *string
	PreviousDigestHashAlgorithm, PreviousDigestSignature                         *string
	LogFiles                                                                     []struct {
		S3Bucket, S3Object, HashValue, HashAlgorithm, NewestEventTime, OldestEventTime string
	}
}

func gunzipped(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDigestLayout checks the digests as files: where they are, what they
// hold, how each chain runs hour to hour, and that together they list
// every log file once, with its hash and event times.
func TestDigestLayout(t *testing.T) {
	t.Parallel()
	res, files := fixtureAll(t)
	_, logs := fixture(t)
	tr := res.Truth
	byRel := map[string]logFile{}
	for _, f := range files {
		byRel[f.rel] = f
	}

	// What each log file is, to compare with the digests' lists.
	type logInfo struct{ sum, oldest, newest string }
	want := map[string]logInfo{}
	for _, f := range logs {
		sum := sha256.Sum256(gunzipped(t, f.gz))
		n := len(f.records)
		want[f.rel] = logInfo{hex.EncodeToString(sum[:]), str(f.records[0].m, "eventTime"), str(f.records[n-1].m, "eventTime")}
	}
	listed := map[string]int{}

	type chainID struct{ acct, region, trail string }
	chains := map[chainID][]digestJSON{}
	digests := 0
	for _, f := range files {
		if isLog(f.rel) || f.rel == PublicKeysFile || strings.HasSuffix(f.rel, sidecarSuffix) {
			continue
		}
		digests++
		m := digestKeyRE.FindStringSubmatch(f.rel)
		if m == nil {
			t.Errorf("%s is not a CloudTrail digest key", f.rel)
			continue
		}
		org, acct, region, day, fileAcct, fileRegion, trail, stamp := m[1], m[2], m[3], m[4]+m[5]+m[6], m[7], m[8], m[9], m[10]
		if (org != "") != (acct == tr.SecondAccount) || (org != "" && org != tr.OrgID) {
			t.Errorf("%s: organisation prefix %q for account %s", f.rel, org, acct)
		}
		if fileAcct != acct || fileRegion != region || stamp[:8] != day {
			t.Errorf("%s: file name disagrees with its folder", f.rel)
		}
		if acct == tr.VictimAccount && trail != tr.DigestGap.Trail {
			t.Errorf("%s: trail %s, want %s", f.rel, trail, tr.DigestGap.Trail)
		}

		if f.gz[4]|f.gz[5]|f.gz[6]|f.gz[7] != 0 || f.gz[9] != 255 {
			t.Errorf("%s: gzip header carries mtime or OS: % x", f.rel, f.gz[:10])
		}
		raw := gunzipped(t, f.gz)
		if got := topKeys(t, raw); !slices.Equal(got, digestOrder) {
			t.Errorf("%s: members %v, want %v", f.rel, got, digestOrder)
		}
		var d digestJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f.rel, err)
		}
		end := parseTime(t, d.DigestEndTime)
		if d.DigestS3Object != f.rel || d.AWSAccountID != acct || d.DigestSignatureAlgorithm != "SHA256withRSA" ||
			d.DigestS3Bucket != "acme-cloudtrail-logs-"+acct || end.Format("20060102T150405Z") != stamp {
			t.Errorf("%s: object %s, account %s, bucket %s, algorithm %s, end %s", f.rel, d.DigestS3Object,
				d.AWSAccountID, d.DigestS3Bucket, d.DigestSignatureAlgorithm, d.DigestEndTime)
		}
		var meta map[string]string
		side, ok := byRel[f.rel+sidecarSuffix]
		if !ok || json.Unmarshal(side.gz, &meta) != nil || len(meta["signature"]) != 512 || meta["signature-algorithm"] != "SHA256withRSA" {
			t.Errorf("%s: sidecar %q", f.rel, side.gz)
		}

		// The log files it lists were delivered in its hour, but for the
		// last digest before the gap, which lists all that was logged
		// before it; its event times span theirs.
		final := end.Equal(tr.DigestGap.Start)
		if (d.OldestEventTime == nil) != (len(d.LogFiles) == 0) || (d.NewestEventTime == nil) != (len(d.LogFiles) == 0) {
			t.Errorf("%s: event times %v..%v with %d log files", f.rel, d.OldestEventTime, d.NewestEventTime, len(d.LogFiles))
		}
		for _, lf := range d.LogFiles {
			listed[lf.S3Object]++
			w, ok := want[lf.S3Object]
			if !ok || lf.S3Bucket != d.DigestS3Bucket || lf.HashAlgorithm != "SHA-256" || lf.HashValue != w.sum ||
				lf.OldestEventTime != w.oldest || lf.NewestEventTime != w.newest {
				t.Errorf("%s lists %+v, want %+v", f.rel, lf, w)
			}
			if *d.OldestEventTime > lf.OldestEventTime || *d.NewestEventTime < lf.NewestEventTime {
				t.Errorf("%s: event times %s..%s do not span %s", f.rel, *d.OldestEventTime, *d.NewestEventTime, lf.S3Object)
			}
			delivered, err := time.Parse("20060102T1504Z", logKey.FindStringSubmatch(lf.S3Object)[9])
			if err != nil {
				t.Fatal(err)
			}
			if delivered.Before(parseTime(t, d.DigestStartTime)) || (!final && !delivered.Before(end)) {
				t.Errorf("%s (%s..%s) lists %s", f.rel, d.DigestStartTime, d.DigestEndTime, lf.S3Object)
			}
		}
		id := chainID{acct, region, trail}
		chains[id] = append(chains[id], d)
	}
	if digests != res.Digests || len(chains) != tr.DigestChains {
		t.Errorf("%d digests in %d chains, Result says %d in %d", digests, len(chains), res.Digests, tr.DigestChains)
	}
	for rel := range want {
		if listed[rel] != 1 {
			t.Errorf("%s listed in %d digests, want 1", rel, listed[rel])
		}
	}

	// Each chain runs hour by hour from the start, each digest naming the
	// one before, but across the victim's gap; its last digest covers the
	// last delivery.
	simEnd := fixtureOpts.Start.AddDate(0, 0, fixtureOpts.Days)
	for id, ds := range chains {
		for i, d := range ds {
			start, end := parseTime(t, d.DigestStartTime), parseTime(t, d.DigestEndTime)
			span := end.Sub(start)
			switch {
			case i == 0:
				if !start.Equal(fixtureOpts.Start) || span <= 0 || span > time.Hour || d.PreviousDigestSignature != nil {
					t.Errorf("%v: first digest %s..%s, previous %v", id, d.DigestStartTime, d.DigestEndTime, d.PreviousDigestSignature)
				}
			case start.Equal(tr.DigestGap.End) && id.acct == tr.DigestGap.Account:
				if !parseTime(t, ds[i-1].DigestEndTime).Equal(tr.DigestGap.Start) || span != time.Hour ||
					d.PreviousDigestS3Bucket != nil || d.PreviousDigestS3Object != nil || d.PreviousDigestHashValue != nil ||
					d.PreviousDigestHashAlgorithm != nil || d.PreviousDigestSignature != nil {
					t.Errorf("%v: first digest after the gap %s..%s names a previous one or follows %s", id, d.DigestStartTime, d.DigestEndTime, ds[i-1].DigestEndTime)
				}
			default:
				prev := ds[i-1]
				if d.DigestStartTime != prev.DigestEndTime || d.PreviousDigestS3Object == nil || *d.PreviousDigestS3Object != prev.DigestS3Object ||
					*d.PreviousDigestHashAlgorithm != "SHA-256" || len(*d.PreviousDigestSignature) != 512 {
					t.Errorf("%v: digest %s does not follow %s", id, d.DigestS3Object, prev.DigestS3Object)
				}
				if span != time.Hour && !(end.Equal(tr.DigestGap.Start) && span < time.Hour) {
					t.Errorf("%v: digest %s spans %s", id, d.DigestS3Object, span)
				}
			}
		}
		if last := parseTime(t, ds[len(ds)-1].DigestEndTime); !last.After(simEnd) || last.After(simEnd.Add(time.Hour)) {
			t.Errorf("%v: last digest ends %s, want within the hour after %s", id, last, simEnd)
		}
	}
}
