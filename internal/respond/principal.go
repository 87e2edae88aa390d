package respond

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// DenyAll is the inline policy that contains a user: an explicit deny of
// everything, which no allow (identity or resource policy) overrides.
const DenyAll = `{"Version":"2012-10-17","Statement":[{"Sid":"HarrierContainment","Effect":"Deny","Action":"*","Resource":"*"}]}`

// RevokePolicyName is the inline policy IAM's console writes to revoke a
// role's active sessions; harrier writes the same, so either tool sees the
// other's revocation.
const RevokePolicyName = "AWSRevokeOlderSessions"

// RevokeBefore is the document of RevokePolicyName: deny every session
// whose token was issued before t.
func RevokeBefore(t time.Time) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"` +
		t.UTC().Format(timeFormat) + `"}}}]}`
}

// ContainPolicyName is the name of a case's deny-all inline policy:
// HarrierContain-CASEID, with characters IAM refuses in a name replaced.
func ContainPolicyName(caseID string) string {
	n := "HarrierContain-" + regexp.MustCompile(`[^\w+=,.@-]`).ReplaceAllString(caseID, "-")
	if len(n) > 128 {
		n = n[:128]
	}
	return n
}

// PlanKey plans the containment of a long-term access key: the key is
// deactivated (never deleted: it is evidence), and its user contained as
// PlanUser does. A temporary key (ASIA...) cannot be deactivated:
// ErrTemporaryKey, so that the caller can point to the role to revoke.
func PlanKey(ctx context.Context, c *Clients, p *Plan, key string) error {
	if strings.HasPrefix(key, "ASIA") {
		return fmt.Errorf("%s: %w: it expires by itself, and what stops it now is revoking the sessions of the role it was issued for", key, ErrTemporaryKey)
	}
	if c.IAM == nil {
		return fmt.Errorf("iam: %w", ErrNoClient)
	}
	out, err := c.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
	if isCode(err, "NoSuchEntity") {
		return fmt.Errorf("access key %s: %w in this account (%s)", key, ErrNotFound, p.Account)
	}
	if err != nil {
		return fmt.Errorf("whose key is %s (iam:GetAccessKeyLastUsed): %w", key, err)
	}
	user := aws.ToString(out.UserName)
	if user == "" {
		return fmt.Errorf("access key %s: %w in this account (%s)", key, ErrNotFound, p.Account)
	}
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("key %s belongs to user %s; last used %s in %s (%s)", key, user,
			lu.LastUsedDate.UTC().Format(timeFormat), aws.ToString(lu.Region), aws.ToString(lu.ServiceName)))
	} else {
		p.Notes = append(p.Notes, fmt.Sprintf("key %s belongs to user %s", key, user))
	}
	return planUser(ctx, c, p, user, key)
}

// PlanUser plans the containment of an IAM user: every access key
// deactivated, a deny-all inline policy attached, the console login
// profile deleted (its existence recorded; the password cannot come back),
// and what the user could still reach through groups and policies listed.
func PlanUser(ctx context.Context, c *Clients, p *Plan, user string) error {
	if c.IAM == nil {
		return fmt.Errorf("iam: %w", ErrNoClient)
	}
	return planUser(ctx, c, p, user, "")
}

func planUser(ctx context.Context, c *Clients, p *Plan, user, onlyKey string) error {
	u, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if isCode(err, "NoSuchEntity") {
		return fmt.Errorf("user %s: %w", user, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("user %s (iam:GetUser): %w", user, err)
	}
	arn := aws.ToString(u.User.Arn)
	if err := p.checkSelfUser(arn, user, onlyKey); err != nil {
		return err
	}
	var keys []iamtypes.AccessKeyMetadata
	pg := iam.NewListAccessKeysPaginator(c.IAM, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("user %s's keys (iam:ListAccessKeys): %w", user, err)
		}
		keys = append(keys, out.AccessKeyMetadata...)
	}
	sort.Slice(keys, func(i, j int) bool { return aws.ToString(keys[i].AccessKeyId) < aws.ToString(keys[j].AccessKeyId) })
	for _, k := range keys {
		id := aws.ToString(k.AccessKeyId)
		if onlyKey != "" && id != onlyKey {
			p.Notes = append(p.Notes, fmt.Sprintf("user %s has another access key, %s (%s), left as it is: contain the user to deactivate every key", user, id, k.Status))
			continue
		}
		params := map[string]string{"UserName": user, "AccessKeyId": id, "Status": "Inactive"}
		if err := p.AddStep(ctx, c, Step{Op: "iam:UpdateAccessKey", Resource: id, Params: params, After: State{"status": "Inactive"},
			Effect: "deactivate the access key (not deleted: it is evidence)", Undo: "set it Active again"}); err != nil {
			return err
		}
	}
	name := ContainPolicyName(p.Case)
	if err := p.AddStep(ctx, c, Step{Op: "iam:PutUserPolicy", Resource: arn, Params: map[string]string{"UserName": user, "PolicyName": name, "PolicyDocument": DenyAll},
		After: State{"document": CanonicalPolicy(DenyAll)}, Effect: "attach the inline policy " + name + ": deny everything",
		Undo: "delete the policy (or restore the one it replaced)"}); err != nil {
		return err
	}
	if err := p.AddStep(ctx, c, Step{Op: "iam:DeleteLoginProfile", Resource: arn, Params: map[string]string{"UserName": user}, After: State{},
		Effect: "delete the console login profile (that it existed, and since when, is recorded)",
		Undo:   "cannot be undone: the password is gone; a new login profile can be created"}); err != nil {
		return err
	}
	if st := p.Steps[len(p.Steps)-1]; st.Skip != "" {
		p.Steps[len(p.Steps)-1].Skip = "the user has no console password"
	}
	return reach(ctx, c, p, user)
}

// AddStep reads a step's live state and adds it, marked to skip when the
// resource is already as the step would leave it.
func (p *Plan) AddStep(ctx context.Context, c *Clients, s Step) error {
	op, ok := Ops[s.Op]
	if !ok {
		return fmt.Errorf("unknown op %q", s.Op)
	}
	before, err := op.Read(ctx, c, s.Params)
	if err != nil {
		return fmt.Errorf("%s:%s on %s: read the state before: %w", op.Service, op.API, s.Resource, err)
	}
	s.Before = before
	if s.After != nil && before.Equal(s.After) {
		s.Skip = "already in effect: " + before.String()
	}
	p.Add(s)
	return nil
}

// reach lists what the user is granted through its groups and its
// attached and inline policies: what the deny-all now overrides, and
// what to review if it is ever lifted.
func reach(ctx context.Context, c *Clients, p *Plan, user string) error {
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	if out, err := c.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)}); err != nil {
		add("attached policies: could not list (%v)", err)
	} else {
		for _, a := range out.AttachedPolicies {
			add("user %s: managed policy %s", user, aws.ToString(a.PolicyArn))
		}
	}
	if out, err := c.IAM.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)}); err != nil {
		add("inline policies: could not list (%v)", err)
	} else {
		for _, n := range out.PolicyNames {
			if n != ContainPolicyName(p.Case) {
				add("user %s: inline policy %s", user, n)
			}
		}
	}
	groups, err := c.IAM.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	if err != nil {
		add("groups: could not list (%v)", err)
	} else {
		for _, g := range groups.Groups {
			name := aws.ToString(g.GroupName)
			add("group %s", name)
			if out, err := c.IAM.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name)}); err != nil {
				add("group %s: attached policies: could not list (%v)", name, err)
			} else {
				for _, a := range out.AttachedPolicies {
					add("group %s: managed policy %s", name, aws.ToString(a.PolicyArn))
				}
			}
			if out, err := c.IAM.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)}); err != nil {
				add("group %s: inline policies: could not list (%v)", name, err)
			} else {
				for _, n := range out.PolicyNames {
					add("group %s: inline policy %s", name, n)
				}
			}
		}
	}
	sort.Strings(lines)
	p.Reach = append(p.Reach, lines...)
	return nil
}
