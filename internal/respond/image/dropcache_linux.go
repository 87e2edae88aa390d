package image

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache asks the kernel to forget a synced file's cached pages, so
// that the verification re-reads the image from the disk, not from the
// memory it was just written from (which would prove nothing about what
// reached the disk). Advice only: an error is not fatal.
func dropCache(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
