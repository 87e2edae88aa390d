package respond

// CollectIAMPolicy is the least-privilege policy collect instance (and the
// undo of its actions) needs: reading the instance, its volumes and the
// keys; making, copying and sharing snapshots (never deleting one); making,
// attaching, detaching and deleting forensic volumes (copies: detaching
// and deleting only volumes tagged harrier:case, which harrier tags); running the
// capture through Run Command, its multipart upload (s3:PutObject covers
// starting and completing it and the presigned parts; ListParts and abort
// have actions of their own) and checking it. Narrow the
// Resource of the KMS, S3 and SSM statements to the key, bucket and
// instance of the case. `harrier collect --print-iam-policy` prints it
// with the other collect statements; a test checks it names every
// forensic op.
const CollectIAMPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "HarrierCollectIdentity",
      "Effect": "Allow",
      "Action": ["sts:GetCallerIdentity"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierCollectEC2Read",
      "Effect": "Allow",
      "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeInstanceTypes", "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierCollectEC2Change",
      "Effect": "Allow",
      "Action": ["ec2:CreateSnapshot", "ec2:CopySnapshot", "ec2:ModifySnapshotAttribute", "ec2:CreateVolume", "ec2:AttachVolume", "ec2:ModifyInstanceAttribute"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierCollectDetachFromInstance",
      "Effect": "Allow",
      "Action": ["ec2:DetachVolume"],
      "Resource": "arn:aws:ec2:*:*:instance/*"
    },
    {
      "Sid": "HarrierCollectOnlyVolumesHarrierMade",
      "Effect": "Allow",
      "Action": ["ec2:DetachVolume", "ec2:DeleteVolume"],
      "Resource": "arn:aws:ec2:*:*:volume/*",
      "Condition": {"StringLike": {"aws:ResourceTag/harrier:case": "*"}}
    },
    {
      "Sid": "HarrierCollectTagOnCreate",
      "Effect": "Allow",
      "Action": ["ec2:CreateTags"],
      "Resource": "*",
      "Condition": {"StringEquals": {"ec2:CreateAction": ["CreateSnapshot", "CopySnapshot", "CreateVolume"]}}
    },
    {
      "Sid": "HarrierCollectKMS",
      "Effect": "Allow",
      "Action": ["kms:DescribeKey", "kms:ListAliases", "kms:GetKeyPolicy", "kms:CreateGrant", "kms:Decrypt", "kms:Encrypt",
        "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierCollectMemory",
      "Effect": "Allow",
      "Action": ["ssm:DescribeInstanceInformation", "ssm:SendCommand", "ssm:GetCommandInvocation"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierCollectMemoryUpload",
      "Effect": "Allow",
      "Action": ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
      "Resource": "arn:aws:s3:::MEMORY-BUCKET/*"
    },
    {
      "Sid": "HarrierCollectMemoryBucket",
      "Effect": "Allow",
      "Action": ["s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration"],
      "Resource": "arn:aws:s3:::MEMORY-BUCKET"
    }
  ]
}
`
