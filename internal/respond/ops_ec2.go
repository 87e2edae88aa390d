package respond

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The EC2 ops: tags, instance attributes, the isolation security group and
// the network interfaces' groups, instance profiles, network ACLs.
func init() {
	Register(Op{Service: "ec2", API: "CreateTags", Read: readTag,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{p["ResourceId"]}, Tags: []ec2types.Tag{{Key: aws.String(p["Key"]), Value: aws.String(p["Value"])}}})
			return out, nil, err
		},
		Reverse: reverseTag})
	Register(Op{Service: "ec2", API: "DeleteTags", Read: readTag,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{p["ResourceId"]}, Tags: []ec2types.Tag{{Key: aws.String(p["Key"])}}})
			return out, nil, err
		},
		Reverse: reverseTag})
	Register(Op{Service: "ec2", API: "ModifyInstanceAttribute", Read: readInstanceAttribute,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			in := &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(p["InstanceId"])}
			if p["Attribute"] == blockDeviceMapping {
				// one volume's DeleteOnTermination, named by its device
				in.BlockDeviceMappings = []ec2types.InstanceBlockDeviceMappingSpecification{{DeviceName: aws.String(p["DeviceName"]),
					Ebs: &ec2types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(p["Value"] == "true")}}}
			} else {
				in.Attribute, in.Value = ec2types.InstanceAttributeName(p["Attribute"]), aws.String(p["Value"])
			}
			out, err := c.EC2.ModifyInstanceAttribute(ctx, in)
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			params := map[string]string{"InstanceId": p["InstanceId"], "Attribute": p["Attribute"], "Value": before["value"]}
			if p["DeviceName"] != "" {
				params["DeviceName"] = p["DeviceName"]
			}
			return Step{Op: "ec2:ModifyInstanceAttribute", Resource: p["InstanceId"], Params: params,
				After: before, Effect: "set " + p["Attribute"] + " back to " + before["value"]}, before["value"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "CreateSecurityGroup", Read: readGroupByName,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(p["VpcId"]), GroupName: aws.String(p["GroupName"]), Description: aws.String(p["Description"]),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: []ec2types.Tag{{Key: aws.String("harrier:case"), Value: aws.String(p["Case"])}}}}})
			if err != nil {
				return nil, nil, err
			}
			return out, map[string]string{"GroupId": aws.ToString(out.GroupId)}, nil
		},
		Reverse: func(p map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:DeleteSecurityGroup", Resource: out["GroupId"], Params: map[string]string{"GroupId": out["GroupId"]}, After: State{},
				Effect: "delete the isolation security group (after the network interfaces have their groups back)"}, out["GroupId"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "DeleteSecurityGroup", Read: readGroup,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(p["GroupId"])})
			return out, nil, err
		},
		Reverse: func(map[string]string, State, map[string]string) (Step, bool, string) {
			return Step{}, false, "a deleted security group cannot be brought back with its id"
		}})
	Register(Op{Service: "ec2", API: "RevokeSecurityGroupEgress", Read: readEgress,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			perms, err := egressToChange(ctx, c, p)
			if err != nil || len(perms) == 0 {
				return nil, nil, err
			}
			out, err := c.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(p["GroupId"]), IpPermissions: perms})
			b, _ := json.Marshal(perms)
			return out, map[string]string{"IpPermissions": string(b)}, err
		},
		Reverse: func(p map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:AuthorizeSecurityGroupEgress", Resource: p["GroupId"], Params: map[string]string{"GroupId": p["GroupId"], "IpPermissions": out["IpPermissions"]},
				Effect: "allow the egress rules that were revoked"}, out["IpPermissions"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "AuthorizeSecurityGroupEgress", Read: readEgress,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			perms, err := egressToChange(ctx, c, p)
			if err != nil || len(perms) == 0 {
				return nil, nil, err
			}
			out, err := c.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(p["GroupId"]), IpPermissions: perms})
			return out, map[string]string{"IpPermissions": p["IpPermissions"]}, err
		},
		Reverse: func(p map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:RevokeSecurityGroupEgress", Resource: p["GroupId"], Params: map[string]string{"GroupId": p["GroupId"], "IpPermissions": out["IpPermissions"]},
				Effect: "revoke the egress rules again"}, true, ""
		}})
	Register(Op{Service: "ec2", API: "ModifyNetworkInterfaceAttribute", Read: readENIGroups,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(p["NetworkInterfaceId"]), Groups: strings.Split(p["Groups"], ",")})
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:ModifyNetworkInterfaceAttribute", Resource: p["NetworkInterfaceId"], Params: map[string]string{"NetworkInterfaceId": p["NetworkInterfaceId"], "Groups": before["groups"]},
				After: before, Effect: "give the network interface its original security groups back"}, before["groups"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "DisassociateIamInstanceProfile", Read: readProfileAssociation,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: aws.String(p["AssociationId"])})
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:AssociateIamInstanceProfile", Resource: p["InstanceId"], Params: map[string]string{"InstanceId": p["InstanceId"], "ProfileArn": before["profile"]},
				After: State{"profile": before["profile"]}, Effect: "attach the instance profile again"}, before["profile"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "AssociateIamInstanceProfile", Read: readProfileAssociation,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			if err := c.need("ec2", c.EC2 != nil); err != nil {
				return nil, nil, err
			}
			out, err := c.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(p["InstanceId"]), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String(p["ProfileArn"])}})
			if err != nil {
				return nil, nil, err
			}
			var id string
			if out.IamInstanceProfileAssociation != nil {
				id = aws.ToString(out.IamInstanceProfileAssociation.AssociationId)
			}
			return out, map[string]string{"AssociationId": id}, nil
		},
		Reverse: func(p map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:DisassociateIamInstanceProfile", Resource: p["InstanceId"], Params: map[string]string{"InstanceId": p["InstanceId"], "AssociationId": out["AssociationId"]},
				After: State{}, Effect: "detach the instance profile again"}, out["AssociationId"] != "", ""
		}})
	registerNACL()
}

func readTag(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	out, err := c.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("resource-id"), Values: []string{p["ResourceId"]}}, {Name: aws.String("key"), Values: []string{p["Key"]}}}})
	if err != nil {
		return nil, err
	}
	for _, t := range out.Tags {
		if aws.ToString(t.Key) == p["Key"] {
			return State{"tag": aws.ToString(t.Value)}, nil
		}
	}
	return State{}, nil
}

func reverseTag(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
	params := map[string]string{"ResourceId": p["ResourceId"], "Key": p["Key"]}
	if v, ok := before["tag"]; ok {
		params["Value"] = v
		return Step{Op: "ec2:CreateTags", Resource: p["ResourceId"], Params: params, After: before, Effect: "set the tag " + p["Key"] + " back to its old value"}, true, ""
	}
	return Step{Op: "ec2:DeleteTags", Resource: p["ResourceId"], Params: params, After: State{}, Effect: "remove the tag " + p["Key"]}, true, ""
}

// readInstanceAttribute: {"value": ...} of disableApiTermination or
// instanceInitiatedShutdownBehavior.
// blockDeviceMapping is the instance attribute of its volumes' mapping: a
// step on it changes one volume's DeleteOnTermination (param DeviceName).
const blockDeviceMapping = "blockDeviceMapping"

func readInstanceAttribute(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	if p["Attribute"] == blockDeviceMapping {
		// the instance's own description carries each volume's
		// DeleteOnTermination (and moto answers it there only)
		out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{p["InstanceId"]}})
		if err != nil {
			return nil, err
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				for _, m := range in.BlockDeviceMappings {
					if aws.ToString(m.DeviceName) == p["DeviceName"] && m.Ebs != nil {
						return State{"value": strconv.FormatBool(aws.ToBool(m.Ebs.DeleteOnTermination))}, nil
					}
				}
			}
		}
		return State{}, nil
	}
	out, err := c.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(p["InstanceId"]), Attribute: ec2types.InstanceAttributeName(p["Attribute"])})
	if err != nil {
		return nil, err
	}
	switch {
	case out.DisableApiTermination != nil:
		if aws.ToBool(out.DisableApiTermination.Value) {
			return State{"value": "true"}, nil
		}
		return State{"value": "false"}, nil
	case out.InstanceInitiatedShutdownBehavior != nil:
		return State{"value": aws.ToString(out.InstanceInitiatedShutdownBehavior.Value)}, nil
	}
	return State{}, nil
}

func readGroupByName(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{p["VpcId"]}}, {Name: aws.String("group-name"), Values: []string{p["GroupName"]}}}})
	if err != nil {
		return nil, err
	}
	if len(out.SecurityGroups) > 0 {
		return State{"group": "present"}, nil
	}
	return State{}, nil
}

func readGroup(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{p["GroupId"]}})
	if isCode(err, "InvalidGroup.NotFound") {
		return State{}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.SecurityGroups) > 0 {
		return State{"group": "present"}, nil
	}
	return State{}, nil
}

// readEgress: {"egress": the group's egress rules as JSON}, empty when it
// has none.
func readEgress(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	perms, err := egressRules(ctx, c, p["GroupId"])
	if err != nil || len(perms) == 0 {
		return State{}, err
	}
	b, err := json.Marshal(perms)
	if err != nil {
		return nil, err
	}
	return State{"egress": string(b)}, nil
}

func egressRules(ctx context.Context, c *Clients, group string) ([]ec2types.IpPermission, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{group}})
	if err != nil {
		return nil, err
	}
	if len(out.SecurityGroups) == 0 {
		return nil, errors.New("security group " + group + ": " + ErrNotFound.Error())
	}
	return out.SecurityGroups[0].IpPermissionsEgress, nil
}

// egressToChange is the rules a revoke or authorize names: the recorded
// list, or, for "all", every egress rule the group has now (a new group's
// default allow-all, IPv4 and, in a dual-stack VPC, IPv6).
func egressToChange(ctx context.Context, c *Clients, p map[string]string) ([]ec2types.IpPermission, error) {
	if p["IpPermissions"] == "all" {
		return egressRules(ctx, c, p["GroupId"])
	}
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	var perms []ec2types.IpPermission
	if err := json.Unmarshal([]byte(p["IpPermissions"]), &perms); err != nil {
		return nil, errors.New("IpPermissions: " + err.Error())
	}
	return perms, nil
}

// readENIGroups: {"groups": the interface's security groups, sorted,
// comma-separated}.
func readENIGroups(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	out, err := c.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{p["NetworkInterfaceId"]}})
	if err != nil {
		return nil, err
	}
	if len(out.NetworkInterfaces) == 0 {
		return State{}, nil
	}
	return State{"groups": groupList(out.NetworkInterfaces[0].Groups)}, nil
}

func groupList(gs []ec2types.GroupIdentifier) string {
	ids := make([]string, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// readProfileAssociation: {"profile": ARN, "association": id} of the
// instance's associated instance profile, empty when it has none.
func readProfileAssociation(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	a, err := profileAssociation(ctx, c, p["InstanceId"])
	if err != nil || a == nil {
		return State{}, err
	}
	return State{"profile": aws.ToString(a.IamInstanceProfile.Arn)}, nil
}

func profileAssociation(ctx context.Context, c *Clients, instance string) (*ec2types.IamInstanceProfileAssociation, error) {
	if err := c.need("ec2", c.EC2 != nil); err != nil {
		return nil, err
	}
	out, err := c.EC2.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-id"), Values: []string{instance}}}})
	if err != nil {
		return nil, err
	}
	for i, a := range out.IamInstanceProfileAssociations {
		if a.State == ec2types.IamInstanceProfileAssociationStateAssociated && a.IamInstanceProfile != nil {
			return &out.IamInstanceProfileAssociations[i], nil
		}
	}
	return nil, nil
}
