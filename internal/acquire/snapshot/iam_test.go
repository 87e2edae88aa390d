package snapshot

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// trustPolicy lets another account assume the backdoor role: what an
// intruder leaves behind.
const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`

const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// seedIAM puts users (alice with a key and an MFA device, bob without),
// a group, a role trusted by another account, a managed and an inline
// policy and an OIDC provider into moto's IAM.
func seedIAM(t *testing.T, api *iam.Client) (keyID string) {
	t.Helper()
	ctx := t.Context()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"alice", "bob"} {
		must(api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	must(api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("alice")}))
	must(api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("backdoor"), AssumeRolePolicyDocument: aws.String(trustPolicy)}))
	pol, err := api.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("everything"), PolicyDocument: aws.String(adminPolicy)})
	must(pol, err)
	must(api.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("backdoor"), PolicyArn: pol.Policy.Arn}))
	must(api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("inline-all"), PolicyDocument: aws.String(adminPolicy)}))
	key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	must(key, err)
	mfa, err := api.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice-phone")})
	must(mfa, err)
	must(api.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: mfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))
	must(api.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.example.com"),
		ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{strings.Repeat("a", 40)}}))
	return aws.ToString(key.AccessKey.AccessKeyId)
}

func TestIAM(t *testing.T) {
	srv := awstest.Moto(t)
	cfg := awstest.Config(srv.URL)
	api := iam.NewFromConfig(cfg)
	keyID := seedIAM(t, api)
	tc := newTestCase(t)
	opts := testOptions()
	rows, err := IAM(t.Context(), api, opts, tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	row := oneRow(t, rows)
	if row.Source != "iam" || row.Region != "global" || row.Exists != "yes" || len(row.Problems) != 0 {
		t.Fatalf("row = %+v", row)
	}
	// 2 users, 1 group, 1 role, 1 customer managed policy
	if row.Items != 5 || !strings.Contains(row.Detail, "1 access keys") || !strings.Contains(row.Detail, "1 OIDC providers") {
		t.Fatalf("row items %d, detail %q", row.Items, row.Detail)
	}
	tc.checkCounts(t, row, snapPath("iam"))

	details := tc.readJSON(t, snapPath("iam", "GetAccountAuthorizationDetails-0001.json"))
	roles := dig(t, details, "RoleDetailList").([]any)
	if len(roles) != 1 {
		t.Fatalf("roles = %v", roles)
	}
	doc, err := url.QueryUnescape(dig(t, roles[0], "AssumeRolePolicyDocument").(string))
	if err != nil || !strings.Contains(doc, "arn:aws:iam::999999999999:root") {
		t.Fatalf("the role's trust policy is not in the case: %q (%v)", doc, err)
	}
	if _, src := tc.entry(t, snapPath("iam", "GetAccountAuthorizationDetails-0001.json")); src.Service != "iam" ||
		src.API != "GetAccountAuthorizationDetails" || src.Page != 1 || src.Account != testAccount || !src.RequestTime.Equal(testTime) {
		t.Fatalf("provenance = %+v", src)
	}

	keys := tc.readJSON(t, snapPath("iam", "users", "alice", "ListAccessKeys-0001.json"))
	if got := dig(t, keys, "AccessKeyMetadata", "0", "AccessKeyId"); got != keyID {
		t.Fatalf("alice's key = %v, want %s", got, keyID)
	}
	tc.readJSON(t, snapPath("iam", "users", "alice", "GetAccessKeyLastUsed-"+keyID+".json"))
	if got := dig(t, tc.readJSON(t, snapPath("iam", "users", "alice", "ListMFADevices-0001.json")), "MFADevices"); len(got.([]any)) != 1 {
		t.Fatalf("alice's MFA devices = %v", got)
	}
	if got := dig(t, tc.readJSON(t, snapPath("iam", "GetAccountPasswordPolicy.json"))); got.(map[string]any)["configured"] != false ||
		got.(map[string]any)["error_code"] != "NoSuchEntity" {
		t.Fatalf("password policy = %v, want not configured", got)
	}
	oidc := dig(t, tc.readJSON(t, snapPath("iam", "ListOpenIDConnectProviders.json")), "OpenIDConnectProviderList").([]any)
	if len(oidc) != 1 || !strings.Contains(dig(t, oidc[0], "Arn").(string), "token.example.com") {
		t.Fatalf("OIDC providers = %v", oidc)
	}

	csv := string(tc.read(t, snapPath("iam", "credential-report.csv")))
	if !strings.HasPrefix(csv, "user,arn,") || !strings.Contains(csv, "\nalice,") || !strings.Contains(csv, "\nbob,") {
		t.Fatalf("credential report:\n%s", csv)
	}
	if e, _ := tc.entry(t, snapPath("iam", "credential-report.csv")); e.Content != ContentCredentialReport {
		t.Fatalf("credential report content = %q", e.Content)
	}
	if meta := tc.readJSON(t, snapPath("iam", "GetCredentialReport.json")); meta["Content"] != nil || meta["ReportFormat"] != "text/csv" {
		t.Fatalf("credential report metadata = %v", meta)
	}
}

// TestIAMRerun checks the re-run behaviour: with the same stamp nothing
// stored is changed; an answer that is the same is not stored again, one
// that changed (GenerateCredentialReport now says COMPLETE) is kept
// beside the first.
func TestIAMRerun(t *testing.T) {
	srv := awstest.Moto(t)
	api := iam.NewFromConfig(awstest.Config(srv.URL))
	seedIAM(t, api)
	tc := newTestCase(t)
	if _, err := IAM(t.Context(), api, testOptions(), tc.sink); err != nil {
		t.Fatal(err)
	}
	first := tc.files(snapPath("iam"))
	if _, err := IAM(t.Context(), api, testOptions(), tc.sink); err != nil {
		t.Fatal(err)
	}
	second := tc.files(snapPath("iam"))
	for p, sum := range first {
		if second[p] != sum {
			t.Errorf("%s changed on re-run", p)
		}
	}
	var added []string
	for p := range second {
		if _, ok := first[p]; !ok {
			added = append(added, p)
		}
	}
	if len(added) != 1 || !strings.HasPrefix(added[0], snapPath("iam", "GenerateCredentialReport.json.harrier-")) {
		t.Fatalf("re-run added %v, want only the changed GenerateCredentialReport answer beside the first", added)
	}
}

// TestIAMDenied refuses some calls as IAM does (query protocol, 403
// AccessDenied): each is a problem, the rest is stored.
func TestIAMDenied(t *testing.T) {
	srv := awstest.Moto(t)
	seedIAM(t, iam.NewFromConfig(awstest.Config(srv.URL)))
	deny := map[string]bool{"ListSAMLProviders": true, "GetAccessKeyLastUsed": true, "GenerateCredentialReport": true}
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if !deny[op] {
			return false
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>` +
			`<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/responder is not authorized to perform: iam:` + op +
			`</Message></Error><RequestId>4b3f9e1a-0000-4000-8000-000000000001</RequestId></ErrorResponse>`))
		return true
	})
	tc := newTestCase(t)
	rows, err := IAM(t.Context(), iam.NewFromConfig(awstest.Config(front.URL)), testOptions(), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	row := oneRow(t, rows)
	var got []string
	for _, p := range row.Problems {
		if p.Denied != deny[p.API] || p.Service != "iam" || p.Account != testAccount {
			t.Errorf("problem = %+v", p)
		}
		got = append(got, p.API)
	}
	// no report had been generated: GetCredentialReport answers
	// ReportNotPresent, a problem too
	want := "GenerateCredentialReport,GetAccessKeyLastUsed,GetCredentialReport,ListSAMLProviders"
	if strings.Join(got, ",") != want {
		t.Fatalf("problems %v, want %s", got, want)
	}
	if row.Exists != "yes" || row.Items != 5 {
		t.Fatalf("row = %+v", row)
	}
	tc.readJSON(t, snapPath("iam", "GetAccountAuthorizationDetails-0001.json"))
	tc.readJSON(t, snapPath("iam", "ListOpenIDConnectProviders.json"))
	if ps := tc.files(snapPath("iam", "ListSAMLProviders")); len(ps) != 0 {
		t.Fatalf("a refused call left files: %v", ps)
	}
}

// TestIAMNetworkErrorEnds checks that an error the service did not answer
// (a cancelled context) ends the run rather than becoming a problem.
func TestIAMNetworkErrorEnds(t *testing.T) {
	srv := awstest.Moto(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := IAM(ctx, iam.NewFromConfig(awstest.Config(srv.URL)), testOptions(), newTestCase(t).sink)
	if err == nil {
		t.Fatal("IAM with a cancelled context succeeded")
	}
}
