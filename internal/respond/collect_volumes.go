package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ReadOnlyNote is how a forensic volume is meant to be used: EBS has no
// read-only attachment, so the intent is kept on the forensic instance.
const ReadOnlyNote = "the forensic volumes are copies made from the snapshots, attached read-write (EBS has no read-only attachment): " +
	"mount them read-only on the forensic instance (Linux: mount -o ro,noload for ext4, -o ro,norecovery for XFS; Windows: diskpart " +
	"attributes disk set readonly before bringing the disk online); a journal replayed by a read-write mount changes the evidence copy"

// planForensicVolumes makes a volume from each snapshot in the forensic
// instance's availability zone, and attaches it there at a free device
// name. It uses the same credentials as the rest: the forensic instance
// must be in this account (in a separate forensic account, the volumes
// are made there, with that account's profile, from the shared snapshots).
func planForensicVolumes(ctx context.Context, c *Clients, p *Plan, col *Collection, o CollectOptions) error {
	f := c.Forensic
	fi := o.ForensicInstance
	if fi == col.Instance {
		return fmt.Errorf("%w: the forensic instance is the instance under investigation", ErrBadOption)
	}
	inst, err := describeInstance(ctx, f, fi, p.Region)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("forensic %w; it must be in account %s and %s: in a separate forensic account, share the snapshots (--forensic-account) and make the volumes there with that account's profile", err, p.Account, p.Region)
	}
	if err != nil {
		return err
	}
	az := aws.ToString(inst.Placement.AvailabilityZone)
	if o.ForensicAZ != "" && o.ForensicAZ != az {
		return fmt.Errorf("%w: --forensic-az %s, but forensic instance %s is in %s: a volume attaches only in its own zone", ErrBadOption, o.ForensicAZ, fi, az)
	}
	col.ForensicInstance, col.ForensicAZ = fi, az
	used := map[string]bool{}
	for _, m := range inst.BlockDeviceMappings {
		used[deviceLetter(aws.ToString(m.DeviceName))] = true
	}
	if inst.RootDeviceName != nil {
		used[deviceLetter(aws.ToString(inst.RootDeviceName))] = true
	}
	free := []string{}
	for l := 'f'; l <= 'p'; l++ {
		if !used[string(l)] {
			free = append(free, "/dev/sd"+string(l))
		}
	}
	if len(free) < len(col.Volumes) {
		return fmt.Errorf("%w: forensic instance %s has %d free device names (/dev/sdf-sdp), %d volumes to attach", ErrBadOption, fi, len(free), len(col.Volumes))
	}
	when := p.Created.UTC().Format(time.RFC3339)
	for i := range col.Volumes {
		v := &col.Volumes[i]
		vs := p.Add(Step{Op: "ec2:CreateVolume", Resource: v.VolumeID,
			Params: map[string]string{"AvailabilityZone": az, "Case": p.Case, "Instance": col.Instance, "Device": v.Device, "Time": when, "Run": p.ID},
			From:   map[string]string{"SnapshotId": v.SnapshotStep + ".SnapshotId"}, Before: State{}, After: State{"volume": "present"},
			Effect: fmt.Sprintf("make a volume in %s from the snapshot of %s (%s)", az, v.VolumeID, v.Device),
			Undo:   "delete it (a copy, not the original evidence: the snapshot stays)"})
		v.VolumeStep = vs.ID
		v.ForensicDevice = free[i]
		at := p.Add(Step{Op: "ec2:AttachVolume", Resource: fi, Params: map[string]string{"InstanceId": fi, "Device": free[i]},
			From: map[string]string{"VolumeId": vs.ID + ".VolumeId"}, Before: State{}, After: State{"attached_to": fi, "device": free[i]},
			Effect: fmt.Sprintf("attach it to forensic instance %s at %s, to be mounted read-only", fi, free[i]),
			Undo:   "detach it"})
		v.AttachStep = at.ID
	}
	p.Notes = append(p.Notes, ReadOnlyNote)
	return nil
}

// deviceLetter is a device name's drive letter: /dev/sdf, /dev/xvdf and
// xvdf all name f (Linux renames sd* to xvd* on Xen instances).
func deviceLetter(dev string) string {
	dev = strings.TrimPrefix(dev, "/dev/")
	for _, pre := range []string{"xvd", "sd"} {
		if rest, ok := strings.CutPrefix(dev, pre); ok && rest != "" {
			return rest[:1]
		}
	}
	return dev
}

// Finish completes the record after apply: the ids each step made (from
// the recorded actions), each snapshot waited for until completed (with
// progress) and described, and the memory capture's result. What cannot
// be read is listed in Problems, not fatal: the record is kept anyway.
func (col *Collection) Finish(ctx context.Context, c *Clients, acts []Action) {
	out := map[string]map[string]string{}
	for _, a := range acts {
		if a.Run == col.Run && a.Status == "applied" {
			out[strings.TrimPrefix(a.ID, col.Run+".")] = a.Outputs
		}
	}
	if m := col.Memory; m != nil {
		for _, a := range acts {
			if a.Run == col.Run && a.ID == col.Run+"."+m.Step {
				o := a.Outputs
				m.CommandID, m.Status, m.SHA256, m.Bytes, m.ObjectBytes = o["CommandId"], o["Status"], o["SHA256"], o["Bytes"], o["ObjectBytes"]
				m.ETag, m.VersionID, m.ToolSHA256 = o["ETag"], o["VersionId"], o["ToolSHA256"]
				m.Stdout, m.Stderr = Redact(o["Stdout"]), Redact(o["Stderr"])
				if a.Status == "failed" {
					m.Failed = Redact(a.Error)
					col.Problems = append(col.Problems, "memory capture failed (the disk snapshots were taken regardless): "+m.Failed)
				}
			}
		}
		if m.SHA256 != "" && wasApplied(out, m.Step) {
			m.Volatility = VolatilityCommands(m.Tool, m.Bucket, m.Key, m.SHA256)
		}
	}
	f := c.Forensic
	for i := range col.Volumes {
		v := &col.Volumes[i]
		v.SnapshotID = out[v.SnapshotStep]["SnapshotId"]
		if v.CopyStep != "" {
			v.CopyID = out[v.CopyStep]["SnapshotId"]
		}
		if v.ShareStep != "" && wasApplied(out, v.ShareStep) {
			v.SharedWith = col.ForensicAccount
		}
		if v.VolumeStep != "" {
			v.ForensicVolumeID = out[v.VolumeStep]["VolumeId"]
		}
		if v.SnapshotID == "" {
			col.Problems = append(col.Problems, fmt.Sprintf("volume %s (%s): no snapshot was made", v.VolumeID, v.Device))
			continue
		}
		if err := waitSnapshot(ctx, f, v.SnapshotID); err != nil {
			col.Problems = append(col.Problems, fmt.Sprintf("volume %s: %v", v.VolumeID, err))
		}
		d, err := f.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{v.SnapshotID}})
		if err != nil || len(d.Snapshots) == 0 {
			col.Problems = append(col.Problems, fmt.Sprintf("snapshot %s could not be described: %v", v.SnapshotID, err))
			continue
		}
		v.SnapshotState, v.SnapshotProgress = string(d.Snapshots[0].State), aws.ToString(d.Snapshots[0].Progress)
		if d.Snapshots[0].State != ec2types.SnapshotStateCompleted {
			col.Problems = append(col.Problems, fmt.Sprintf("snapshot %s is %s", v.SnapshotID, d.Snapshots[0].State))
		}
	}
}

// wasApplied says whether step id was applied.
func wasApplied(out map[string]map[string]string, id string) bool {
	_, ok := out[id]
	return ok
}
