package respond

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// seedInstance makes a VPC with a subnet, an Auto Scaling group of one
// instance registered in a target group, a neighbour instance in the same
// subnet, and an instance profile on the instance.
func seedInstance(t *testing.T, c *Clients) (instance, subnet, sg string) {
	t.Helper()
	ctx := context.Background()
	e := c.EC2.(*ec2.Client)
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	sn, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.1.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	subnet = aws.ToString(sn.Subnet.SubnetId)
	g, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpcID), GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	sg = aws.ToString(g.GroupId)
	as := c.AutoScaling.(*autoscaling.Client)
	if _, err := as.CreateLaunchConfiguration(ctx, &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("web"),
		ImageId: aws.String("ami-12c6146b"), InstanceType: aws.String("t3.micro"), SecurityGroups: []string{sg}}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-asg"), LaunchConfigurationName: aws.String("web"),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1), VPCZoneIdentifier: aws.String(subnet)}); err != nil {
		t.Fatal(err)
	}
	out, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web-asg"}})
	if err != nil || len(out.AutoScalingGroups) != 1 || len(out.AutoScalingGroups[0].Instances) != 1 {
		t.Fatalf("ASG: %v %+v", err, out)
	}
	instance = aws.ToString(out.AutoScalingGroups[0].Instances[0].InstanceId)
	if _, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet)}); err != nil {
		t.Fatal(err)
	}
	lb := c.ELB.(*elb.Client)
	tg, err := lb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web-tg"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String(vpcID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroups[0].TargetGroupArn, Targets: []elbtypes.TargetDescription{{Id: aws.String(instance), Port: aws.Int32(80)}}}); err != nil {
		t.Fatal(err)
	}
	ip, err := c.IAM.(*iam.Client).CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(instance), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: ip.InstanceProfile.Arn}}); err != nil {
		t.Fatal(err)
	}
	return instance, subnet, sg
}

// enisWithGroup counts the instance's interfaces that carry a security
// group, by the group-id filter. Where moto falls short: its interface
// description reports the groups the instance was launched with besides
// the interface's own (moto/ec2/models/elastic_network_interfaces.py,
// NetworkInterface.group_set), which AWS does not; its group-id filter
// reads the interface's own groups, which ModifyNetworkInterfaceAttribute
// replaces, as AWS does.
func enisWithGroup(t *testing.T, c *Clients, instance, group string) int {
	t.Helper()
	out, err := c.EC2.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{instance}}, {Name: aws.String("group-id"), Values: []string{group}}}})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.NetworkInterfaces)
}

// TestInstanceContainRoundTrip isolates an instance on moto (every step,
// --nacl and --detach-profile included), checks the emulator's state, and
// undoes the whole run.
func TestInstanceContainRoundTrip(t *testing.T) {
	srv := awstest.Moto(t).URL
	ctx := context.Background()
	c := clientsFor(srv)
	instance, subnet, sg := seedInstance(t, c)
	aclBefore, _, err := subnetACL(ctx, c, subnet)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Begin(ctx, c, "case-1", "instance "+instance, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := PlanInstance(ctx, c, p, instance, InstanceOptions{NACL: true, DetachProfile: true}); err != nil {
		t.Fatal(err)
	}
	var apis []string
	for _, s := range p.Steps {
		apis = append(apis, s.API)
	}
	want := "CreateTags,ModifyInstanceAttribute,ModifyInstanceAttribute,EnterStandby,DeregisterTargets,CreateSecurityGroup,RevokeSecurityGroupEgress," +
		"ModifyNetworkInterfaceAttribute,DisassociateIamInstanceProfile,CreateNetworkAcl,ReplaceNetworkAclAssociation"
	if got := strings.Join(apis, ","); got != want {
		t.Fatalf("steps\n got %s\nwant %s", got, want)
	}
	if len(p.Neighbours) != 1 || !strings.Contains(strings.Join(p.Notes, "\n"), "tracked") || !strings.Contains(strings.Join(p.Notes, "\n"), "COLLECT FIRST") {
		t.Errorf("blast radius %v, notes %v", p.Neighbours, p.Notes)
	}
	log := &memLog{}
	apply(t, c, p, log, "contain")

	// the emulator's state: only the isolation group, with no rules
	acts := log.actions(t)
	byAPI := map[string]Action{}
	for _, a := range acts {
		byAPI[a.API] = a
	}
	iso := byAPI["CreateSecurityGroup"].Outputs["GroupId"]
	if got := enisWithGroup(t, c, instance, iso); got != 1 {
		t.Errorf("%d interfaces carry the isolation group, want 1", got)
	}
	if got := enisWithGroup(t, c, instance, sg); got != 0 {
		t.Errorf("%d interfaces still carry the original group", got)
	}
	g, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{iso}})
	if err != nil || len(g.SecurityGroups[0].IpPermissions) != 0 || len(g.SecurityGroups[0].IpPermissionsEgress) != 0 {
		t.Errorf("isolation group has rules: %v %+v", err, g)
	}
	for attr, want := range map[string]string{"disableApiTermination": "true", "instanceInitiatedShutdownBehavior": "stop"} {
		if s, _ := readInstanceAttribute(ctx, c, map[string]string{"InstanceId": instance, "Attribute": attr}); s["value"] != want {
			t.Errorf("%s = %v", attr, s)
		}
	}
	if s, _ := readScaling(ctx, c, map[string]string{"InstanceId": instance}); s["lifecycle_state"] != "Standby" {
		t.Errorf("ASG: %v", s)
	}
	if s, _ := readTag(ctx, c, map[string]string{"ResourceId": instance, "Key": CaseTag}); s["tag"] != "case-1" {
		t.Errorf("tag: %v", s)
	}
	if s, _ := readTarget(ctx, c, byAPI["DeregisterTargets"].Request); len(s) != 0 && s["target"] != "draining" {
		t.Errorf("target: %v", s)
	}
	if s, _ := readProfileAssociation(ctx, c, map[string]string{"InstanceId": instance}); len(s) != 0 {
		t.Errorf("profile: %v", s)
	}
	if acl, _, _ := subnetACL(ctx, c, subnet); acl != byAPI["CreateNetworkAcl"].Outputs["NetworkAclId"] {
		t.Errorf("subnet ACL %s", acl)
	}

	undoRun(t, c, log, p.ID)
	if got := enisWithGroup(t, c, instance, sg); got != 1 {
		t.Errorf("after undo %d interfaces carry the original group, want 1", got)
	}
	if s, _ := readGroup(ctx, c, map[string]string{"GroupId": iso}); len(s) != 0 {
		t.Errorf("the isolation group survived the undo")
	}
	if acl, _, _ := subnetACL(ctx, c, subnet); acl != aclBefore {
		t.Errorf("subnet ACL after undo %s, want %s", acl, aclBefore)
	}
	if s, _ := readScaling(ctx, c, map[string]string{"InstanceId": instance}); s["lifecycle_state"] != "InService" {
		t.Errorf("ASG after undo: %v", s)
	}
	if s, _ := readTarget(ctx, c, byAPI["DeregisterTargets"].Request); s["target"] != "registered" {
		t.Errorf("target after undo: %v", s)
	}
	if s, _ := readProfileAssociation(ctx, c, map[string]string{"InstanceId": instance}); s["profile"] == "" {
		t.Errorf("profile after undo: %v", s)
	}
	if s, _ := readTag(ctx, c, map[string]string{"ResourceId": instance, "Key": CaseTag}); len(s) != 0 {
		t.Errorf("tag after undo: %v", s)
	}
	// every attribute as planned before (moto launches with shutdown
	// behaviour stop already: that step was skipped, not undone)
	for _, st := range p.Steps[1:3] {
		if s, _ := readInstanceAttribute(ctx, c, st.Params); !s.Equal(st.Before) {
			t.Errorf("after undo %s = %v, was %v", st.Params["Attribute"], s, st.Before)
		}
	}
}

// TestInstanceNACLEverySubnet: an instance with a second interface in
// another subnet is cut off in both: each subnet gets the deny-all ACL,
// each interface the isolation group, and undo gives both subnets their
// ACLs back.
func TestInstanceNACLEverySubnet(t *testing.T) {
	srv := awstest.Moto(t).URL
	ctx := context.Background()
	c := clientsFor(srv)
	instance, subnet, _ := seedInstance(t, c)
	e := c.EC2.(*ec2.Client)
	sub, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil {
		t.Fatal(err)
	}
	sn2, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: sub.Subnets[0].VpcId, CidrBlock: aws.String("10.1.2.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(sn2.Subnet.SubnetId)
	eni, err := e.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{InstanceId: aws.String(instance), NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId, DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, sn := range []string{subnet, second} {
		acl, _, err := subnetACL(ctx, c, sn)
		if err != nil {
			t.Fatal(err)
		}
		before[sn] = acl
	}
	p, err := Begin(ctx, c, "case-1", "instance "+instance, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := PlanInstance(ctx, c, p, instance, InstanceOptions{NACL: true}); err != nil {
		t.Fatal(err)
	}
	var subnets []string
	for _, s := range p.Steps {
		if s.API == "ReplaceNetworkAclAssociation" {
			subnets = append(subnets, s.Resource)
		}
	}
	if strings.Join(subnets, ",") != subnet+","+second {
		t.Fatalf("the deny-all ACL is planned for %v, want both subnets %s and %s", subnets, subnet, second)
	}
	log := &memLog{}
	apply(t, c, p, log, "contain")
	var deny string
	for _, a := range log.actions(t) {
		if a.API == "CreateNetworkAcl" {
			deny = a.Outputs["NetworkAclId"]
		}
	}
	for _, sn := range []string{subnet, second} {
		if acl, _, _ := subnetACL(ctx, c, sn); acl != deny {
			t.Errorf("subnet %s has ACL %s, want the deny-all %s", sn, acl, deny)
		}
	}
	undoRun(t, c, log, p.ID)
	for _, sn := range []string{subnet, second} {
		if acl, _, _ := subnetACL(ctx, c, sn); acl != before[sn] {
			t.Errorf("after undo subnet %s has ACL %s, want %s", sn, acl, before[sn])
		}
	}
}
