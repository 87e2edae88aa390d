package trails

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/integrity"
)

// TestCollectVersions covers what an attacker's DeleteObject and
// PutObject leave in a versioned trail bucket: the overwritten log's
// original and the deleted log are collected as non-current versions, the
// deletion is reported, and a day whose only log was deleted is still
// walked.
func TestCollectVersions(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Moto(t)
	api := s3.NewFromConfig(awstest.Config(srv.URL), awstest.PathStyle)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	logKey := func(d int, name string) string {
		return keyPrefix + "/AWSLogs/" + acctA + "/CloudTrail/us-east-1/2026/03/0" + string(rune('0'+d)) + "/" + acctA + "_CloudTrail_us-east-1_2026030" + string(rune('0'+d)) + "T0000Z_" + name + ".json.gz"
	}
	digestKey := keyPrefix + "/AWSLogs/" + acctA + "/CloudTrail-Digest/us-east-1/2026/03/01/" + acctA + "_CloudTrail-Digest_us-east-1_mgmt_us-east-1_20260301T010000Z.json.gz"
	put := func(key, body string, meta map[string]string) {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(gz(t, body)), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	kept, tampered, gone := logKey(1, "kept"), logKey(1, "tampered"), logKey(2, "gone")
	put(kept, `{"Records":[{"eventName":"ListUsers"}]}`, nil)
	put(tampered, `{"Records":[{"eventName":"CreateAccessKey"}]}`, nil)
	put(tampered, `{"Records":[{"eventName":"ListBuckets"}]}`, nil) // the attacker's rewrite
	put(gone, `{"Records":[{"eventName":"StopLogging"}]}`, nil)
	put(digestKey, `{"awsAccountId":"111111111111","logFiles":[]}`, map[string]string{"signature": "aa", "signature-algorithm": "SHA256withRSA"})
	put(digestKey, `{"awsAccountId":"111111111111","logFiles":[],"x":1}`, map[string]string{"signature": "bb", "signature-algorithm": "SHA256withRSA"})
	// a region whose only log is outside the window: a gap in it
	put(keyPrefix+"/AWSLogs/"+acctA+"/CloudTrail/eu-west-1/2026/02/20/"+acctA+"_CloudTrail_eu-west-1_20260220T0000Z_old.json.gz", `{"Records":[]}`, nil)
	if _, err := api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	trail := Trail{Name: trailName, ARN: "arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/" + trailName, HomeRegion: "us-east-1", Bucket: bucket, Prefix: keyPrefix}
	opts := Options{Since: day(3, 1), Until: day(3, 3), Versions: true, Now: fixedNow}

	t.Run("without versions the deleted and overwritten logs are missed", func(t *testing.T) {
		c := openCase(t)
		st, err := Collect(ctx, api, trail, Options{Since: opts.Since, Until: opts.Until, Now: fixedNow}, CaseSink(c))
		if err != nil {
			t.Fatal(err)
		}
		if st.Downloaded != 3 || st.Noncurrent != 0 || len(st.Deleted) != 0 {
			t.Fatalf("stats %+v", st)
		}
		// the day whose only log was deleted looks empty
		if got := coverageGaps(st); got != "eu-west-1:2026-03-01,2026-03-02 us-east-1:2026-03-02" {
			t.Errorf("days without logs: %s", got)
		}
	})
	c := openCase(t)
	st, err := Collect(ctx, api, trail, opts, CaseSink(c))
	if err != nil {
		t.Fatal(err)
	}
	// current: kept, tampered (rewrite), digest (second); non-current:
	// tampered's original, gone's only version, the first digest
	if st.Listed != 6 || st.Downloaded != 6 || st.Noncurrent != 3 || len(st.Failed) != 0 || len(st.Problems) != 0 {
		t.Fatalf("stats %+v", st)
	}
	if got := coverageGaps(st); got != "eu-west-1:2026-03-01,2026-03-02 us-east-1:" {
		t.Errorf("days without logs: %s", got)
	}
	if len(st.Deleted) != 1 || st.Deleted[0].Key != gone || st.Deleted[0].At.IsZero() {
		t.Fatalf("Deleted = %+v, want %s", st.Deleted, gone)
	}
	byKey := map[string][]string{} // S3 key → evidence paths
	contents := map[string]string{}
	for _, e := range c.Latest() {
		if !strings.HasPrefix(e.Path, "evidence/s3/") {
			continue
		}
		k := keyPrefix + "/" + integrity.KeyFromPath(e.Path) // KeyFromPath starts at AWSLogs/
		byKey[k] = append(byKey[k], e.Path)
		f, err := os.Open(c.Path(e.Path))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		contents[e.Path] = string(b)
	}
	if len(byKey[tampered]) != 2 || len(byKey[gone]) != 1 || len(byKey[kept]) != 1 {
		t.Fatalf("evidence by key: %v", byKey)
	}
	if !strings.Contains(byKey[gone][0], ".harrier-") {
		t.Errorf("the deleted log's version is at %s, want a .harrier- name (it is not the current object)", byKey[gone][0])
	}
	// the digest's two versions each have their own sidecar
	if n := len(byKey[digestKey]); n != 2 {
		t.Errorf("digest versions in the case: %d, want 2: %v", n, byKey)
	}
	sidecars := 0
	for p := range contents {
		if strings.Contains(p, integrity.SidecarSuffix) {
			sidecars++
		}
	}
	if sidecars != 2 {
		t.Errorf("%d sidecars, want 2", sidecars)
	}
	// a second run fetches nothing
	again, err := Collect(ctx, api, trail, opts, CaseSink(c))
	if err != nil {
		t.Fatal(err)
	}
	if again.Downloaded != 0 || again.Skipped != 6 {
		t.Errorf("re-run: %+v", again)
	}
}

// coverageGaps writes each coverage row's days without logs as
// "region:day,day" in the rows' order.
func coverageGaps(st Stats) string {
	var rows []string
	for _, cv := range st.Coverage {
		var days []string
		for _, d := range cv.NoLogs {
			days = append(days, d.Format("2006-01-02"))
		}
		rows = append(rows, cv.Region+":"+strings.Join(days, ","))
	}
	return strings.Join(rows, " ")
}

// TestCollectUnsignedDigestReportedAgain: a digest stored without its
// signature is reported on every run, not only the one that stored it.
func TestCollectUnsignedDigestReportedAgain(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Moto(t)
	api := s3.NewFromConfig(awstest.Config(srv.URL), awstest.PathStyle)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	key := keyPrefix + "/AWSLogs/" + acctA + "/CloudTrail-Digest/us-east-1/2026/03/01/" + acctA + "_CloudTrail-Digest_us-east-1_mgmt_us-east-1_20260301T010000Z.json.gz"
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(gz(t, `{"awsAccountId":"111111111111","logFiles":[]}`))}); err != nil {
		t.Fatal(err)
	}
	trail := Trail{Name: trailName, ARN: "arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/" + trailName, HomeRegion: "us-east-1", Bucket: bucket, Prefix: keyPrefix}
	c := openCase(t)
	for run := 1; run <= 2; run++ {
		st, err := Collect(ctx, api, trail, Options{Since: day(3, 1), Until: day(3, 2), Now: fixedNow}, CaseSink(c))
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Failed) != 1 || !st.Failed[0].Unsigned || st.Failed[0].Key != key {
			t.Errorf("run %d: failed %+v, want the unsigned digest", run, st.Failed)
		}
	}
}
