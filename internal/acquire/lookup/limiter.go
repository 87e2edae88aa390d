package lookup

import (
	"context"
	"sync"
	"time"
)

// limiter spaces requests at least interval apart: CloudTrail allows
// LookupEvents 2 requests per second per account and region, and a burst
// above it only buys ThrottlingExceptions. golang.org/x/time/rate is not a
// dependency; this is all the pacing one sequential caller needs.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // the earliest time the next request may go
}

func newLimiter(perSecond float64) *limiter {
	return &limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// wait blocks until the caller may send a request, or ctx ends. The next
// request is spaced from the moment this one is let go, not from when it
// was due: a late wake-up must not squeeze the gap that follows.
func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock() // one request at a time is let go
	if d := time.Until(l.next); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	l.next = time.Now().Add(l.interval)
	return nil
}
