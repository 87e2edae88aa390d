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
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// instanceFront answers as AWS does where moto cannot: SSM's
// DescribeInstanceInformation (moto lacks it) says the instance is online,
// and GetCommandInvocation (moto's commands never run) reports the
// script's output, after the front, playing the instance, has uploaded
// the "memory" through the presigned URL the command carried.
func instanceFront(t *testing.T, motoURL string, memory []byte) *httptest.Server {
	var mu sync.Mutex
	putURL := ""
	curlPut := regexp.MustCompile(`-T "\$d/mem\.lime" '([^']+)'`)
	srv := awstest.Front(t, motoURL, func(w http.ResponseWriter, r *http.Request, op string) bool {
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
			if m := curlPut.FindStringSubmatch(strings.Join(in.Parameters["commands"], "\n")); m != nil {
				req, _ := http.NewRequest(http.MethodPut, m[1], bytes.NewReader(memory))
				if resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req); err == nil {
					resp.Body.Close()
				}
				mu.Lock()
				putURL = m[1]
				mu.Unlock()
			}
			return false
		case "GetCommandInvocation":
			var in struct{ CommandId, InstanceId string }
			json.Unmarshal(body, &in)
			sum := sha256.Sum256(memory)
			mu.Lock()
			stdout := fmt.Sprintf("harrier-sha256: %s\nharrier-bytes: %d\nPUT %s\nharrier-uploaded: ok\n", hex.EncodeToString(sum[:]), len(memory), putURL)
			mu.Unlock()
			jsonOut(map[string]any{"CommandId": in.CommandId, "InstanceId": in.InstanceId, "Status": "Success", "StatusDetails": "Success", "ResponseCode": 0,
				"StandardOutputContent": stdout, "StandardErrorContent": ""})
			return true
		}
		return false
	})
	return srv
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
	front := instanceFront(t, moto.URL, memory)
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
	if _, err := s3.NewFromConfig(cfg, awstest.PathStyle).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
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
	toolURL := "https://tools.example/avml?X-Amz-Credential=CANARYCRED&X-Amz-Security-Token=CANARYTOKEN&X-Amz-Signature=CANARYSIG&sig=CANARYQ"
	base := []string{"collect", "instance", instance, "--case", caseDir, "--memory", "--memory-bucket", "evidence", "--memory-tool-url", toolURL,
		"--forensic-instance", forensic}

	out, errOut, code := harrier(t, base...)
	if code != ExitOK || !strings.Contains(out, "ssm:SendCommand on "+instance) || !strings.Contains(out, "ec2:CreateSnapshot") ||
		!strings.Contains(out, "THIS CHANGES THE INSTANCE") || !strings.Contains(errOut, "nothing was changed") || snapshots() != 0 ||
		!strings.Contains(out, "ToolURL=https://tools.example/avml?") || strings.Contains(out+errOut, "CANARY") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, _ := harrier(t, append(base, "--format", "json")...); strings.Contains(out+errOut, "CANARY") || !strings.Contains(out, "tools.example/avml") {
		t.Errorf("the JSON plan shows the tool URL's secrets:\n%s%s", out, errOut)
	}
	out, errOut, code = harrier(t, append(base, "--apply")...)
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	sum := sha256.Sum256(memory)
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
	out, errOut, code = harrier(t, "undo", run[1], "--case", caseDir, "--apply")
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
