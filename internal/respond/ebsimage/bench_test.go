package ebsimage

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ebs/types"
)

// memAPI serves blocks from memory: what is left is harrier's own work
// per block (checksum, write, state) and the hash pass over the image.
type memAPI struct {
	blocks map[int32][]byte
	size   int32
}

func (m *memAPI) ListSnapshotBlocks(_ context.Context, in *ebs.ListSnapshotBlocksInput, _ ...func(*ebs.Options)) (*ebs.ListSnapshotBlocksOutput, error) {
	out := &ebs.ListSnapshotBlocksOutput{VolumeSize: aws.Int64(1), BlockSize: aws.Int32(m.size)}
	for i := range int32(len(m.blocks)) {
		out.Blocks = append(out.Blocks, types.Block{BlockIndex: aws.Int32(i), BlockToken: aws.String("t")})
	}
	return out, nil
}

func (m *memAPI) GetSnapshotBlock(_ context.Context, in *ebs.GetSnapshotBlockInput, _ ...func(*ebs.Options)) (*ebs.GetSnapshotBlockOutput, error) {
	d := m.blocks[aws.ToInt32(in.BlockIndex)]
	return &ebs.GetSnapshotBlockOutput{BlockData: io.NopCloser(bytes.NewReader(d)), Checksum: aws.String(blockSum(d)),
		ChecksumAlgorithm: types.ChecksumAlgorithmChecksumAlgorithmSha256, DataLength: aws.Int32(int32(len(d)))}, nil
}

// BenchmarkAcquire images a 1 GiB volume whose every block (512 KiB, as on
// AWS) is written: bytes/s is of the volume.
func BenchmarkAcquire(b *testing.B) {
	api := &memAPI{blocks: map[int32][]byte{}, size: 512 << 10}
	for i := range int32(2048) {
		api.blocks[i] = bytes.Repeat([]byte{byte(i), byte(i >> 8), 7}, (512<<10)/3+1)[:512<<10]
	}
	dir := b.TempDir()
	b.SetBytes(1 << 30)
	i := 0
	for b.Loop() {
		i++
		dst := filepath.Join(dir, "img"+string(rune('a'+i)))
		if _, err := Acquire(context.Background(), api, "snap-1", dst, Options{}); err != nil {
			b.Fatal(err)
		}
		os.Remove(dst)
	}
}
