package respond

import (
	"fmt"
)

// S3's multipart limits: every part but the last at least 5 MiB, at most
// 5 GiB, and no more than 10,000 parts.
const (
	minPartBytes = 5 << 20
	maxPartBytes = 5 << 30
	maxParts     = 10000
	// DefaultPartMiB is the part size for ordinary instances: small
	// enough that a failed part costs little, large enough that an 8 GiB
	// instance needs a score of URLs in its command.
	DefaultPartMiB = 512
	// targetParts bounds the presigned URLs in the command (each is
	// about 1.5 KB with a session token): larger instances get larger
	// parts, up to maxPartBytes.
	targetParts = 64
)

// memoryParts says how to cut an image of an instance with memMiB of RAM
// into upload parts: partMiB (0 → DefaultPartMiB, grown for large
// instances) and how many URLs to presign. The image is taken to be RAM
// plus 5% and 256 MiB (the tool's headers and ranges beyond the usable
// memory EC2 reports); the script refuses a larger one with a clear
// message.
func memoryParts(memMiB, partMiB int64) (partBytes int64, parts int, err error) {
	if memMiB <= 0 {
		return 0, 0, fmt.Errorf("%w: the instance's memory size is unknown: give --memory-size-gib", ErrBadOption)
	}
	expected := ImageBytes(memMiB)
	if partMiB > 0 {
		partBytes = partMiB << 20
		if partBytes < minPartBytes || partBytes > maxPartBytes {
			return 0, 0, fmt.Errorf("%w: --memory-part-mib %d: S3 takes parts of 5 to 5120 MiB", ErrBadOption, partMiB)
		}
	} else {
		partBytes = DefaultPartMiB << 20
		if need := (expected + targetParts - 1) / targetParts; need > partBytes {
			partBytes = min((need+(1<<20)-1)>>20<<20, maxPartBytes)
		}
	}
	n := (expected + partBytes - 1) / partBytes
	if n > maxParts {
		return 0, 0, fmt.Errorf("%w: %d MiB of memory in parts of %d MiB is %d parts; S3 takes at most %d", ErrBadOption, memMiB, partBytes>>20, n, maxParts)
	}
	return partBytes, int(n), nil
}

// ImageBytes is the size an image of memMiB of RAM is expected to reach:
// RAM plus 5% and 256 MiB (the tool's headers and ranges beyond the usable
// memory EC2 reports). The parts are sized for it, and the script checks
// the work directory has that much free before it captures.
func ImageBytes(memMiB int64) int64 { return (memMiB + memMiB/20 + 256) << 20 }
