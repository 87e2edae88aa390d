package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// accountPlaceholder in --role-arn stands for each account of --accounts:
// acquire assumes the role in every account it collects from.
const accountPlaceholder = "{account}"

// target is one account acquire collects from, with the credentials that
// reach it: the responder's own, or a role assumed in that account.
type target struct {
	account string
	cfg     aws.Config
	caller  map[string]string // GetCallerIdentity there: account, arn, user_id
	role    string            // the role assumed in it, "" for the responder's own account
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
		return []target{{account: caller["account"], cfg: base, caller: caller}}, nil
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
		out = append(out, target{account: acct, cfg: cfg, role: role,
			caller: map[string]string{"account": got, "arn": aws.ToString(id.Arn), "user_id": aws.ToString(id.UserId)}})
	}
	return out, failed
}

// accountFailure is an account acquire could not reach.
type accountFailure struct {
	Account string `json:"account"`
	Role    string `json:"role"`
	Error   string `json:"error"`
}
