package ebsimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ebs/types"
)

// API is the part of the EBS direct APIs an image needs: read-only.
type API interface {
	ListSnapshotBlocks(ctx context.Context, params *ebs.ListSnapshotBlocksInput, optFns ...func(*ebs.Options)) (*ebs.ListSnapshotBlocksOutput, error)
	GetSnapshotBlock(ctx context.Context, params *ebs.GetSnapshotBlockInput, optFns ...func(*ebs.Options)) (*ebs.GetSnapshotBlockOutput, error)
}

// ErrChecksum means a block kept arriving with data that does not hash to
// the checksum AWS sent with it.
var ErrChecksum = errors.New("block data does not match its checksum")

// ChecksumError says which block, how often it was tried, and what was
// wrong with the last answer.
type ChecksumError struct {
	Block    int32
	Attempts int
	Reason   string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("block %d: %s, %d times: %v", e.Block, e.Reason, e.Attempts, ErrChecksum)
}

func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// counters are an acquisition's running counts, shared by its workers.
type counters struct {
	listed, fetched, checksumFailures, tokenRefreshes atomic.Int64
}

// fetcher gets blocks of one snapshot.
type fetcher struct {
	api       API
	snapshot  string
	blockSize int32
	attempts  int
	pageSize  int32
	n         *counters
}

// fetch gets block idx into buf (which holds a block and one byte more, to
// notice a block too long), and returns its data and AWS's checksum. A
// block whose data does not match its checksum, or whose body breaks off,
// is asked for again, up to f.attempts times; an expired block token
// (block tokens last seven days) is renewed by listing from that block.
func (f *fetcher) fetch(ctx context.Context, idx int32, token string, buf []byte) ([]byte, string, error) {
	var reason string
	renewed := 0
	for attempt := 1; attempt <= f.attempts; {
		out, err := f.api.GetSnapshotBlock(ctx, &ebs.GetSnapshotBlockInput{SnapshotId: aws.String(f.snapshot), BlockIndex: aws.Int32(idx), BlockToken: aws.String(token)})
		var ve *types.ValidationException
		if errors.As(err, &ve) && ve.Reason == types.ValidationExceptionReasonInvalidBlockToken && renewed < 2 {
			renewed++
			f.n.tokenRefreshes.Add(1)
			if token, err = f.renew(ctx, idx); err != nil {
				return nil, "", err
			}
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("GetSnapshotBlock %d: %w", idx, err)
		}
		data, sum, why := f.check(out, buf)
		if why == "" {
			return data, sum, nil
		}
		reason = why
		f.n.checksumFailures.Add(1)
		attempt++
	}
	return nil, "", &ChecksumError{Block: idx, Attempts: f.attempts, Reason: reason}
}

// check reads a block's body and compares it with the checksum and length
// AWS sent with it; why says what was wrong, "" when nothing was.
func (f *fetcher) check(out *ebs.GetSnapshotBlockOutput, buf []byte) (data []byte, sum, why string) {
	defer out.BlockData.Close()
	n, err := io.ReadFull(out.BlockData, buf)
	switch {
	case err == nil:
		return nil, "", fmt.Sprintf("more data than the block size (%d bytes)", f.blockSize)
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, "", "body broke off: " + err.Error()
	}
	data = buf[:n]
	if out.ChecksumAlgorithm != types.ChecksumAlgorithmChecksumAlgorithmSha256 {
		return nil, "", fmt.Sprintf("checksum algorithm %q, not SHA256", out.ChecksumAlgorithm)
	}
	want, err := base64.StdEncoding.DecodeString(aws.ToString(out.Checksum))
	if err != nil || len(want) != sha256.Size {
		return nil, "", fmt.Sprintf("checksum %q is not a base64 SHA-256", aws.ToString(out.Checksum))
	}
	if out.DataLength != nil && int(*out.DataLength) != n {
		return nil, "", fmt.Sprintf("%d bytes where the data length says %d", n, *out.DataLength)
	}
	if got := sha256.Sum256(data); !bytes.Equal(got[:], want) {
		return nil, "", "data does not hash to the checksum AWS sent"
	}
	return data, aws.ToString(out.Checksum), ""
}

// renew lists from block idx for a fresh token.
func (f *fetcher) renew(ctx context.Context, idx int32) (string, error) {
	out, err := f.api.ListSnapshotBlocks(ctx, &ebs.ListSnapshotBlocksInput{SnapshotId: aws.String(f.snapshot), StartingBlockIndex: aws.Int32(idx), MaxResults: aws.Int32(100)})
	if err != nil {
		return "", fmt.Errorf("renew the token of block %d: ListSnapshotBlocks: %w", idx, err)
	}
	for _, b := range out.Blocks {
		if aws.ToInt32(b.BlockIndex) == idx {
			return aws.ToString(b.BlockToken), nil
		}
	}
	return "", fmt.Errorf("renew the token of block %d: the block is no longer listed", idx)
}

// blockSum is the base64 SHA-256 of data, as x-amz-Checksum carries it.
func blockSum(data []byte) string {
	s := sha256.Sum256(data)
	return base64.StdEncoding.EncodeToString(s[:])
}
