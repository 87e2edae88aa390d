package cli

import (
	"context"
	"fmt"
	"os"

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
	cfg, err := a.loadBase(ctx)
	if err != nil || a.roleARN == "" {
		return cfg, err
	}
	return a.assume(cfg), nil
}

// loadBase is the configuration without --role-arn: the credentials that
// assume the responder role.
func (a awsTarget) loadBase(ctx context.Context) (aws.Config, error) {
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
	return cfg, nil
}

// assume wraps base's credentials in an AssumeRole of --role-arn.
func (a awsTarget) assume(base aws.Config) aws.Config {
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), a.roleARN, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = a.session
	}))
	return cfg
}

// respondSetup loads the configuration and the clients containment,
// undo and collect use, with the caller's key and the identities behind
// it (Clients.Chain): the base credentials of --role-arn, and those of a
// profile's role_arn/source_profile chain. A self-containment check that
// saw only the assumed role would let the responder deactivate the very
// key that assumes it.
func (a awsTarget) respondSetup(ctx context.Context) (aws.Config, *respond.Clients, error) {
	base, err := a.loadBase(ctx)
	if err != nil {
		return aws.Config{}, nil, err
	}
	var chain []respond.Identity
	var notes []string
	cfg := base
	if a.roleARN != "" {
		chain, notes = baseChain(ctx, a, base, 0)
		cfg = a.assume(base)
	} else {
		chain, notes = profileChain(ctx, a, 0)
	}
	clients := respondClients(cfg)
	if cr, err := cfg.Credentials.Retrieve(ctx); err == nil {
		clients.CallerKey = cr.AccessKeyID // an identifier, compared with the key to contain; never printed
	}
	clients.Chain, clients.ChainNotes = chain, notes
	return cfg, clients, nil
}

// maxChain bounds a profile chain's walk (source_profile of a
// source_profile ...).
const maxChain = 5

// baseChain resolves the identity of base (the credentials that assume a
// role): its ARN and key, then what is behind it when it is a profile
// chain itself.
func baseChain(ctx context.Context, a awsTarget, base aws.Config, depth int) ([]respond.Identity, []string) {
	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, []string{fmt.Sprintf("the credentials that assume the role could not be identified (sts:GetCallerIdentity: %s): the self-containment check cannot see them; make sure the target is not them", safe(err.Error()))}
	}
	who := respond.Identity{ARN: aws.ToString(id.Arn)}
	if cr, err := base.Credentials.Retrieve(ctx); err == nil {
		who.Key = cr.AccessKeyID
	}
	more, notes := profileChain(ctx, a, depth)
	return append([]respond.Identity{who}, more...), notes
}

// profileChain resolves what is behind a profile with role_arn: its
// source_profile's identity (and that one's chain). A credential_source
// or web identity cannot be resolved here: a note says so.
func profileChain(ctx context.Context, a awsTarget, depth int) ([]respond.Identity, []string) {
	name := a.profile
	if name == "" {
		name = os.Getenv("AWS_PROFILE")
	}
	if name == "" {
		if os.Getenv("AWS_ACCESS_KEY_ID") != "" {
			return nil, nil // the environment's keys come before the default profile
		}
		name = "default"
	}
	sc, err := config.LoadSharedConfigProfile(ctx, name, func(o *config.LoadSharedConfigOptions) {
		// the files the SDK itself reads
		if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
			o.ConfigFiles = []string{f}
		}
		if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
			o.CredentialsFiles = []string{f}
		}
	})
	if err != nil || sc.RoleARN == "" {
		return nil, nil // no such profile, or no role in it: no chain
	}
	if sc.SourceProfileName == "" || sc.SourceProfileName == name || depth >= maxChain {
		return nil, []string{fmt.Sprintf("profile %s assumes %s with credentials harrier could not identify (credential_source, web identity or a chain too long): the self-containment check cannot see them; make sure the target is not them", name, sc.RoleARN)}
	}
	src := awsTarget{profile: sc.SourceProfileName, region: a.region}
	base, err := src.loadBase(ctx)
	if err != nil {
		return nil, []string{fmt.Sprintf("profile %s's source_profile %s could not be loaded (%s): the self-containment check cannot see it", name, sc.SourceProfileName, safe(err.Error()))}
	}
	return baseChain(ctx, src, base, depth+1)
}

// respondClients are the clients containment and undo use, for cfg's
// region.
func respondClients(cfg aws.Config) *respond.Clients {
	return &respond.Clients{Region: cfg.Region, STS: sts.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg), ELB: elb.NewFromConfig(cfg), Forensic: forensicClients(cfg, nil, 0)}
}
