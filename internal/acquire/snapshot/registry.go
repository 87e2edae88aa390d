package snapshot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// Clients are the read-only clients the collectors use.
type Clients struct {
	IAM           IAMAPI
	S3            S3Clients
	EC2           EC2Clients
	Organizations OrganizationsAPI
}

// NewClients makes the SDK's clients from cfg, one per region for S3 and
// EC2 (made on first use, then reused). s3Opts are added to every S3
// client's options (e.g. path-style addressing for a local endpoint).
func NewClients(cfg aws.Config, s3Opts ...func(*s3.Options)) Clients {
	var mu sync.Mutex
	s3s := map[string]S3API{}
	ec2s := map[string]EC2API{}
	return Clients{
		IAM: iam.NewFromConfig(cfg),
		S3: func(region string) S3API {
			mu.Lock()
			defer mu.Unlock()
			if c, ok := s3s[region]; ok {
				return c
			}
			opts := s3Opts
			if region != "" {
				opts = append(slices.Clone(s3Opts), func(o *s3.Options) { o.Region = region })
			}
			c := s3.NewFromConfig(cfg, opts...)
			s3s[region] = c
			return c
		},
		EC2: func(region string) EC2API {
			mu.Lock()
			defer mu.Unlock()
			if c, ok := ec2s[region]; ok {
				return c
			}
			c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region })
			ec2s[region] = c
			return c
		},
		Organizations: organizations.NewFromConfig(cfg),
	}
}

// Collector is one snapshot source the acquire command can run
// (--sources iam,s3,ec2,org).
type Collector struct {
	Name    string // what --sources names it
	Version string // of the layout it writes; changes when files move or change shape
	// Actions are the IAM actions its calls need, for the policy
	// --print-iam-policy prints.
	Actions []string
	Run     func(ctx context.Context, c Clients, opts Options, sink evidence.Sink) ([]evidence.Coverage, error)
}

// Collectors are the snapshot sources, in the order they run.
var Collectors = []Collector{
	{Name: "iam", Version: "1", Actions: []string{
		"iam:GenerateCredentialReport", "iam:GetAccessKeyLastUsed", "iam:GetAccountAuthorizationDetails",
		"iam:GetAccountPasswordPolicy", "iam:GetAccountSummary", "iam:GetCredentialReport", "iam:ListAccessKeys",
		"iam:ListMFADevices", "iam:ListOpenIDConnectProviders", "iam:ListSAMLProviders", "iam:ListUsers",
		"iam:ListVirtualMFADevices"},
		Run: func(ctx context.Context, c Clients, o Options, s evidence.Sink) ([]evidence.Coverage, error) {
			return IAM(ctx, c.IAM, o, s)
		}},
	{Name: "s3", Version: "1", Actions: []string{
		"s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketLogging", "s3:GetBucketPolicy",
		"s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock", "s3:GetBucketVersioning",
		"s3:GetEncryptionConfiguration", "s3:GetReplicationConfiguration", "s3:ListAllMyBuckets"},
		Run: func(ctx context.Context, c Clients, o Options, s evidence.Sink) ([]evidence.Coverage, error) {
			return S3(ctx, c.S3, o, s)
		}},
	{Name: "ec2", Version: "1", Actions: []string{
		"ec2:DescribeImageAttribute", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeKeyPairs",
		"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshotAttribute",
		"ec2:DescribeSnapshots", "ec2:DescribeVolumes"},
		Run: func(ctx context.Context, c Clients, o Options, s evidence.Sink) ([]evidence.Coverage, error) {
			return EC2(ctx, c.EC2, o, s)
		}},
	{Name: "org", Version: "1", Actions: []string{
		"organizations:DescribeOrganization", "organizations:DescribePolicy", "organizations:ListAccounts",
		"organizations:ListDelegatedAdministrators", "organizations:ListOrganizationalUnitsForParent",
		"organizations:ListPolicies", "organizations:ListRoots"},
		Run: func(ctx context.Context, c Clients, o Options, s evidence.Sink) ([]evidence.Coverage, error) {
			return Organizations(ctx, c.Organizations, o, s)
		}},
}

// Select returns the collectors names asks for, in Collectors' order; an
// unknown or repeated name is an error that lists the known ones.
func Select(names []string) ([]Collector, error) {
	want := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !slices.ContainsFunc(Collectors, func(c Collector) bool { return c.Name == n }) {
			return nil, fmt.Errorf("unknown snapshot source %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		if want[n] {
			return nil, fmt.Errorf("snapshot source %q named twice", n)
		}
		want[n] = true
	}
	var out []Collector
	for _, c := range Collectors {
		if want[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Names are the collectors' names, in order.
func Names() []string {
	names := make([]string, len(Collectors))
	for i, c := range Collectors {
		names[i] = c.Name
	}
	return names
}
