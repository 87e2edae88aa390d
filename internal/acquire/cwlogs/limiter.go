package cwlogs

import "github.com/harrier-ir/harrier/internal/acquire/evidence"

// Limiter paces FilterLogEvents: it has a quota of a few requests per
// second per account and region. One Limiter is shared by every collection
// of one account and region.
type Limiter = evidence.Limiter

// NewLimiter returns a Limiter letting perSecond requests go each second
// (DefaultRate when perSecond is not positive).
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	return evidence.NewLimiter(perSecond)
}
