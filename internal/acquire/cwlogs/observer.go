package cwlogs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go/middleware"
)

// observer watches the attempts of one call from inside the SDK client's
// retry loop: it paces every retry through lim (the caller paces the first
// attempt) and counts attempts and throttles. With an API that is not an
// SDK client it sees nothing, and the caller counts one attempt.
type observer struct {
	lim       *Limiter
	attempts  int
	throttled int
}

func (o *observer) option(opts *cloudwatchlogs.Options) {
	opts.APIOptions = append(opts.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("HarrierLogsPace", o.attempt), "Retry", middleware.After)
	})
}

func (o *observer) attempt(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	o.attempts++
	if o.attempts > 1 {
		if err := o.lim.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
	}
	out, md, err := next.HandleFinalize(ctx, in)
	if err != nil && isThrottle(err) {
		o.throttled++
	}
	return out, md, err
}

// done folds one call's figures into requests and throttled.
func (o *observer) done(err error, requests, throttled *int) {
	*requests += max(o.attempts, 1)
	*throttled += o.throttled
	if o.attempts == 0 && err != nil && isThrottle(err) {
		*throttled++
	}
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func isThrottle(err error) bool { return throttles.IsErrorThrottle(err).Bool() }
