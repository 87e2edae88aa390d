package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// findAWSCLI returns the AWS CLI (HARRIER_AWS_CLI, else aws on PATH, else
// pyenv's shim), skipping the test without one, except on CI (CI=true),
// which must run it.
func findAWSCLI(t *testing.T) string {
	t.Helper()
	var cands, why []string
	if p := os.Getenv("HARRIER_AWS_CLI"); p != "" {
		cands = []string{p}
	} else {
		if p, err := exec.LookPath("aws"); err == nil {
			cands = append(cands, p)
		}
		cands = append(cands, filepath.Join(awstest.PyenvRoot(), "shims", "aws"))
	}
	for _, c := range cands {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		out, err := exec.CommandContext(ctx, c, "--version").CombinedOutput()
		cancel()
		if err == nil && bytes.HasPrefix(out, []byte("aws-cli/")) {
			return c
		}
		why = append(why, c+": "+strings.TrimSpace(string(out)))
	}
	msg := "the cross-check needs the AWS CLI (set HARRIER_AWS_CLI): " + strings.Join(why, "; ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestCrossCheckAuthorizationDetails checks the stored
// GetAccountAuthorizationDetails answer against what AWS's own CLI
// prints for the same moto state: the same users, groups, roles and
// policies with the same values. The CLI decodes policy documents and
// prints times its own way; both sides are brought to one form first.
func TestCrossCheckAuthorizationDetails(t *testing.T) {
	cli := findAWSCLI(t)
	srv := awstest.Moto(t)
	api := iam.NewFromConfig(awstest.Config(srv.URL))
	seedIAM(t, api)
	tc := newTestCase(t)
	if _, err := IAM(t.Context(), api, testOptions(), tc.sink); err != nil {
		t.Fatal(err)
	}
	ours := normalize("", tc.readJSON(t, snapPath("iam", "GetAccountAuthorizationDetails-0001.json")))
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "iam", "get-account-authorization-details",
		"--filter", "User", "Group", "Role", "LocalManagedPolicy", "--endpoint-url", srv.URL, "--output", "json")
	cmd.Dir = home
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "PYENV_ROOT=" + awstest.PyenvRoot(), "HOME=" + home, "LANG=C.UTF-8",
		"AWS_ACCESS_KEY_ID=AKIAHARRIERCROSSCHK1", "AWS_SECRET_ACCESS_KEY=harrier-cross-check-not-a-secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		// anything that escaped the endpoint would fail, not reach AWS
		"HTTP_PROXY=http://127.0.0.1:1", "HTTPS_PROXY=http://127.0.0.1:1", "NO_PROXY=127.0.0.1,localhost",
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws iam get-account-authorization-details: %v\n%s", err, stderr.String())
	}
	var theirs map[string]any
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatalf("the CLI's output: %v\n%s", err, out)
	}
	want := normalize("", theirs)
	for list, n := range map[string]int{"UserDetailList": 2, "GroupDetailList": 1, "RoleDetailList": 1, "Policies": 1} {
		o, w := ours.(map[string]any)[list], want.(map[string]any)[list]
		if l, _ := w.([]any); len(l) != n {
			t.Fatalf("the CLI printed %d %s, want %d: %s", len(l), list, n, out)
		}
		if !reflect.DeepEqual(o, w) {
			a, _ := json.MarshalIndent(o, "", " ")
			b, _ := json.MarshalIndent(w, "", " ")
			t.Errorf("%s differs from the CLI's\nours:\n%s\nCLI:\n%s", list, a, b)
		}
	}
}

// normalize brings an answer to the form both sides share: policy
// documents decoded (the API URL-encodes them, the CLI prints them as
// JSON), times in UTC RFC 3339, and nulls, empty lists and empty objects
// dropped (the SDK keeps them, the CLI omits them).
func normalize(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if n := normalize(k, e); !empty(n) {
				out[k] = n
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, normalize(key, e))
		}
		return out
	case string:
		if strings.HasSuffix(key, "PolicyDocument") || key == "Document" {
			if s, err := url.QueryUnescape(x); err == nil {
				var doc any
				if json.Unmarshal([]byte(s), &doc) == nil {
					return doc
				}
			}
		}
		if tm, err := time.Parse(time.RFC3339, x); err == nil {
			return tm.UTC().Format(time.RFC3339)
		}
	}
	return v
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
