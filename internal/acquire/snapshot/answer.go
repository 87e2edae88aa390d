package snapshot

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// notConfiguredCodes are the error codes with which AWS says a setting is
// absent rather than refusing: a fact about the account (a bucket without
// a policy, no organisation), kept in the snapshot, not a problem.
var notConfiguredCodes = map[string]bool{
	"NoSuchBucketPolicy":                             true, // GetBucketPolicy, GetBucketPolicyStatus
	"ServerSideEncryptionConfigurationNotFoundError": true, // GetBucketEncryption
	"NoSuchPublicAccessBlockConfiguration":           true, // GetPublicAccessBlock
	"ReplicationConfigurationNotFoundError":          true, // GetBucketReplication
	"NoSuchCORSConfiguration":                        true,
	"NoSuchLifecycleConfiguration":                   true,
	"AWSOrganizationsNotInUseException":              true, // Organizations
}

// notConfigured returns the code of an answer that says "not configured"
// for api. IAM's NoSuchEntity means so only for the password policy: on
// other calls it means the resource went away meanwhile.
func notConfigured(api string, err error) (string, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	code := ae.ErrorCode()
	if notConfiguredCodes[code] || (api == "GetAccountPasswordPolicy" && code == "NoSuchEntity") {
		return code, true
	}
	return "", false
}

// Absent is what the snapshot holds for a setting AWS says is not
// configured, in place of its answer.
type Absent struct {
	Configured bool   `json:"configured"` // always false
	ErrorCode  string `json:"error_code"`
	Message    string `json:"message,omitempty"`
}

func absent(code string, err error) Absent {
	a := Absent{ErrorCode: code}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		a.Message = ae.ErrorMessage()
	}
	return a
}

// Refused is what a per-resource record holds for a call AWS refused or
// failed (the coverage row lists it as a problem too), so that the record
// says why an answer is missing.
type Refused struct {
	Error  string `json:"error"`
	Code   string `json:"error_code,omitempty"`
	Denied bool   `json:"denied"`
}

func refused(err error) Refused {
	r := Refused{Error: err.Error(), Denied: evidence.IsDenied(err)}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		r.Code = ae.ErrorCode()
	}
	return r
}

// forEach runs fn for every item with at most n at once, stopping at the
// first error fn returns (which ends the run) and returning it.
func forEach[T any](ctx context.Context, n int, items []T, fn func(ctx context.Context, item T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, it); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
