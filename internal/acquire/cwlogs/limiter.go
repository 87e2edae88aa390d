package cwlogs

import (
	"context"
	"sync"
	"time"
)

// Limiter spaces requests at least an interval apart. FilterLogEvents has
// a quota of a few requests per second per account and region; a burst
// above it only buys ThrottlingExceptions. One Limiter is shared by every
// collection of one account and region, so it is safe for concurrent use.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // the earliest time the next request may go
	granted  int       // requests let go, for tests to check that every one was paced
}

// NewLimiter returns a Limiter letting perSecond requests go each second
// (DefaultRate when perSecond is not positive).
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait blocks until the caller may send a request, or ctx ends. The next
// request is spaced from the moment this one is let go, so a late wake-up
// does not squeeze the gap that follows.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
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
