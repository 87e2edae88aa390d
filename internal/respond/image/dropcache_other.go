//go:build !linux

package image

import "os"

// dropCache is a no-op where the kernel takes no POSIX_FADV_DONTNEED
// advice through x/sys: the verification may then read cached pages.
func dropCache(*os.File) error { return nil }
