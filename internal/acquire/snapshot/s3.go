package snapshot

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// S3API is the read-only S3 calls S3 makes, with the SDK's signatures (an
// *s3.Client satisfies it).
type S3API interface {
	ListBuckets(ctx context.Context, params *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketLocation(ctx context.Context, params *s3.GetBucketLocationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
	GetBucketPolicy(ctx context.Context, params *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetBucketAcl(ctx context.Context, params *s3.GetBucketAclInput, optFns ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetPublicAccessBlock(ctx context.Context, params *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketPolicyStatus(ctx context.Context, params *s3.GetBucketPolicyStatusInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyStatusOutput, error)
	GetBucketEncryption(ctx context.Context, params *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetBucketLogging(ctx context.Context, params *s3.GetBucketLoggingInput, optFns ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
	GetBucketVersioning(ctx context.Context, params *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketReplication(ctx context.Context, params *s3.GetBucketReplicationInput, optFns ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error)
}

// S3Clients gives the S3 client of a region; "" is the configuration's
// own region, which lists the buckets and asks where each one is.
type S3Clients func(region string) S3API

// bucketAPIs are the calls asked of every bucket, in its region, in the
// order of its record.
var bucketAPIs = []string{"GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketAcl", "GetPublicAccessBlock",
	"GetBucketEncryption", "GetBucketLogging", "GetBucketVersioning", "GetBucketReplication"}

// s3Counts are what the S3 snapshot found, for its coverage row.
type s3Counts struct {
	mu                                      sync.Mutex
	buckets, public, publicACL, unencrypted int
	noBlock, unlogged                       int
}

// S3 snapshots the account's buckets: ListBuckets, then for each bucket,
// asked in its own region, its location, policy and policy status, ACL,
// public access block, encryption, logging, versioning and replication,
// all in one record per bucket (s3/buckets/<bucket>.json) holding each
// answer, an Absent for what is not configured, or a Refused saying why an
// answer is missing. It returns one coverage row (region "global").
func S3(ctx context.Context, clients S3Clients, opts Options, sink evidence.Sink) ([]evidence.Coverage, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := newRecorder(opts, sink, "s3", "")
	dir := opts.dir("s3")
	home := clients("")
	var buckets []types.Bucket
	p := s3.NewListBucketsPaginator(home, &s3.ListBucketsInput{})
	for page := 1; p.HasMorePages(); page++ {
		at := opts.now()
		out, err := p.NextPage(ctx)
		if err != nil {
			if err := r.fail("ListBuckets", "", err); err != nil {
				return nil, err
			}
			return []evidence.Coverage{r.coverage("s3", "global", "unknown", 0, "ListBuckets failed")}, nil
		}
		r.ok()
		buckets = append(buckets, out.Buckets...)
		if err := r.put(path.Join(dir, pageName("ListBuckets", page)), evidence.Source{API: "ListBuckets", Page: page, RequestTime: at}, out); err != nil {
			return nil, err
		}
	}
	var n s3Counts
	n.buckets = len(buckets)
	err := forEach(ctx, opts.concurrency(), buckets, func(ctx context.Context, b types.Bucket) error {
		return s3Bucket(ctx, clients, home, r, dir, b, &n)
	})
	if err != nil {
		return nil, err
	}
	exists := "yes"
	if n.buckets == 0 {
		exists = "no"
	}
	detail := fmt.Sprintf("%d buckets: %d public by policy, %d with public ACL grants, %d without a public access block, %d without default encryption, %d without access logging",
		n.buckets, n.public, n.publicACL, n.noBlock, n.unencrypted, n.unlogged)
	return []evidence.Coverage{r.coverage("s3", "global", exists, n.buckets, detail)}, nil
}

// s3Bucket asks a bucket's configuration and stores its record.
func s3Bucket(ctx context.Context, clients S3Clients, home S3API, r *recorder, dir string, b types.Bucket, n *s3Counts) error {
	name := aws.ToString(b.Name)
	in := aws.String(name)
	at := r.opts.now()
	record := map[string]any{"Name": name, "CreationDate": b.CreationDate}
	region := aws.ToString(b.BucketRegion)
	loc, err := home.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: in})
	if err != nil {
		record["GetBucketLocation"] = refused(err)
		if err := r.fail("GetBucketLocation", name, err); err != nil {
			return err
		}
	} else {
		r.ok()
		record["GetBucketLocation"] = loc
		region = bucketRegion(loc.LocationConstraint)
	}
	if region == "" {
		region = "us-east-1" // neither answer said otherwise: the default
	}
	record["Region"] = region
	api := clients(region)
	calls := map[string]func() (any, error){
		"GetBucketPolicy": func() (any, error) { return api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: in}) },
		"GetBucketPolicyStatus": func() (any, error) {
			return api.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: in})
		},
		"GetBucketAcl":         func() (any, error) { return api.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: in}) },
		"GetPublicAccessBlock": func() (any, error) { return api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: in}) },
		"GetBucketEncryption":  func() (any, error) { return api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: in}) },
		"GetBucketLogging":     func() (any, error) { return api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: in}) },
		"GetBucketVersioning":  func() (any, error) { return api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: in}) },
		"GetBucketReplication": func() (any, error) { return api.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: in}) },
	}
	var public, publicACL, block, encrypted, logged bool
	for _, c := range bucketAPIs {
		out, err := calls[c]()
		if err != nil {
			if code, ok := notConfigured(c, err); ok {
				r.ok()
				record[c] = absent(code, err)
				continue
			}
			record[c] = refused(err)
			if err := r.fail(c, name, err); err != nil {
				return err
			}
			block = block || c == "GetPublicAccessBlock" // unknown is not counted as missing
			encrypted = encrypted || c == "GetBucketEncryption"
			logged = logged || c == "GetBucketLogging"
			continue
		}
		r.ok()
		record[c] = out
		switch o := out.(type) {
		case *s3.GetBucketPolicyStatusOutput:
			public = o.PolicyStatus != nil && aws.ToBool(o.PolicyStatus.IsPublic)
		case *s3.GetBucketAclOutput:
			publicACL = grantsPublic(o.Grants)
		case *s3.GetPublicAccessBlockOutput:
			block = true
		case *s3.GetBucketEncryptionOutput:
			encrypted = true
		case *s3.GetBucketLoggingOutput:
			logged = o.LoggingEnabled != nil
		}
	}
	n.mu.Lock()
	n.public += b2i(public)
	n.publicACL += b2i(publicACL)
	n.noBlock += b2i(!block)
	n.unencrypted += b2i(!encrypted)
	n.unlogged += b2i(!logged)
	n.mu.Unlock()
	src := evidence.Source{API: "GetBucket*", Region: region, Params: map[string]string{"Bucket": name, "APIs": "GetBucketLocation," + strings.Join(bucketAPIs, ",")}, RequestTime: at}
	return r.put(path.Join(dir, "buckets", safeName(name)+".json"), src, record)
}

// bucketRegion is the region of a GetBucketLocation answer: none is
// us-east-1, EU is eu-west-1 (the legacy names S3 still answers with).
func bucketRegion(c types.BucketLocationConstraint) string {
	switch c {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return string(c)
}

// publicGroups are the grantee groups that open a bucket to everyone
// (AllUsers) or to any AWS account (AuthenticatedUsers).
var publicGroups = map[string]bool{
	"http://acs.amazonaws.com/groups/global/AllUsers":           true,
	"http://acs.amazonaws.com/groups/global/AuthenticatedUsers": true,
}

func grantsPublic(grants []types.Grant) bool {
	for _, g := range grants {
		if g.Grantee != nil && publicGroups[aws.ToString(g.Grantee.URI)] {
			return true
		}
	}
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
