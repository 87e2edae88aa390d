package respond

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Tag keys collect instance puts on what it makes. harrier:run (the
// plan's id) lets a re-check find what this run made and nothing else.
const (
	TagInstance = "harrier:instance"
	TagDevice   = "harrier:device"
	TagTime     = "harrier:time"
	TagRun      = "harrier:run"
	TagCopyOf   = "harrier:copy-of"
	TagVolume   = "harrier:volume"
)

// evidenceKept is why a snapshot step has no undo: AWS would allow
// DeleteSnapshot, harrier refuses to plan the deletion of evidence.
func evidenceKept(id string) string {
	if id == "" {
		id = "SNAPSHOT-ID"
	}
	return "kept: the snapshot is evidence, harrier does not delete it; if you must, delete it by hand (aws ec2 delete-snapshot --snapshot-id " + id + ")"
}

// The forensic EC2 ops: snapshots (never deleted by harrier), their
// sharing, and volumes made from them for a forensic instance.
func init() {
	Register(Op{Service: "ec2", API: "CreateSnapshot", Read: readSnapshotOfRun,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			out, err := f.EC2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(p["VolumeId"]),
				Description:       aws.String(fmt.Sprintf("harrier case %s: %s %s (%s) at %s", p["Case"], p["Instance"], p["Device"], p["VolumeId"], p["Time"])),
				TagSpecifications: tagSpec(ec2types.ResourceTypeSnapshot, p, TagVolume, p["VolumeId"])})
			if err != nil {
				return nil, nil, err
			}
			return out, map[string]string{"SnapshotId": aws.ToString(out.SnapshotId)}, nil
		},
		Reverse: func(_ map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{}, false, evidenceKept(out["SnapshotId"])
		}})
	Register(Op{Service: "ec2", API: "CopySnapshot", Read: readCopyOfRun,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			if err := waitSnapshot(ctx, f, p["SourceSnapshotId"]); err != nil {
				return nil, nil, err
			}
			out, err := f.EC2.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceSnapshotId: aws.String(p["SourceSnapshotId"]), SourceRegion: aws.String(p["SourceRegion"]),
				Encrypted: aws.Bool(true), KmsKeyId: aws.String(p["KmsKeyId"]),
				Description:       aws.String(fmt.Sprintf("harrier case %s: copy of %s under a customer-managed key, to share", p["Case"], p["SourceSnapshotId"])),
				TagSpecifications: tagSpec(ec2types.ResourceTypeSnapshot, p, TagCopyOf, p["SourceSnapshotId"])})
			if err != nil {
				return nil, nil, err
			}
			return out, map[string]string{"SnapshotId": aws.ToString(out.SnapshotId)}, nil
		},
		Reverse: func(_ map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{}, false, evidenceKept(out["SnapshotId"])
		}})
	Register(Op{Service: "ec2", API: "ModifySnapshotAttribute", Read: readVolumePermission,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			if p["OperationType"] == "add" {
				if err := waitSnapshot(ctx, f, p["SnapshotId"]); err != nil {
					return nil, nil, err
				}
			}
			out, err := f.EC2.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(p["SnapshotId"]),
				Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, OperationType: ec2types.OperationType(p["OperationType"]), UserIds: []string{p["UserId"]}})
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			back := map[string]string{"SnapshotId": p["SnapshotId"], "UserId": p["UserId"], "OperationType": "remove"}
			effect := "stop sharing the snapshot with account " + p["UserId"]
			if p["OperationType"] == "remove" {
				back["OperationType"], effect = "add", "share the snapshot with account "+p["UserId"]+" again"
			}
			return Step{Op: "ec2:ModifySnapshotAttribute", Resource: p["SnapshotId"], Params: back, After: before, Effect: effect}, true, ""
		}})
	Register(Op{Service: "ec2", API: "CreateVolume", Read: readVolumeOfRun,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			if err := waitSnapshot(ctx, f, p["SnapshotId"]); err != nil {
				return nil, nil, err
			}
			out, err := f.EC2.CreateVolume(ctx, &ec2.CreateVolumeInput{SnapshotId: aws.String(p["SnapshotId"]), AvailabilityZone: aws.String(p["AvailabilityZone"]),
				TagSpecifications: tagSpec(ec2types.ResourceTypeVolume, p, "harrier:snapshot", p["SnapshotId"])})
			if err != nil {
				return nil, nil, err
			}
			id := aws.ToString(out.VolumeId)
			return out, map[string]string{"VolumeId": id}, waitVolume(ctx, f, id, "available")
		},
		Reverse: func(_ map[string]string, _ State, out map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:DeleteVolume", Resource: out["VolumeId"], Params: map[string]string{"VolumeId": out["VolumeId"]}, After: State{},
				Effect: "delete the forensic volume (a copy made from the snapshot, not the original evidence: the snapshot stays)"}, out["VolumeId"] != "", ""
		}})
	Register(Op{Service: "ec2", API: "DeleteVolume", Read: readVolume,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			out, err := f.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(p["VolumeId"])})
			return out, nil, err
		},
		Reverse: func(map[string]string, State, map[string]string) (Step, bool, string) {
			return Step{}, false, "a deleted volume cannot be brought back: make another from the snapshot"
		}})
	Register(Op{Service: "ec2", API: "AttachVolume", Read: readAttachment,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			out, err := f.EC2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(p["VolumeId"]), InstanceId: aws.String(p["InstanceId"]), Device: aws.String(p["Device"])})
			return out, nil, err
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:DetachVolume", Resource: p["VolumeId"], Params: map[string]string{"VolumeId": p["VolumeId"], "InstanceId": p["InstanceId"], "Device": p["Device"]},
				After: before, Effect: "detach the forensic volume from " + p["InstanceId"] + " (unmount it there first)"}, true, ""
		}})
	Register(Op{Service: "ec2", API: "DetachVolume", Read: readAttachment,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			f, err := c.forensic()
			if err != nil {
				return nil, nil, err
			}
			out, err := f.EC2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(p["VolumeId"]), InstanceId: aws.String(p["InstanceId"]), Device: aws.String(p["Device"])})
			if err != nil {
				return out, nil, err
			}
			// a volume is deleted only once detached: wait, so that the
			// next undo step (DeleteVolume) finds it available
			return out, nil, waitVolume(ctx, f, p["VolumeId"], "available")
		},
		Reverse: func(p map[string]string, before State, _ map[string]string) (Step, bool, string) {
			return Step{Op: "ec2:AttachVolume", Resource: p["VolumeId"], Params: map[string]string{"VolumeId": p["VolumeId"], "InstanceId": p["InstanceId"], "Device": p["Device"]},
				After: before, Effect: "attach the volume to " + p["InstanceId"] + " at " + p["Device"] + " again"}, true, ""
		}})
	registerMemory()
}

// tagSpec tags what a step makes with the case, the source instance and
// device, the time of the plan and the run, and one more key of the op's.
func tagSpec(rt ec2types.ResourceType, p map[string]string, key, value string) []ec2types.TagSpecification {
	tags := []ec2types.Tag{
		{Key: aws.String(CaseTag), Value: aws.String(p["Case"])},
		{Key: aws.String(TagInstance), Value: aws.String(p["Instance"])},
		{Key: aws.String(TagDevice), Value: aws.String(p["Device"])},
		{Key: aws.String(TagTime), Value: aws.String(p["Time"])},
		{Key: aws.String(TagRun), Value: aws.String(p["Run"])},
		{Key: aws.String(key), Value: aws.String(value)},
	}
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: tags}}
}

func tagFilter(key, value string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String("tag:" + key), Values: []string{value}}
}

// readSnapshotOfRun: {"snapshot": "present"} when this run already made a
// snapshot of the volume.
func readSnapshotOfRun(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	return snapshotExists(ctx, c, []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{p["VolumeId"]}}, tagFilter(TagRun, p["Run"])})
}

// readCopyOfRun: {"snapshot": "present"} when this run already copied the
// source snapshot.
func readCopyOfRun(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	return snapshotExists(ctx, c, []ec2types.Filter{tagFilter(TagCopyOf, p["SourceSnapshotId"]), tagFilter(TagRun, p["Run"])})
}

func snapshotExists(ctx context.Context, c *Clients, filters []ec2types.Filter) (State, error) {
	f, err := c.forensic()
	if err != nil {
		return nil, err
	}
	out, err := f.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: filters})
	if err != nil {
		return nil, err
	}
	if len(out.Snapshots) > 0 {
		return State{"snapshot": "present"}, nil
	}
	return State{}, nil
}

// readVolumePermission: {"create_volume_permission": the accounts (and
// "group:all" when public) that may make volumes from the snapshot,
// sorted}; empty when it is shared with no one.
func readVolumePermission(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	f, err := c.forensic()
	if err != nil {
		return nil, err
	}
	out, err := f.EC2.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(p["SnapshotId"]),
		Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
	if err != nil {
		return nil, err
	}
	var who []string
	for _, perm := range out.CreateVolumePermissions {
		if id := aws.ToString(perm.UserId); id != "" {
			who = append(who, id)
		}
		if perm.Group != "" {
			who = append(who, "group:"+string(perm.Group))
		}
	}
	if len(who) == 0 {
		return State{}, nil
	}
	sort.Strings(who)
	return State{"create_volume_permission": strings.Join(who, ",")}, nil
}

// readVolumeOfRun: {"volume": "present"} when this run already made a
// volume from the snapshot.
func readVolumeOfRun(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	f, err := c.forensic()
	if err != nil {
		return nil, err
	}
	out, err := f.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{
		{Name: aws.String("snapshot-id"), Values: []string{p["SnapshotId"]}}, tagFilter(TagRun, p["Run"])}})
	if err != nil {
		return nil, err
	}
	if len(out.Volumes) > 0 {
		return State{"volume": "present"}, nil
	}
	return State{}, nil
}

// readVolume: {"volume": "present"}, or empty when it does not exist.
func readVolume(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	v, err := describeVolume(ctx, c, p["VolumeId"])
	if err != nil || v == nil {
		return State{}, err
	}
	return State{"volume": "present"}, nil
}

// readAttachment: {"attached_to": instance, "device": name} of the
// volume's attachment, empty when it is attached nowhere.
func readAttachment(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	v, err := describeVolume(ctx, c, p["VolumeId"])
	if err != nil || v == nil {
		return State{}, err
	}
	for _, a := range v.Attachments {
		if a.State == ec2types.VolumeAttachmentStateDetached {
			continue
		}
		return State{"attached_to": aws.ToString(a.InstanceId), "device": aws.ToString(a.Device)}, nil
	}
	return State{}, nil
}

func describeVolume(ctx context.Context, c *Clients, id string) (*ec2types.Volume, error) {
	f, err := c.forensic()
	if err != nil {
		return nil, err
	}
	out, err := f.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if isCode(err, "InvalidVolume.NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(out.Volumes) == 0 {
		return nil, nil
	}
	return &out.Volumes[0], nil
}

// waitSnapshot waits until a snapshot is completed, saying its progress.
func waitSnapshot(ctx context.Context, f *ForensicClients, id string) error {
	return f.waitFor(ctx, "snapshot "+id, orDefault(f.SnapshotTimeout, DefaultSnapshotTimeout), func() (bool, string, error) {
		out, err := f.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		if err != nil {
			return false, "", fmt.Errorf("snapshot %s (ec2:DescribeSnapshots): %w", id, err)
		}
		if len(out.Snapshots) == 0 {
			return false, "", fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
		}
		s := out.Snapshots[0]
		switch s.State {
		case ec2types.SnapshotStateCompleted:
			return true, "completed", nil
		case ec2types.SnapshotStateError:
			return false, "", fmt.Errorf("snapshot %s failed: %s", id, aws.ToString(s.StateMessage))
		}
		return false, fmt.Sprintf("%s %s", s.State, aws.ToString(s.Progress)), nil
	})
}

// waitVolume waits until a volume is in the state wanted (available after
// creation or detachment).
func waitVolume(ctx context.Context, f *ForensicClients, id string, want ec2types.VolumeState) error {
	return f.waitFor(ctx, "volume "+id, orDefault(f.VolumeTimeout, DefaultVolumeTimeout), func() (bool, string, error) {
		out, err := f.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		if err != nil {
			return false, "", fmt.Errorf("volume %s (ec2:DescribeVolumes): %w", id, err)
		}
		if len(out.Volumes) == 0 {
			return false, "", fmt.Errorf("volume %s: %w", id, ErrNotFound)
		}
		v := out.Volumes[0]
		if v.State == want && (want != ec2types.VolumeStateAvailable || len(v.Attachments) == 0 || v.Attachments[0].State == ec2types.VolumeAttachmentStateDetached) {
			return true, string(v.State), nil
		}
		if v.State == ec2types.VolumeStateError {
			return false, "", fmt.Errorf("volume %s is in error", id)
		}
		return false, string(v.State), nil
	})
}
