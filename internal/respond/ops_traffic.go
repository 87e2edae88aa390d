package respond

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The ops that take an instance out of traffic: Auto Scaling standby,
// load balancer target groups, and a subnet's network ACL.
func init() {
	for _, api := range []string{"EnterStandby", "ExitStandby"} {
		api := api
		Register(Op{Service: "autoscaling", API: api, Read: readScaling,
			Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
				if err := c.need("autoscaling", c.AutoScaling != nil); err != nil {
					return nil, nil, err
				}
				if api == "EnterStandby" {
					// the desired capacity shrinks with it: no replacement is
					// launched, and ExitStandby (which grows it) restores it exactly
					out, err := c.AutoScaling.EnterStandby(ctx, &autoscaling.EnterStandbyInput{AutoScalingGroupName: aws.String(p["AutoScalingGroupName"]),
						InstanceIds: []string{p["InstanceId"]}, ShouldDecrementDesiredCapacity: aws.Bool(true)})
					return out, nil, err
				}
				out, err := c.AutoScaling.ExitStandby(ctx, &autoscaling.ExitStandbyInput{AutoScalingGroupName: aws.String(p["AutoScalingGroupName"]), InstanceIds: []string{p["InstanceId"]}})
				return out, nil, err
			},
			Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
				back := "ExitStandby"
				if api == "ExitStandby" {
					back = "EnterStandby"
				}
				return Step{Op: "autoscaling:" + back, Resource: p["InstanceId"], Params: map[string]string{"AutoScalingGroupName": p["AutoScalingGroupName"], "InstanceId": p["InstanceId"]},
					After: before, Effect: "put the instance back as it was in its Auto Scaling group"}, true, ""
			}})
	}
	Register(Op{Service: "autoscaling", API: "UpdateAutoScalingGroup", Read: readMinSize,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("autoscaling", c.AutoScaling != nil); err != nil {
				return nil, nil, err
			}
			n, err := strconv.Atoi(p["MinSize"])
			if err != nil {
				return nil, nil, fmt.Errorf("MinSize %q: %w", p["MinSize"], err)
			}
			out, err := c.AutoScaling.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String(p["AutoScalingGroupName"]), MinSize: aws.Int32(int32(n))})
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "autoscaling:UpdateAutoScalingGroup", Resource: p["AutoScalingGroupName"],
				Params: map[string]string{"AutoScalingGroupName": p["AutoScalingGroupName"], "MinSize": before["min_size"]},
				After:  before, Effect: "set the group's minimum size back to " + before["min_size"]}, before["min_size"] != "", ""
		}})
	for _, api := range []string{"DeregisterTargets", "RegisterTargets"} {
		api := api
		Register(Op{Service: "elasticloadbalancing", API: api, Read: readTarget,
			Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
				if err := c.need("elasticloadbalancing", c.ELB != nil); err != nil {
					return nil, nil, err
				}
				t := []elbtypes.TargetDescription{{Id: aws.String(p["Id"])}}
				if p["Port"] != "" {
					port, err := strconv.Atoi(p["Port"])
					if err != nil {
						return nil, nil, fmt.Errorf("Port %q: %w", p["Port"], err)
					}
					t[0].Port = aws.Int32(int32(port))
				}
				if api == "DeregisterTargets" {
					out, err := c.ELB.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(p["TargetGroupArn"]), Targets: t})
					return out, nil, err
				}
				out, err := c.ELB.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(p["TargetGroupArn"]), Targets: t})
				return out, nil, err
			},
			Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
				back, effect := "RegisterTargets", "register the instance in the target group again"
				if api == "RegisterTargets" {
					back, effect = "DeregisterTargets", "deregister the instance from the target group again"
				}
				return Step{Op: "elasticloadbalancing:" + back, Resource: p["TargetGroupArn"], Params: map[string]string{"TargetGroupArn": p["TargetGroupArn"], "Id": p["Id"], "Port": p["Port"]},
					After: before, Effect: effect}, true, ""
			}})
	}
}

// registerNACL registers the network ACL ops (called from the EC2 ops'
// init, so that one init owns the ec2 names' order).
func registerNACL() {
	Register(Op{Service: "ec2", API: "CreateNetworkAcl",
		Read: func(context.Context, *Clients, map[string]string) (State, error) { return State{}, nil }, // it makes a new one
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			// a new network ACL holds only its default rule: deny all, both ways
			out, err := c.EC2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(p["VpcId"]), TagSpecifications: []ec2types.TagSpecification{{
				ResourceType: ec2types.ResourceTypeNetworkAcl, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("harrier-isolation-" + p["Case"])}, {Key: aws.String("harrier:case"), Value: aws.String(p["Case"])}}}}})
			if err != nil {
				return nil, nil, err
			}
			return out, map[string]string{"NetworkAclId": aws.ToString(out.NetworkAcl.NetworkAclId)}, nil
		},
		Reverse: func(_ map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:DeleteNetworkAcl", Resource: out["NetworkAclId"], Params: map[string]string{"NetworkAclId": out["NetworkAclId"]}, After: State{},
				Effect: "delete the deny-all network ACL (after the subnet has its own back)"}, out["NetworkAclId"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "DeleteNetworkAcl",
		Read: func(ctx context.Context, c *Clients, p map[string]string) (State, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, err
			}
			out, err := c.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{p["NetworkAclId"]}})
			if isCode(err, "InvalidNetworkAclID.NotFound") {
				return State{}, nil
			}
			if err != nil || len(out.NetworkAcls) == 0 {
				return State{}, err
			}
			return State{"network_acl": "present"}, nil
		},
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String(p["NetworkAclId"])})
			return out, nil, err
		},
		Reverse: func(map[string]string, State, map[string]string) (Step, bool, string) {
			return Step{}, false, "a deleted network ACL cannot be brought back with its id"
		}})
	Register(Op{Service: "ec2", API: "ReplaceNetworkAclAssociation", Read: readSubnetACL,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			_, assoc, err := subnetACL(ctx, c, p["SubnetId"])
			if err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc), NetworkAclId: aws.String(p["NetworkAclId"])})
			if err != nil {
				return nil, nil, err
			}
			return out, map[string]string{"AssociationId": assoc, "NewAssociationId": aws.ToString(out.NewAssociationId)}, nil
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:ReplaceNetworkAclAssociation", Resource: p["SubnetId"], Params: map[string]string{"SubnetId": p["SubnetId"], "NetworkAclId": before["network_acl"]},
				After: before, Effect: "give the subnet its original network ACL back"}, before["network_acl"] != "", ""
		}})
}

// readScaling: {"group", "lifecycle_state"} of the instance in its Auto
// Scaling group, empty when it is in none.
func readScaling(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("autoscaling", c.AutoScaling != nil); err != nil {
		return nil, err
	}
	out, err := c.AutoScaling.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{p["InstanceId"]}})
	if err != nil {
		return nil, err
	}
	for _, i := range out.AutoScalingInstances {
		return State{"group": aws.ToString(i.AutoScalingGroupName), "lifecycle_state": aws.ToString(i.LifecycleState)}, nil
	}
	return State{}, nil
}

// readMinSize: {"min_size": N} of an Auto Scaling group.
func readMinSize(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	g, err := scalingGroup(ctx, c, p["AutoScalingGroupName"])
	if err != nil {
		return nil, err
	}
	return State{"min_size": strconv.Itoa(int(aws.ToInt32(g.MinSize)))}, nil
}

// scalingGroup describes one Auto Scaling group.
func scalingGroup(ctx context.Context, c *Clients, name string) (*astypes.AutoScalingGroup, error) {
	if err := c.need("autoscaling", c.AutoScaling != nil); err != nil {
		return nil, err
	}
	out, err := c.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("auto scaling group %s (autoscaling:DescribeAutoScalingGroups): %w", name, err)
	}
	for i := range out.AutoScalingGroups {
		if aws.ToString(out.AutoScalingGroups[i].AutoScalingGroupName) == name {
			return &out.AutoScalingGroups[i], nil
		}
	}
	return nil, fmt.Errorf("auto scaling group %s: %w", name, ErrNotFound)
}

// readTarget: {"target": "registered"} when the instance is in the target
// group, empty when it is not, or when its deregistration is in progress
// (draining): that is already out of rotation, and AWS drains an instance
// by itself when it enters standby in a group attached to the target
// group, so a draining target must read as done, not as a changed state.
func readTarget(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("elasticloadbalancing", c.ELB != nil); err != nil {
		return nil, err
	}
	out, err := c.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(p["TargetGroupArn"])})
	if err != nil {
		return nil, err
	}
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || aws.ToString(d.Target.Id) != p["Id"] {
			continue
		}
		if p["Port"] != "" && d.Target.Port != nil && strconv.Itoa(int(*d.Target.Port)) != p["Port"] {
			continue
		}
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining {
			return State{}, nil
		}
		return State{"target": "registered"}, nil
	}
	return State{}, nil
}

// readSubnetACL: {"network_acl": the id} associated with the subnet.
func readSubnetACL(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	acl, _, err := subnetACL(ctx, c, p["SubnetId"])
	if err != nil {
		return nil, err
	}
	return State{"network_acl": acl}, nil
}

// subnetACL finds the network ACL a subnet is associated with and the
// association's id (which ReplaceNetworkAclAssociation takes).
func subnetACL(ctx context.Context, c *Clients, subnet string) (acl, assoc string, err error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return "", "", err
	}
	out, err := c.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{subnet}}}})
	if err != nil {
		return "", "", err
	}
	for _, a := range out.NetworkAcls {
		for _, as := range a.Associations {
			if aws.ToString(as.SubnetId) == subnet {
				return aws.ToString(a.NetworkAclId), aws.ToString(as.NetworkAclAssociationId), nil
			}
		}
	}
	return "", "", fmt.Errorf("subnet %s: no network ACL association: %w", subnet, ErrNotFound)
}
