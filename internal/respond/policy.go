package respond

// IAMPolicy is the least-privilege policy containment and undo need:
// reading the state each step changes, and the changes themselves; nothing
// deletes a key, a user or an instance, and the EC2 deletions (and the
// isolation group's rule changes) are allowed only on resources carrying
// the harrier:case tag harrier puts on what it makes. That tag protects
// only because it cannot be put anywhere else: groups and ACLs are tagged
// only as they are created (ec2:CreateAction), instances only with the
// harrier:case key (aws:TagKeys), and nothing else is tagged or untagged. `harrier contain --print-iam-policy`
// prints it; a test checks it names every registered op.
const IAMPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "HarrierIdentity",
      "Effect": "Allow",
      "Action": ["sts:GetCallerIdentity"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierContainIAMRead",
      "Effect": "Allow",
      "Action": ["iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:GetUser", "iam:GetRole", "iam:GetUserPolicy", "iam:GetRolePolicy",
        "iam:GetLoginProfile", "iam:ListGroupsForUser", "iam:ListAttachedUserPolicies", "iam:ListUserPolicies",
        "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:ListInstanceProfilesForRole"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierContainIAMUserChange",
      "Effect": "Allow",
      "Action": ["iam:UpdateAccessKey", "iam:PutUserPolicy", "iam:DeleteUserPolicy", "iam:DeleteLoginProfile"],
      "Resource": "arn:aws:iam::*:user/*"
    },
    {
      "Sid": "HarrierContainIAMRoleChange",
      "Effect": "Allow",
      "Action": ["iam:PutRolePolicy", "iam:DeleteRolePolicy"],
      "Resource": "arn:aws:iam::*:role/*"
    },
    {
      "Sid": "HarrierContainIAMProfileChange",
      "Effect": "Allow",
      "Action": ["iam:RemoveRoleFromInstanceProfile", "iam:AddRoleToInstanceProfile"],
      "Resource": "arn:aws:iam::*:instance-profile/*"
    },
    {
      "Sid": "HarrierContainEC2Read",
      "Effect": "Allow",
      "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeTags", "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeNetworkAcls"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierContainEC2Change",
      "Effect": "Allow",
      "Action": ["ec2:ModifyInstanceAttribute", "ec2:CreateSecurityGroup",
        "ec2:ModifyNetworkInterfaceAttribute", "ec2:DisassociateIamInstanceProfile", "ec2:AssociateIamInstanceProfile",
        "ec2:CreateNetworkAcl", "ec2:ReplaceNetworkAclAssociation"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierContainTagInstanceCaseOnly",
      "Effect": "Allow",
      "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
      "Resource": "arn:aws:ec2:*:*:instance/*",
      "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["harrier:case"]}, "Null": {"aws:TagKeys": "false"}}
    },
    {
      "Sid": "HarrierContainTagOnCreate",
      "Effect": "Allow",
      "Action": ["ec2:CreateTags"],
      "Resource": "*",
      "Condition": {"StringEquals": {"ec2:CreateAction": ["CreateSecurityGroup", "CreateNetworkAcl"]}}
    },
    {
      "Sid": "HarrierContainEC2OnlyWhatHarrierMade",
      "Effect": "Allow",
      "Action": ["ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupEgress", "ec2:DeleteNetworkAcl"],
      "Resource": "*",
      "Condition": {"StringLike": {"aws:ResourceTag/harrier:case": "*"}}
    },
    {
      "Sid": "HarrierContainPassProfileRoleOnUndo",
      "Effect": "Allow",
      "Action": ["iam:PassRole"],
      "Resource": "*",
      "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    },
    {
      "Sid": "HarrierContainTraffic",
      "Effect": "Allow",
      "Action": ["autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups", "autoscaling:UpdateAutoScalingGroup", "autoscaling:EnterStandby", "autoscaling:ExitStandby",
        "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
      "Resource": "*"
    }
  ]
}
`
