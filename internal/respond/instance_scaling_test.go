package respond

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// scalingFront answers as AWS does where moto does not: EnterStandby with
// the desired capacity decremented below the group's minimum is refused
// with Auto Scaling's ValidationError (moto allows it), and, once drain is
// set, DescribeTargetHealth of the drained group says the instance is
// draining (AWS's answer while a deregistration is in progress).
type scalingFront struct {
	mu      sync.Mutex
	moto    *autoscaling.Client
	drained string // a target group ARN
	id      string // its instance
}

func (f *scalingFront) answer(w http.ResponseWriter, r *http.Request, op string) bool {
	r.ParseForm()
	switch op {
	case "EnterStandby":
		name := r.PostForm.Get("AutoScalingGroupName")
		out, err := f.moto.DescribeAutoScalingGroups(r.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
		if err != nil || len(out.AutoScalingGroups) != 1 {
			return false
		}
		g := out.AutoScalingGroups[0]
		if aws.ToInt32(g.DesiredCapacity)-1 < aws.ToInt32(g.MinSize) && r.PostForm.Get("ShouldDecrementDesiredCapacity") == "true" {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>ValidationError</Code>` +
				`<Message>AutoScalingGroup ` + name + ` has min-size=1, max-size=2, and desired-size=1. To place into standby 1 instances, please update the AutoScalingGroup sizes appropriately.</Message>` +
				`</Error><RequestId>7c6e</RequestId></ErrorResponse>`))
			return true
		}
	case "DescribeTargetHealth":
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.drained != "" && r.PostForm.Get("TargetGroupArn") == f.drained {
			w.Header().Set("Content-Type", "text/xml")
			w.Write([]byte(`<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions>` +
				`<member><Target><Id>` + f.id + `</Id><Port>80</Port></Target><HealthCheckPort>80</HealthCheckPort><TargetHealth><State>draining</State>` +
				`<Reason>Target.DeregistrationInProgress</Reason><Description>Target deregistration is in progress</Description></TargetHealth></member>` +
				`</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>9a1b</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`))
			return true
		}
	}
	return false
}

// TestInstanceStandbyAtMinimum: an instance alone in a group at its
// minimum, behind the group's target group and another one. The plan
// lowers the minimum first (AWS refuses standby otherwise, as the front
// does), leaves the group's target group to standby, and a target found
// draining at apply is taken as done, not as a changed state. Undo puts
// the instance back in service and the minimum back.
func TestInstanceStandbyAtMinimum(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	f := &scalingFront{moto: autoscaling.NewFromConfig(awstest.Config(moto.URL))}
	front := awstest.Front(t, moto.URL, f.answer)
	c := clientsFor(front.URL)
	e := c.EC2.(*ec2.Client)
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.2.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	lb := c.ELB.(*elb.Client)
	tg := func(name string) string {
		out, err := lb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: "HTTP", Port: aws.Int32(80), VpcId: vpc.Vpc.VpcId})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	asgTG, otherTG := tg("asg-tg"), tg("other-tg")
	as := c.AutoScaling.(*autoscaling.Client)
	if _, err := as.CreateLaunchConfiguration(ctx, &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("app"),
		ImageId: aws.String("ami-12c6146b"), InstanceType: aws.String("t3.micro")}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("app-asg"), LaunchConfigurationName: aws.String("app"),
		MinSize: aws.Int32(1), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1), VPCZoneIdentifier: sn.Subnet.SubnetId, TargetGroupARNs: []string{asgTG}}); err != nil {
		t.Fatal(err)
	}
	group := func() (minSize, desired int32, state string) {
		out, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"app-asg"}})
		if err != nil || len(out.AutoScalingGroups[0].Instances) != 1 {
			t.Fatalf("ASG: %v %+v", err, out)
		}
		g := out.AutoScalingGroups[0]
		return aws.ToInt32(g.MinSize), aws.ToInt32(g.DesiredCapacity), string(g.Instances[0].LifecycleState)
	}
	out, _ := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"app-asg"}})
	instance := aws.ToString(out.AutoScalingGroups[0].Instances[0].InstanceId)
	for _, arn := range []string{asgTG, otherTG} {
		if _, err := lb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: []elbtypes.TargetDescription{{Id: aws.String(instance), Port: aws.Int32(80)}}}); err != nil {
			t.Fatal(err)
		}
	}

	p, err := Begin(ctx, c, "case-1", "instance "+instance, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := PlanInstance(ctx, c, p, instance, InstanceOptions{}); err != nil {
		t.Fatal(err)
	}
	var deregistered []string
	for _, s := range p.Steps {
		if s.API == "DeregisterTargets" {
			deregistered = append(deregistered, s.Params["TargetGroupArn"])
		}
	}
	if got := apis(p); !strings.Contains(got, "UpdateAutoScalingGroup,EnterStandby,DeregisterTargets,") || len(deregistered) != 1 || deregistered[0] != otherTG {
		t.Fatalf("steps %s, deregistered from %v", got, deregistered)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "asg-tg is its Auto Scaling group's") {
		t.Errorf("notes %v", p.Notes)
	}
	// between plan and apply, the other group's target starts draining
	f.mu.Lock()
	f.drained, f.id = otherTG, instance
	f.mu.Unlock()
	log := &memLog{}
	res := apply(t, c, p, log, "contain")
	for _, o := range res.Outcomes {
		if o.Step.API == "DeregisterTargets" && (o.Status != "skipped" || !strings.Contains(o.Note, "already in effect")) {
			t.Errorf("the draining target: %s %s", o.Status, o.Note)
		}
	}
	if lo, desired, state := group(); lo != 0 || desired != 0 || state != "Standby" {
		t.Errorf("after apply: min %d, desired %d, %s", lo, desired, state)
	}
	f.mu.Lock()
	f.drained = ""
	f.mu.Unlock()
	undoRun(t, c, log, p.ID)
	if lo, desired, state := group(); lo != 1 || desired != 1 || state != "InService" {
		t.Errorf("after undo: min %d, desired %d, %s", lo, desired, state)
	}
}
