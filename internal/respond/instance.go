package respond

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// CaseTag is the tag key an instance under containment carries, its value
// the case id: whoever looks at the instance sees why it is isolated.
const CaseTag = "harrier:case"

// InstanceOptions tune an instance's containment.
type InstanceOptions struct {
	// NACL also replaces the subnet's network ACL with a deny-all one: it
	// cuts tracked connections a security group change leaves open, and
	// every other interface in the subnet (listed in Plan.Neighbours).
	NACL bool
	// DetachProfile takes the instance's IAM instance profile away.
	DetachProfile bool
}

// PlanInstance plans an EC2 instance's containment: tag it with the case;
// termination protection on and shutdown behaviour stop (so that its disk
// survives); out of Auto Scaling (standby) and load balancer target groups;
// a new security group with no rules at all, in the instance's VPC, made
// the only group of every network interface (the original groups are
// recorded for undo); optionally the instance profile detached and the
// subnet's network ACL replaced with a deny-all one.
func PlanInstance(ctx context.Context, c *Clients, p *Plan, id string, o InstanceOptions) error {
	if c.EC2 == nil {
		return fmt.Errorf("ec2: %w", ErrNoClient)
	}
	if err := p.checkSelfInstance(id); err != nil {
		return err
	}
	out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if isCode(err, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed") {
		return fmt.Errorf("instance %s: %w in %s", id, ErrNotFound, p.Region)
	}
	if err != nil {
		return fmt.Errorf("instance %s (ec2:DescribeInstances): %w", id, err)
	}
	var inst *ec2types.Instance
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == id {
				inst = &r.Instances[i]
			}
		}
	}
	if inst == nil {
		return fmt.Errorf("instance %s: %w in %s", id, ErrNotFound, p.Region)
	}
	vpc, subnet := aws.ToString(inst.VpcId), aws.ToString(inst.SubnetId)
	if vpc == "" {
		return fmt.Errorf("instance %s is not in a VPC (EC2-Classic): harrier isolates VPC instances only", id)
	}
	if inst.State != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("instance %s is %s, in %s, subnet %s", id, inst.State.Name, vpc, subnet))
	}
	steps := []Step{
		{Op: "ec2:CreateTags", Resource: id, Params: map[string]string{"ResourceId": id, "Key": CaseTag, "Value": p.Case},
			After: State{"tag": p.Case}, Effect: "tag the instance with the case id", Undo: "remove the tag (or restore its old value)"},
		{Op: "ec2:ModifyInstanceAttribute", Resource: id, Params: map[string]string{"InstanceId": id, "Attribute": "disableApiTermination", "Value": "true"},
			After: State{"value": "true"}, Effect: "enable termination protection", Undo: "set it back"},
		{Op: "ec2:ModifyInstanceAttribute", Resource: id, Params: map[string]string{"InstanceId": id, "Attribute": "instanceInitiatedShutdownBehavior", "Value": "stop"},
			After: State{"value": "stop"}, Effect: "make a shutdown from inside stop the instance, not terminate it (its disks are evidence)", Undo: "set it back"},
	}
	for _, s := range steps {
		if err := p.AddStep(ctx, c, s); err != nil {
			return err
		}
	}
	asgTargets, err := planScaling(ctx, c, p, id)
	if err != nil {
		return err
	}
	if err := planTargets(ctx, c, p, id, asgTargets); err != nil {
		return err
	}
	// the isolation group: created at apply time, so its id comes from that step
	name := "harrier-isolation-" + p.ID
	sg := p.Add(Step{Op: "ec2:CreateSecurityGroup", Resource: vpc, Params: map[string]string{"VpcId": vpc, "GroupName": name,
		"Description": "harrier isolation for case " + p.Case + ": no inbound, no outbound", "Case": p.Case},
		Before: State{}, After: State{"group": "present"}, Effect: "create the isolation security group " + name + " in " + vpc,
		Undo: "delete it (after the interfaces have their groups back)"})
	sgID := sg.ID
	p.Add(Step{Op: "ec2:RevokeSecurityGroupEgress", Resource: name, Params: map[string]string{"IpPermissions": "all"}, From: map[string]string{"GroupId": sgID + ".GroupId"},
		After: State{}, Effect: "remove the new group's default allow-all egress: the group allows nothing, either way",
		Undo: "allow the revoked rules again"})
	var enis []ec2types.InstanceNetworkInterface
	enis = append(enis, inst.NetworkInterfaces...)
	sort.Slice(enis, func(i, j int) bool {
		return aws.ToString(enis[i].NetworkInterfaceId) < aws.ToString(enis[j].NetworkInterfaceId)
	})
	for _, n := range enis {
		eni := aws.ToString(n.NetworkInterfaceId)
		s := Step{Op: "ec2:ModifyNetworkInterfaceAttribute", Resource: eni, Params: map[string]string{"NetworkInterfaceId": eni},
			From: map[string]string{"Groups": sgID + ".GroupId"}, Effect: "make the isolation group the interface's only security group",
			Undo: "give the interface its original groups back"}
		if err := p.AddStep(ctx, c, s); err != nil {
			return err
		}
	}
	if len(enis) == 0 {
		p.Notes = append(p.Notes, "the instance has no network interface to isolate")
	}
	p.Notes = append(p.Notes, "COLLECT FIRST: the isolation group allows no egress (and --detach-profile removes the instance's credentials), so the SSM agent loses its endpoints and harrier collect instance --memory cannot reach the instance afterwards; capture memory before containing (disk snapshots work either way)")
	p.Notes = append(p.Notes, "a security group change does not cut connections already tracked (an attacker's open shell survives it); a network ACL does, for the whole subnet: --nacl")
	// every subnet the instance has an interface in: a second interface
	// in another subnet is another way out
	subnets := []string{subnet}
	for _, n := range enis {
		if sn := aws.ToString(n.SubnetId); sn != "" && !slices.Contains(subnets, sn) {
			subnets = append(subnets, sn)
		}
	}
	sort.Strings(subnets[1:])
	others := map[string]int{}
	for _, sn := range subnets {
		neighbours, err := subnetNeighbours(ctx, c, sn, id)
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("the other interfaces in subnet %s could not be listed: %v", sn, err))
		}
		others[sn] = len(neighbours)
		p.Neighbours = append(p.Neighbours, neighbours...)
	}
	if o.DetachProfile {
		a, err := profileAssociation(ctx, c, id)
		if err != nil {
			return fmt.Errorf("instance %s's instance profile (ec2:DescribeIamInstanceProfileAssociations): %w", id, err)
		}
		if a == nil {
			p.Notes = append(p.Notes, "the instance has no instance profile to detach")
		} else {
			if err := p.AddStep(ctx, c, Step{Op: "ec2:DisassociateIamInstanceProfile", Resource: id,
				Params: map[string]string{"InstanceId": id, "AssociationId": aws.ToString(a.AssociationId)}, After: State{},
				Effect: "detach instance profile " + aws.ToString(a.IamInstanceProfile.Arn) + " (credentials already issued stay valid until they expire: revoke the role's sessions too)",
				Undo:   "attach the instance profile again"}); err != nil {
				return err
			}
		}
	}
	if o.NACL {
		acl := p.Add(Step{Op: "ec2:CreateNetworkAcl", Resource: vpc, Params: map[string]string{"VpcId": vpc, "Case": p.Case}, Before: State{},
			Effect: "create a network ACL with only its default rules: deny all, in and out", Undo: "delete it (after the subnet has its own back)"})
		for _, sn := range subnets {
			if err := p.AddStep(ctx, c, Step{Op: "ec2:ReplaceNetworkAclAssociation", Resource: sn, Params: map[string]string{"SubnetId": sn},
				From:   map[string]string{"NetworkAclId": acl.ID + ".NetworkAclId"},
				Effect: fmt.Sprintf("associate subnet %s with the deny-all network ACL: cuts every connection of every interface in the subnet (%d others, listed)", sn, others[sn]),
				Undo:   "give the subnet its original network ACL back"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// planScaling puts the instance in standby in its Auto Scaling group, if
// it is in one, and returns the group's target groups (standby takes the
// instance out of those by itself). AWS refuses standby with the desired
// capacity decremented below the group's minimum: then the minimum is
// lowered by one first (undo restores it).
func planScaling(ctx context.Context, c *Clients, p *Plan, id string) (map[string]bool, error) {
	if c.AutoScaling == nil {
		p.Notes = append(p.Notes, "Auto Scaling not checked (no client)")
		return nil, nil
	}
	st, err := readScaling(ctx, c, map[string]string{"InstanceId": id})
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("Auto Scaling membership could not be read: %v", err))
		return nil, nil
	}
	if len(st) == 0 {
		return nil, nil
	}
	name := st["group"]
	s := Step{Op: "autoscaling:EnterStandby", Resource: id, Params: map[string]string{"AutoScalingGroupName": name, "InstanceId": id}, Before: st,
		After:  State{"group": name, "lifecycle_state": "Standby"},
		Effect: "put the instance in standby in Auto Scaling group " + name + " (desired capacity one less: it is neither replaced nor terminated; it leaves the group's target groups)",
		Undo:   "exit standby (desired capacity one more)"}
	switch st["lifecycle_state"] {
	case "InService":
	case "Standby":
		s.Skip = "already in standby"
	default:
		s.Skip = "the instance is " + st["lifecycle_state"] + " in the group: standby needs InService; detach it by hand if needed"
	}
	g, err := scalingGroup(ctx, c, name)
	if err != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("group %s's sizes and target groups could not be read (%v): standby is refused when the desired capacity is at the minimum", name, err))
		p.Add(s)
		return nil, nil
	}
	targets := map[string]bool{}
	for _, arn := range g.TargetGroupARNs {
		targets[arn] = true
	}
	if s.Skip == "" {
		minSize, desired := aws.ToInt32(g.MinSize), aws.ToInt32(g.DesiredCapacity)
		if desired-1 < minSize {
			lower := strconv.Itoa(int(desired - 1))
			if err := p.AddStep(ctx, c, Step{Op: "autoscaling:UpdateAutoScalingGroup", Resource: name,
				Params: map[string]string{"AutoScalingGroupName": name, "MinSize": lower}, After: State{"min_size": lower},
				Effect: fmt.Sprintf("lower group %s's minimum size from %d to %s: AWS refuses standby below the minimum (desired %d)", name, minSize, lower, desired),
				Undo:   fmt.Sprintf("set the minimum size back to %d", minSize)}); err != nil {
				return nil, err
			}
		}
	}
	p.Add(s)
	return targets, nil
}

// planTargets deregisters the instance from every target group it is in,
// but those of its Auto Scaling group (asgTargets): standby takes it out
// of them, and a deregistration after it would find it draining.
func planTargets(ctx context.Context, c *Clients, p *Plan, id string, asgTargets map[string]bool) error {
	if c.ELB == nil {
		p.Notes = append(p.Notes, "load balancer target groups not checked (no client)")
		return nil
	}
	var groups []elbtypes.TargetGroup
	pg := elb.NewDescribeTargetGroupsPaginator(c.ELB, &elb.DescribeTargetGroupsInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("load balancer target groups could not be listed: %v", err))
			return nil
		}
		groups = append(groups, out.TargetGroups...)
	}
	sort.Slice(groups, func(i, j int) bool {
		return aws.ToString(groups[i].TargetGroupArn) < aws.ToString(groups[j].TargetGroupArn)
	})
	for _, g := range groups {
		if g.TargetType != "" && g.TargetType != elbtypes.TargetTypeEnumInstance {
			continue
		}
		arn := aws.ToString(g.TargetGroupArn)
		out, err := c.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("target group %s could not be read: %v", arn, err))
			continue
		}
		for _, d := range out.TargetHealthDescriptions {
			if d.Target == nil || aws.ToString(d.Target.Id) != id {
				continue
			}
			if asgTargets[arn] {
				p.Notes = append(p.Notes, "target group "+aws.ToString(g.TargetGroupName)+" is its Auto Scaling group's: standby deregisters the instance from it (and exiting standby registers it again)")
				continue
			}
			port := ""
			if d.Target.Port != nil {
				port = strconv.Itoa(int(*d.Target.Port))
			}
			params := map[string]string{"TargetGroupArn": arn, "Id": id, "Port": port}
			if err := p.AddStep(ctx, c, Step{Op: "elasticloadbalancing:DeregisterTargets", Resource: arn, Params: params, After: State{},
				Effect: "deregister the instance (port " + port + ") from target group " + aws.ToString(g.TargetGroupName),
				Undo:   "register it again"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// subnetNeighbours lists the other network interfaces in a subnet: who a
// network ACL on it would cut off too.
func subnetNeighbours(ctx context.Context, c *Clients, subnet, instance string) ([]string, error) {
	var out []string
	pg := ec2.NewDescribeNetworkInterfacesPaginator(c.EC2, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{subnet}}}})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, n := range page.NetworkInterfaces {
			owner := aws.ToString(n.Description)
			if n.Attachment != nil && aws.ToString(n.Attachment.InstanceId) != "" {
				if aws.ToString(n.Attachment.InstanceId) == instance {
					continue
				}
				owner = "instance " + aws.ToString(n.Attachment.InstanceId)
			}
			out = append(out, fmt.Sprintf("%s %s (%s)", aws.ToString(n.NetworkInterfaceId), aws.ToString(n.PrivateIpAddress), owner))
		}
	}
	sort.Strings(out)
	return out, nil
}
