package findings

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// throttleCodes are the error codes these services answer with when a
// caller goes faster than its rate limit.
var throttleCodes = map[string]bool{
	"ThrottlingException":      true, // GuardDuty, Inspector, Macie, Security Hub
	"TooManyRequestsException": true, // GuardDuty, Security Hub (some operations)
	"Throttling":               true,
	"LimitExceededException":   true, // Security Hub's rate limit on GetFindings
}

// throttles counts the attempts a service refused for going too fast. The
// SDK's retryer retries them out of sight; the count, in the coverage
// row, tells the responder that the collection was paced by AWS and that
// a failure after it may be one more throttle rather than a denial.
type throttles struct{ n atomic.Int64 }

func (t *throttles) count() int { return int(t.n.Load()) }

// isThrottle reports whether err is a rate limit's refusal: a throttling
// code, or an HTTP 429 without one.
func isThrottle(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && throttleCodes[ae.ErrorCode()] {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests
}

// stack adds, inside the retry loop, a step that sees every attempt's
// error; it goes in each call's APIOptions.
func (t *throttles) stack(s *middleware.Stack) error {
	return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("HarrierCountThrottles",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil && isThrottle(err) {
				t.n.Add(1)
			}
			return out, md, err
		}), "Retry", middleware.After)
}
