package snapshot

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

const publicPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"world","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::case-open/*"}]}`

// seedS3 makes three buckets: case-open (us-east-1: public policy,
// public-read ACL, versioning, encryption), case-locked (eu-west-1:
// public access block, encryption, access logging) and case-bare (none of
// it).
func seedS3(t *testing.T, clients S3Clients) {
	t.Helper()
	ctx := t.Context()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	us := clients("us-east-1").(*s3.Client)
	eu := clients("eu-west-1").(*s3.Client)
	b := aws.String
	must(us.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b("case-open")}))
	must(us.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b("case-bare")}))
	must(eu.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b("case-locked"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}))
	must(us.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b("case-open"), Policy: b(publicPolicy)}))
	must(us.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b("case-open"), ACL: types.BucketCannedACLPublicRead}))
	must(us.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b("case-open"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))
	sse := &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}
	must(us.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b("case-open"), ServerSideEncryptionConfiguration: sse}))
	must(eu.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b("case-locked"), ServerSideEncryptionConfiguration: sse}))
	must(eu.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b("case-locked"), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	must(eu.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b("case-locked"), GrantWrite: b("uri=http://acs.amazonaws.com/groups/s3/LogDelivery"), GrantReadACP: b("uri=http://acs.amazonaws.com/groups/s3/LogDelivery")}))
	must(eu.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b("case-locked"), BucketLoggingStatus: &types.BucketLoggingStatus{
		LoggingEnabled: &types.LoggingEnabled{TargetBucket: b("case-locked"), TargetPrefix: b("logs/")}}}))
}

// s3Front answers GetBucketPolicyStatus, which moto lacks, as S3 does:
// public for the bucket with a public policy, NoSuchBucketPolicy for
// buckets without one; deny refuses chosen requests with S3's 403
// AccessDenied. The rest goes to moto.
func s3Front(t *testing.T, moto string, deny func(r *http.Request, bucket string) bool) string {
	return awstest.Front(t, moto, func(w http.ResponseWriter, r *http.Request, _ string) bool {
		bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		w.Header().Set("Content-Type", "application/xml")
		if deny != nil && deny(r, bucket) {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>8B2C0F0A9F3E4D11</RequestId><HostId>aGFycmllcg==</HostId></Error>`))
			return true
		}
		if r.Method != http.MethodGet || !r.URL.Query().Has("policyStatus") {
			return false
		}
		if bucket != "case-open" {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>NoSuchBucketPolicy</Code><Message>The bucket policy does not exist</Message><BucketName>` + bucket +
				`</BucketName><RequestId>8B2C0F0A9F3E4D12</RequestId><HostId>aGFycmllcg==</HostId></Error>`))
			return true
		}
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<PolicyStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsPublic>true</IsPublic></PolicyStatus>`))
		return true
	}).URL
}

func TestS3(t *testing.T) {
	srv := awstest.Moto(t)
	seedS3(t, NewClients(awstest.Config(srv.URL), awstest.PathStyle).S3)
	clients := NewClients(awstest.Config(s3Front(t, srv.URL, nil)), awstest.PathStyle).S3
	tc := newTestCase(t)
	rows, err := S3(t.Context(), clients, testOptions(), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	row := oneRow(t, rows)
	if row.Source != "s3" || row.Region != "global" || row.Exists != "yes" || row.Items != 3 || len(row.Problems) != 0 {
		t.Fatalf("row = %+v", row)
	}
	wantDetail := "3 buckets: 1 public by policy, 1 with public ACL grants, 2 without a public access block, 1 without default encryption, 2 without access logging"
	if row.Detail != wantDetail {
		t.Fatalf("detail %q\nwant   %q", row.Detail, wantDetail)
	}
	tc.checkCounts(t, row, snapPath("s3"))

	open := tc.readJSON(t, snapPath("s3", "buckets", "case-open.json"))
	if p := dig(t, open, "GetBucketPolicy", "Policy").(string); !strings.Contains(p, `"Principal":"*"`) {
		t.Fatalf("case-open's policy = %s", p)
	}
	if dig(t, open, "GetBucketPolicyStatus", "PolicyStatus", "IsPublic") != true || dig(t, open, "GetBucketVersioning", "Status") != "Enabled" ||
		dig(t, open, "Region") != "us-east-1" {
		t.Fatalf("case-open = %v", open)
	}
	if s := dig(t, open, "GetBucketEncryption", "ServerSideEncryptionConfiguration", "Rules", "0", "ApplyServerSideEncryptionByDefault", "SSEAlgorithm"); s != "AES256" {
		t.Fatalf("case-open encryption = %v", s)
	}
	locked := tc.readJSON(t, snapPath("s3", "buckets", "case-locked.json"))
	if dig(t, locked, "Region") != "eu-west-1" || dig(t, locked, "GetPublicAccessBlock", "PublicAccessBlockConfiguration", "BlockPublicPolicy") != true ||
		dig(t, locked, "GetBucketLogging", "LoggingEnabled", "TargetPrefix") != "logs/" {
		t.Fatalf("case-locked = %v", locked)
	}
	if _, src := tc.entry(t, snapPath("s3", "buckets", "case-locked.json")); src.Region != "eu-west-1" || src.Params["Bucket"] != "case-locked" {
		t.Fatalf("case-locked's provenance = %+v", src)
	}
	bare := tc.readJSON(t, snapPath("s3", "buckets", "case-bare.json"))
	for api, code := range map[string]string{
		"GetBucketPolicy":       "NoSuchBucketPolicy",
		"GetBucketPolicyStatus": "NoSuchBucketPolicy",
		"GetBucketEncryption":   "ServerSideEncryptionConfigurationNotFoundError",
		"GetPublicAccessBlock":  "NoSuchPublicAccessBlockConfiguration",
		"GetBucketReplication":  "ReplicationConfigurationNotFoundError",
	} {
		if got := dig(t, bare, api).(map[string]any); got["configured"] != false || got["error_code"] != code {
			t.Errorf("case-bare %s = %v, want not configured (%s)", api, got, code)
		}
	}
}

func TestS3Denied(t *testing.T) {
	tests := []struct {
		name       string
		deny       func(r *http.Request, bucket string) bool
		wantExists string
		wantProbs  []string // API target
		wantFiles  int
	}{
		{"one bucket's ACL", func(r *http.Request, bucket string) bool { return bucket == "case-open" && r.URL.Query().Has("acl") },
			"yes", []string{"GetBucketAcl case-open"}, 4},
		{"ListBuckets", func(r *http.Request, bucket string) bool { return bucket == "" },
			"unknown", []string{"ListBuckets "}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := awstest.Moto(t)
			seedS3(t, NewClients(awstest.Config(srv.URL), awstest.PathStyle).S3)
			clients := NewClients(awstest.Config(s3Front(t, srv.URL, tt.deny)), awstest.PathStyle).S3
			tc := newTestCase(t)
			rows, err := S3(t.Context(), clients, testOptions(), tc.sink)
			if err != nil {
				t.Fatal(err)
			}
			row := oneRow(t, rows)
			var got []string
			for _, p := range row.Problems {
				if !p.Denied {
					t.Errorf("problem not denied: %+v", p)
				}
				got = append(got, p.API+" "+p.Target)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantProbs, ",") || row.Exists != tt.wantExists || row.Files != tt.wantFiles {
				t.Fatalf("row = %+v, want problems %v, exists %s, %d files", row, tt.wantProbs, tt.wantExists, tt.wantFiles)
			}
			if tt.wantFiles > 0 {
				open := tc.readJSON(t, snapPath("s3", "buckets", "case-open.json"))
				if dig(t, open, "GetBucketAcl", "denied") != true || dig(t, open, "GetBucketPolicy", "Policy") == "" {
					t.Fatalf("case-open = %v", open)
				}
			}
		})
	}
}
