package respond

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// CollectOptions say what collect instance takes besides the disks'
// snapshots, and where it puts it.
type CollectOptions struct {
	// Memory captures the instance's memory first (volatile evidence
	// before disk) through SSM Run Command, with MemoryTool fetched from
	// MemoryToolURL (checked against MemoryToolSHA256 when given), written
	// under MemoryWorkDir on the instance and uploaded to MemoryBucket
	// under MemoryPrefix.
	Memory                                      bool
	MemoryTool, MemoryToolURL, MemoryToolSHA256 string
	MemoryBucket, MemoryPrefix, MemoryWorkDir   string
	// MemorySizeGiB overrides the instance's memory size (read from
	// ec2:DescribeInstanceTypes) that sizes the upload's parts;
	// MemoryPartMiB forces a part size (5 to 5120 MiB).
	MemorySizeGiB, MemoryPartMiB int64
	ForensicAccount              string // share the snapshots with this account
	KMSKey                       string // the customer-managed key aws/ebs-encrypted snapshots are copied under to be shared
	ForensicInstance, ForensicAZ string // make volumes from the snapshots and attach them there
}

// ErrManagedKey means a snapshot to share is encrypted with the AWS-managed
// aws/ebs key, which cannot be shared, and no customer-managed key was
// named to copy it under.
var ErrManagedKey = errors.New("encrypted with the AWS-managed aws/ebs key, which cannot be shared")

// ErrBadOption means an option does not fit the instance or the account.
var ErrBadOption = errors.New("bad option")

// Volume is one EBS volume of the instance: what DescribeVolumes said when
// planned, the steps that act on it, and what they made.
type Volume struct {
	VolumeID            string    `json:"volume_id"`
	Device              string    `json:"device"`
	AZ                  string    `json:"availability_zone"`
	Type                string    `json:"type"`
	SizeGiB             int32     `json:"size_gib"`
	State               string    `json:"state"`
	Encrypted           bool      `json:"encrypted"`
	KMSKeyID            string    `json:"kms_key_id,omitempty"`
	AWSManagedKey       bool      `json:"aws_managed_key,omitempty"`
	FromSnapshot        string    `json:"from_snapshot,omitempty"` // the snapshot the volume was made from
	Created             time.Time `json:"created"`
	DeleteOnTermination bool      `json:"delete_on_termination"`

	SnapshotStep   string `json:"snapshot_step"`
	CopyStep       string `json:"copy_step,omitempty"`
	ShareStep      string `json:"share_step,omitempty"`
	VolumeStep     string `json:"volume_step,omitempty"`
	AttachStep     string `json:"attach_step,omitempty"`
	ForensicDevice string `json:"forensic_device,omitempty"`

	// Filled after apply (Finish).
	SnapshotID       string `json:"snapshot_id,omitempty"`
	SnapshotState    string `json:"snapshot_state,omitempty"`
	SnapshotProgress string `json:"snapshot_progress,omitempty"`
	CopyID           string `json:"copy_id,omitempty"`
	SharedWith       string `json:"shared_with,omitempty"`
	ForensicVolumeID string `json:"forensic_volume_id,omitempty"`
}

// Memory is the memory capture: planned, skipped (and why), and what it
// gave.
type Memory struct {
	Platform string `json:"platform"`
	Tool     string `json:"tool"`
	ToolURL  string `json:"tool_url"`
	Document string `json:"document"`
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Step     string `json:"step"`
	Skipped  string `json:"skipped,omitempty"`

	CommandID string `json:"command_id,omitempty"`
	Status    string `json:"status,omitempty"`
	SHA256    string `json:"sha256,omitempty"` // as the instance computed it before upload
	// ToolSHA256 is the SHA-256 of the tool binary the instance fetched
	// and ran, as it computed it: which binary made the image.
	ToolSHA256  string `json:"tool_sha256,omitempty"`
	Bytes       string `json:"bytes,omitempty"`
	ObjectBytes string `json:"object_bytes,omitempty"` // S3's size of the object
	// ETag and VersionId are S3's own, from CompleteMultipartUpload: the
	// object as S3 received it (the ETag is S3's digest of the parts it
	// got, not the instance's word); the version pins it where the bucket
	// keeps versions.
	ETag       string   `json:"s3_etag,omitempty"`
	VersionID  string   `json:"s3_version_id,omitempty"`
	Stdout     string   `json:"stdout,omitempty"` // redacted
	Stderr     string   `json:"stderr,omitempty"` // redacted
	Volatility []string `json:"volatility,omitempty"`
	// Failed is why the capture failed (redacted), when it did: the plan
	// went on without it (the step is best effort).
	Failed string `json:"failed,omitempty"`
}

// Collection is what collect instance planned and, after Finish, what it
// took: the record kept in the case.
type Collection struct {
	Case             string    `json:"case"`
	Run              string    `json:"run"`
	Account          string    `json:"account"`
	Region           string    `json:"region"`
	Time             time.Time `json:"time"`
	Instance         string    `json:"instance"`
	InstanceType     string    `json:"instance_type"`
	InstanceState    string    `json:"instance_state"`
	AZ               string    `json:"availability_zone"`
	Volumes          []Volume  `json:"volumes"`
	Memory           *Memory   `json:"memory,omitempty"`
	ForensicAccount  string    `json:"forensic_account,omitempty"`
	ForensicInstance string    `json:"forensic_instance,omitempty"`
	ForensicAZ       string    `json:"forensic_az,omitempty"`
	Problems         []string  `json:"problems"`
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// PlanCollect plans the forensic acquisition of an EC2 instance: every
// volume kept past a termination first (DeleteOnTermination false), memory
// next when asked (volatile evidence before disk), then a snapshot of
// every attached EBS volume tagged with the case, instance, device and
// time; then, when asked, the snapshots shared with a forensic account
// (aws/ebs-encrypted ones first copied under a customer-managed key), and
// volumes made from them attached to a forensic instance. Nothing is
// changed here: the steps' states are read live.
func PlanCollect(ctx context.Context, c *Clients, p *Plan, id string, o CollectOptions) (*Collection, error) {
	f, err := c.forensic()
	if err != nil {
		return nil, err
	}
	inst, err := describeInstance(ctx, f, id, p.Region)
	if err != nil {
		return nil, err
	}
	col := &Collection{Case: p.Case, Run: p.ID, Account: p.Account, Region: p.Region, Time: p.Created, Instance: id,
		InstanceType: string(inst.InstanceType), Problems: []string{}}
	if inst.State != nil {
		col.InstanceState = string(inst.State.Name)
	}
	if inst.Placement != nil {
		col.AZ = aws.ToString(inst.Placement.AvailabilityZone)
	}
	if col.Volumes, err = instanceVolumes(ctx, f, inst); err != nil {
		return nil, err
	}
	// a volume deleted with its instance is evidence lost if anyone (or
	// Auto Scaling) terminates it: keep every volume, first (metadata
	// only, seconds) so that a termination during the memory capture,
	// which can take an hour, does not take the disks with it
	for _, v := range col.Volumes {
		if !v.DeleteOnTermination || v.Device == "" {
			continue
		}
		if err := p.AddStep(ctx, c, Step{Op: "ec2:ModifyInstanceAttribute", Resource: id,
			Params: map[string]string{"InstanceId": id, "Attribute": blockDeviceMapping, "DeviceName": v.Device, "Value": "false"},
			After:  State{"value": "false"},
			Effect: fmt.Sprintf("keep volume %s (%s) if the instance is terminated: DeleteOnTermination false", v.VolumeID, v.Device),
			Undo:   "set DeleteOnTermination back to true"}); err != nil {
			return nil, err
		}
	}
	if o.Memory {
		if err := planMemory(ctx, c, p, col, o); err != nil {
			return nil, err
		}
	}
	when := p.Created.UTC().Format(time.RFC3339)
	for i := range col.Volumes {
		v := &col.Volumes[i]
		params := map[string]string{"VolumeId": v.VolumeID, "Case": p.Case, "Instance": id, "Device": v.Device, "Time": when, "Run": p.ID}
		if err := p.AddStep(ctx, c, Step{Op: "ec2:CreateSnapshot", Resource: v.VolumeID, Params: params, After: State{"snapshot": "present"},
			Effect: fmt.Sprintf("snapshot %s (%s, %d GiB%s), tagged with the case, instance, device and time", v.VolumeID, v.Device, v.SizeGiB, encryptedWord(v)),
			Undo:   "none: the snapshot is evidence and is kept (delete it by hand if you must)"}); err != nil {
			return nil, err
		}
		v.SnapshotStep = p.Steps[len(p.Steps)-1].ID
	}
	if len(col.Volumes) == 0 {
		p.Notes = append(p.Notes, "the instance has no EBS volume attached (instance store is lost when it stops: capture it from inside)")
	} else {
		p.Notes = append(p.Notes, "each snapshot is crash-consistent for its volume; they are started one after another, seconds apart")
	}
	if o.ForensicAccount != "" {
		if err := planShare(ctx, c, p, col, o); err != nil {
			return nil, err
		}
	}
	if o.ForensicInstance != "" {
		if err := planForensicVolumes(ctx, c, p, col, o); err != nil {
			return nil, err
		}
	}
	return col, nil
}

func encryptedWord(v *Volume) string {
	switch {
	case v.AWSManagedKey:
		return ", encrypted with aws/ebs"
	case v.Encrypted:
		return ", encrypted with " + v.KMSKeyID
	}
	return ""
}

func describeInstance(ctx context.Context, f *ForensicClients, id, region string) (*ec2types.Instance, error) {
	out, err := f.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if isCode(err, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed") {
		return nil, fmt.Errorf("instance %s: %w in %s", id, ErrNotFound, region)
	}
	if err != nil {
		return nil, fmt.Errorf("instance %s (ec2:DescribeInstances): %w", id, err)
	}
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == id {
				return &r.Instances[i], nil
			}
		}
	}
	return nil, fmt.Errorf("instance %s: %w in %s", id, ErrNotFound, region)
}

// instanceVolumes describes the instance's attached EBS volumes, by device.
func instanceVolumes(ctx context.Context, f *ForensicClients, inst *ec2types.Instance) ([]Volume, error) {
	devices := map[string]ec2types.InstanceBlockDeviceMapping{}
	var ids []string
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs == nil || aws.ToString(m.Ebs.VolumeId) == "" {
			continue
		}
		devices[aws.ToString(m.Ebs.VolumeId)] = m
		ids = append(ids, aws.ToString(m.Ebs.VolumeId))
	}
	if len(ids) == 0 {
		return []Volume{}, nil
	}
	out, err := f.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: ids})
	if err != nil {
		return nil, fmt.Errorf("the instance's volumes (ec2:DescribeVolumes): %w", err)
	}
	vols := make([]Volume, 0, len(out.Volumes))
	for _, v := range out.Volumes {
		id := aws.ToString(v.VolumeId)
		m := devices[id]
		vol := Volume{VolumeID: id, Device: aws.ToString(m.DeviceName), AZ: aws.ToString(v.AvailabilityZone), Type: string(v.VolumeType),
			SizeGiB: aws.ToInt32(v.Size), State: string(v.State), Encrypted: aws.ToBool(v.Encrypted), KMSKeyID: aws.ToString(v.KmsKeyId),
			FromSnapshot: aws.ToString(v.SnapshotId), Created: aws.ToTime(v.CreateTime).UTC()}
		if m.Ebs != nil {
			vol.DeleteOnTermination = aws.ToBool(m.Ebs.DeleteOnTermination)
		}
		vols = append(vols, vol)
	}
	sort.Slice(vols, func(i, j int) bool { return vols[i].Device+vols[i].VolumeID < vols[j].Device+vols[j].VolumeID })
	return vols, nil
}

// planShare shares every snapshot with the forensic account; a snapshot
// of an aws/ebs-encrypted volume is first copied under the responder's
// customer-managed key (AWS does not let the managed key be shared).
func planShare(ctx context.Context, c *Clients, p *Plan, col *Collection, o CollectOptions) error {
	acct := o.ForensicAccount
	if !accountID.MatchString(acct) {
		return fmt.Errorf("%w: --forensic-account %q is not a 12-digit account id", ErrBadOption, acct)
	}
	if acct == p.Account {
		return fmt.Errorf("%w: the forensic account %s is the instance's own account: nothing to share", ErrBadOption, acct)
	}
	col.ForensicAccount = acct
	f := c.Forensic
	keys := map[string]bool{}
	for i := range col.Volumes {
		v := &col.Volumes[i]
		shareFrom := v.SnapshotStep
		if v.Encrypted {
			managed, err := awsManagedKey(ctx, f, v.KMSKeyID)
			if err != nil {
				return fmt.Errorf("volume %s's key %s: %w", v.VolumeID, v.KMSKeyID, err)
			}
			v.AWSManagedKey = managed
			key := v.KMSKeyID
			if managed {
				if o.KMSKey == "" {
					return fmt.Errorf("volume %s (%s) is %w: name a customer-managed key with --kms-key to copy its snapshot under, whose key policy lets account %s use it",
						v.VolumeID, v.Device, ErrManagedKey, acct)
				}
				key = o.KMSKey
				cp := p.Add(Step{Op: "ec2:CopySnapshot", Resource: v.VolumeID,
					Params: map[string]string{"SourceRegion": p.Region, "KmsKeyId": o.KMSKey, "Case": p.Case, "Instance": col.Instance, "Device": v.Device,
						"Time": p.Created.UTC().Format(time.RFC3339), "Run": p.ID},
					From:   map[string]string{"SourceSnapshotId": v.SnapshotStep + ".SnapshotId"},
					Before: State{}, After: State{"snapshot": "present"},
					Effect: fmt.Sprintf("copy the snapshot of %s under customer-managed key %s: aws/ebs cannot be shared, the copy can", v.VolumeID, o.KMSKey),
					Undo:   "none: the copy is evidence too and is kept"})
				v.CopyStep = cp.ID
				shareFrom = cp.ID
				p.Notes = append(p.Notes, fmt.Sprintf("volume %s is encrypted with the AWS-managed aws/ebs key, which cannot be shared: its snapshot is copied under %s and the copy is shared", v.VolumeID, o.KMSKey))
			}
			keys[key] = true
		}
		sh := p.Add(Step{Op: "ec2:ModifySnapshotAttribute", Resource: v.VolumeID, Params: map[string]string{"OperationType": "add", "UserId": acct},
			From:   map[string]string{"SnapshotId": shareFrom + ".SnapshotId"},
			After:  State{"create_volume_permission": acct},
			Effect: "let account " + acct + " create volumes from the snapshot of " + v.VolumeID + " (createVolumePermission)",
			Undo:   "remove the permission"})
		v.ShareStep = sh.ID
	}
	for _, k := range sortedSet(keys) {
		p.Notes = append(p.Notes, keyPolicyNote(ctx, f, k, acct))
	}
	if o.ForensicInstance == "" {
		p.Notes = append(p.Notes, fmt.Sprintf("in account %s, with its own profile: aws ec2 create-volume --snapshot-id SNAPSHOT --availability-zone AZ, then attach-volume to the forensic instance (mount read-only)", acct))
	}
	return nil
}

// awsManagedKey says whether a key is AWS-managed: KeyManager AWS, or an
// alias under alias/aws/ (moto makes the aws/ebs key with KeyManager
// CUSTOMER; the alias says what it is there as in AWS).
func awsManagedKey(ctx context.Context, f *ForensicClients, key string) (bool, error) {
	if f.KMS == nil {
		return false, fmt.Errorf("kms: %w", ErrNoClient)
	}
	d, err := f.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key)})
	if err != nil {
		return false, fmt.Errorf("kms:DescribeKey: %w", err)
	}
	if d.KeyMetadata != nil && d.KeyMetadata.KeyManager == kmstypes.KeyManagerTypeAws {
		return true, nil
	}
	keyID := key
	if d.KeyMetadata != nil {
		keyID = aws.ToString(d.KeyMetadata.KeyId)
	}
	al, err := f.KMS.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(keyID)})
	if err != nil {
		return false, fmt.Errorf("kms:ListAliases: %w", err)
	}
	for _, a := range al.Aliases {
		if strings.HasPrefix(aws.ToString(a.AliasName), "alias/aws/") && aws.ToString(a.TargetKeyId) == keyID {
			return true, nil
		}
	}
	return false, nil
}

// keyPolicyNote says what the forensic account needs of a key, and
// whether the key's policy names it (when it can be read).
func keyPolicyNote(ctx context.Context, f *ForensicClients, key, acct string) string {
	need := fmt.Sprintf("account %s must be allowed to use key %s (kms:Decrypt, kms:DescribeKey, kms:CreateGrant, kms:ReEncrypt*, kms:GenerateDataKeyWithoutPlaintext) to make volumes from the shared snapshots", acct, key)
	out, err := f.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key), PolicyName: aws.String("default")})
	switch {
	case err != nil:
		return need + "; its key policy could not be read (" + err.Error() + "): check it"
	case !strings.Contains(aws.ToString(out.Policy), acct):
		return "WARNING: " + need + ", and its key policy does not name that account: add it before the forensic account copies or mounts them"
	}
	return need + "; its key policy names the account"
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
