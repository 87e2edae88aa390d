package respond

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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/harrier-ir/harrier/internal/awstest"
)

const forensicAccount = "111122223333"

// fakeClock is the waits' clock: Sleep moves it on at once, so a bounded
// wait ends by its bound, not by the machine's time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps int
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps++
	return nil
}

func forensicClientsFor(endpoint string, clock *fakeClock) *Clients {
	cfg := awstest.Config(endpoint)
	e := ec2.NewFromConfig(cfg)
	s := s3.NewFromConfig(cfg, awstest.PathStyle)
	return &Clients{Region: cfg.Region, STS: sts.NewFromConfig(cfg), EC2: e,
		Forensic: &ForensicClients{EC2: e, KMS: kms.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg), S3: s, Presign: s3.NewPresignClient(s),
			Now: clock.Now, Sleep: clock.Sleep, CommandTimeout: time.Hour}}
}

// ssmInstance is what the front says of the instance's SSM agent (moto has
// no DescribeInstanceInformation), and how its commands end (moto's
// commands never run). When the status is Success the front plays the
// instance for real: it runs the capture script with bash, so the tool is
// fetched (fakeTool), the image written to the work directory, and its
// parts uploaded with curl through the presigned UploadPart URLs; the
// invocation then reports the script's exit code and output.
type ssmInstance struct {
	mu       sync.Mutex
	ping     string // "" → not a managed instance
	status   string // the invocation's status; Success runs the script
	sent     []string
	putURL   string // the first part's presigned URL
	toolURL  string // the tool's URL as the script has it
	ran      string // the script's stdout
	ranErr   string // its stderr
	exit     int
	answered int
}

var (
	partURL   = regexp.MustCompile(`(?m)^  '(http[^']+)'`)
	scriptURL = regexp.MustCompile(`-o "\$d/tool" '([^']+)'`)
)

// fakeTool serves a stand-in for AVML: a shell script that writes memory
// as the image.
func fakeTool(t *testing.T, memory []byte) string {
	t.Helper()
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

func (si *ssmInstance) answer(t *testing.T) func(w http.ResponseWriter, r *http.Request, op string) bool {
	return func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op == "" { // S3: the instance's upload through the presigned URLs
			return false
		}
		si.mu.Lock()
		defer si.mu.Unlock()
		jsonOut := func(v any) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			json.NewEncoder(w).Encode(v)
		}
		switch op {
		case "DescribeInstanceInformation":
			var in struct{ Filters []struct{ Values []string } }
			body, _ := io.ReadAll(r.Body)
			json.Unmarshal(body, &in)
			list := []map[string]any{}
			if si.ping != "" {
				list = append(list, map[string]any{"InstanceId": in.Filters[0].Values[0], "PingStatus": si.ping, "PlatformType": "Linux",
					"PlatformName": "Amazon Linux", "AgentVersion": "3.3.0.0", "LastPingDateTime": 1.7734e9})
			}
			jsonOut(map[string]any{"InstanceInformationList": list})
			return true
		case "SendCommand":
			body, _ := io.ReadAll(r.Body)
			var in struct{ Parameters map[string][]string }
			json.Unmarshal(body, &in)
			script := strings.Join(in.Parameters["commands"], "\n")
			si.sent = append(si.sent, script)
			if m := partURL.FindStringSubmatch(script); m != nil {
				si.putURL = m[1]
			}
			if m := scriptURL.FindStringSubmatch(script); m != nil {
				si.toolURL = m[1]
			}
			if si.status == "Success" {
				cmd := exec.Command("bash", "-c", script)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				cmd.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=")
				err := cmd.Run()
				si.ran, si.ranErr, si.exit = stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
				if err != nil && si.exit == 0 {
					si.exit, si.ranErr = -1, err.Error()
				}
			}
			return false // moto records the command
		case "GetCommandInvocation":
			var in struct{ CommandId, InstanceId string }
			body, _ := io.ReadAll(r.Body)
			json.Unmarshal(body, &in)
			si.answered++
			status, stdout, stderr := si.status, "", si.ranErr
			if status == "Success" {
				if si.exit != 0 {
					status = "Failed"
					// as PowerShell does: the failing line, the literal URL in it
					stderr += "At line:7 char:3\n+   Invoke-WebRequest -UseBasicParsing -Uri '" + si.toolURL + "' -OutFile x\n"
				}
				// a verbose tool echoing the URL: it must not reach the case
				stdout = si.ran + "upload to " + si.putURL + "\n"
			}
			jsonOut(map[string]any{"CommandId": in.CommandId, "InstanceId": in.InstanceId, "DocumentName": "AWS-RunShellScript", "PluginName": "aws:runShellScript",
				"ResponseCode": si.exit, "Status": status, "StatusDetails": status, "StandardOutputContent": stdout, "StandardErrorContent": stderr})
			return true
		}
		return false
	}
}

// seedForensics makes the instance under investigation (its root volume
// and an aws/ebs-encrypted data volume at /dev/sdg), a forensic instance
// in the same zone, a customer-managed key whose policy names the
// forensic account, and the memory bucket.
func seedForensics(t *testing.T, c *Clients) (instance, forensic, cmk, encVol string) {
	t.Helper()
	ctx := context.Background()
	e := c.EC2.(*ec2.Client)
	run := func() string {
		out, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			Placement: &ec2types.Placement{AvailabilityZone: aws.String("us-east-1a")}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	instance, forensic = run(), run()
	v, err := e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), Encrypted: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	encVol = aws.ToString(v.VolumeId)
	if _, err := e.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: v.VolumeId, InstanceId: aws.String(instance), Device: aws.String("/dev/sdg")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + forensicAccount + `:root"},"Action":["kms:Decrypt","kms:CreateGrant","kms:DescribeKey"],"Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`
	k, err := c.Forensic.KMS.(*kms.Client).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("forensics"), Policy: aws.String(policy)})
	if err != nil {
		t.Fatal(err)
	}
	cmk = aws.ToString(k.KeyMetadata.KeyId)
	if _, err := c.Forensic.S3.(*s3.Client).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatal(err)
	}
	return instance, forensic, cmk, encVol
}

func snapshotsOf(t *testing.T, c *Clients, filters ...ec2types.Filter) []ec2types.Snapshot {
	t.Helper()
	out, err := c.Forensic.EC2.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	return out.Snapshots
}

func tagsOf(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func apis(p *Plan) string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.API)
	}
	return strings.Join(out, ",")
}

// TestCollectRoundTrip plans, applies and undoes collect instance with
// memory, sharing and forensic volumes on moto, checked by the emulator's
// state: the snapshots exist with their tags; the aws/ebs one was copied
// under the customer-managed key and the copy (not the original) shared;
// createVolumePermission names the forensic account; volumes made from
// them are attached to the forensic instance; the memory image is in S3
// with the instance's hash recorded and no signature anywhere. Undo
// unshares, detaches and deletes the copies' volumes, and keeps every
// snapshot.
func TestCollectRoundTrip(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	// a little over 5 MiB: two parts of 5 MiB, S3's smallest
	memory := bytes.Repeat([]byte("RAM!"), (5<<20+64<<10)/4)
	si := &ssmInstance{ping: "Online", status: "Success"}
	front := awstest.Front(t, moto.URL, si.answer(t))
	tool := fakeTool(t, memory)
	clock := &fakeClock{now: t0}
	c := forensicClientsFor(front.URL, clock)
	instance, forensic, cmk, encVol := seedForensics(t, c)

	p, err := Begin(ctx, c, "case-1", "instance "+instance, t0)
	if err != nil {
		t.Fatal(err)
	}
	col, err := PlanCollect(ctx, c, p, instance, CollectOptions{Memory: true, MemoryToolURL: tool + "/avml", MemoryBucket: "evidence", MemoryPrefix: "mem/",
		MemoryWorkDir: t.TempDir(), MemorySizeGiB: 1, MemoryPartMiB: 5, ForensicAccount: forensicAccount, KMSKey: cmk, ForensicInstance: forensic})
	if err != nil {
		t.Fatal(err)
	}
	// the root volume is deleted with the instance unless told otherwise:
	// kept first, before the memory capture that may take an hour
	want := "ModifyInstanceAttribute,SendCommand,CreateSnapshot,CreateSnapshot,ModifySnapshotAttribute,CopySnapshot,ModifySnapshotAttribute,CreateVolume,AttachVolume,CreateVolume,AttachVolume"
	if got := apis(p); got != want {
		t.Fatalf("steps %s\nwant  %s", got, want)
	}
	if len(col.Volumes) != 2 || col.Volumes[1].VolumeID != encVol || !col.Volumes[1].AWSManagedKey || col.Volumes[0].AWSManagedKey || col.Memory.Tool != ToolAVML {
		t.Errorf("collection %+v", col)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, w := range []string{"cannot be shared: its snapshot is copied under " + cmk, "its key policy names the account", "mount -o ro,noload",
		"WARNING: bucket evidence has neither versioning nor Object Lock", "computed by the instance under investigation"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
	if m := memoryStep(p); !strings.Contains(m.Effect, "THIS CHANGES THE INSTANCE") {
		t.Errorf("the memory step does not say it changes the instance: %s", m.Effect)
	}
	if len(snapshotsOf(t, c, tagFilter(CaseTag, "case-1"))) != 0 || len(si.sent) != 0 {
		t.Fatal("planning changed something")
	}

	log := &memLog{}
	res := apply(t, c, p, log, "collect")
	if len(res.Applied()) != len(p.Steps) {
		t.Fatalf("applied %v", res.Outcomes)
	}
	if si.exit != 0 || len(si.sent) != 1 || strings.Count(si.ran, "harrier-part: ") != 2 {
		t.Fatalf("the instance's capture: exit %d (%d commands)\n%s%s", si.exit, len(si.sent), si.ran, si.ranErr)
	}
	// every volume now outlives the instance
	for _, v := range col.Volumes {
		if st, err := readInstanceAttribute(ctx, c, map[string]string{"InstanceId": instance, "Attribute": blockDeviceMapping, "DeviceName": v.Device}); err != nil || st["value"] != "false" {
			t.Errorf("volume %s (%s) DeleteOnTermination: %v %v", v.VolumeID, v.Device, st, err)
		}
	}
	// memory: the object is in S3; the recorded hash is the instance's
	head, err := c.Forensic.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("evidence"), Key: aws.String("mem/case-1/" + instance + "/" + p.ID + "/mem.lime")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(memory)) {
		t.Fatalf("memory image in S3: %v %+v", err, head)
	}
	// snapshots with their tags, one per volume, plus the copy
	taken := snapshotsOf(t, c, tagFilter(TagRun, p.ID))
	if len(taken) != 3 {
		t.Fatalf("%d snapshots of the run, want 2 and a copy", len(taken))
	}
	shared := 0
	for _, s := range taken {
		tags := tagsOf(s.Tags)
		if tags[CaseTag] != "case-1" || tags[TagInstance] != instance || tags[TagTime] != "2026-03-14T10:00:00Z" || tags[TagDevice] == "" {
			t.Errorf("snapshot %s tags %v", aws.ToString(s.SnapshotId), tags)
		}
		st, err := readVolumePermission(ctx, c, map[string]string{"SnapshotId": aws.ToString(s.SnapshotId)})
		if err != nil {
			t.Fatal(err)
		}
		isCopy := tags[TagCopyOf] != ""
		encOriginal := aws.ToString(s.VolumeId) == encVol && !isCopy
		switch {
		case encOriginal && len(st) != 0:
			t.Errorf("the aws/ebs snapshot %s is shared: %v", aws.ToString(s.SnapshotId), st)
		case !encOriginal && st["create_volume_permission"] != forensicAccount:
			t.Errorf("snapshot %s not shared with the forensic account: %v", aws.ToString(s.SnapshotId), st)
		case !encOriginal:
			shared++
		}
		if isCopy && !strings.HasSuffix(aws.ToString(s.KmsKeyId), cmk) {
			t.Errorf("the copy's key is %s, want %s", aws.ToString(s.KmsKeyId), cmk)
		}
	}
	if shared != 2 {
		t.Errorf("%d snapshots shared, want 2", shared)
	}
	// forensic volumes attached to the forensic instance
	vols, err := c.Forensic.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{tagFilter(TagRun, p.ID)}})
	if err != nil || len(vols.Volumes) != 2 {
		t.Fatalf("forensic volumes: %v %d", err, len(vols.Volumes))
	}
	devices := map[string]bool{}
	for _, v := range vols.Volumes {
		if len(v.Attachments) != 1 || aws.ToString(v.Attachments[0].InstanceId) != forensic {
			t.Errorf("volume %s attachments %+v", aws.ToString(v.VolumeId), v.Attachments)
		} else {
			devices[aws.ToString(v.Attachments[0].Device)] = true
		}
	}
	if !devices["/dev/sdf"] || !devices["/dev/sdg"] {
		t.Errorf("devices %v", devices)
	}
	// no secret in the audit log
	for _, r := range log.recs {
		if bytes.Contains(r, []byte("X-Amz-Signature=")) && !bytes.Contains(r, []byte("X-Amz-Signature=REDACTED")) {
			t.Errorf("a presigned signature in the audit log: %s", r)
		}
	}
	col.Finish(ctx, c, log.actions(t))
	sum := sha256.Sum256(memory)
	m := col.Memory
	// the tool binary the instance ran is on record
	resp, err := http.Get(tool + "/avml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if toolSum := sha256.Sum256(body); m.ToolSHA256 != hex.EncodeToString(toolSum[:]) || !strings.Contains(m.Stdout, "harrier-tool-sha256: "+m.ToolSHA256) {
		t.Errorf("tool sha256 %q, want %x", m.ToolSHA256, toolSum)
	}
	if m.ETag == "" || !strings.HasSuffix(m.ETag, "-2") {
		t.Errorf("S3's ETag of the two-part upload: %q", m.ETag)
	}
	if m.SHA256 != hex.EncodeToString(sum[:]) || m.ObjectBytes != fmt.Sprint(len(memory)) || m.Status != "Success" || len(m.Volatility) == 0 ||
		!strings.Contains(m.Stdout, "X-Amz-Signature=REDACTED") || strings.Contains(m.Stdout, si.putURL) {
		t.Errorf("memory record %+v", m)
	}
	b, _ := json.Marshal(col)
	if u, _ := url.Parse(si.putURL); u == nil || bytes.Contains(b, []byte(u.Query().Get("X-Amz-Signature"))) {
		t.Error("the presigned URL's signature is in the record")
	}
	for _, v := range col.Volumes {
		if v.SnapshotID == "" || v.SnapshotState != "completed" || v.SharedWith != forensicAccount || v.ForensicVolumeID == "" {
			t.Errorf("volume record %+v", v)
		}
	}
	if len(col.Problems) != 0 {
		t.Errorf("problems %v", col.Problems)
	}

	up := undoRun(t, c, log, p.ID)
	if got := apis(up); got != "DetachVolume,DeleteVolume,DetachVolume,DeleteVolume,ModifySnapshotAttribute,ModifySnapshotAttribute,ModifyInstanceAttribute" {
		t.Errorf("undo steps %s", got)
	}
	undoNotes := strings.Join(up.Notes, "\n")
	if strings.Count(undoNotes, "kept: the snapshot is evidence") != 3 || !strings.Contains(undoNotes, "a memory capture cannot be undone") {
		t.Errorf("undo notes:\n%s", undoNotes)
	}
	if n := len(snapshotsOf(t, c, tagFilter(TagRun, p.ID))); n != 3 {
		t.Errorf("undo left %d snapshots, want the 3 kept", n)
	}
	if vols, _ := c.Forensic.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{tagFilter(TagRun, p.ID)}}); len(vols.Volumes) != 0 {
		t.Errorf("undo left %d forensic volumes", len(vols.Volumes))
	}
	for _, s := range taken {
		if st, _ := readVolumePermission(ctx, c, map[string]string{"SnapshotId": aws.ToString(s.SnapshotId)}); len(st) != 0 {
			t.Errorf("snapshot %s still shared: %v", aws.ToString(s.SnapshotId), st)
		}
	}
}

// memoryStep is the plan's memory capture (ssm:SendCommand), wherever it
// is in the order; a zero step when there is none.
func memoryStep(p *Plan) Step {
	for _, s := range p.Steps {
		if s.Op == "ssm:SendCommand" {
			return s
		}
	}
	return Step{}
}
