package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/harrier-ir/harrier/internal/ingest"
)

// progress draws an ingest progress bar on a terminal and stays silent
// otherwise (logs and pipes get the summary only).
type progress struct {
	w     io.Writer
	c     *ingest.Counters
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func startProgress(w io.Writer, c *ingest.Counters) *progress {
	p := &progress{w: w, c: c, start: time.Now(), stop: make(chan struct{})}
	if !isTerminal(w) {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) draw() {
	total, done, recs := p.c.FilesTotal.Load(), p.c.FilesDone.Load(), p.c.Records.Load()
	const width = 30
	filled := 0
	if total > 0 {
		filled = int(done * width / total)
	}
	rate := float64(recs) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %s/%s files  %s events  %s events/s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), num(done), num(total), num(recs), num(int64(rate)))
}

func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
}
