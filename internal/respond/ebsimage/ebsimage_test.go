package ebsimage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ebs/types"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/respond/ebsimage/ebstest"
	"github.com/harrier-ir/harrier/internal/respond/image"
)

const motoBlock = 512 // moto's block size (AWS's is 512 KiB)

// testBlocks are blocks scattered over a 1 GiB volume, enough for three
// pages of 100, the first and the last block included, with gaps between.
func testBlocks() map[int32][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	blocks := map[int32][]byte{}
	add := func(idx int32) {
		b := make([]byte, motoBlock)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		blocks[idx] = b
	}
	for i := int32(0); i < 250; i++ {
		add(i*37 + int32(i%3))
	}
	add(1<<30/motoBlock - 1)
	return blocks
}

const chunk = 1 << 20

// expectedChunk is the volume's bytes from off: the blocks written, zeros
// everywhere else.
func expectedChunk(want []byte, off int64, blocks map[int32][]byte) {
	clear(want)
	for idx, b := range blocks {
		if at := int64(idx) * motoBlock; at >= off && at < off+chunk {
			copy(want[at-off:], b)
		}
	}
}

var (
	wantSums     image.Sums
	wantSumsOnce sync.Once
)

// expectedSums hashes the volume the test blocks make, once per test
// binary (1 GiB: hashing it takes seconds on a loaded machine).
func expectedSums() image.Sums {
	wantSumsOnce.Do(func() {
		blocks, want := testBlocks(), make([]byte, chunk)
		sh, mh := sha256.New(), md5.New()
		for off := int64(0); off < 1<<30; off += chunk {
			expectedChunk(want, off, blocks)
			sh.Write(want)
			mh.Write(want)
		}
		wantSums = image.Sums{SHA256: hex.EncodeToString(sh.Sum(nil)), MD5: hex.EncodeToString(mh.Sum(nil))}
	})
	return wantSums
}

// checkImage compares the image, byte for byte, with the blocks written
// and zeros everywhere else, and its hashes with those of that content.
func checkImage(t *testing.T, path string, blocks map[int32][]byte, sums image.Sums) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, want := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < 1<<30; off += chunk {
		if _, err := io.ReadFull(f, got); err != nil {
			t.Fatalf("image at %d: %v", off, err)
		}
		expectedChunk(want, off, blocks)
		if !bytes.Equal(got, want) {
			t.Fatalf("image differs from the data written in bytes %d-%d", off, off+chunk-1)
		}
	}
	if n, _ := f.Read(got); n != 0 {
		t.Fatal("image longer than the volume")
	}
	if w := expectedSums(); sums != w {
		t.Fatalf("hashes %+v, want %+v", sums, w)
	}
}

func TestAcquire(t *testing.T) {
	moto := awstest.Moto(t)
	front := ebstest.New(t, moto)
	blocks := testBlocks()
	snap := ebstest.PutSnapshot(t, front.Client(), blocks)
	dst := filepath.Join(t.TempDir(), "disk.raw")
	var phases []string
	rec, err := Acquire(context.Background(), front.Client(), snap, dst, Options{PageSize: 100, Concurrency: 4, Progress: func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, dst, blocks, rec.Sums)
	if rec.BlocksListed != int64(len(blocks)) || rec.BlocksFetched != int64(len(blocks)) || rec.VolumeSize != 1 || rec.BlockSize != motoBlock ||
		rec.Bytes != 1<<30 || rec.ChecksumFailures != 0 || rec.Outcome != "complete" {
		t.Errorf("record %+v", rec)
	}
	if n := front.Lists(); n != 3 {
		t.Errorf("%d ListSnapshotBlocks pages, want 3", n)
	}
	if len(phases) != 2 || phases[0] != "fetch" || phases[1] != "hash" {
		t.Errorf("progress phases %v", phases)
	}
	// sparse: the gaps between blocks take no space
	if st, err := os.Stat(dst); err == nil && st.Mode().Perm()&0o222 != 0 {
		t.Errorf("image is writable: %s", st.Mode())
	}
	logPath, recPath := image.Sidecars(dst)
	for _, p := range []string{logPath, recPath, StatePath(dst)} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	_, done, err := loadState(StatePath(dst))
	if err != nil || len(done) != len(blocks) {
		t.Errorf("state holds %d blocks (%v), want %d", len(done), err, len(blocks))
	}
	for idx, sum := range done {
		if sum != blockSum(blocks[idx]) {
			t.Errorf("state: block %d checksum %s", idx, sum)
		}
	}
	if _, err := Acquire(context.Background(), front.Client(), snap, dst, Options{}); !errors.Is(err, image.ErrExists) {
		t.Errorf("a second acquisition into a finished image: err %v, want ErrExists", err)
	}
}

// TestRetries: a block that arrives corrupted once is fetched again, an
// expired block token is renewed, an expired page token restarts the
// listing where it stopped; one acquisition meets all three and the image
// is still exact.
func TestRetries(t *testing.T) {
	moto := awstest.Moto(t)
	front := ebstest.New(t, moto)
	blocks := testBlocks()
	snap := ebstest.PutSnapshot(t, front.Client(), blocks)
	const bad, stale = 37*5 + 2, 37 * 120
	front.GetHook = func(w http.ResponseWriter, r *http.Request, idx int32, call int) bool {
		switch {
		case idx == bad && call == 1:
			front.Corrupt(t, w, r)
			return true
		case idx == stale && call == 1:
			ebstest.ValidationError(w, types.ValidationExceptionReasonInvalidBlockToken)
			return true
		}
		return false
	}
	front.ListHook = func(w http.ResponseWriter, r *http.Request, call int) bool {
		if r.URL.Query().Get("pageToken") != "" && call == 2 {
			ebstest.ValidationError(w, types.ValidationExceptionReasonInvalidPageToken)
			return true
		}
		return false
	}
	dst := filepath.Join(t.TempDir(), "disk.raw")
	rec, err := Acquire(context.Background(), front.Client(), snap, dst, Options{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if rec.ChecksumFailures != 1 || rec.TokenRefreshes != 1 || rec.BlocksListed != int64(len(blocks)) || rec.BlocksFetched != int64(len(blocks)) {
		t.Errorf("%d checksum failures, %d token renewals, %d blocks listed, %d fetched; want 1, 1, %d, %d",
			rec.ChecksumFailures, rec.TokenRefreshes, rec.BlocksListed, rec.BlocksFetched, len(blocks), len(blocks))
	}
	checkImage(t, dst, blocks, rec.Sums)
}

// TestChecksumKeepsFailing: a block that never matches its checksum ends
// the acquisition with an error that names it, and no record claims the
// image complete.
func TestChecksumKeepsFailing(t *testing.T) {
	moto := awstest.Moto(t)
	front := ebstest.New(t, moto)
	blocks := testBlocks()
	snap := ebstest.PutSnapshot(t, front.Client(), blocks)
	const bad = 37*5 + 2
	front.GetHook = func(w http.ResponseWriter, r *http.Request, idx int32, call int) bool {
		if idx == bad {
			front.Corrupt(t, w, r)
			return true
		}
		return false
	}
	dst := filepath.Join(t.TempDir(), "disk.raw")
	_, err := Acquire(context.Background(), front.Client(), snap, dst, Options{Attempts: 2})
	var ce *ChecksumError
	if !errors.Is(err, ErrChecksum) || !errors.As(err, &ce) || ce.Block != bad || ce.Attempts != 2 {
		t.Fatalf("err %v, want a ChecksumError for block %d after 2 attempts", err, bad)
	}
	if n := front.Calls()[bad]; n != 2 {
		t.Errorf("block %d asked for %d times, want 2", bad, n)
	}
	if _, err := os.Stat(dst + ".json"); err == nil {
		t.Error("a failed acquisition wrote its record as if complete")
	}
}

func TestResume(t *testing.T) {
	moto := awstest.Moto(t)
	front := ebstest.New(t, moto)
	blocks := testBlocks()
	snap := ebstest.PutSnapshot(t, front.Client(), blocks)
	dst := filepath.Join(t.TempDir(), "disk.raw")

	ctx, cancel := context.WithCancel(context.Background())
	_, err := Acquire(ctx, front.Client(), snap, dst, Options{Concurrency: 2, Progress: func(p Progress) {
		if p.Written >= 100 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: err %v, want context.Canceled", err)
	}
	_, done, err := loadState(StatePath(dst))
	if err != nil || len(done) < 100 || len(done) >= len(blocks) {
		t.Fatalf("state after the interruption holds %d blocks (%v)", len(done), err)
	}
	// damage one block already written: the resume must notice and fetch it again
	f, _ := os.OpenFile(dst, os.O_WRONLY, 0)
	for idx := range done {
		f.WriteAt([]byte("tampered"), int64(idx)*motoBlock)
		break
	}
	f.Close()

	front.Calls()
	rec, err := Acquire(context.Background(), front.Client(), snap, dst, Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rec.BlocksRefetched != 1 || rec.BlocksResumed != int64(len(done)-1) || rec.BlocksFetched != int64(len(blocks)-len(done)+1) {
		t.Errorf("resumed %d, refetched %d, fetched %d; %d were done of %d", rec.BlocksResumed, rec.BlocksRefetched, rec.BlocksFetched, len(done), len(blocks))
	}
	// the blocks written before the interruption, and still intact, are
	// not fetched again
	again := 0
	for idx := range front.Calls() {
		if _, ok := done[idx]; ok {
			again++
		}
	}
	if again != 1 {
		t.Errorf("%d blocks fetched again, want 1 (the tampered one)", again)
	}
	checkImage(t, dst, blocks, rec.Sums)

	// the image of another snapshot cannot be resumed into this one
	os.Remove(dst + ".json")
	os.Remove(dst + ".log")
	if _, err := Acquire(context.Background(), front.Client(), "snap-0123456789abcdef0", dst, Options{}); !errors.Is(err, ErrResume) {
		t.Errorf("err %v, want ErrResume", err)
	}
}
