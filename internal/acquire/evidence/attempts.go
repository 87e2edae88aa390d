package evidence

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// Attempts watches the attempts of one paced call from inside the SDK
// client's retry loop: it paces every retry through Lim (the caller paces
// the first attempt) and counts attempts and throttles, so that a quota
// shared per account and region holds for retries too. With an API that is
// not an SDK client it sees nothing, and Done counts one attempt.
type Attempts struct {
	Lim       *Limiter
	Count     int // attempts the SDK made
	Throttled int // of them, refused by a throttle
}

// Stack is the APIOptions entry that puts the watch inside the retry loop;
// name names the middleware (one per service, for the SDK's stack).
func (a *Attempts) Stack(name string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc(name, a.attempt), "Retry", middleware.After)
	}
}

func (a *Attempts) attempt(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	a.Count++
	if a.Count > 1 {
		if err := a.Lim.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
	}
	out, md, err := next.HandleFinalize(ctx, in)
	if err != nil && IsThrottle(err) {
		a.Throttled++
	}
	return out, md, err
}

// Done folds one call's figures into requests and throttled: at least one
// request, and a throttle the watch did not see (an API that is not an SDK
// client) counted from the call's error.
func (a *Attempts) Done(err error, requests, throttled *int) {
	*requests += max(a.Count, 1)
	*throttled += a.Throttled
	if a.Count == 0 && err != nil && IsThrottle(err) {
		*throttled++
	}
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// IsThrottle reports whether err is one of the SDK's throttling errors.
func IsThrottle(err error) bool { return throttles.IsErrorThrottle(err).Bool() }
