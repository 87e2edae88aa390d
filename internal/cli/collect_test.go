package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/respond/ebsimage/ebstest"
)

// TestCollectSnapshot runs harrier collect snapshot end to end against
// moto (through the front that lists blocks as AWS does), configured as a
// user's machine would be: AWS_ENDPOINT_URL and the credential chain.
func TestCollectSnapshot(t *testing.T) {
	moto := awstest.Moto(t)
	front := ebstest.New(t, moto)
	motoEnv(t, front.URL)
	blocks := map[int32][]byte{0: bytes.Repeat([]byte("A"), 512), 3: bytes.Repeat([]byte{0xee}, 512), 1<<21 - 1: bytes.Repeat([]byte("Z"), 512)}
	snap := ebstest.PutSnapshot(t, front.Client(), blocks)
	dir := t.TempDir()
	dst, caseDir := filepath.Join(dir, "disk.raw"), filepath.Join(dir, "case")

	out, errOut, code := harrier(t, "collect", "snapshot", snap, "--image", dst, "--case", caseDir, "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rec struct {
		SnapshotID   string `json:"snapshot_id"`
		BlocksListed int    `json:"blocks_listed"`
		Bytes        int64
		Sums         struct{ SHA256, MD5 string }
		Snapshot     *struct {
			VolumeID string `json:"volume_id"`
		}
		Command []string
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rec.SnapshotID != snap || rec.BlocksListed != 3 || rec.Bytes != 1<<30 || rec.Snapshot == nil || !strings.HasPrefix(rec.Snapshot.VolumeID, "vol-") ||
		len(rec.Sums.SHA256) != 64 || len(rec.Sums.MD5) != 32 || strings.Join(rec.Command[:3], " ") != "harrier collect snapshot" {
		t.Errorf("record %+v", rec)
	}
	f, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	for idx, want := range blocks {
		got := make([]byte, 512)
		if _, err := f.ReadAt(got, int64(idx)*512); err != nil || !bytes.Equal(got, want) {
			t.Errorf("block %d: %v", idx, err)
		}
	}
	f.Close()
	c, err := casefile.Open(caseDir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range c.Latest() {
		if strings.HasPrefix(e.Path, "evidence/images/"+snap+"/disk.raw.") {
			found++
			if !bytes.Contains(e.Source, []byte(rec.Sums.SHA256)) || e.OriginalPath != "aws:ebs:GetSnapshotBlock:us-east-1:"+snap {
				t.Errorf("%s: provenance %s from %s", e.Path, e.Source, e.OriginalPath)
			}
		}
	}
	c.Close()
	if found != 2 {
		t.Errorf("%d image records in the case, want the log and the record", found)
	}

	tests := []struct {
		name    string
		args    []string
		code    int
		errText string
	}{
		{"finished image not overwritten", []string{"collect", "snapshot", snap, "--image", dst}, ExitError, "never overwritten"},
		{"needs a subcommand", []string{"collect"}, ExitUsage, "needs a subcommand"},
		{"unknown subcommand", []string{"collect", "volume"}, ExitUsage, "unknown subcommand"},
		{"needs --image", []string{"collect", "snapshot", snap}, ExitUsage, "--image"},
		{"needs a snapshot id", []string{"collect", "snapshot", "vol-1", "--image", dst}, ExitUsage, "snap-"},
		{"unknown snapshot", []string{"collect", "snapshot", "snap-00000000000000000", "--image", filepath.Join(dir, "x.raw")}, ExitError, "ListSnapshotBlocks"},
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

func TestCollectPrintsPolicy(t *testing.T) {
	out, _, code := harrier(t, "collect", "--print-iam-policy")
	var p struct {
		Statement []struct {
			Sid    string
			Action []string
		}
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	var actions []string
	var snapshotActions []string // collect snapshot's: reading only
	for _, s := range p.Statement {
		actions = append(actions, s.Action...)
		if strings.HasPrefix(s.Sid, "HarrierSnapshot") {
			snapshotActions = append(snapshotActions, s.Action...)
		}
	}
	for _, want := range []string{"ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock", "ec2:DescribeSnapshots", "kms:Decrypt"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("policy lacks %s: %v", want, actions)
		}
	}
	for _, want := range []string{"ec2:CreateSnapshot", "ec2:ModifySnapshotAttribute", "ssm:SendCommand", "ssm:DescribeInstanceInformation", "kms:DescribeKey"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("policy lacks collect instance's %s", want)
		}
	}
	for _, a := range append(snapshotActions, actions...) {
		if strings.Contains(a, "DeleteSnapshot") {
			t.Errorf("collect may delete evidence: %s", a)
		}
	}
	for _, a := range snapshotActions {
		if strings.HasSuffix(a, "*") || strings.Contains(a, "Put") || strings.Contains(a, "Create") {
			t.Errorf("policy grants more than reading: %s", a)
		}
	}
}
