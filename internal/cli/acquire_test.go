package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// seedTrail puts a trail and its S3 delivery (two days of logs, one digest
// with its signature metadata, and a log from before the window) into moto.
func seedTrail(t *testing.T, endpoint string) {
	t.Helper()
	ctx := context.Background()
	cfg := awstest.Config(endpoint)
	s3c := s3.NewFromConfig(cfg, awstest.PathStyle)
	bucket := "acme-trail"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte, meta map[string]string) {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	const acct = "123456789012"
	for i, day := range []string{"2026/03/13", "2026/03/14", "2026/02/01"} {
		rec := fmt.Sprintf(`{"Records":[{"eventVersion":"1.08","eventID":"acq-%d","eventTime":"%sT10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","readOnly":false,"recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/x","accountId":"%s","accessKeyId":"AKIAACQ%d","userName":"x"},"requestParameters":{"userName":"backdoor%d"}}]}`,
			i, strings.ReplaceAll(day, "/", "-"), acct, acct, acct, i, i)
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%sT1005Z_abc%d.json.gz", acct, day, acct, strings.ReplaceAll(day, "/", ""), i)
		put(key, gz(rec), nil)
	}
	put("AWSLogs/"+acct+"/CloudTrail-Digest/us-east-1/2026/03/14/"+acct+"_CloudTrail-Digest_us-east-1_trail_us-east-1_20260314T110000Z.json.gz",
		gz(`{"awsAccountId":"`+acct+`","digestStartTime":"2026-03-14T10:00:00Z","digestEndTime":"2026-03-14T11:00:00Z","digestS3Bucket":"acme-trail","digestS3Object":"x","digestPublicKeyFingerprint":"00","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`),
		map[string]string{"signature": "00ff", "signature-algorithm": "SHA256withRSA"})
	ct := ctapi.NewFromConfig(cfg)
	if _, err := ct.CreateTrail(ctx, &ctapi.CreateTrailInput{Name: aws.String("org-trail"), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &ctapi.StartLoggingInput{Name: aws.String("org-trail")}); err != nil {
		t.Fatal(err)
	}
}

// TestAcquireFromMoto runs harrier acquire against moto_server through the
// SDK's standard endpoint setting, then checks the case: evidence hashed
// with provenance, the logs loaded, a re-run collects nothing new.
func TestAcquireFromMoto(t *testing.T) {
	srv := awstest.Moto(t)
	seedTrail(t, srv.URL)
	motoEnv(t, srv.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	out, errOut, code := harrier(t, "acquire", "--case", caseDir, "--since", "2026-03-13", "--until", "2026-03-15", "--regions", "us-east-1")
	// moto has no ListPublicKeys: that is reported, and the run is partial
	if code != ExitPartial && code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"acquiring as arn:aws:", "trail arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail", "s3://acme-trail: 3 objects in the window, 3 downloaded",
		"123456789012    us-east-1       2026-03-13  2026-03-14       2        1", "2 read = 2 stored"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s%s", want, out, errOut)
		}
	}
	// the evidence: provenance in the manifest, nothing from before the window
	q, _, _ := harrier(t, "query", "--case", caseDir, "--format", "csv", "SELECT count(*) FROM events WHERE event_name = 'CreateUser'")
	if !strings.Contains(q, "\n2\n") {
		t.Errorf("events loaded: %q", q)
	}
	// each log file is in the manifest with where it came from, and the
	// file from before the window is not
	manifest, err := os.ReadFile(filepath.Join(caseDir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var logs int
	for _, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
		var e struct {
			Path, Content, SHA256 string
			OriginalPath          string `json:"original_path"`
			Source                struct{ Bucket, Key, ETag string }
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("manifest line %q: %v", line, err)
		}
		if e.Content != "cloudtrail-log" {
			continue
		}
		logs++
		if e.Source.Bucket != "acme-trail" || e.Source.ETag == "" || len(e.SHA256) != 64 ||
			e.Path != "evidence/s3/acme-trail/"+e.Source.Key || e.OriginalPath != "s3://acme-trail/"+e.Source.Key {
			t.Errorf("log file without its provenance: %s", line)
		}
		if strings.Contains(e.Path, "/2026/02/01/") {
			t.Errorf("a file from before the window was acquired: %s", e.Path)
		}
	}
	if logs != 2 {
		t.Errorf("%d log files in the manifest, want 2", logs)
	}
	// a re-run fetches nothing and loads nothing twice
	out, errOut, _ = harrier(t, "acquire", "--case", caseDir, "--since", "2026-03-13", "--until", "2026-03-15", "--regions", "us-east-1")
	if !strings.Contains(out, "0 downloaded") || !strings.Contains(out, "3 already in the case") || strings.Contains(out, "Loading what was collected") {
		t.Errorf("re-run:\n%s%s", out, errOut)
	}
	// and the case hunts: the CreateUser events are there to find
	if _, errOut, code := harrier(t, "timeline", "--case", caseDir, "--event", "CreateUser"); code != 0 {
		t.Errorf("timeline: %s", errOut)
	}
}

// TestAcquireLookupFallback: with no trail, acquire turns to the event
// history, and says what it got (moto answers LookupEvents, or refuses it:
// either way it is reported, never silent).
func TestAcquireLookupFallback(t *testing.T) {
	srv := awstest.Moto(t)
	motoEnv(t, srv.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	out, errOut, _ := harrier(t, "acquire", "--case", caseDir, "--since", "2026-03-13", "--regions", "us-east-1,eu-west-1")
	for _, want := range []string{"No trail found", "event history (LookupEvents", "us-east-1", "eu-west-1", "collecting event history (LookupEvents) in eu-west-1"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s%s", want, out, errOut)
		}
	}
}

// motoEnv points the AWS SDK's standard configuration (what harrier acquire
// loads, as a user's machine would) at moto, and keeps the machine's own
// AWS settings out.
func motoEnv(t *testing.T, endpoint string) {
	t.Helper()
	// nothing of the machine's own AWS settings: per-service endpoints, CA
	// bundles, retry settings, web identity, SSO
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"), "AWS_EC2_METADATA_DISABLED": "true",
		"HTTP_PROXY": "", "HTTPS_PROXY": "", "http_proxy": "", "https_proxy": "",
	} {
		t.Setenv(k, v)
	}
}
