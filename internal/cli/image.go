package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/respond/image"
)

func runImage(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "image", "[--sector-size N] [--no-verify] [--case DIR] [--format text|json] SRC DST")
	sector := fs.Int("sector-size", image.DefaultSector, "the unit an unreadable region is measured and zero-filled in (a power of two: 512, 4096)")
	chunk := fs.Int("chunk-size", image.DefaultChunk, "bytes read at once")
	noVerify := fs.Bool("no-verify", false, "do not read the image back to verify its hashes (the log then says so)")
	caseFlag := fs.String("case", "", "also record the image's log and record (and so its hashes) in this case; the image stays where it is")
	format := fs.String("format", "text", "the acquisition record on stdout: text (the log) or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("image needs SRC and DST: the device or file to image, and the image to write")
	}
	if *sector <= 0 || *sector&(*sector-1) != 0 {
		return usageErr("--sector-size %d: a power of two, such as 512 or 4096", *sector)
	}
	if *chunk < *sector {
		return usageErr("--chunk-size %d: at least one sector (%d)", *chunk, *sector)
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format %s: text or json", *format)
	}
	var c *casefile.Case
	if *caseFlag != "" {
		if c, err = casefile.Open(*caseFlag, version(), true); err != nil {
			return err
		}
		defer c.Close()
	}
	bar := startBytes(e.stderr, "imaging")
	rec, err := image.Acquire(ctx, image.Request{Source: pos[0], Dest: pos[1], Who: who("image", args), NoVerify: *noVerify,
		Options: image.Options{SectorSize: *sector, ChunkSize: *chunk, Progress: bar.set}})
	bar.finish()
	if rec.End.IsZero() { // refused or failed before a record could be written
		return err
	}
	if perr := printRecord(e.stdout, *format, rec.Text(), rec); perr != nil && err == nil {
		err = perr
	}
	if c != nil && (err == nil || errors.Is(err, image.ErrVerify)) {
		rel := "images/" + filepath.Base(pos[1])
		if cerr := addImageRecord(c, pos[1], rel, "image:"+pos[0], rec.Sums, rec.Bytes); cerr != nil {
			return cerr
		}
		fmt.Fprintf(e.stderr, "recorded in case %s: %s.log, %s.json\n", safe(c.Meta.ID), safe(rel), safe(rel))
	}
	switch {
	case errors.Is(err, image.ErrVerify):
		return fmt.Errorf("%w: %v", errUnverified, err)
	case err != nil:
		return err
	case rec.BadSectors > 0:
		fmt.Fprintf(e.stderr, "harrier: %d unreadable sectors were zero-filled; the log lists where\n", rec.BadSectors)
		return errPartial
	}
	return nil
}

// who is the operator, host and command an acquisition log names.
func who(cmd string, args []string) image.Who {
	op := casefile.CurrentOperator()
	return image.Who{Tool: "harrier " + version(), Command: append([]string{"harrier", cmd}, args...), Operator: fmt.Sprintf("%s (uid %s)", op.User, op.UID), Host: op.Host}
}

func printRecord(w io.Writer, format string, text []byte, rec any) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rec)
	}
	_, err := fmt.Fprint(w, safeLines(string(text)))
	return err
}

// addImageRecord puts an image's log and record into the case, hashed and
// with the image's own path and hashes as their provenance. The image is
// not copied: it can be larger than the case's disk, and it is evidence
// where it lies, with its hashes in the case to vouch for it.
func addImageRecord(c *casefile.Case, dst, rel, origin string, sums image.Sums, size int64) error {
	abs, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	src := map[string]any{"image": abs, "image_sha256": sums.SHA256, "image_md5": sums.MD5, "image_bytes": size, "recorded_at": time.Now().UTC()}
	logPath, recPath := image.Sidecars(dst)
	for _, f := range []struct{ path, ext, content string }{{logPath, ".log", "disk-image-log"}, {recPath, ".json", "disk-image-record"}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		if _, err := c.AddAcquired(rel+f.ext, origin, f.content, b, src); err != nil {
			return fmt.Errorf("record the image in the case: %w", err)
		}
	}
	return nil
}

// bytesBar draws a byte count, rate and (when the total is known) ETA on a
// terminal, and stays silent otherwise.
type bytesBar struct {
	w           io.Writer
	label       string
	done, total atomic.Int64
	note        atomic.Value // string: what the phase is
	start       time.Time
	stop        chan struct{}
	wg          sync.WaitGroup
}

func startBytes(w io.Writer, label string) *bytesBar {
	b := &bytesBar{w: w, label: label, start: time.Now(), stop: make(chan struct{})}
	b.total.Store(-1)
	if !isTerminal(w) {
		return b
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				fmt.Fprint(b.w, "\r\033[K")
				return
			case <-t.C:
				b.draw()
			}
		}
	}()
	return b
}

func (b *bytesBar) set(done, total int64) {
	b.done.Store(done)
	b.total.Store(total)
}

func (b *bytesBar) draw() {
	done, total := b.done.Load(), b.total.Load()
	secs := time.Since(b.start).Seconds()
	rate := float64(done) / secs
	label := b.label
	if n, ok := b.note.Load().(string); ok && n != "" {
		label = n
	}
	line := fmt.Sprintf("\r\033[K%s %s", label, sizeText(done))
	if total > 0 {
		line += fmt.Sprintf(" of %s (%.0f%%)", sizeText(total), 100*float64(done)/float64(total))
	}
	line += fmt.Sprintf("  %s/s", sizeText(int64(rate)))
	if total > 0 && rate > 0 && done < total {
		line += "  ETA " + (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprint(b.w, line)
}

func (b *bytesBar) finish() {
	close(b.stop)
	b.wg.Wait()
}
