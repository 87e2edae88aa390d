package ebsimage

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// EC2API is what describing a snapshot needs: read-only.
type EC2API interface {
	DescribeSnapshots(ctx context.Context, params *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// Describe asks EC2 about the snapshot, for the record. Callers record its
// error (AccessDenied, most often) and go on: the image does not need it.
func Describe(ctx context.Context, api EC2API, snapshotID string) (*Snapshot, error) {
	out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapshotID}})
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeSnapshots %s: %w", snapshotID, err)
	}
	if len(out.Snapshots) != 1 {
		return nil, fmt.Errorf("ec2:DescribeSnapshots %s: %d snapshots in the answer", snapshotID, len(out.Snapshots))
	}
	s := out.Snapshots[0]
	snap := &Snapshot{VolumeID: aws.ToString(s.VolumeId), OwnerID: aws.ToString(s.OwnerId), StartTime: aws.ToTime(s.StartTime).UTC(),
		State: string(s.State), Encrypted: aws.ToBool(s.Encrypted), KMSKeyID: aws.ToString(s.KmsKeyId), Description: aws.ToString(s.Description)}
	for _, t := range s.Tags {
		if snap.Tags == nil {
			snap.Tags = map[string]string{}
		}
		snap.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return snap, nil
}
