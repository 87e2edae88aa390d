package respond

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// clientsAs are moto clients signing with the given credentials: moto's
// GetCallerIdentity then names the user or assumed role they belong to.
func clientsAs(endpoint, key, secret, token string) *Clients {
	cfg := awstest.Config(endpoint)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key, secret, token)
	return &Clients{Region: cfg.Region, STS: sts.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg), CallerKey: key}
}

// TestContainSelfRefused: the caller's own user, key, role and instance
// are refused with ErrSelf, and allowed with AllowSelf and a warning;
// someone else is planned as usual.
func TestContainSelfRefused(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	admin := clientsFor(srv.URL)
	ic := admin.IAM.(*iam.Client)
	for _, u := range []string{"responder", "mallory"} {
		if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
	}
	own, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("responder")})
	if err != nil {
		t.Fatal(err)
	}
	second, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("responder")})
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	for _, r := range []string{"ir", "app"} {
		if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := admin.EC2.(*ec2.Client).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	inst := aws.ToString(res.Instances[0].InstanceId)
	assume := func(role, session string) *Clients {
		out, err := admin.STS.(*sts.Client).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/" + role), RoleSessionName: aws.String(session)})
		if err != nil {
			t.Fatal(err)
		}
		cr := out.Credentials
		return clientsAs(srv.URL, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	}
	asUser := clientsAs(srv.URL, aws.ToString(own.AccessKey.AccessKeyId), aws.ToString(own.AccessKey.SecretAccessKey), "")
	asRole := assume("ir", "alice")
	asInstance := assume("app", inst)
	// the role assumed with the responder's own key (--role-arn): the base
	// identity is in the chain
	asChained := assume("app", "harrier-contain")
	asChained.Chain = []Identity{{ARN: "arn:aws:iam::123456789012:user/responder", Key: aws.ToString(own.AccessKey.AccessKeyId)}}
	// and that role itself assumed from an instance's session
	asChainedInstance := assume("ir", "harrier-contain")
	asChainedInstance.Chain = []Identity{{ARN: "arn:aws:sts::123456789012:assumed-role/app/" + inst}}

	tests := []struct {
		name string
		c    *Clients
		plan func(c *Clients, p *Plan) error
		self bool
	}{
		{"own user", asUser, func(c *Clients, p *Plan) error { return PlanUser(ctx, c, p, "responder") }, true},
		{"own key", asUser, func(c *Clients, p *Plan) error { return PlanKey(ctx, c, p, aws.ToString(own.AccessKey.AccessKeyId)) }, true},
		{"own user's other key (the deny-all hits the caller)", asUser, func(c *Clients, p *Plan) error {
			return PlanKey(ctx, c, p, aws.ToString(second.AccessKey.AccessKeyId))
		}, true},
		{"another user", asUser, func(c *Clients, p *Plan) error { return PlanUser(ctx, c, p, "mallory") }, false},
		{"own role", asRole, func(c *Clients, p *Plan) error { return PlanRole(ctx, c, p, "ir", RoleOptions{Now: t0}) }, true},
		{"another role", asRole, func(c *Clients, p *Plan) error { return PlanRole(ctx, c, p, "app", RoleOptions{Now: t0}) }, false},
		{"own instance", asInstance, func(c *Clients, p *Plan) error { return PlanInstance(ctx, c, p, inst, InstanceOptions{}) }, true},
		{"the instance's role", asInstance, func(c *Clients, p *Plan) error { return PlanRole(ctx, c, p, "app", RoleOptions{Now: t0}) }, true},
		{"base user of an assumed role", asChained, func(c *Clients, p *Plan) error { return PlanUser(ctx, c, p, "responder") }, true},
		{"base key of an assumed role", asChained, func(c *Clients, p *Plan) error { return PlanKey(ctx, c, p, aws.ToString(own.AccessKey.AccessKeyId)) }, true},
		{"base user's other key", asChained, func(c *Clients, p *Plan) error {
			return PlanKey(ctx, c, p, aws.ToString(second.AccessKey.AccessKeyId))
		}, true},
		{"another user behind an assumed role", asChained, func(c *Clients, p *Plan) error { return PlanUser(ctx, c, p, "mallory") }, false},
		{"base role of a chained role", asChainedInstance, func(c *Clients, p *Plan) error { return PlanRole(ctx, c, p, "app", RoleOptions{Now: t0}) }, true},
		{"base instance of a chained role", asChainedInstance, func(c *Clients, p *Plan) error {
			return PlanInstance(ctx, c, p, inst, InstanceOptions{})
		}, true},
		{"another instance's user", asInstance, func(c *Clients, p *Plan) error { return PlanUser(ctx, c, p, "mallory") }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Begin(ctx, tc.c, "case-1", tc.name, t0)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.plan(tc.c, p)
			if tc.self != errors.Is(err, ErrSelf) {
				t.Fatalf("caller %s: err = %v, want self %v", p.Caller, err, tc.self)
			}
			if !tc.self {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if len(p.Steps) != 0 {
				t.Errorf("refused, yet steps were planned: %+v", p.Steps)
			}
			allowed, err := Begin(ctx, tc.c, "case-1", tc.name, t0)
			if err != nil {
				t.Fatal(err)
			}
			allowed.AllowSelf = true
			if err := tc.plan(tc.c, allowed); err != nil {
				t.Fatalf("--allow-self: %v", err)
			}
			if len(allowed.Steps) == 0 || !strings.Contains(strings.Join(allowed.Notes, "\n"), "WARNING") {
				t.Errorf("--allow-self: steps %d, notes %v", len(allowed.Steps), allowed.Notes)
			}
		})
	}
}

func TestParseCaller(t *testing.T) {
	tests := []struct {
		arn  string
		want callerIdentity
	}{
		{"arn:aws:iam::123456789012:user/ops/responder", callerIdentity{account: "123456789012", user: "responder", userARN: "arn:aws:iam::123456789012:user/ops/responder"}},
		{"arn:aws:sts::123456789012:assumed-role/ir/alice", callerIdentity{account: "123456789012", role: "ir"}},
		{"arn:aws:sts::123456789012:assumed-role/app/i-0abc123def4567890", callerIdentity{account: "123456789012", role: "app", instance: "i-0abc123def4567890"}},
		{"arn:aws:iam::123456789012:root", callerIdentity{account: "123456789012"}},
		{"garbage", callerIdentity{}},
	}
	for _, tc := range tests {
		if got := parseCaller(tc.arn); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.arn, got, tc.want)
		}
	}
}
