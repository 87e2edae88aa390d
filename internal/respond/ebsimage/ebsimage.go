// Package ebsimage makes a hashed raw image of an EBS snapshot through the
// EBS direct APIs, without creating a volume or starting a helper
// instance: it lists the snapshot's blocks, fetches each one, checks it
// against the SHA-256 checksum AWS sends with it, and writes it at its
// place in a sparse image (blocks never written stay holes, which read as
// zeros, as they do on the volume). The image's SHA-256 and MD5 are then
// computed by reading it back in order, and the acquisition is logged
// beside it as package image logs a device's.
//
// An interrupted acquisition resumes: the state sidecar lists the blocks
// already written with their checksums; a re-run checks them in the image,
// fetches only the rest, and hashes the whole image again.
package ebsimage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ebs/types"

	"github.com/harrier-ir/harrier/internal/respond/image"
)

// Defaults: 16 fetches at once (AWS suggests parallel requests for
// throughput; memory is two blocks per fetch, 16 MiB), 3 tries of a block
// whose data does not match its checksum, pages of 10000 blocks (the most
// ListSnapshotBlocks returns).
const (
	DefaultConcurrency = 16
	DefaultAttempts    = 3
	DefaultPageSize    = 10000
)

// syncEvery is how many blocks are written between syncs of the image and
// the resume state: what a crash can cost to fetch again.
const syncEvery = 256

// Options shape an acquisition.
type Options struct {
	Concurrency int // blocks fetched at once
	Attempts    int // tries of a block that fails its checksum
	PageSize    int32
	Who         image.Who
	Region      string
	Snapshot    *Snapshot // what DescribeSnapshots said of it, for the record; nil if not asked
	DescribeErr string    // why it could not be described, for the record
	// Progress, when not nil, is called as blocks are written and as the
	// image is hashed.
	Progress func(Progress)
	Now      func() time.Time // the clock; time.Now if nil
}

// Progress is where an acquisition stands.
type Progress struct {
	Phase         string // "fetch" or "hash"
	Listed        int64  // blocks listed so far
	Written       int64  // blocks written or resumed
	BlockSize     int32
	Bytes, Volume int64 // bytes hashed so far and the volume's size (hash phase)
}

// ErrResume means the state beside the image does not fit this snapshot.
var ErrResume = errors.New("cannot resume")

// Acquire images snapshot snapshotID into dst. dst must not exist, unless
// an earlier run left its resume state: then it is resumed. The log and
// record are written beside it when the image is complete.
func Acquire(ctx context.Context, api API, snapshotID, dst string, o Options) (Record, error) {
	o = o.withDefaults()
	rec := Record{Who: o.Who, Start: o.Now().UTC(), SnapshotID: snapshotID, Region: o.Region, Dest: dst, Snapshot: o.Snapshot, DescribeError: o.DescribeErr}
	logPath, recPath := image.Sidecars(dst)
	for _, p := range []string{logPath, recPath} {
		if _, err := os.Lstat(p); err == nil {
			return rec, fmt.Errorf("%s %w", p, image.ErrExists)
		}
	}
	statePath := StatePath(dst)
	var (
		hdr      stateHeader
		done     map[int32]string
		resuming bool
	)
	if _, err := os.Lstat(statePath); err == nil {
		var err error
		if hdr, done, err = loadState(statePath); err != nil {
			return rec, err
		}
		if hdr.SnapshotID != snapshotID {
			return rec, fmt.Errorf("%w: %s is an image of %s", ErrResume, dst, hdr.SnapshotID)
		}
		resuming = true
	} else if _, err := os.Lstat(dst); err == nil {
		return rec, fmt.Errorf("%s %w", dst, image.ErrExists)
	}

	first, err := api.ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String(snapshotID), MaxResults: aws.Int32(o.PageSize)})
	if err != nil {
		return rec, fmt.Errorf("ListSnapshotBlocks %s: %w", snapshotID, err)
	}
	rec.VolumeSize, rec.BlockSize = aws.ToInt64(first.VolumeSize), aws.ToInt32(first.BlockSize)
	if rec.VolumeSize <= 0 || rec.BlockSize <= 0 {
		return rec, fmt.Errorf("ListSnapshotBlocks %s: volume size %d GiB, block size %d: no geometry to image", snapshotID, rec.VolumeSize, rec.BlockSize)
	}
	if resuming && (hdr.VolumeSize != rec.VolumeSize || hdr.BlockSize != rec.BlockSize) {
		return rec, fmt.Errorf("%w: %s was begun with %d GiB in blocks of %d bytes, the snapshot now lists %d GiB in blocks of %d", ErrResume,
			dst, hdr.VolumeSize, hdr.BlockSize, rec.VolumeSize, rec.BlockSize)
	}
	size := rec.VolumeSize << 30
	img, state, err := open(dst, statePath, resuming, size, stateHeader{SnapshotID: snapshotID, VolumeSize: rec.VolumeSize, BlockSize: rec.BlockSize})
	if err != nil {
		return rec, err
	}
	defer img.Close()
	defer state.close()
	if resuming {
		if err := recheck(img, rec.BlockSize, done, &rec); err != nil {
			return rec, err
		}
	}

	n := &counters{}
	f := &fetcher{api: api, snapshot: snapshotID, blockSize: rec.BlockSize, attempts: o.Attempts, pageSize: o.PageSize, n: n}
	err = run(ctx, f, first, img, state, done, o, size, n, rec.BlocksResumed)
	rec.BlocksListed, rec.BlocksFetched = n.listed.Load(), n.fetched.Load()
	rec.ChecksumFailures, rec.TokenRefreshes = n.checksumFailures.Load(), n.tokenRefreshes.Load()
	if err == nil && rec.BlocksFetched+rec.BlocksResumed != rec.BlocksListed {
		err = fmt.Errorf("%d blocks listed, %d written: the image is incomplete", rec.BlocksListed, rec.BlocksFetched+rec.BlocksResumed)
	}
	if err != nil {
		return rec, err
	}

	hashed := func(done int64) {
		if o.Progress != nil && (done%(64<<20) == 0 || done == size) {
			o.Progress(Progress{Phase: "hash", Listed: rec.BlocksListed, Written: rec.BlocksListed, BlockSize: rec.BlockSize, Bytes: done, Volume: size})
		}
	}
	if rec.Sums, rec.Bytes, err = image.HashFile(ctx, dst, hashed); err != nil {
		return rec, err
	}
	if rec.Bytes != size {
		return rec, fmt.Errorf("the image holds %d bytes, the volume %d", rec.Bytes, size)
	}
	if err := os.Chmod(dst, 0o444); err != nil {
		return rec, err
	}
	rec.End = o.Now().UTC()
	rec.Outcome = "complete"
	return rec, image.WriteSidecars(dst, rec.Text(), rec)
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// open creates the sparse image of the volume's size and its resume
// state, or opens them again to resume.
func open(dst, statePath string, resuming bool, size int64, h stateHeader) (*os.File, *stateWriter, error) {
	flags := os.O_RDWR | os.O_CREATE | os.O_EXCL
	if resuming {
		flags = os.O_RDWR
	}
	img, err := os.OpenFile(dst, flags, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("image: %w", err)
	}
	st, err := img.Stat()
	if err == nil && st.Size() > size {
		err = fmt.Errorf("%w: %s is larger (%d bytes) than the volume (%d)", ErrResume, dst, st.Size(), size)
	}
	if err == nil && st.Size() != size {
		err = img.Truncate(size) // sparse: unwritten blocks take no space
	}
	var state *stateWriter
	if err == nil {
		if resuming {
			state, err = appendState(statePath)
		} else {
			state, err = createState(statePath, h)
		}
	}
	if err != nil {
		img.Close()
		return nil, nil, fmt.Errorf("image %s: %w", dst, err)
	}
	return img, state, nil
}

// recheck reads back the blocks an earlier run wrote and compares them with
// the checksums it recorded: those that no longer match are fetched again.
func recheck(img *os.File, blockSize int32, done map[int32]string, rec *Record) error {
	buf := make([]byte, blockSize)
	keys := make([]int32, 0, len(done))
	for k := range done {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, idx := range keys {
		if _, err := img.ReadAt(buf, int64(idx)*int64(blockSize)); err != nil {
			return fmt.Errorf("resume: read block %d back: %w", idx, err)
		}
		if blockSum(buf) != done[idx] {
			delete(done, idx)
			rec.BlocksRefetched++
			continue
		}
		rec.BlocksResumed++
	}
	return nil
}

type written struct {
	idx int32
	sum string
}

// run lists the snapshot's blocks (first is the first page) and fetches
// those not done with o.Concurrency workers, each writing its block at
// its place; this goroutine records them in the state and syncs.
func run(ctx context.Context, f *fetcher, first *ebs.ListSnapshotBlocksOutput, img *os.File, state *stateWriter, done map[int32]string, o Options, size int64, n *counters, resumed int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan types.Block)
	results := make(chan written, o.Concurrency)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, int(f.blockSize)+1)
			for b := range jobs {
				idx := aws.ToInt32(b.BlockIndex)
				data, sum, err := f.fetch(ctx, idx, aws.ToString(b.BlockToken), buf)
				if err == nil {
					if _, err = img.WriteAt(data, int64(idx)*int64(f.blockSize)); err != nil {
						err = fmt.Errorf("write block %d: %w", idx, err)
					}
				}
				if err != nil {
					cancel(err)
					return
				}
				results <- written{idx, sum}
			}
		}()
	}
	go func() {
		defer close(jobs)
		if err := list(ctx, f, first, size, done, n, jobs); err != nil {
			cancel(err)
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var werr error
	count := 0
	for w := range results {
		n.fetched.Add(1)
		if werr == nil {
			werr = state.add(w.idx, w.sum)
		}
		if count++; count%syncEvery == 0 && werr == nil {
			werr = syncBoth(img, state)
		}
		if o.Progress != nil {
			o.Progress(Progress{Phase: "fetch", Listed: n.listed.Load(), Written: n.fetched.Load() + resumed, BlockSize: f.blockSize, Volume: size})
		}
	}
	if err := syncBoth(img, state); werr == nil {
		werr = err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return werr
}

func syncBoth(img *os.File, state *stateWriter) error {
	if err := img.Sync(); err != nil {
		return fmt.Errorf("sync image: %w", err)
	}
	return state.flush()
}

// list walks the snapshot's pages of blocks, sending those not done. An
// expired page token (they last an hour) restarts the listing after the
// last block seen; blocks come in ascending order, so none is sent twice.
func list(ctx context.Context, f *fetcher, page *ebs.ListSnapshotBlocksOutput, size int64, done map[int32]string, n *counters, jobs chan<- types.Block) error {
	last := int32(-1)
	for {
		for _, b := range page.Blocks {
			idx := aws.ToInt32(b.BlockIndex)
			if idx <= last {
				continue
			}
			if idx < 0 || (int64(idx)+1)*int64(f.blockSize) > size {
				return fmt.Errorf("ListSnapshotBlocks: block %d lies outside the volume", idx)
			}
			last = idx
			n.listed.Add(1)
			if _, ok := done[idx]; ok {
				continue
			}
			select {
			case jobs <- b:
			case <-ctx.Done():
				return nil
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return nil
		}
		in := &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String(f.snapshot), NextToken: page.NextToken, MaxResults: aws.Int32(f.pageSize)}
		var err error
		page, err = f.api.ListSnapshotBlocks(ctx, in)
		var ve *types.ValidationException
		if errors.As(err, &ve) && ve.Reason == types.ValidationExceptionReasonInvalidPageToken {
			in.NextToken, in.StartingBlockIndex = nil, aws.Int32(last+1)
			page, err = f.api.ListSnapshotBlocks(ctx, in)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ListSnapshotBlocks %s after block %d: %w", f.snapshot, last, err)
		}
	}
}
