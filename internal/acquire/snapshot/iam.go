package snapshot

import (
	"context"
	"fmt"
	"path"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// IAMAPI is the read-only IAM calls IAM makes, with the SDK's signatures
// (an *iam.Client satisfies it). GenerateCredentialReport is among them:
// IAM classes it as a read action (iam:GenerateCredentialReport, access
// level Read), it only asks IAM to build the report of what exists and
// changes no configuration.
type IAMAPI interface {
	GetAccountAuthorizationDetails(ctx context.Context, params *iam.GetAccountAuthorizationDetailsInput, optFns ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	ListUsers(ctx context.Context, params *iam.ListUsersInput, optFns ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	ListAccessKeys(ctx context.Context, params *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, params *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListMFADevices(ctx context.Context, params *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListVirtualMFADevices(ctx context.Context, params *iam.ListVirtualMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	GetAccountSummary(ctx context.Context, params *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetAccountPasswordPolicy(ctx context.Context, params *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	ListSAMLProviders(ctx context.Context, params *iam.ListSAMLProvidersInput, optFns ...func(*iam.Options)) (*iam.ListSAMLProvidersOutput, error)
	ListOpenIDConnectProviders(ctx context.Context, params *iam.ListOpenIDConnectProvidersInput, optFns ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error)
	GenerateCredentialReport(ctx context.Context, params *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, params *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

// AuthorizationDetailsFilter is what GetAccountAuthorizationDetails is
// asked for: users, groups, roles (with their trust policies) and the
// account's own managed policies with every version. AWS managed policies
// are left out: they are the same in every account, public, and would be
// most of the answer.
var AuthorizationDetailsFilter = []types.EntityType{
	types.EntityTypeUser, types.EntityTypeGroup, types.EntityTypeRole, types.EntityTypeLocalManagedPolicy,
}

// iamCounts are what the IAM snapshot found, for its coverage row.
type iamCounts struct {
	users, groups, roles, policies, keys, mfa, saml, oidc int
}

// IAM snapshots the account's IAM configuration: every principal and
// policy (GetAccountAuthorizationDetails), each user's access keys with
// their last use and MFA devices, virtual MFA devices, the account
// summary and password policy, the SAML and OIDC identity providers (a
// provider added by an intruder is a way back in), and the credential
// report (its CSV kept as IAM gives it). It returns one coverage row
// (region "global").
func IAM(ctx context.Context, api IAMAPI, opts Options, sink evidence.Sink) ([]evidence.Coverage, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := newRecorder(opts, sink, "iam", "")
	dir := opts.dir("iam")
	var n iamCounts

	filter := map[string]string{"Filter": "User,Group,Role,LocalManagedPolicy"}
	p := iam.NewGetAccountAuthorizationDetailsPaginator(api, &iam.GetAccountAuthorizationDetailsInput{Filter: AuthorizationDetailsFilter})
	for page := 1; p.HasMorePages(); page++ {
		at := opts.now()
		out, err := p.NextPage(ctx)
		if err != nil {
			if err := r.fail("GetAccountAuthorizationDetails", "", err); err != nil {
				return nil, err
			}
			break
		}
		r.ok()
		n.users += len(out.UserDetailList)
		n.groups += len(out.GroupDetailList)
		n.roles += len(out.RoleDetailList)
		n.policies += len(out.Policies)
		if err := r.put(path.Join(dir, pageName("GetAccountAuthorizationDetails", page)), evidence.Source{API: "GetAccountAuthorizationDetails", Params: filter, Page: page, RequestTime: at}, out); err != nil {
			return nil, err
		}
	}

	if err := iamUsers(ctx, api, r, dir, &n); err != nil {
		return nil, err
	}

	vp := iam.NewListVirtualMFADevicesPaginator(api, &iam.ListVirtualMFADevicesInput{})
	for page := 1; vp.HasMorePages(); page++ {
		at := opts.now()
		out, err := vp.NextPage(ctx)
		if err != nil {
			if err := r.fail("ListVirtualMFADevices", "", err); err != nil {
				return nil, err
			}
			break
		}
		r.ok()
		if err := r.put(path.Join(dir, pageName("ListVirtualMFADevices", page)), evidence.Source{API: "ListVirtualMFADevices", Page: page, RequestTime: at}, out); err != nil {
			return nil, err
		}
	}

	single := []struct {
		api  string
		call func() (any, error)
		seen func(any)
	}{
		{"GetAccountSummary", func() (any, error) { return api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}) }, nil},
		{"GetAccountPasswordPolicy", func() (any, error) {
			return api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		}, nil},
		{"ListSAMLProviders", func() (any, error) { return api.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{}) },
			func(v any) { n.saml = len(v.(*iam.ListSAMLProvidersOutput).SAMLProviderList) }},
		{"ListOpenIDConnectProviders", func() (any, error) {
			return api.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		}, func(v any) { n.oidc = len(v.(*iam.ListOpenIDConnectProvidersOutput).OpenIDConnectProviderList) }},
	}
	for _, c := range single {
		at := opts.now()
		out, err := c.call()
		if err := r.single(path.Join(dir, c.api+".json"), "", evidence.Source{API: c.api, RequestTime: at}, out, err); err != nil {
			return nil, err
		}
		if err == nil && c.seen != nil {
			c.seen(out)
		}
	}

	if err := credentialReport(ctx, api, r, dir); err != nil {
		return nil, err
	}

	detail := fmt.Sprintf("%d users, %d groups, %d roles, %d policies, %d access keys, %d MFA devices, %d SAML and %d OIDC providers",
		n.users, n.groups, n.roles, n.policies, n.keys, n.mfa, n.saml, n.oidc)
	return []evidence.Coverage{r.coverage("iam", "global", "yes", n.users+n.groups+n.roles+n.policies, detail)}, nil
}

// iamUsers lists the users and, for each, its access keys (with their
// last use) and MFA devices.
func iamUsers(ctx context.Context, api IAMAPI, r *recorder, dir string, n *iamCounts) error {
	var users []string
	p := iam.NewListUsersPaginator(api, &iam.ListUsersInput{})
	for page := 1; p.HasMorePages(); page++ {
		at := r.opts.now()
		out, err := p.NextPage(ctx)
		if err != nil {
			return r.fail("ListUsers", "", err)
		}
		r.ok()
		for _, u := range out.Users {
			users = append(users, aws.ToString(u.UserName))
		}
		if err := r.put(path.Join(dir, pageName("ListUsers", page)), evidence.Source{API: "ListUsers", Page: page, RequestTime: at}, out); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	return forEach(ctx, r.opts.concurrency(), users, func(ctx context.Context, user string) error {
		keys, mfa, err := iamUser(ctx, api, r, path.Join(dir, "users", safeName(user)), user)
		mu.Lock()
		n.keys += keys
		n.mfa += mfa
		mu.Unlock()
		return err
	})
}

func iamUser(ctx context.Context, api IAMAPI, r *recorder, dir, user string) (keys, mfa int, err error) {
	params := map[string]string{"UserName": user}
	var ids []string
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for page := 1; kp.HasMorePages(); page++ {
		at := r.opts.now()
		out, err := kp.NextPage(ctx)
		if err != nil {
			if err := r.fail("ListAccessKeys", user, err); err != nil {
				return keys, mfa, err
			}
			break
		}
		r.ok()
		for _, k := range out.AccessKeyMetadata {
			ids = append(ids, aws.ToString(k.AccessKeyId))
		}
		if err := r.put(path.Join(dir, pageName("ListAccessKeys", page)), evidence.Source{API: "ListAccessKeys", Params: params, Page: page, RequestTime: at}, out); err != nil {
			return keys, mfa, err
		}
	}
	keys = len(ids)
	for _, id := range ids {
		at := r.opts.now()
		out, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
		kparams := map[string]string{"AccessKeyId": id}
		if err := r.single(path.Join(dir, "GetAccessKeyLastUsed-"+safeName(id)+".json"), id, evidence.Source{API: "GetAccessKeyLastUsed", Params: kparams, RequestTime: at}, out, err); err != nil {
			return keys, mfa, err
		}
	}
	mp := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: aws.String(user)})
	for page := 1; mp.HasMorePages(); page++ {
		at := r.opts.now()
		out, err := mp.NextPage(ctx)
		if err != nil {
			return keys, mfa, r.fail("ListMFADevices", user, err)
		}
		r.ok()
		mfa += len(out.MFADevices)
		if err := r.put(path.Join(dir, pageName("ListMFADevices", page)), evidence.Source{API: "ListMFADevices", Params: params, Page: page, RequestTime: at}, out); err != nil {
			return keys, mfa, err
		}
	}
	return keys, mfa, nil
}
