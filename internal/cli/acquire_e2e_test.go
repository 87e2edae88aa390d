package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/simulate"
)

// TestAcquireThenVerifyAndHunt is the whole path on live-shaped evidence:
// the simulated breach's last day, delivered as CloudTrail delivers it
// (logs and signed digests, the signatures in S3 metadata) into a moto
// bucket behind a trail, is acquired; the case then verifies (the digest
// chains hold but where the attacker stopped logging) and hunts (the
// StopLogging is found). CloudTrail's ListPublicKeys and LookupEvents,
// which moto lacks, are answered by a front speaking CloudTrail's JSON 1.1
// as AWS does.
func TestAcquireThenVerifyAndHunt(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads two thousand files to moto")
	}
	srv := awstest.Moto(t)
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := simulate.Write(ctx, dir, simulate.Options{Days: 2}); err != nil {
		t.Fatal(err)
	}
	// the public keys, as ListPublicKeys answers on the wire
	var keys struct {
		PublicKeyList []struct{ Value, ValidityStartTime, ValidityEndTime, Fingerprint string }
	}
	kb, err := os.ReadFile(filepath.Join(dir, "public-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(kb, &keys); err != nil {
		t.Fatal(err)
	}
	var wire []map[string]any
	for _, k := range keys.PublicKeyList {
		from, _ := time.Parse(time.RFC3339, k.ValidityStartTime)
		to, _ := time.Parse(time.RFC3339, k.ValidityEndTime)
		wire = append(wire, map[string]any{"Value": k.Value, "ValidityStartTime": from.Unix(), "ValidityEndTime": to.Unix(), "Fingerprint": k.Fingerprint})
	}
	keysAnswer, _ := json.Marshal(map[string]any{"PublicKeyList": wire})
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		switch op {
		case "ListPublicKeys":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Write(keysAnswer)
			return true
		case "GetTrailStatus":
			// logging since before the window, as the simulated trail was
			// (moto's began when the test started it)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprintf(w, `{"IsLogging":true,"StartLoggingTime":%d,"LatestDeliveryTime":%d}`,
				time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2026, 3, 10, 0, 5, 0, 0, time.UTC).Unix())
			return true
		case "GetEventSelectors":
			// a trail's default selector, as CloudTrail answers (moto: none)
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"TrailARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/acme-org-trail","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]}`)
			return true
		case "LookupEvents":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"Events":[]}`)
			return true
		}
		return false
	})
	// deliver the attack day (and the digests after it) to the bucket
	cfg := awstest.Config(srv.URL)
	s3c := s3.NewFromConfig(cfg, awstest.PathStyle)
	const bucket = "acme-org-trail"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(filepath.Join(dir, "AWSLogs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		// the day before: only the last logs, which the day's first
		// digests sign and acquire takes
		if !strings.Contains(filepath.ToSlash(p), "/2026/03/08/") || lastHours.MatchString(filepath.Base(p)) {
			files = append(files, p)
		}
		return nil
	})
	upload(t, s3c, bucket, dir, files)
	ct := ctapi.NewFromConfig(cfg)
	if _, err := ct.CreateTrail(ctx, &ctapi.CreateTrailInput{Name: aws.String("acme-org-trail"), S3BucketName: aws.String(bucket),
		IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &ctapi.StartLoggingInput{Name: aws.String("acme-org-trail")}); err != nil {
		t.Fatal(err)
	}
	motoEnv(t, front.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	out, errOut, code := harrier(t, "acquire", "--case", caseDir, "--since", "2026-03-09", "--until", "2026-03-10",
		"--regions", "us-east-1,us-east-2,eu-west-1", "--sources", "cloudtrail,digests,lookup")
	if code != ExitOK {
		t.Fatalf("acquire: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "0 already in the case, 0 failed") {
		t.Errorf("acquire:\n%s", out)
	}
	// verify: every digest valid and every log file they list is in the
	// case, but for the attacker's StopLogging: a gap in the chains
	vout, verr, vcode := harrier(t, "verify", "--case", caseDir)
	for _, want := range []string{" valid, 0 invalid, 0 missing, 3 gaps, 0 unknown key", " valid, 0 modified, 0 deleted", "gap in the digest chain"} {
		if !strings.Contains(vout, want) {
			t.Errorf("verify lacks %q: exit %d\n%s%s", want, vcode, vout, verr)
		}
	}
	if vcode != ExitUnverified {
		t.Errorf("verify: exit %d, want %d (the gap)", vcode, ExitUnverified)
	}
	hout, herr, hcode := harrier(t, "hunt", "--case", caseDir)
	if hcode != ExitOK || !strings.Contains(hout, "CloudTrail Trail Logging Stopped") {
		t.Errorf("hunt: exit %d\n%s%s", hcode, hout, herr)
	}
	if testing.Verbose() {
		t.Log(out + vout)
	}
}

// upload puts files (under root) into bucket at their relative paths, a
// digest's sidecar as the object's S3 metadata, eight at a time.
var lastHours = regexp.MustCompile(`_CloudTrail_[a-z0-9-]+_20260308T2[23][0-9]{2}Z_`)

func upload(t *testing.T, api *s3.Client, bucket, root string, files []string) {
	t.Helper()
	var wg sync.WaitGroup
	jobs := make(chan string)
	errs := make(chan error, len(files))
	for range 8 {
		wg.Go(func() {
			for p := range jobs {
				body, err := os.ReadFile(p)
				if err != nil {
					errs <- err
					continue
				}
				var meta map[string]string
				if side, err := os.ReadFile(p + ".metadata.json"); err == nil {
					if err := json.Unmarshal(side, &meta); err != nil {
						errs <- err
						continue
					}
				}
				rel, _ := filepath.Rel(root, p)
				_, err = api.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(filepath.ToSlash(rel)),
					Body: bytes.NewReader(body), Metadata: meta})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
