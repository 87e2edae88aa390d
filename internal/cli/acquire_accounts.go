package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// accountPlaceholder in --role-arn stands for each account of --accounts:
// acquire assumes the role in every account it collects from.
const accountPlaceholder = "{account}"

// target is one account acquire collects from, with the credentials that
// reach it: the responder's own, or a role assumed in that account.
type target struct {
	account   string
	cfg       aws.Config
	caller    map[string]string // GetCallerIdentity there: account, arn, user_id
	role      string            // the role assumed in it, "" for the responder's own account
	regions   []string          // the regions to ask in it: those given, or its enabled ones
	skipped   []string          // with --regions all: regions the account has not enabled
	regionErr string            // why its enabled regions could not be asked (all are then tried)
}

// regionsOf settles the regions to ask in an account. With --regions all
// they are the ones EC2's DescribeRegions says the account has enabled:
// asking a region an account never opted into only fails, and a new region
// an attacker enabled is asked without waiting for harrier's list.
func regionsOf(ctx context.Context, t *target, o acquireOptions) {
	t.regions = o.regions
	if !o.everyRegion {
		return
	}
	out, err := ec2.NewFromConfig(t.cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.regionErr = fmt.Sprintf("ec2:DescribeRegions: %v: every commercial region is asked, and those the account has not enabled will fail", err)
		return
	}
	var enabled []string
	for _, r := range out.Regions {
		name := aws.ToString(r.RegionName)
		if aws.ToString(r.OptInStatus) == "not-opted-in" {
			t.skipped = append(t.skipped, name)
			continue
		}
		enabled = append(enabled, name)
	}
	sort.Strings(enabled)
	sort.Strings(t.skipped)
	if len(enabled) > 0 {
		t.regions = enabled
	}
}

// perAccountRole is the role ARN pattern to assume in every account, from
// --role-arn with {account} or --role-name, or "" when acquire runs as one
// identity.
func perAccountRole(o acquireOptions, partition string) string {
	switch {
	case strings.Contains(o.roleARN, accountPlaceholder):
		return o.roleARN
	case o.roleName != "":
		return "arn:" + partition + ":iam::" + accountPlaceholder + ":role/" + strings.TrimPrefix(o.roleName, "/")
	}
	return ""
}

// targets lists the accounts to collect from. With a per-account role each
// account of --accounts is reached by assuming it there (an account whose
// role cannot be assumed is reported, and the others go on); otherwise the
// one account the credentials belong to.
func targets(ctx context.Context, log io.Writer, base aws.Config, caller map[string]string, o acquireOptions) ([]target, []accountFailure) {
	partition := "aws"
	if a, err := arn.Parse(caller["arn"]); err == nil {
		partition = a.Partition
	}
	pattern := perAccountRole(o, partition)
	if pattern == "" {
		t := target{account: caller["account"], cfg: base, caller: caller}
		regionsOf(ctx, &t, o)
		return []target{t}, nil
	}
	var out []target
	var failed []accountFailure
	for _, acct := range o.accounts {
		role := strings.ReplaceAll(pattern, accountPlaceholder, acct)
		cfg := base.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = "harrier-acquire"
		}))
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			if ctx.Err() != nil {
				return out, failed
			}
			failed = append(failed, accountFailure{Account: acct, Role: role, Error: fmt.Sprintf("assume %s: %v", role, err)})
			fmt.Fprintf(log, "account %s: cannot assume %s: %s\n", acct, safe(role), safe(err.Error()))
			continue
		}
		got := aws.ToString(id.Account)
		if got != acct {
			// never collect one account's evidence as another's
			failed = append(failed, accountFailure{Account: acct, Role: role, Error: fmt.Sprintf("the role %s belongs to account %s, not %s", role, got, acct)})
			continue
		}
		t := target{account: acct, cfg: cfg, role: role,
			caller: map[string]string{"account": got, "arn": aws.ToString(id.Arn), "user_id": aws.ToString(id.UserId)}}
		regionsOf(ctx, &t, o)
		out = append(out, t)
	}
	return out, failed
}

// accountFailure is an account acquire could not reach.
type accountFailure struct {
	Account string `json:"account"`
	Role    string `json:"role"`
	Error   string `json:"error"`
}
