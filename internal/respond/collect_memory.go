package respond

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// noAgent explains why an instance SSM does not list is out of reach, and
// what each cause would take (each changes the instance).
const noAgent = "memory cannot be captured through Run Command: the SSM agent is not installed or not running, " +
	"or the instance has no instance profile with a policy like AmazonSSMManagedInstanceCore, " +
	"or it has no route to the SSM endpoints (ssm, ssmmessages, ec2messages: a NAT gateway or VPC endpoints). " +
	"Fixing any of these changes the instance; capture memory by hand if you must. The disk snapshots go on"

// planMemory plans the memory capture when the instance is an SSM managed
// instance whose agent is online; otherwise it adds the step skipped, with
// why, and never waits for an agent that is not there.
func planMemory(ctx context.Context, c *Clients, p *Plan, col *Collection, o CollectOptions) error {
	f := c.Forensic
	if f.SSM == nil || f.S3 == nil || f.Presign == nil {
		return fmt.Errorf("ssm, s3: %w", ErrNoClient)
	}
	if o.MemoryBucket == "" {
		return fmt.Errorf("%w: --memory needs --memory-bucket, where the image is uploaded", ErrBadOption)
	}
	m := &Memory{Bucket: o.MemoryBucket, ToolURL: redactURL(o.MemoryToolURL)}
	col.Memory = m
	skip := ""
	info, err := f.SSM.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{col.Instance}}}})
	var ii *ssmtypes.InstanceInformation
	if err == nil {
		for i := range info.InstanceInformationList {
			if aws.ToString(info.InstanceInformationList[i].InstanceId) == col.Instance {
				ii = &info.InstanceInformationList[i]
			}
		}
	}
	switch {
	case err != nil:
		skip = fmt.Sprintf("SSM could not be asked whether %s is a managed instance (ssm:DescribeInstanceInformation: %v); %s", col.Instance, err, noAgent)
	case ii == nil:
		skip = fmt.Sprintf("%s is not an SSM managed instance (ssm:DescribeInstanceInformation does not list it): %s", col.Instance, noAgent)
	case ii.PingStatus != ssmtypes.PingStatusOnline:
		skip = fmt.Sprintf("the SSM agent of %s is %s (last ping %s): %s", col.Instance, ii.PingStatus, aws.ToTime(ii.LastPingDateTime).UTC().Format(timeFormat), noAgent)
	}
	if ii != nil {
		m.Platform = string(ii.PlatformType)
	}
	tool := o.MemoryTool
	if skip == "" {
		switch ii.PlatformType {
		case ssmtypes.PlatformTypeLinux:
			if tool == "" {
				tool = ToolAVML
			}
			if tool != ToolAVML && tool != ToolLiME {
				return fmt.Errorf("%w: %s runs Linux: --memory-tool avml or lime, not %s", ErrBadOption, col.Instance, tool)
			}
		case ssmtypes.PlatformTypeWindows:
			if tool == "" {
				tool = ToolWinPmem
			}
			if tool != ToolWinPmem {
				return fmt.Errorf("%w: %s runs Windows: --memory-tool winpmem, not %s", ErrBadOption, col.Instance, tool)
			}
		default:
			skip = fmt.Sprintf("%s runs %s: harrier captures the memory of Linux (AVML, LiME) and Windows (WinPmem) only", col.Instance, ii.PlatformType)
		}
	}
	if tool == "" {
		tool = ToolAVML
	}
	if skip == "" && o.MemoryToolURL == "" {
		return fmt.Errorf("%w: --memory needs --memory-tool-url, where the instance fetches %s (e.g. a presigned S3 GET of the release you vetted)", ErrBadOption, tool)
	}
	m.Tool, m.Document = tool, MemoryDocument(tool)
	m.Key = path.Join(strings.Trim(o.MemoryPrefix, "/"), p.Case, col.Instance, p.ID, MemoryFile(tool))
	workDir := o.MemoryWorkDir
	where := workDir
	if where == "" {
		where = DefaultMemoryDir
		if tool == ToolWinPmem {
			where = "%TEMP%"
		}
	}
	params := map[string]string{"InstanceId": col.Instance, "Tool": tool, "ToolURL": o.MemoryToolURL, "ToolSHA256": o.MemoryToolSHA256,
		"Bucket": o.MemoryBucket, "Key": m.Key, "WorkDir": workDir, "Case": p.Case, "Run": p.ID}
	parts := ""
	if skip == "" {
		memMiB, err := memorySize(ctx, c, col.InstanceType, o.MemorySizeGiB)
		if err != nil {
			return err
		}
		partBytes, n, err := memoryParts(memMiB, o.MemoryPartMiB)
		if err != nil {
			return err
		}
		params["PartBytes"], params["Parts"] = strconv.FormatInt(partBytes, 10), strconv.Itoa(n)
		params["ImageBytes"] = strconv.FormatInt(ImageBytes(memMiB), 10) // the script checks the work directory has room
		parts = fmt.Sprintf(" in up to %d parts of %d MiB (S3 multipart, for %d MiB of RAM)", n, partBytes>>20, memMiB)
	}
	s := Step{Op: "ssm:SendCommand", Resource: col.Instance, Params: params,
		Effect: fmt.Sprintf("capture memory with %s through %s, then upload it to s3://%s/%s"+parts+" with presigned UploadPart URLs (made when applied, valid %s at most) and hash it on the instance; the tool binary's SHA-256 is computed there too and recorded. "+
			"THIS CHANGES THE INSTANCE: it downloads the tool to %s, writes the image there (as large as its RAM) before the upload, and uses CPU; the files are removed after, their blocks may stay on the disk the snapshots then take. "+
			"Best effort: if the capture fails, that is recorded and the snapshots are taken regardless",
			tool, m.Document, o.MemoryBucket, m.Key, min(orDefault(c.Forensic.CommandTimeout, DefaultCommandTimeout), PresignMax), where),
		Undo:            "none: a capture cannot be undone; the image stays in S3 as evidence",
		ContinueOnError: true} // best effort: a failed capture must not cost the snapshots
	if skip != "" {
		m.Skipped = skip
		s.Skip = skip
		s.Before = State{}
		p.Add(s)
	} else if err := p.AddStep(ctx, c, s); err != nil {
		return err
	}
	m.Step = p.Steps[len(p.Steps)-1].ID
	if skip != "" {
		p.Notes = append(p.Notes, "memory: "+skip)
		return nil
	}
	p.Notes = append(p.Notes, "memory: the image's SHA-256 is computed by the instance under investigation; S3's ETag and version id are recorded beside it. Check the hash when you download the image, and trust it as far as you trust the host")
	if n := bucketProtection(ctx, c, o.MemoryBucket); n != "" {
		p.Notes = append(p.Notes, n)
	}
	return nil
}

// bucketProtection warns when the memory bucket neither keeps versions nor
// locks objects: whoever can write there could replace the image unseen.
func bucketProtection(ctx context.Context, c *Clients, bucket string) string {
	v, err := c.Forensic.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return fmt.Sprintf("memory: bucket %s's versioning could not be read (s3:GetBucketVersioning: %v)", bucket, err)
	}
	if v.Status == s3types.BucketVersioningStatusEnabled {
		return ""
	}
	lock, err := c.Forensic.S3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
	if err == nil && lock.ObjectLockConfiguration != nil && lock.ObjectLockConfiguration.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled {
		return ""
	}
	return fmt.Sprintf("WARNING: bucket %s has neither versioning nor Object Lock: whoever can write to it can replace the memory image unseen; enable versioning (or use a bucket with Object Lock) for evidence", bucket)
}

// memorySize is the instance's memory in MiB: the responder's figure when
// given, else its type's (ec2:DescribeInstanceTypes MemoryInfo).
func memorySize(ctx context.Context, c *Clients, instanceType string, gib int64) (int64, error) {
	if gib > 0 {
		return gib << 10, nil
	}
	out, err := c.Forensic.EC2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []ec2types.InstanceType{ec2types.InstanceType(instanceType)}})
	if err != nil {
		return 0, fmt.Errorf("the memory of instance type %s (ec2:DescribeInstanceTypes): %w; give --memory-size-gib", instanceType, err)
	}
	for _, t := range out.InstanceTypes {
		if t.MemoryInfo != nil && aws.ToInt64(t.MemoryInfo.SizeInMiB) > 0 {
			return aws.ToInt64(t.MemoryInfo.SizeInMiB), nil
		}
	}
	return 0, fmt.Errorf("%w: EC2 does not say how much memory instance type %s has: give --memory-size-gib", ErrBadOption, instanceType)
}
