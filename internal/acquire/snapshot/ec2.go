package snapshot

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// EC2API is the read-only EC2 calls EC2 makes, with the SDK's signatures
// (an *ec2.Client for one region satisfies it).
type EC2API interface {
	DescribeInstances(ctx context.Context, params *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeSecurityGroups(ctx context.Context, params *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeVolumes(ctx context.Context, params *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DescribeSnapshots(ctx context.Context, params *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DescribeSnapshotAttribute(ctx context.Context, params *ec2.DescribeSnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotAttributeOutput, error)
	DescribeImages(ctx context.Context, params *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeImageAttribute(ctx context.Context, params *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, params *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeKeyPairs(ctx context.Context, params *ec2.DescribeKeyPairsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error)
}

// EC2Clients gives the EC2 client of a region.
type EC2Clients func(region string) EC2API

// ec2Counts are what one region's snapshot found, for its coverage row.
type ec2Counts struct {
	mu                                            sync.Mutex
	instances, groups, volumes, snapshots, images int
	enis, keys                                    int
	sharedSnaps, publicSnaps                      int
	sharedImages, publicImages                    int
	otherSnaps                                    int // answered though not the account's
}

func (n *ec2Counts) items() int {
	return n.instances + n.groups + n.volumes + n.snapshots + n.images + n.enis + n.keys
}

// EC2 snapshots each region of opts.Regions: instances, security groups,
// volumes, network interfaces, key pairs, and the account's own EBS
// snapshots and AMIs, each with who may use it (createVolumePermission,
// launchPermission) in its record under snapshots/ or images/: a snapshot
// or image shared with another account, or public, is how data leaves an
// account without a byte downloaded. It returns a coverage row per
// region, whose detail counts the shared and public ones.
func EC2(ctx context.Context, clients EC2Clients, opts Options, sink evidence.Sink) ([]evidence.Coverage, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(opts.Regions) == 0 {
		return nil, fmt.Errorf("snapshot ec2: no regions")
	}
	regions := slices.Compact(slices.Sorted(slices.Values(opts.Regions)))
	rows := make([]evidence.Coverage, len(regions))
	idx := make(map[string]int, len(regions))
	for i, reg := range regions {
		idx[reg] = i
	}
	err := forEach(ctx, opts.concurrency(), regions, func(ctx context.Context, region string) error {
		row, err := ec2Region(ctx, clients(region), opts, sink, region)
		rows[idx[region]] = row
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func ec2Region(ctx context.Context, api EC2API, opts Options, sink evidence.Sink, region string) (evidence.Coverage, error) {
	r := newRecorder(opts, sink, "ec2", region)
	dir := opts.dir(region, "ec2")
	var n ec2Counts
	src := func(api string) evidence.Source { return evidence.Source{API: api} }

	ip := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{})
	if err := pages(ctx, r, dir, "", src("DescribeInstances"), ip.HasMorePages, ip.NextPage, func(o *ec2.DescribeInstancesOutput) {
		for _, res := range o.Reservations {
			n.instances += len(res.Instances)
		}
	}); err != nil {
		return evidence.Coverage{}, err
	}
	gp := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{})
	if err := pages(ctx, r, dir, "", src("DescribeSecurityGroups"), gp.HasMorePages, gp.NextPage,
		func(o *ec2.DescribeSecurityGroupsOutput) { n.groups += len(o.SecurityGroups) }); err != nil {
		return evidence.Coverage{}, err
	}
	vp := ec2.NewDescribeVolumesPaginator(api, &ec2.DescribeVolumesInput{})
	if err := pages(ctx, r, dir, "", src("DescribeVolumes"), vp.HasMorePages, vp.NextPage,
		func(o *ec2.DescribeVolumesOutput) { n.volumes += len(o.Volumes) }); err != nil {
		return evidence.Coverage{}, err
	}
	np := ec2.NewDescribeNetworkInterfacesPaginator(api, &ec2.DescribeNetworkInterfacesInput{})
	if err := pages(ctx, r, dir, "", src("DescribeNetworkInterfaces"), np.HasMorePages, np.NextPage,
		func(o *ec2.DescribeNetworkInterfacesOutput) { n.enis += len(o.NetworkInterfaces) }); err != nil {
		return evidence.Coverage{}, err
	}
	at := opts.now()
	kp, err := api.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err := r.single(path.Join(dir, "DescribeKeyPairs.json"), "", evidence.Source{API: "DescribeKeyPairs", RequestTime: at}, kp, err); err != nil {
		return evidence.Coverage{}, err
	}
	if err == nil {
		n.keys = len(kp.KeyPairs)
	}
	if err := ec2Snapshots(ctx, api, r, dir, &n); err != nil {
		return evidence.Coverage{}, err
	}
	if err := ec2Images(ctx, api, r, dir, &n); err != nil {
		return evidence.Coverage{}, err
	}
	exists := "yes"
	if n.items() == 0 {
		exists = "no"
	}
	detail := fmt.Sprintf("%d instances, %d security groups, %d volumes, %d network interfaces, %d key pairs, "+
		"%d snapshots (%d shared, %d public), %d images (%d shared, %d public)",
		n.instances, n.groups, n.volumes, n.enis, n.keys, n.snapshots, n.sharedSnaps, n.publicSnaps, n.images, n.sharedImages, n.publicImages)
	if n.otherSnaps > 0 {
		detail += fmt.Sprintf("; %d snapshots of other owners listed, not examined", n.otherSnaps)
	}
	return r.coverage("ec2", region, exists, n.items(), detail), nil
}

// deniedOnce asks an attribute of many resources until the first refusal
// for want of permission: the rest would be refused too, and one problem
// says it.
type deniedOnce struct{ denied atomic.Bool }

// notAsked is the record's answer for a resource whose attribute was not
// asked because an earlier one was denied.
func notAsked(api string) Refused {
	return Refused{Error: "not asked: " + api + " was denied for another resource in this region", Denied: true}
}

// ec2Snapshots lists the account's own EBS snapshots and asks each one's
// createVolumePermission.
func ec2Snapshots(ctx context.Context, api EC2API, r *recorder, dir string, n *ec2Counts) error {
	var snaps []types.Snapshot
	p := ec2.NewDescribeSnapshotsPaginator(api, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err := pages(ctx, r, dir, "", evidence.Source{API: "DescribeSnapshots", Params: map[string]string{"OwnerIds": "self"}},
		p.HasMorePages, p.NextPage, func(o *ec2.DescribeSnapshotsOutput) { snaps = append(snaps, o.Snapshots...) }); err != nil {
		return err
	}
	// OwnerIds self asks for the account's own; any other owner's that
	// came back anyway (a shared snapshot is not the account's to give
	// away) stays in the stored pages and is counted, not examined.
	own := snaps[:0:0]
	for _, s := range snaps {
		if o := aws.ToString(s.OwnerId); o == "" || o == r.opts.Account {
			own = append(own, s)
		}
	}
	n.otherSnaps = len(snaps) - len(own)
	snaps = own
	n.snapshots = len(snaps)
	const apiName = "DescribeSnapshotAttribute"
	var once deniedOnce
	return forEach(ctx, r.opts.concurrency(), snaps, func(ctx context.Context, s types.Snapshot) error {
		id := aws.ToString(s.SnapshotId)
		record := map[string]any{"Snapshot": s}
		params := map[string]string{"SnapshotId": id, "Attribute": string(types.SnapshotAttributeNameCreateVolumePermission)}
		at := r.opts.now()
		if once.denied.Load() {
			record[apiName] = notAsked(apiName)
		} else {
			out, err := api.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
				SnapshotId: aws.String(id), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
			if err != nil {
				record[apiName] = refused(err)
				if evidence.IsDenied(err) && once.denied.Swap(true) {
					record[apiName] = notAsked(apiName)
				} else if err := r.fail(apiName, id, err); err != nil {
					return err
				}
			} else {
				r.ok()
				record[apiName] = out
				shared, public := volumePermissions(out.CreateVolumePermissions)
				n.mu.Lock()
				n.sharedSnaps += b2i(shared)
				n.publicSnaps += b2i(public)
				n.mu.Unlock()
			}
		}
		src := evidence.Source{API: "DescribeSnapshots," + apiName, Params: params, RequestTime: at}
		return r.put(path.Join(dir, "snapshots", safeName(id)+".json"), src, record)
	})
}

// volumePermissions says whether a snapshot may be used by another
// account, or by every account (the group "all").
func volumePermissions(perms []types.CreateVolumePermission) (shared, public bool) {
	for _, p := range perms {
		shared = shared || aws.ToString(p.UserId) != ""
		public = public || p.Group == types.PermissionGroupAll
	}
	return shared, public
}

// ec2Images lists the account's own AMIs and asks each one's
// launchPermission.
func ec2Images(ctx context.Context, api EC2API, r *recorder, dir string, n *ec2Counts) error {
	var images []types.Image
	p := ec2.NewDescribeImagesPaginator(api, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err := pages(ctx, r, dir, "", evidence.Source{API: "DescribeImages", Params: map[string]string{"Owners": "self"}},
		p.HasMorePages, p.NextPage, func(o *ec2.DescribeImagesOutput) { images = append(images, o.Images...) }); err != nil {
		return err
	}
	n.images = len(images)
	const apiName = "DescribeImageAttribute"
	var once deniedOnce
	return forEach(ctx, r.opts.concurrency(), images, func(ctx context.Context, im types.Image) error {
		id := aws.ToString(im.ImageId)
		record := map[string]any{"Image": im}
		params := map[string]string{"ImageId": id, "Attribute": string(types.ImageAttributeNameLaunchPermission)}
		at := r.opts.now()
		public := aws.ToBool(im.Public)
		shared := false
		if once.denied.Load() {
			record[apiName] = notAsked(apiName)
		} else {
			out, err := api.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
				ImageId: aws.String(id), Attribute: types.ImageAttributeNameLaunchPermission})
			if err != nil {
				record[apiName] = refused(err)
				if evidence.IsDenied(err) && once.denied.Swap(true) {
					record[apiName] = notAsked(apiName)
				} else if err := r.fail(apiName, id, err); err != nil {
					return err
				}
			} else {
				r.ok()
				record[apiName] = out
				for _, lp := range out.LaunchPermissions {
					shared = shared || aws.ToString(lp.UserId) != "" || aws.ToString(lp.OrganizationArn) != "" ||
						aws.ToString(lp.OrganizationalUnitArn) != ""
					public = public || lp.Group == types.PermissionGroupAll
				}
			}
		}
		n.mu.Lock()
		n.sharedImages += b2i(shared)
		n.publicImages += b2i(public)
		n.mu.Unlock()
		src := evidence.Source{API: "DescribeImages," + apiName, Params: params, RequestTime: at}
		return r.put(path.Join(dir, "images", safeName(id)+".json"), src, record)
	})
}
