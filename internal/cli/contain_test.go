package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// TestContainAndUndo runs harrier contain and undo end to end against
// moto_server through the SDK's standard endpoint setting: the plan changes
// nothing, --apply deactivates the key and records the actions, undo with
// the run's id brings it back.
func TestContainAndUndo(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	ic := iam.NewFromConfig(awstest.Config(srv.URL))
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("mallory")})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(k.AccessKey.AccessKeyId)
	status := func() string {
		out, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("mallory")})
		if err != nil {
			t.Fatal(err)
		}
		return string(out.AccessKeyMetadata[0].Status)
	}
	motoEnv(t, srv.URL)
	caseDir := filepath.Join(t.TempDir(), "case")

	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string
		keyAfter string
	}{
		{"plan only", []string{"contain", "key", key, "--case", caseDir}, ExitOK,
			[]string{"iam:UpdateAccessKey on " + key, `before:  {"status":"Active"}`, "iam:PutUserPolicy", "HarrierContain-case", "nothing was changed"}, "Active"},
		{"another account", []string{"contain", "key", key, "--case", caseDir, "--apply", "--account", "999999999999"}, ExitError,
			[]string{"another account", "nothing was done"}, "Active"},
		{"apply needs the account", []string{"contain", "key", key, "--case", caseDir, "--apply"}, ExitUsage,
			[]string{"--apply needs --account"}, "Active"},
		{"temporary key", []string{"contain", "key", "ASIAEXAMPLE000000001", "--case", caseDir, "--apply", "--account", "123456789012"}, ExitError,
			[]string{"cannot be deactivated", "revoking the sessions"}, "Active"},
		{"unknown target", []string{"contain", "bucket", "x", "--case", caseDir}, ExitUsage, []string{"unknown target"}, "Active"},
		{"no region", []string{"contain", "key", key, "--case", caseDir, "--region", ""}, ExitUsage, []string{"no AWS region"}, "Active"},
		{"apply", []string{"contain", "key", key, "--case", caseDir, "--apply", "--account", "123456789012"}, ExitOK,
			[]string{"applied   1. iam:UpdateAccessKey", "[action ", "harrier undo "}, "Inactive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no region" {
				t.Setenv("AWS_REGION", "")
				t.Setenv("AWS_DEFAULT_REGION", "")
			}
			out, errOut, code := harrier(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
			if got := status(); got != tc.keyAfter {
				t.Errorf("key %s, want %s", got, tc.keyAfter)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(caseDir, "actions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var first struct {
		ID, Run, API, Status string
		Before, After        map[string]string
		Request              map[string]string
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || first.API != "UpdateAccessKey" || first.After["status"] != "Inactive" || first.Request["AccessKeyId"] != key {
		t.Fatalf("audit log:\n%s", b)
	}
	if strings.Contains(string(b), "testing") {
		t.Error("the audit log holds the secret key")
	}
	// the plan as JSON, for undo
	out, errOut, code := harrier(t, "undo", first.Run, "--case", caseDir, "--format", "json")
	var plan struct {
		Steps []struct{ API, Undoes string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil || len(plan.Steps) != 2 || plan.Steps[0].API != "DeleteUserPolicy" || plan.Steps[1].Undoes != first.ID {
		t.Fatalf("undo plan (exit %d):\n%s%s", code, out, errOut)
	}
	if status() != "Inactive" {
		t.Fatal("the undo plan changed the key")
	}
	if out, errOut, code := harrier(t, "undo", first.Run, "--case", caseDir, "--apply", "--account", "123456789012"); code != 0 || status() != "Active" {
		t.Fatalf("undo --apply (exit %d), key %s:\n%s%s", code, status(), out, errOut)
	}
	if _, errOut, code := harrier(t, "undo", "no-such-run", "--case", caseDir); code != ExitUsage || !strings.Contains(errOut, "no applied action") {
		t.Errorf("unknown id: exit %d %s", code, errOut)
	}
	// each apply run's head is in the case; a consistent edit of one line
	// (the key and the user changed together) is refused, naming the line
	// after it, whose link no longer matches
	if _, err := os.Stat(filepath.Join(caseDir, "evidence", "harrier", "actions", first.Run, "actions-head.json")); err != nil {
		t.Errorf("the audit log's head was not recorded: %v", err)
	}
	edited := strings.Replace(string(b), key, "AKIAOTHERUSER0000001", -1)
	edited = strings.Replace(edited, `"mallory"`, `"alice"`, -1)
	rest, _ := os.ReadFile(filepath.Join(caseDir, "actions.jsonl"))
	if err := os.WriteFile(filepath.Join(caseDir, "actions.jsonl"), []byte(edited+string(rest[len(b):])), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := harrier(t, "undo", first.ID, "--case", caseDir); code != ExitError || !strings.Contains(errOut, "actions.jsonl line 2") || !strings.Contains(errOut, "refusing to undo") {
		t.Errorf("edited log: exit %d %s", code, errOut)
	}
	if out, _, code := harrier(t, "contain", "--print-iam-policy"); code != 0 || !strings.Contains(out, `"iam:UpdateAccessKey"`) {
		t.Errorf("policy: %d %s", code, out)
	}
}

// TestContainSelf: containing the user whose key runs harrier is refused;
// --allow-self plans it with a warning on stderr.
func TestContainSelf(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	ic := iam.NewFromConfig(awstest.Config(srv.URL))
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("responder")}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("responder")})
	if err != nil {
		t.Fatal(err)
	}
	motoEnv(t, srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", aws.ToString(k.AccessKey.AccessKeyId))
	t.Setenv("AWS_SECRET_ACCESS_KEY", aws.ToString(k.AccessKey.SecretAccessKey))
	caseDir := filepath.Join(t.TempDir(), "case")
	// a responder role assumed with the responder's own key: by --role-arn,
	// or by a profile's role_arn/source_profile
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Admin"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	admin := "arn:aws:iam::123456789012:role/Admin"
	conf := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(conf, []byte("[profile src]\naws_access_key_id = "+aws.ToString(k.AccessKey.AccessKeyId)+
		"\naws_secret_access_key = "+aws.ToString(k.AccessKey.SecretAccessKey)+"\nendpoint_url = "+srv.URL+"\n\n[profile chained]\nrole_arn = "+admin+
		"\nsource_profile = src\nregion = us-east-1\nendpoint_url = "+srv.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", conf)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"own user refused", []string{"contain", "user", "responder", "--case", caseDir, "--apply", "--account", "123456789012"}, ExitError, "own identity"},
		{"--role-arn: the base user refused", []string{"contain", "user", "responder", "--case", caseDir, "--role-arn", admin, "--apply", "--account", "123456789012"},
			ExitError, "assumed with the credentials of arn:aws:iam::123456789012:user/responder"},
		{"--role-arn: the base key refused", []string{"contain", "key", aws.ToString(k.AccessKey.AccessKeyId), "--case", caseDir, "--role-arn", admin, "--apply", "--account", "123456789012"},
			ExitError, "the one these credentials use"},
		{"own key refused", []string{"contain", "key", aws.ToString(k.AccessKey.AccessKeyId), "--case", caseDir}, ExitError, "the one these credentials use"},
		{"allowed with a warning", []string{"contain", "user", "responder", "--case", caseDir, "--allow-self"}, ExitOK, "harrier: WARNING: user responder is the caller"},
	}
	// a profile chain: the SDK's own AssumeRole of a profile ignores the
	// endpoint settings, so the chain's resolution is checked directly
	chain, notes := profileChain(ctx, awsTarget{profile: "chained"}, 0)
	if len(chain) != 1 || chain[0].ARN != "arn:aws:iam::123456789012:user/responder" || chain[0].Key != aws.ToString(k.AccessKey.AccessKeyId) || len(notes) != 0 {
		t.Errorf("profile chain: %+v %v", chain, notes)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := harrier(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(caseDir, "actions.jsonl")); err == nil && len(b) > 0 {
		t.Errorf("actions recorded:\n%s", b)
	}
	got, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("responder")})
	if err != nil || got.AccessKeyMetadata[0].Status != "Active" {
		t.Errorf("the responder's key: %v %v", got, err)
	}
}
