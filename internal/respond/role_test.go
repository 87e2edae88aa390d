package respond

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// TestRoleContainRoundTrip: an earlier revocation's time moves to now, the
// role leaves its instance profile, the sessions issued before now are
// reported; undo restores the earlier revocation and the profile.
func TestRoleContainRoundTrip(t *testing.T) {
	srv := awstest.Moto(t)
	ctx := context.Background()
	c := clientsFor(srv.URL)
	ic := c.IAM.(*iam.Client)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	old := RevokeBefore(t0.Add(-24 * time.Hour))
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String(RevokePolicyName), PolicyDocument: aws.String(old)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app-profile")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	p, err := Begin(ctx, c, "case-1", "role app", t0)
	if err != nil {
		t.Fatal(err)
	}
	sessions := []Session{
		{ARN: "arn:aws:sts::123456789012:assumed-role/app/late", Issued: t0.Add(time.Hour)},
		{ARN: "arn:aws:sts::123456789012:assumed-role/app/b", Issued: t0.Add(-time.Hour), SourceIPs: []string{"203.0.113.9"}},
		{ARN: "arn:aws:sts::123456789012:assumed-role/app/a", Issued: t0.Add(-2 * time.Hour)},
	}
	if err := PlanRole(ctx, c, p, "app", RoleOptions{Now: t0, DetachProfiles: true, Sessions: sessions}); err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 2 || p.Steps[0].API != "PutRolePolicy" || p.Steps[1].API != "RemoveRoleFromInstanceProfile" {
		t.Fatalf("steps %+v", p.Steps)
	}
	if len(p.Sessions) != 2 || p.Sessions[0].ARN != sessions[2].ARN {
		t.Errorf("sessions cut off: %+v", p.Sessions)
	}
	log := &memLog{}
	apply(t, c, p, log, "contain")
	doc := func() string {
		out, err := ic.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String(RevokePolicyName)})
		if err != nil {
			t.Fatal(err)
		}
		return CanonicalPolicy(aws.ToString(out.PolicyDocument))
	}
	if doc() != CanonicalPolicy(RevokeBefore(t0)) {
		t.Errorf("revocation: %s", doc())
	}
	if s, _ := readRoleInProfile(ctx, c, map[string]string{"RoleName": "app", "InstanceProfileName": "app-profile"}); s["role_in_profile"] != "false" {
		t.Errorf("profile: %v", s)
	}
	undoRun(t, c, log, p.ID)
	if doc() != CanonicalPolicy(old) {
		t.Errorf("undo did not restore the earlier revocation: %s", doc())
	}
	if s, _ := readRoleInProfile(ctx, c, map[string]string{"RoleName": "app", "InstanceProfileName": "app-profile"}); s["role_in_profile"] != "true" {
		t.Errorf("profile after undo: %v", s)
	}
}
