package awstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func TestMotoConfigReset(t *testing.T) {
	srv := Moto(t)
	ctx := context.Background()
	api := s3.NewFromConfig(Config(srv.URL), PathStyle)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("awstest-bucket")}); err != nil {
		t.Fatalf("CreateBucket through Config: %v", err)
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("awstest-bucket"), Key: aws.String("a/b.txt"),
		Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := api.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 1 {
		t.Fatalf("ListBuckets: %v %v", out, err)
	}
	// A second Moto call is the same server, emptied.
	if again := Moto(t); again != srv {
		t.Fatalf("Moto started a second server: %s and %s", srv.URL, again.URL)
	}
	out, err = api.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 0 {
		t.Fatalf("after Reset, ListBuckets: %+v %v", out.Buckets, err)
	}
}

func TestConfigIgnoresEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT0")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	cfg := Config("http://127.0.0.1:4566")
	if cfg.Region != Region || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:4566" || cfg.RetryMaxAttempts != 1 {
		t.Errorf("Config = region %q endpoint %q attempts %d", cfg.Region, aws.ToString(cfg.BaseEndpoint), cfg.RetryMaxAttempts)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIAHARRIERTEST00001" {
		t.Errorf("credentials %q, %v", creds.AccessKeyID, err)
	}
}

func TestFindPythonReasons(t *testing.T) {
	t.Setenv("HARRIER_PYTHON", "/nonexistent/python3")
	var why []string
	if p := FindPython(&why); p != "" {
		t.Fatalf("FindPython = %q for a missing interpreter", p)
	}
	if len(why) != 1 || !strings.Contains(why[0], "/nonexistent/python3") {
		t.Errorf("why = %q", why)
	}
}

func TestFrontAnswersOrForwards(t *testing.T) {
	srv := Moto(t)
	front := Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op != "GetCallerIdentity" {
			return false
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
		return true
	})
	cfg := Config(front.URL)
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("GetCallerIdentity through Front = %v, want AccessDenied", err)
	}
	// anything else reaches moto
	if _, err := s3.NewFromConfig(cfg, PathStyle).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("front-test")}); err != nil {
		t.Fatalf("CreateBucket through Front: %v", err)
	}
	out, err := s3.NewFromConfig(Config(srv.URL), PathStyle).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 1 {
		t.Fatalf("moto did not get the forwarded CreateBucket: %v %v", out, err)
	}
}
