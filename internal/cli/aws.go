package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/respond"
)

// awsTarget is how a command that changes AWS reaches it: the standard
// configuration (profiles, SSO, the environment and the SDK's endpoint
// settings AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> and a profile's
// endpoint_url, so an emulator or a VPC endpoint can stand in), a
// responder role to assume, and the region.
type awsTarget struct {
	profile, roleARN, region string
	session                  string // the assumed role's session name: it shows in CloudTrail
}

// load builds the configuration as acquire's awsConfig does, with a
// session name of the command's own. A region is required (from --region,
// the environment or the profile).
func (a awsTarget) load(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryMode(aws.RetryModeAdaptive), config.WithRetryMaxAttempts(8)}
	if a.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.profile))
	}
	if a.region != "" {
		opts = append(opts, config.WithRegion(a.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		// never a silent us-east-1: the instance or the regional calls
		// would be looked for, and changed, in a region nobody chose
		return aws.Config{}, usageErr("no AWS region: give --region, set AWS_REGION, or give the profile a region")
	}
	if a.roleARN != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), a.roleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = a.session
		}))
	}
	return cfg, nil
}

// respondClients are the clients containment and undo use, for cfg's
// region.
func respondClients(cfg aws.Config) *respond.Clients {
	return &respond.Clients{Region: cfg.Region, STS: sts.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg), ELB: elb.NewFromConfig(cfg), Forensic: forensicClients(cfg, nil, 0)}
}
