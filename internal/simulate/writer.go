package simulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// CloudTrail delivers a file per account and region roughly every five
// minutes; a busy window is split so no file holds more than
// defaultMaxPerFile records, as CloudTrail does with large batches.
const (
	window            = 300
	defaultMaxPerFile = 1500
)

// Write simulates the scenario described by opts and writes it under dir
// in CloudTrail's S3 layout (dir/AWSLogs/...). Files are generated and
// written one at a time by a pool of workers, so memory stays bounded at
// any scale; each file's name and bytes depend only on the options and the
// file's identity, never on scheduling. When every log file is written,
// the digest files that list them follow (see digest.go), then the public
// key list that verifies them (PublicKeysFile). On error or cancellation
// some files may already have been written.
func Write(ctx context.Context, dir string, opts Options) (Result, error) {
	o, err := opts.normalize()
	if err != nil {
		return Result{}, err
	}
	c := newCast(uint64(o.Seed), o.Scale)
	p := newPlan(c, o.Start, o.Days)
	units := int64(o.Days) * 24 * int64(len(c.acct))
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	sink := o.sink
	if sink == nil {
		sink = &dirSink{dir: dir, made: map[string]bool{}}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		res  = Result{Truth: p.truth}
		logs []logEntry
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(sink, c, p, o.maxPerFile)
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= units {
					break
				}
				a := c.acct[i%int64(len(c.acct))]
				hour := o.Start.Unix() + i/int64(len(c.acct))*hourSecs
				if err := w.unit(ctx, a, hour); err != nil {
					cancel(err)
					break
				}
			}
			mu.Lock()
			res.Files += w.files
			res.Events += w.events
			res.Bytes += w.bytes
			res.JSONBytes += w.jsonBytes
			logs = append(logs, w.logs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return res, fmt.Errorf("simulate into %s: %w", dir, err)
	}
	// The digests list the log files of their hour and chain to the one
	// before, so they come once every log file is written.
	if err := writeDigests(ctx, sink, c, p, o, workers, logs, &res); err != nil {
		return res, fmt.Errorf("simulate into %s: %w", dir, err)
	}
	res.PublicKeys = filepath.Join(dir, PublicKeysFile)
	return res, nil
}

// fileSink receives finished files (log files, digests, their metadata
// sidecars, the public key list); it must be safe for concurrent use.
type fileSink interface {
	// writeFile stores data under the slash-separated relative path rel;
	// data is reused once it returns.
	writeFile(rel string, data []byte) error
}

// dirSink writes files under a folder, creating subfolders as needed.
type dirSink struct {
	dir  string
	mu   sync.Mutex
	made map[string]bool
}

func (d *dirSink) writeFile(rel string, data []byte) error {
	path := filepath.Join(d.dir, filepath.FromSlash(rel))
	folder := filepath.Dir(path)
	d.mu.Lock()
	made := d.made[folder]
	d.mu.Unlock()
	if !made {
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return fmt.Errorf("create folder: %w", err)
		}
		d.mu.Lock()
		d.made[folder] = true
		d.mu.Unlock()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	return nil
}

// worker holds the reusable buffers of one goroutine.
type worker struct {
	sink fileSink
	u    unit
	r    record
	json []byte
	gz   bytes.Buffer
	zw   *gzip.Writer
	max  int // records per file

	files, events    int
	bytes, jsonBytes int64
	logs             []logEntry // every file written, for the digests
}

func newWorker(sink fileSink, c *cast, p *plan, maxPerFile int) *worker {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // BestSpeed is a valid level
	return &worker{sink: sink, u: unit{c: c, p: p}, zw: zw, max: maxPerFile}
}

// unit writes every file of account a for the hour starting at hour.
func (w *worker) unit(ctx context.Context, a *account, hour int64) error {
	u := &w.u
	u.a, u.hour = a, hour
	u.generate()
	specs := u.specs
	// A file never holds events from both sides of the victim's logging
	// gap: what CloudTrail logged before StopLogging is delivered apart
	// from what it logged after the restart, and the digest chains break
	// between the two. Such a window's second file numbers its parts on.
	after := func(t int64) bool { return a.idx == 0 && t >= u.p.gapStart }
	prevRegion, prevWin, base := uint8(0), int64(-1), 0
	for i := 0; i < len(specs); {
		region, win, side := specs[i].region, specs[i].t-specs[i].t%window, after(specs[i].t)
		j := i + 1
		for j < len(specs) && specs[j].region == region && specs[j].t-specs[j].t%window == win && after(specs[j].t) == side {
			j++
		}
		if region != prevRegion || win != prevWin {
			base = 0
		}
		parts := (j - i + w.max - 1) / w.max
		for part := 0; part < parts; part++ {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			lo, hi := i+(j-i)*part/parts, i+(j-i)*(part+1)/parts
			if err := w.file(int(region), win, base+part, specs[lo:hi]); err != nil {
				return err
			}
		}
		prevRegion, prevWin, base = region, win, base+parts
		i = j
	}
	return nil
}

// file renders, compresses and writes one log file.
func (w *worker) file(region int, win int64, part int, specs []spec) error {
	u := &w.u
	attack := u.p.byUnit[u.key()]
	b := append(w.json[:0], `{"Records":[`...)
	for k := range specs {
		s := &specs[k]
		if k > 0 {
			b = append(b, ',')
		}
		if s.kind == kAttack {
			b = append(b, attack[s.actor].json...)
			continue
		}
		g := u.eventRng(s)
		w.r.reset()
		u.renderSpec(&w.r, s, &g)
		b = render(b, &w.r, &g)
	}
	b = append(b, ']', '}')
	w.json = b

	w.gz.Reset()
	w.zw.Reset(&w.gz)
	if _, err := w.zw.Write(b); err != nil {
		return fmt.Errorf("compress log file: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return fmt.Errorf("compress log file: %w", err)
	}

	delivered := win + window
	suffix := fromAlphabet(mix(u.c.seed, uint64(u.a.idx), uint64(region), uint64(win), uint64(part), 0xf11e), 16, alnum)
	rel := logFilePath(u.c, u.a, regions[region], delivered, suffix)
	if err := w.sink.writeFile(rel, w.gz.Bytes()); err != nil {
		return err
	}
	// What the hour's digest will say of the file: its hash, never its bytes.
	e := logEntry{sum: sha256.Sum256(b), delivered: delivered, oldest: specs[0].t, newest: specs[len(specs)-1].t,
		acct: uint8(u.a.idx), region: uint8(region)}
	copy(e.suffix[:], suffix)
	w.logs = append(w.logs, e)
	w.files++
	w.events += len(specs)
	w.bytes += int64(w.gz.Len())
	w.jsonBytes += int64(len(b))
	return nil
}

// logFilePath is the slash-separated S3 key of a log file delivered at
// unix time t: AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.
// The second account's files come through the organisation trail.
func logFilePath(c *cast, a *account, region string, t int64, suffix string) string {
	b := appendLayoutDir(make([]byte, 0, 160), c, a, "CloudTrail", region, t)
	b = append(b, logFileName(a.id, region, t, suffix)...)
	return string(b)
}

// appendLayoutDir appends the folder CloudTrail delivers a file of the
// given kind ("CloudTrail", "CloudTrail-Digest") to at unix time t:
// AWSLogs/[o-org/]<account>/<kind>/<region>/YYYY/MM/DD/. The second
// account's files come through the organisation trail.
func appendLayoutDir(b []byte, c *cast, a *account, kind, region string, t int64) []byte {
	b = append(b, "AWSLogs/"...)
	if a.orgTrail {
		b = append(b, c.org...)
		b = append(b, '/')
	}
	b = append(b, a.id...)
	b = append(b, '/')
	b = append(b, kind...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = appendDatePath(b, t)
	return append(b, '/')
}

// logFileName is CloudTrail's file name:
// <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 random alphanumerics>.json.gz.
func logFileName(acct, region string, t int64, suffix string) string {
	ts := appendTime(nil, t) // 2026-03-14T09:15:00Z
	b := make([]byte, 0, 96)
	b = append(b, acct...)
	b = append(b, "_CloudTrail_"...)
	b = append(b, region...)
	b = append(b, '_')
	b = appendCompactTime(b, ts, false)
	b = append(b, '_')
	b = append(b, suffix...)
	b = append(b, ".json.gz"...)
	return string(b)
}

// appendCompactTime appends an RFC 3339 UTC time ("2026-03-14T09:15:31Z") in
// the compact form CloudTrail's file names use: YYYYMMDDTHHMMZ, or
// YYYYMMDDTHHMMSSZ with seconds.
func appendCompactTime(b, ts []byte, seconds bool) []byte {
	b = append(b, ts[0:4]...)
	b = append(b, ts[5:7]...)
	b = append(b, ts[8:10]...)
	b = append(b, 'T')
	b = append(b, ts[11:13]...)
	b = append(b, ts[14:16]...)
	if seconds {
		b = append(b, ts[17:19]...)
	}
	return append(b, 'Z')
}
