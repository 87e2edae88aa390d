package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// instanceFront answers as AWS does where moto cannot: SSM's
// DescribeInstanceInformation (moto lacks it) says the instance is online,
// and, moto's commands never running, the front plays the instance: it
// runs the capture script with bash (the tool fetched from a local server,
// the image's parts uploaded with curl through the presigned UploadPart
// URLs) and GetCommandInvocation reports the script's output.
func instanceFront(t *testing.T, motoURL string) *httptest.Server {
	var mu sync.Mutex
	var stdout, stderr, putURL string
	exit := 0
	partURL := regexp.MustCompile(`(?m)^  '(http[^']+)'`)
	srv := awstest.Front(t, motoURL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op == "" {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		jsonOut := func(v any) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			json.NewEncoder(w).Encode(v)
		}
		switch op {
		case "DescribeInstanceInformation":
			var in struct{ Filters []struct{ Values []string } }
			json.Unmarshal(body, &in)
			jsonOut(map[string]any{"InstanceInformationList": []map[string]any{{"InstanceId": in.Filters[0].Values[0], "PingStatus": "Online", "PlatformType": "Linux"}}})
			return true
		case "SendCommand":
			var in struct{ Parameters map[string][]string }
			json.Unmarshal(body, &in)
			script := strings.Join(in.Parameters["commands"], "\n")
			cmd := exec.Command("bash", "-c", script)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			cmd.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=")
			cmd.Run()
			mu.Lock()
			defer mu.Unlock()
			stdout, stderr, exit = o.String(), e.String(), cmd.ProcessState.ExitCode()
			if m := partURL.FindStringSubmatch(script); m != nil {
				putURL = m[1]
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			return false
		case "GetCommandInvocation":
			var in struct{ CommandId, InstanceId string }
			json.Unmarshal(body, &in)
			mu.Lock()
			defer mu.Unlock()
			status := "Success"
			if exit != 0 {
				status = "Failed"
			}
			jsonOut(map[string]any{"CommandId": in.CommandId, "InstanceId": in.InstanceId, "Status": status, "StatusDetails": status, "ResponseCode": exit,
				"StandardOutputContent": stdout + "PUT " + putURL + "\n", "StandardErrorContent": stderr})
			return true
		}
		return false
	})
	return srv
}

// toolServer serves a stand-in for AVML at /avml: a shell script writing
// memory as the image.
func toolServer(t *testing.T, memory []byte) string {
	mem := filepath.Join(t.TempDir(), "ram")
	if err := os.WriteFile(mem, memory, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/avml" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "#!/bin/sh\ncat '%s' > \"$1\"\n", mem)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCollectInstance runs harrier collect instance end to end against
// moto (through the SDK's standard endpoint setting): the plan changes
// nothing; --apply captures memory, snapshots both volumes, attaches
// volumes made from them to the forensic instance, records the collection
// in the case with no presigned signature anywhere and prints the
// Volatility command lines; harrier undo detaches and deletes the forensic
// volumes and keeps the snapshots.
func TestCollectInstance(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	memory := bytes.Repeat([]byte("mem"), 1000)
	front := instanceFront(t, moto.URL)
	cfg := awstest.Config(moto.URL)
	e := ec2.NewFromConfig(cfg)
	var ids []string
	for range 2 {
		out, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			Placement: &ec2types.Placement{AvailabilityZone: aws.String("us-east-1a")}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
	}
	instance, forensic := ids[0], ids[1]
	sc := s3.NewFromConfig(cfg, awstest.PathStyle)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("evidence"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	motoEnv(t, front.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	snapshots := func() int {
		out, err := e.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"harrier:run"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Snapshots)
	}
	// a presigned GET of the tool: its secrets are canaries that must appear nowhere
	toolURL := toolServer(t, memory) + "/avml?X-Amz-Credential=CANARYCRED&X-Amz-Security-Token=CANARYTOKEN&X-Amz-Signature=CANARYSIG&sig=CANARYQ"
	base := []string{"collect", "instance", instance, "--case", caseDir, "--memory", "--memory-bucket", "evidence", "--memory-tool-url", toolURL, "--memory-dir", t.TempDir(),
		"--forensic-instance", forensic}

	out, errOut, code := harrier(t, base...)
	if code != ExitOK || !strings.Contains(out, "ssm:SendCommand on "+instance) || !strings.Contains(out, "ec2:CreateSnapshot") ||
		!strings.Contains(out, "THIS CHANGES THE INSTANCE") || !strings.Contains(errOut, "nothing was changed") || snapshots() != 0 ||
		!strings.Contains(out, "/avml?X-Amz-Credential=REDACTED") || strings.Contains(out+errOut, "CANARY") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, _ := harrier(t, append(base, "--format", "json")...); strings.Contains(out+errOut, "CANARY") || !strings.Contains(out, "/avml?") {
		t.Errorf("the JSON plan shows the tool URL's secrets:\n%s%s", out, errOut)
	}
	out, errOut, code = harrier(t, append(base, "--apply", "--account", "123456789012")...)
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	sum := sha256.Sum256(memory)
	if regexp.MustCompile(`S3 ETag \S+-1, version -`).MatchString(out) || !strings.Contains(out, "S3 ETag ") || strings.Contains(out, "neither versioning") {
		t.Errorf("the S3 version id is not reported, or versioning not seen:\n%s", out)
	}
	for _, w := range []string{"sha256 " + hex.EncodeToString(sum[:]), "vol -f mem.lime linux.pslist", "dwarf2json", "on " + forensic + " at /dev/sdf"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if n := snapshots(); n != 1 {
		t.Errorf("%d snapshots, want the root volume's", n)
	}
	var files []string
	filepath.Walk(caseDir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	found := false
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if regexp.MustCompile(`X-Amz-Signature=[^R&]`).Match(b) || bytes.Contains(b, []byte("CANARY")) {
			t.Errorf("a presigned signature or the tool URL's secret in %s:\n%s", f, b)
		}
		if strings.HasSuffix(f, "collection.json") {
			found = bytes.Contains(b, []byte(hex.EncodeToString(sum[:])))
		}
	}
	if !found || regexp.MustCompile(`X-Amz-Signature=[^R&]`).MatchString(out+errOut) || strings.Contains(out+errOut, "CANARY") {
		t.Errorf("collection.json with the hash: %v; files %v", found, files)
	}
	run := regexp.MustCompile(`latest first\): harrier undo (\S+) --case`).FindStringSubmatch(errOut)
	if run == nil {
		t.Fatalf("no run id in:\n%s", errOut)
	}
	out, errOut, code = harrier(t, "undo", run[1], "--case", caseDir, "--apply", "--account", "123456789012")
	if code != ExitOK || !strings.Contains(out+errOut, "kept: the snapshot is evidence") {
		t.Fatalf("undo: exit %d\n%s%s", code, out, errOut)
	}
	vols, err := e.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:harrier:run"), Values: []string{run[1]}}}})
	if err != nil || len(vols.Volumes) != 0 || snapshots() != 1 {
		t.Errorf("after undo: %v, %d forensic volumes, %d snapshots", err, len(vols.Volumes), snapshots())
	}

	tests := []struct {
		name    string
		args    []string
		code    int
		errText string
	}{
		{"needs an instance", []string{"collect", "instance", "vol-1", "--case", caseDir}, ExitUsage, "i-..."},
		{"memory needs a bucket", []string{"collect", "instance", instance, "--case", caseDir, "--memory"}, ExitUsage, "--memory-bucket"},
		{"bucket without memory", []string{"collect", "instance", instance, "--case", caseDir, "--memory-bucket", "b"}, ExitUsage, "are for --memory"},
		{"kms key without account", []string{"collect", "instance", instance, "--case", caseDir, "--kms-key", "k"}, ExitUsage, "--kms-key"},
		{"another account", []string{"collect", "instance", instance, "--case", caseDir, "--account", "999999999999"}, ExitError, "another account"},
		{"apply needs the account", []string{"collect", "instance", instance, "--case", caseDir, "--apply"}, ExitUsage, "--apply needs --account"},
		{"unknown instance", []string{"collect", "instance", "i-0000000000000000a", "--case", caseDir}, ExitError, "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := harrier(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.errText) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.errText)
			}
		})
	}
}
