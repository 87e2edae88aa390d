package snapshot

import (
	"context"
	"fmt"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// OrganizationsAPI is the read-only Organizations calls Organizations
// makes, with the SDK's signatures (an *organizations.Client satisfies
// it).
type OrganizationsAPI interface {
	DescribeOrganization(ctx context.Context, params *organizations.DescribeOrganizationInput, optFns ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	ListAccounts(ctx context.Context, params *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	ListRoots(ctx context.Context, params *organizations.ListRootsInput, optFns ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, params *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListPolicies(ctx context.Context, params *organizations.ListPoliciesInput, optFns ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error)
	DescribePolicy(ctx context.Context, params *organizations.DescribePolicyInput, optFns ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
	ListDelegatedAdministrators(ctx context.Context, params *organizations.ListDelegatedAdministratorsInput, optFns ...func(*organizations.Options)) (*organizations.ListDelegatedAdministratorsOutput, error)
}

// maxOUDepth bounds the walk of the OU tree: Organizations allows five
// levels below the root; more means an answer went round in a circle.
const maxOUDepth = 5

// Organizations snapshots the organisation the account belongs to: its
// description, accounts, roots and OU tree (walked from the roots), the
// service control policies with their documents, and the delegated
// administrators (an account made delegated administrator can act for
// the organisation). An account outside any organisation is a fact
// (Exists "no"); a member account is refused most of these calls, each
// refusal recorded and the rest asked. It returns one coverage row
// (region "global").
func Organizations(ctx context.Context, api OrganizationsAPI, opts Options, sink evidence.Sink) ([]evidence.Coverage, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := newRecorder(opts, sink, "organizations", "")
	dir := opts.dir("org")
	at := opts.now()
	desc, err := api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if code, ok := notConfigured("DescribeOrganization", err); ok {
		r.ok()
		if err := r.put(path.Join(dir, "DescribeOrganization.json"), evidence.Source{API: "DescribeOrganization", RequestTime: at}, absent(code, err)); err != nil {
			return nil, err
		}
		return []evidence.Coverage{r.coverage("org", "global", "no", 0, "not in an organization")}, nil
	}
	if err := r.single(path.Join(dir, "DescribeOrganization.json"), "", evidence.Source{API: "DescribeOrganization", RequestTime: at}, desc, err); err != nil {
		return nil, err
	}
	var accounts, ous, scps int
	ap := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	if err := pages(ctx, r, dir, "", evidence.Source{API: "ListAccounts"}, ap.HasMorePages, ap.NextPage,
		func(o *organizations.ListAccountsOutput) { accounts += len(o.Accounts) }); err != nil {
		return nil, err
	}
	var roots []string
	rp := organizations.NewListRootsPaginator(api, &organizations.ListRootsInput{})
	if err := pages(ctx, r, dir, "", evidence.Source{API: "ListRoots"}, rp.HasMorePages, rp.NextPage,
		func(o *organizations.ListRootsOutput) {
			for _, root := range o.Roots {
				roots = append(roots, aws.ToString(root.Id))
			}
		}); err != nil {
		return nil, err
	}
	for _, root := range roots {
		n, err := orgUnits(ctx, api, r, dir, root, 0)
		if err != nil {
			return nil, err
		}
		ous += n
	}
	var policies []string
	pp := organizations.NewListPoliciesPaginator(api, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	if err := pages(ctx, r, path.Join(dir, "policies"), "", evidence.Source{API: "ListPolicies", Params: map[string]string{"Filter": string(types.PolicyTypeServiceControlPolicy)}},
		pp.HasMorePages, pp.NextPage, func(o *organizations.ListPoliciesOutput) {
			for _, p := range o.Policies {
				policies = append(policies, aws.ToString(p.Id))
			}
		}); err != nil {
		return nil, err
	}
	scps = len(policies)
	for _, id := range policies {
		at := opts.now()
		out, err := api.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
		src := evidence.Source{API: "DescribePolicy", Params: map[string]string{"PolicyId": id}, RequestTime: at}
		if err := r.single(path.Join(dir, "policies", safeName(id)+".json"), id, src, out, err); err != nil {
			return nil, err
		}
	}
	dp := organizations.NewListDelegatedAdministratorsPaginator(api, &organizations.ListDelegatedAdministratorsInput{})
	var delegated int
	if err := pages(ctx, r, dir, "", evidence.Source{API: "ListDelegatedAdministrators"}, dp.HasMorePages, dp.NextPage,
		func(o *organizations.ListDelegatedAdministratorsOutput) { delegated += len(o.DelegatedAdministrators) }); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("%d accounts, %d OUs, %d SCPs, %d delegated administrators", accounts, ous, scps, delegated)
	return []evidence.Coverage{r.coverage("org", "global", "yes", accounts+ous+scps, detail)}, nil
}

// orgUnits stores the OUs under parent, and theirs, depth first; it
// returns how many it found.
func orgUnits(ctx context.Context, api OrganizationsAPI, r *recorder, dir, parent string, depth int) (int, error) {
	if depth > maxOUDepth {
		r.problem(evidence.Problem{API: "ListOrganizationalUnitsForParent", Target: parent,
			Error: fmt.Sprintf("not walked: more than %d levels of OUs below the root", maxOUDepth)})
		return 0, nil
	}
	var children []string
	p := organizations.NewListOrganizationalUnitsForParentPaginator(api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
	src := evidence.Source{API: "ListOrganizationalUnitsForParent", Params: map[string]string{"ParentId": parent}}
	if err := pages(ctx, r, path.Join(dir, "ous", safeName(parent)), parent, src, p.HasMorePages, p.NextPage,
		func(o *organizations.ListOrganizationalUnitsForParentOutput) {
			for _, ou := range o.OrganizationalUnits {
				children = append(children, aws.ToString(ou.Id))
			}
		}); err != nil {
		return 0, err
	}
	n := len(children)
	for _, c := range children {
		m, err := orgUnits(ctx, api, r, dir, c, depth+1)
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}
