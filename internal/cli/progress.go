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
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// lockedWriter lets several goroutines write lines to one stream (acquire's
// log: the downloads, the regions' event history, the loader, the progress
// bars) without interleaving or racing.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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

// bar is a one-line progress display for an acquisition source on a
// terminal: done of total (total 0: unknown), and bytes when known. Off a
// terminal it says nothing; the summary says what was done.
type bar struct {
	quit chan struct{}
	done chan struct{}
}

func startBar(w io.Writer, label string, read func() (done, total, bytes int64)) *bar {
	b := &bar{quit: make(chan struct{}), done: make(chan struct{})}
	if !isTerminal(w) {
		close(b.done)
		return b
	}
	start := time.Now()
	go func() {
		defer close(b.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.quit:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				done, total, bytes := read()
				line := fmt.Sprintf("%s  %s", label, num(done))
				if total > 0 {
					const width = 24
					filled := int(done * width / max(total, 1))
					line = fmt.Sprintf("%s  [%s%s] %s/%s", label, strings.Repeat("=", min(filled, width)), strings.Repeat(" ", width-min(filled, width)), num(done), num(total))
				}
				if bytes > 0 {
					line += "  " + sizeText(bytes)
				}
				fmt.Fprintf(w, "\r\033[K%s  %s", line, time.Since(start).Round(time.Second))
			}
		}
	}()
	return b
}

func (b *bar) stop() {
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	<-b.done
}
