package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Request is one acquisition between two paths.
type Request struct {
	Source, Dest string
	Who          Who
	Options
	NoVerify bool             // skip reading the image back (it is then not verified: the log says so)
	Now      func() time.Time // the clock; time.Now if nil
}

// ErrVerify means the image read back does not hash as it was written.
var ErrVerify = errors.New("the image read back does not match the hashes computed while writing it")

// Acquire images req.Source into req.Dest, which must not exist: it is
// created, written in one pass, synced, made read-only and read back to
// verify its hashes; the log and record are written beside it even when
// the copy fails part way, so an interrupted acquisition is documented.
// Bad sectors do not fail it; they are in the record.
func Acquire(ctx context.Context, req Request) (Record, error) {
	now := req.Now
	if now == nil {
		now = time.Now
	}
	sector, _ := req.Options.sizes()
	rec := Record{Who: req.Who, Start: now().UTC(), Source: req.Source, Dest: req.Dest, SectorSize: sector, SourceSize: -1}
	if err := Refuse(req.Dest); err != nil {
		return rec, err
	}
	src, err := os.Open(req.Source)
	if err != nil {
		return rec, fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	rec.SourceSize = sourceSize(src)
	dst, err := os.OpenFile(req.Dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return rec, fmt.Errorf("destination: %w", err)
	}
	c, err := Copy(ctx, src, rec.SourceSize, dst, req.Options)
	if err == nil {
		if err = dst.Sync(); err != nil {
			err = fmt.Errorf("sync %s: %w", req.Dest, err)
		} else {
			_ = dropCache(dst) // advice: the verification then reads the disk, not the cache
		}
	}
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = cerr
	}
	rec.Bytes, rec.Sums, rec.Bad, rec.BadSectors = c.Bytes, c.Sums, c.Bad, (c.BadBytes+int64(sector)-1)/int64(sector)
	rec.SectorsOut = (c.Bytes + int64(sector) - 1) / int64(sector)
	rec.SectorsIn = rec.SectorsOut - rec.BadSectors
	if err == nil {
		err = os.Chmod(req.Dest, 0o444)
	}
	if err == nil && !req.NoVerify {
		sums, _, verr := HashFile(ctx, req.Dest, nil)
		if verr != nil {
			err = fmt.Errorf("verify: %w", verr)
		} else {
			rec.Verify = &Verification{Sums: sums, Match: sums == rec.Sums}
			if !rec.Verify.Match {
				err = ErrVerify
			}
		}
	}
	rec.End = now().UTC()
	rec.Outcome = Outcome(err, rec.BadSectors)
	if werr := WriteSidecars(req.Dest, rec.Text(), rec); werr != nil && err == nil {
		err = werr
	}
	return rec, err
}

// Outcome says in a word how an acquisition ended, for its log.
func Outcome(err error, bad int64) string {
	switch {
	case errors.Is(err, ErrVerify):
		return "verification FAILED"
	case errors.Is(err, context.Canceled):
		return "INTERRUPTED: the image is incomplete"
	case err != nil:
		return "FAILED: " + err.Error()
	case bad > 0:
		return fmt.Sprintf("complete, with %d unreadable sectors zero-filled", bad)
	}
	return "complete"
}

// sourceSize is the source's size: a regular file's length, or, for a
// block device, where seeking to its end lands (Linux, the BSDs and macOS
// answer so); -1 for sources that cannot tell (pipes, character devices).
func sourceSize(f *os.File) int64 {
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		return st.Size()
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil || end <= 0 {
		return -1
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return -1
	}
	return end
}
