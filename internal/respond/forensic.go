package respond

import (
	"context"
	"errors"
	"fmt"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// ForensicEC2API is the part of EC2 collect instance reads and changes:
// snapshots, their sharing and copies, and volumes made from them for a
// forensic instance. Nothing here deletes a snapshot.
type ForensicEC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DescribeSnapshotAttribute(ctx context.Context, in *ec2.DescribeSnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotAttributeOutput, error)
	CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error)
	ModifySnapshotAttribute(ctx context.Context, in *ec2.ModifySnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifySnapshotAttributeOutput, error)
	CreateVolume(ctx context.Context, in *ec2.CreateVolumeInput, optFns ...func(*ec2.Options)) (*ec2.CreateVolumeOutput, error)
	DeleteVolume(ctx context.Context, in *ec2.DeleteVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
	AttachVolume(ctx context.Context, in *ec2.AttachVolumeInput, optFns ...func(*ec2.Options)) (*ec2.AttachVolumeOutput, error)
	DetachVolume(ctx context.Context, in *ec2.DetachVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DetachVolumeOutput, error)
	// DescribeInstanceTypes gives the instance's memory size: how many
	// upload parts to presign for its image.
	DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
}

// KMSAPI is what collect instance asks KMS: whether a volume's key is the
// AWS-managed aws/ebs key (which cannot be shared), and whether a key's
// policy names the forensic account.
type KMSAPI interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	ListAliases(ctx context.Context, in *kms.ListAliasesInput, optFns ...func(*kms.Options)) (*kms.ListAliasesOutput, error)
	GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, optFns ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// SSMAPI runs the memory capture on the instance through Run Command.
type SSMAPI interface {
	DescribeInstanceInformation(ctx context.Context, in *ssm.DescribeInstanceInformationInput, optFns ...func(*ssm.Options)) (*ssm.DescribeInstanceInformationOutput, error)
	SendCommand(ctx context.Context, in *ssm.SendCommandInput, optFns ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	GetCommandInvocation(ctx context.Context, in *ssm.GetCommandInvocationInput, optFns ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error)
}

// S3ImageAPI uploads the memory image by S3 multipart (harrier starts,
// lists, completes or aborts the upload; the instance sends the parts
// through presigned URLs) and checks it; harrier never downloads it.
type S3ImageAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	// GetBucketVersioning and GetObjectLockConfiguration say whether the
	// image, once there, can be replaced unseen.
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetObjectLockConfiguration(ctx context.Context, in *s3.GetObjectLockConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	ListParts(ctx context.Context, in *s3.ListPartsInput, optFns ...func(*s3.Options)) (*s3.ListPartsOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// PresignAPI makes the presigned UploadPart URLs the instance uploads its
// memory image with: the instance needs no S3 permission of its own.
type PresignAPI interface {
	PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// ForensicClients are collect instance's clients, and how long it waits
// for what AWS does asynchronously (a snapshot completing, a volume
// becoming available, a Run Command finishing). Every wait is bounded and
// its clock injectable, so that a test never sleeps and a responder is
// never left with a hang.
type ForensicClients struct {
	EC2     ForensicEC2API
	KMS     KMSAPI
	SSM     SSMAPI
	S3      S3ImageAPI
	Presign PresignAPI

	Now   func() time.Time                                 // default time.Now
	Sleep func(ctx context.Context, d time.Duration) error // default: a timer, or ctx's end
	// Poll is the time between two looks at something AWS is doing.
	Poll time.Duration
	// CommandTimeout bounds the memory capture (SSM command); it is also
	// the presigned URL's lifetime, at most PresignMax.
	CommandTimeout time.Duration
	// SnapshotTimeout bounds the wait for a snapshot to complete, and
	// VolumeTimeout for a volume to become available or detached.
	SnapshotTimeout, VolumeTimeout time.Duration
	// Progress, when set, hears what is being waited for.
	Progress func(msg string)
}

// Default waits: a large volume's first snapshot takes hours; a memory
// capture of a large instance tens of minutes.
const (
	DefaultPoll = 10 * time.Second
	// DefaultCommandTimeout bounds the capture, and so the life of its
	// presigned URLs: 30 minutes takes an ordinary instance's memory
	// (tens of GiB); raise it (--memory-timeout) for larger ones.
	DefaultCommandTimeout  = 30 * time.Minute
	DefaultSnapshotTimeout = 6 * time.Hour
	DefaultVolumeTimeout   = 15 * time.Minute
	// PresignMax bounds the presigned upload URL's life: a leaked URL can
	// only write that one object, and only for so long.
	PresignMax = 2 * time.Hour
)

func (c *Clients) forensic() (*ForensicClients, error) {
	if c.Forensic == nil || c.Forensic.EC2 == nil {
		return nil, fmt.Errorf("ec2 (forensic): %w", ErrNoClient)
	}
	return c.Forensic, nil
}

func (f *ForensicClients) now() time.Time {
	if f.Now != nil {
		return f.Now().UTC()
	}
	return time.Now().UTC()
}

func (f *ForensicClients) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (f *ForensicClients) poll() time.Duration {
	if f.Poll > 0 {
		return f.Poll
	}
	return DefaultPoll
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (f *ForensicClients) progress(format string, a ...any) {
	if f.Progress != nil {
		f.Progress(fmt.Sprintf(format, a...))
	}
}

// ErrTimeout means something AWS was doing did not finish within its
// bound: it may still finish; harrier stopped waiting.
var ErrTimeout = errors.New("timed out")

// waitFor polls check until it says done, or the bound passes. what names
// the wait in the progress and the error.
func (f *ForensicClients) waitFor(ctx context.Context, what string, bound time.Duration, check func() (done bool, status string, err error)) error {
	deadline := f.now().Add(bound)
	for {
		done, status, err := check()
		if err != nil || done {
			return err
		}
		f.progress("%s: %s", what, status)
		if !f.now().Before(deadline) {
			return fmt.Errorf("%s: %w after %s (last: %s)", what, ErrTimeout, bound, status)
		}
		if err := f.sleep(ctx, f.poll()); err != nil {
			return err
		}
	}
}
