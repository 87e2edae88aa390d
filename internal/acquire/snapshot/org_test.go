package snapshot

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

const denyAllSCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}]}`

// seedOrg makes an organisation with two member accounts, an OU with a
// child OU, an SCP and a delegated administrator; it returns the SCP's
// id and the child OU's.
func seedOrg(t *testing.T, api *organizations.Client) (scp, child string) {
	t.Helper()
	ctx := t.Context()
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := api.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	fail(err)
	var member string
	for _, name := range []string{"prod", "audit"} {
		out, err := api.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		fail(err)
		member = aws.ToString(out.CreateAccountStatus.AccountId)
	}
	roots, err := api.ListRoots(ctx, &organizations.ListRootsInput{})
	fail(err)
	ou, err := api.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: roots.Roots[0].Id, Name: aws.String("workloads")})
	fail(err)
	sub, err := api.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: ou.OrganizationalUnit.Id, Name: aws.String("sandbox")})
	fail(err)
	pol, err := api.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("keep-trails"), Description: aws.String("no StopLogging"),
		Content: aws.String(denyAllSCP), Type: types.PolicyTypeServiceControlPolicy})
	fail(err)
	_, err = api.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(member),
		ServicePrincipal: aws.String("guardduty.amazonaws.com")})
	fail(err)
	return aws.ToString(pol.Policy.PolicySummary.Id), aws.ToString(sub.OrganizationalUnit.Id)
}

func TestOrganizations(t *testing.T) {
	srv := awstest.Moto(t)
	api := organizations.NewFromConfig(awstest.Config(srv.URL))
	scp, child := seedOrg(t, api)
	tc := newTestCase(t)
	rows, err := Organizations(t.Context(), api, testOptions(), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	row := oneRow(t, rows)
	// the management account and two members, two OUs, the SCP and
	// AWS's FullAWSAccess
	if row.Source != "org" || row.Region != "global" || row.Exists != "yes" || len(row.Problems) != 0 ||
		row.Detail != "3 accounts, 2 OUs, 2 SCPs, 1 delegated administrators" || row.Items != 7 {
		t.Fatalf("row = %+v", row)
	}
	tc.checkCounts(t, row, snapPath("org"))
	if got := dig(t, tc.readJSON(t, snapPath("org", "policies", scp+".json")), "Policy", "Content").(string); !strings.Contains(got, "cloudtrail:StopLogging") {
		t.Fatalf("the SCP's document = %s", got)
	}
	var found bool
	for p := range tc.files(snapPath("org", "ous")) {
		if strings.Contains(p, "/ous/ou-") {
			found = found || strings.Contains(string(tc.read(t, p)), child)
		}
	}
	if !found {
		t.Fatalf("the child OU %s is not in the OU tree: %v", child, tc.files(snapPath("org", "ous")))
	}
	accounts := dig(t, tc.readJSON(t, snapPath("org", "ListAccounts-0001.json")), "Accounts").([]any)
	if len(accounts) != 3 {
		t.Fatalf("accounts = %v", accounts)
	}
}

func TestOrganizationsNotInUse(t *testing.T) {
	srv := awstest.Moto(t)
	tc := newTestCase(t)
	rows, err := Organizations(t.Context(), organizations.NewFromConfig(awstest.Config(srv.URL)), testOptions(), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	row := oneRow(t, rows)
	if row.Exists != "no" || len(row.Problems) != 0 || row.Files != 1 {
		t.Fatalf("row = %+v", row)
	}
	got := tc.readJSON(t, snapPath("org", "DescribeOrganization.json"))
	if got["configured"] != false || got["error_code"] != "AWSOrganizationsNotInUseException" {
		t.Fatalf("DescribeOrganization = %v", got)
	}
}

// TestOrganizationsMember answers as Organizations does a member account
// (JSON 1.1, 400 AccessDeniedException) for all but DescribeOrganization:
// each refusal is recorded and the rest asked.
func TestOrganizationsMember(t *testing.T) {
	srv := awstest.Moto(t)
	seedOrg(t, organizations.NewFromConfig(awstest.Config(srv.URL)))
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op == "DescribeOrganization" {
			return false
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "5f6d3b0e-0000-4000-8000-000000000002")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"AccessDeniedException","Message":"You don't have permissions to access this resource."}`))
		return true
	})
	tc := newTestCase(t)
	rows, err := Organizations(t.Context(), organizations.NewFromConfig(awstest.Config(front.URL)), testOptions(), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	row := oneRow(t, rows)
	var got []string
	for _, p := range row.Problems {
		if !p.Denied {
			t.Errorf("problem not denied: %+v", p)
		}
		got = append(got, p.API)
	}
	want := "ListAccounts,ListDelegatedAdministrators,ListPolicies,ListRoots"
	if strings.Join(got, ",") != want || row.Exists != "yes" || row.Files != 1 {
		t.Fatalf("row = %+v, want problems %s", row, want)
	}
	tc.readJSON(t, snapPath("org", "DescribeOrganization.json"))
}
