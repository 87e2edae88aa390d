package respond

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// RoleOptions tune a role's containment.
type RoleOptions struct {
	// Now is the revocation time: sessions issued before it are denied.
	Now time.Time
	// DetachProfiles also takes the role out of every instance profile,
	// so that no instance gets new credentials for it.
	DetachProfiles bool
	// Sessions are the role's sessions seen in the case's events (the
	// caller queries them); those issued before Now are reported as cut off.
	Sessions []Session
}

// PlanRole plans the revocation of a role's active sessions, as IAM's
// console does: the inline policy AWSRevokeOlderSessions denies every
// session whose token was issued before now (an existing one has its time
// moved; undo restores its old document). Optionally the role leaves its
// instance profiles.
func PlanRole(ctx context.Context, c *Clients, p *Plan, role string, o RoleOptions) error {
	if c.IAM == nil {
		return fmt.Errorf("iam: %w", ErrNoClient)
	}
	r, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
	if isCode(err, "NoSuchEntity") {
		return fmt.Errorf("role %s: %w", role, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("role %s (iam:GetRole): %w", role, err)
	}
	arn := aws.ToString(r.Role.Arn)
	if err := p.checkSelfRole(role); err != nil {
		return err
	}
	doc := RevokeBefore(o.Now)
	if err := p.AddStep(ctx, c, Step{Op: "iam:PutRolePolicy", Resource: arn,
		Params: map[string]string{"RoleName": role, "PolicyName": RevokePolicyName, "PolicyDocument": doc},
		After:  State{"document": CanonicalPolicy(doc)},
		Effect: "deny every session of the role issued before " + o.Now.UTC().Format(timeFormat) + " (IAM console: Revoke active sessions)",
		Undo:   "delete the policy, or restore the revocation time it replaced"}); err != nil {
		return err
	}
	if prev := p.Steps[len(p.Steps)-1].Before["document"]; prev != "" {
		p.Notes = append(p.Notes, "the role's sessions were revoked before: the revocation time moves to now (undo restores the earlier one)")
	}
	p.Notes = append(p.Notes,
		"new sessions (AssumeRole after the revocation) are not blocked: whoever can assume the role can do so again; contain those principals, or change the role's trust policy",
		"instances with this role get fresh credentials at their next refresh and keep working; take the role out of their instance profiles (--detach-profiles) or contain the instances")
	if o.DetachProfiles {
		pg := iam.NewListInstanceProfilesForRolePaginator(c.IAM, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(role)})
		var names []string
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("role %s's instance profiles (iam:ListInstanceProfilesForRole): %w", role, err)
			}
			for _, ip := range out.InstanceProfiles {
				names = append(names, aws.ToString(ip.InstanceProfileName))
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if err := p.AddStep(ctx, c, Step{Op: "iam:RemoveRoleFromInstanceProfile", Resource: n,
				Params: map[string]string{"RoleName": role, "InstanceProfileName": n}, After: State{"role_in_profile": "false"},
				Effect: "take the role out of instance profile " + n + ": instances using it get no new credentials",
				Undo:   "put the role back in the instance profile"}); err != nil {
				return err
			}
		}
		if len(names) == 0 {
			p.Notes = append(p.Notes, "the role is in no instance profile")
		}
	}
	for _, s := range o.Sessions {
		if s.Issued.Before(o.Now) {
			p.Sessions = append(p.Sessions, s)
		}
	}
	sort.Slice(p.Sessions, func(i, j int) bool {
		if !p.Sessions[i].Issued.Equal(p.Sessions[j].Issued) {
			return p.Sessions[i].Issued.Before(p.Sessions[j].Issued)
		}
		return p.Sessions[i].ARN < p.Sessions[j].ARN
	})
	return nil
}
