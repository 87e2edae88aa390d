package evidence

import (
	"context"
	"sync"
	"time"
)

// Limiter spaces requests at least an interval apart: APIs with a
// per-account, per-region quota (CloudTrail's LookupEvents at 2 a second,
// CloudWatch Logs' FilterLogEvents at a few) only answer a burst above it
// with throttling errors. Share one Limiter between the collections of one
// account and region; it is safe for concurrent use. (golang.org/x/time/rate
// is not a dependency; this is all the pacing the sources need.)
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // the earliest time the next request may go
	granted  int       // requests let go, for tests to check that every one was paced
}

// NewLimiter returns a Limiter letting perSecond requests go each second
// (one a second when perSecond is not positive).
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		perSecond = 1
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait blocks until the caller may send a request, or ctx ends. The next
// request is spaced from the moment this one is let go, not from when it
// was due: a late wake-up must not squeeze the gap that follows.
func (l *Limiter) Wait(ctx context.Context) error {
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
	l.granted++
	return nil
}

// Granted is how many requests the limiter has let go.
func (l *Limiter) Granted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.granted
}
