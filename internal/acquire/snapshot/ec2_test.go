package snapshot

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// outsider is the account a snapshot was shared with.
const outsider = "444455556666"

// ec2Seed is what seedEC2 made in us-east-1.
type ec2Seed struct {
	instance, shared, private, image string
}

// seedEC2 makes, in us-east-1, an instance, a volume with two snapshots
// (one shared with outsider), a public image of the instance (and so a
// third snapshot, of its root volume) and a key pair.
func seedEC2(t *testing.T, api *ec2.Client) ec2Seed {
	t.Helper()
	ctx := t.Context()
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var s ec2Seed
	imgs, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	fail(err)
	if len(imgs.Images) == 0 {
		t.Fatal("moto has no amazon images")
	}
	run, err := api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro})
	fail(err)
	s.instance = aws.ToString(run.Instances[0].InstanceId)
	vol, err := api.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8)})
	fail(err)
	for i, id := range []*string{&s.shared, &s.private} {
		snap, err := api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, Description: aws.String([]string{"shared", "private"}[i])})
		fail(err)
		*id = aws.ToString(snap.SnapshotId)
	}
	_, err = api.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(s.shared),
		Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeAdd, UserIds: []string{outsider}})
	fail(err)
	img, err := api.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(s.instance), Name: aws.String("evidence-ami")})
	fail(err)
	s.image = aws.ToString(img.ImageId)
	_, err = api.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: img.ImageId,
		LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{Group: types.PermissionGroupAll}}}})
	fail(err)
	_, err = api.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("intruder")})
	fail(err)
	return s
}

func TestEC2(t *testing.T) {
	srv := awstest.Moto(t)
	clients := NewClients(awstest.Config(srv.URL)).EC2
	seed := seedEC2(t, clients("us-east-1").(*ec2.Client))
	tc := newTestCase(t)
	rows, err := EC2(t.Context(), clients, testOptions("us-east-1", "eu-west-1", "us-east-1"), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Region != "eu-west-1" || rows[1].Region != "us-east-1" {
		t.Fatalf("rows = %+v, want eu-west-1 and us-east-1", rows)
	}
	us := rows[1]
	if us.Source != "ec2" || us.Exists != "yes" || len(us.Problems) != 0 ||
		!strings.Contains(us.Detail, "1 instances") || !strings.Contains(us.Detail, "3 snapshots (1 shared, 0 public)") ||
		!strings.Contains(us.Detail, "1 images (0 shared, 1 public)") || !strings.Contains(us.Detail, "1 key pairs") {
		t.Fatalf("us-east-1 row = %+v", us)
	}
	tc.checkCounts(t, us, snapPath("us-east-1", "ec2"))
	if !strings.HasPrefix(rows[0].Detail, "0 instances") {
		t.Fatalf("eu-west-1 row = %+v", rows[0])
	}

	shared := tc.readJSON(t, snapPath("us-east-1", "ec2", "snapshots", seed.shared+".json"))
	if got := dig(t, shared, "DescribeSnapshotAttribute", "CreateVolumePermissions", "0", "UserId"); got != outsider {
		t.Fatalf("the shared snapshot's permission = %v, want %s: %v", got, outsider, shared)
	}
	if dig(t, shared, "Snapshot", "Description") != "shared" {
		t.Fatalf("shared snapshot record = %v", shared)
	}
	if _, src := tc.entry(t, snapPath("us-east-1", "ec2", "snapshots", seed.shared+".json")); src.Region != "us-east-1" || src.Params["SnapshotId"] != seed.shared {
		t.Fatalf("provenance = %+v", src)
	}
	private := tc.readJSON(t, snapPath("us-east-1", "ec2", "snapshots", seed.private+".json"))
	if got := dig(t, private, "DescribeSnapshotAttribute").(map[string]any)["CreateVolumePermissions"]; got != nil && len(got.([]any)) != 0 {
		t.Fatalf("the private snapshot's permissions = %v", got)
	}
	image := tc.readJSON(t, snapPath("us-east-1", "ec2", "images", seed.image+".json"))
	if got := dig(t, image, "DescribeImageAttribute", "LaunchPermissions", "0", "Group"); got != "all" {
		t.Fatalf("the image's launch permission = %v", got)
	}
	inst := tc.readJSON(t, snapPath("us-east-1", "ec2", "DescribeInstances-0001.json"))
	if got := dig(t, inst, "Reservations", "0", "Instances", "0", "InstanceId"); got != seed.instance {
		t.Fatalf("instance = %v", got)
	}
	if got := dig(t, tc.readJSON(t, snapPath("us-east-1", "ec2", "DescribeKeyPairs.json")), "KeyPairs", "0", "KeyName"); got != "intruder" {
		t.Fatalf("key pair = %v", got)
	}
	for _, api := range []string{"DescribeSecurityGroups", "DescribeVolumes", "DescribeSnapshots", "DescribeImages", "DescribeNetworkInterfaces"} {
		tc.readJSON(t, snapPath("us-east-1", "ec2", api+"-0001.json"))
	}
}

// ec2Refusal is EC2's answer to a call the caller may not make.
const ec2Refusal = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
	`<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors>` +
	`<RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>`

func TestEC2Denied(t *testing.T) {
	srv := awstest.Moto(t)
	seed := seedEC2(t, NewClients(awstest.Config(srv.URL)).EC2("us-east-1").(*ec2.Client))
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		// eu-west-1 refuses everything; us-east-1 the snapshots' attribute
		if op != "DescribeSnapshotAttribute" && !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/ec2/") {
			return false
		}
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(ec2Refusal))
		return true
	})
	tc := newTestCase(t)
	rows, err := EC2(t.Context(), NewClients(awstest.Config(front.URL)).EC2, testOptions("us-east-1", "eu-west-1"), tc.sink)
	if err != nil {
		t.Fatal(err)
	}
	eu, us := rows[0], rows[1]
	if eu.Exists != "unknown" || len(eu.Problems) != 7 || eu.Files != 0 {
		t.Fatalf("eu-west-1 row = %+v, want unknown with 7 problems", eu)
	}
	for _, p := range eu.Problems {
		if !p.Denied || p.Region != "eu-west-1" {
			t.Fatalf("eu-west-1 problem = %+v", p)
		}
	}
	// one refusal is enough to know: the other snapshot is not asked
	if us.Exists != "yes" || len(us.Problems) != 1 || us.Problems[0].API != "DescribeSnapshotAttribute" || !us.Problems[0].Denied {
		t.Fatalf("us-east-1 row = %+v, want one denied DescribeSnapshotAttribute", us)
	}
	for _, id := range []string{seed.shared, seed.private} {
		rec := tc.readJSON(t, snapPath("us-east-1", "ec2", "snapshots", id+".json"))
		if dig(t, rec, "DescribeSnapshotAttribute", "denied") != true {
			t.Fatalf("snapshot %s record = %v", id, rec)
		}
	}
}
