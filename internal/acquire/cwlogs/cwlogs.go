// Package cwlogs acquires CloudWatch Logs log groups the responder names
// (a VPC flow log's group, an application's, CloudTrail's): their
// description (retention, KMS key, stored bytes: whether the evidence is
// still there and for how long) and their events in the window, read-only
// through FilterLogEvents. Each page is stored as AWS answered it, paced
// under the API's low request quota, with a completion marker per window so
// that a re-run skips finished windows and an interrupted one resumes from
// the last page it stored, without duplicates.
package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
)

// API is the read-only CloudWatch Logs calls this package makes, with the
// SDK's signatures (a *cloudwatchlogs.Client of one region satisfies it).
type API interface {
	DescribeLogGroups(ctx context.Context, params *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	FilterLogEvents(ctx context.Context, params *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Sink is where the pages go. Beyond evidence.Sink it answers what a resume
// needs: which files a window's folder already holds, with the provenance
// each was stored with, and their bytes (the last page's NextToken).
// CaseSink provides it for a case.
type Sink interface {
	evidence.Sink
	// Held lists the files stored directly in the folder dir (relative to
	// the evidence, as Put's rel), sorted by name.
	Held(dir string) ([]Held, error)
	// Read returns the bytes stored at rel.
	Read(rel string) ([]byte, error)
}

// Held is a file a Sink already holds.
type Held struct {
	Rel    string
	Source evidence.Source
}

// DefaultRate is the requests per second sent unless told otherwise:
// FilterLogEvents allows 5 per account and region, shared with every other
// caller of the account, so Harrier keeps below it.
const DefaultRate = 3

// Content names of what Collect stores, as the case's manifest records them.
const (
	ContentPage   = "cloudwatch-logs-events" // a FilterLogEvents page (the SDK's output as JSON)
	ContentMarker = evidence.ContentAPI      // complete.json
)

// MarkerName is the file stored last in a window's folder, once every page
// of it is stored; a window that has it is not fetched again.
const MarkerName = "complete.json"

// ErrOptions reports options Collect cannot run with.
var ErrOptions = errors.New("cloudwatch logs options")

// ErrNoGroup means DescribeLogGroups does not know the named log group.
var ErrNoGroup = errors.New("the log group does not exist")

// Options says what to collect.
type Options struct {
	Account string    // the account the client's credentials are in: part of the evidence path
	Region  string    // the client's region: part of the evidence path
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	// Rate is the most requests per second sent, retries included; 0 means
	// DefaultRate. Ignored when Limiter is set.
	Rate float64
	// Limiter paces the requests; nil means a new one at Rate. Share one
	// between the collections of one account and region: the quota is theirs.
	Limiter *Limiter
	// Limit is the most events asked for per page; 0 leaves it to AWS
	// (10,000 events or 1 MB).
	Limit int32
	// Now is the clock of request times; time.Now when nil.
	Now func() time.Time
}

func (o Options) check() error {
	switch {
	case o.Account == "" || o.Region == "":
		return fmt.Errorf("%w: account and region are required", ErrOptions)
	case o.Since.IsZero() || !o.Until.After(o.Since):
		return fmt.Errorf("%w: the window %s to %s is empty", ErrOptions, o.Since.UTC().Format(time.RFC3339), o.Until.UTC().Format(time.RFC3339))
	case o.Rate < 0 || o.Limit < 0:
		return fmt.Errorf("%w: rate and limit must not be negative", ErrOptions)
	}
	return nil
}

const stamp = "20060102T150405Z"

// GroupDir is the folder of a log group's evidence in the case.
func GroupDir(account, region, group string) string {
	return path.Join("aws", account, region, "cloudwatch-logs", EscapeGroup(group))
}

// WindowDir is the folder of one window of a log group's events.
func WindowDir(account, region, group string, since, until time.Time) string {
	return path.Join(GroupDir(account, region, group), since.UTC().Format(stamp)+"_"+until.UTC().Format(stamp))
}

// EscapeGroup makes a log group name one path element: log group names
// hold "/" (/aws/vpc/flow-logs), and may be "." or "..".
func EscapeGroup(group string) string {
	e := url.PathEscape(group)
	if strings.Trim(e, ".") == "" {
		e = strings.ReplaceAll(e, ".", "%2E")
	}
	return e
}
