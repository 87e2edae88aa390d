package cwlogs

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

const (
	account   = "123456789012"
	flowGroup = "/aws/vpc/flow-logs"
	appGroup  = "app.audit"
)

// seedEvent is one event put in moto.
type seedEvent struct {
	group, stream string
	at            time.Time
	message       string
}

// window is the collected day: three days ago (moto takes only events of
// the last 14 days), whole UTC days so that events sit on known sides.
func window() (time.Time, time.Time) {
	since := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	return since, since.Add(24 * time.Hour)
}

// flowLine is a VPC flow log record in the default (version 2) format.
func flowLine(eni string, i int, at time.Time) string {
	return fmt.Sprintf("2 %s %s 10.0.1.%d 203.0.113.%d %d 443 6 %d %d %d %d ACCEPT OK",
		account, eni, 10+i%50, 1+i%200, 49152+i, 3+i, 300+i*40, at.Unix(), at.Unix()+60)
}

// seedEvents lists the events: around the window's edges (the start is in,
// the end is out) and inside it, in two streams of the flow log group and
// one of the application group.
func seedEvents() []seedEvent {
	since, until := window()
	var out []seedEvent
	a := []time.Time{since.Add(-2 * time.Hour), since.Add(-time.Millisecond), since}
	for k := 1; k <= 11; k++ {
		a = append(a, since.Add(time.Duration(k)*90*time.Minute))
	}
	a = append(a, until.Add(-time.Millisecond), until, until.Add(time.Hour))
	for i, t := range a {
		out = append(out, seedEvent{flowGroup, "eni-0a1b2c3d4e5f60718-all", t, flowLine("eni-0a1b2c3d4e5f60718", i, t)})
	}
	for k := range 12 {
		t := since.Add(time.Duration(k)*100*time.Minute + 7*time.Minute)
		out = append(out, seedEvent{flowGroup, "eni-0f9e8d7c6b5a40312-all", t, flowLine("eni-0f9e8d7c6b5a40312", k, t)})
	}
	for k := range 4 {
		t := since.Add(time.Duration(k) * 5 * time.Hour)
		out = append(out, seedEvent{appGroup, "web-1", t, fmt.Sprintf(`{"level":"info","user":"alice","action":"login","n":%d}`, k)})
	}
	return out
}

// inWindow returns the messages of group's events inside [since, until).
func inWindow(events []seedEvent, group string) []string {
	since, until := window()
	var out []string
	for _, e := range events {
		if e.group == group && !e.at.Before(since) && e.at.Before(until) {
			out = append(out, e.message)
		}
	}
	sort.Strings(out)
	return out
}

// seed creates the groups (the application's with a 30-day retention) and
// puts the events.
func seed(t *testing.T, api *cloudwatchlogs.Client) []seedEvent {
	t.Helper()
	ctx := context.Background()
	events := seedEvents()
	streams := map[[2]string][]types.InputLogEvent{}
	for _, e := range events {
		k := [2]string{e.group, e.stream}
		streams[k] = append(streams[k], types.InputLogEvent{Timestamp: aws.Int64(e.at.UnixMilli()), Message: aws.String(e.message)})
	}
	for _, g := range []string{flowGroup, appGroup} {
		if _, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(appGroup), RetentionInDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	for k, evs := range streams {
		if _, err := api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(k[0]), LogStreamName: aws.String(k[1])}); err != nil {
			t.Fatal(err)
		}
		out, err := api.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(k[0]), LogStreamName: aws.String(k[1]), LogEvents: evs})
		if err != nil {
			t.Fatal(err)
		}
		if out.RejectedLogEventsInfo != nil {
			t.Fatalf("moto rejected events of %v: %+v", k, out.RejectedLogEventsInfo)
		}
	}
	return events
}

// front stands before moto and answers FilterLogEvents with a
// ThrottlingException, as CloudWatch Logs does (JSON 1.1, HTTP 400), for
// as many requests as throttle says (-1: all), counting the requests.
type front struct {
	mu       sync.Mutex
	throttle int
	filters  int // FilterLogEvents requests seen
	throttld int // of them answered with a throttle
}

func (f *front) answer(w http.ResponseWriter, r *http.Request, op string) bool {
	if op != "FilterLogEvents" {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters++
	if f.throttle == 0 {
		return false
	}
	if f.throttle > 0 {
		f.throttle--
	}
	f.throttld++
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", "harrier-throttle-0001")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
	return true
}

// env is moto, seeded, behind a front, with a client through the front.
type env struct {
	events []seedEvent
	front  *front
	api    *cloudwatchlogs.Client
}

func newEnv(t *testing.T, attempts int) *env {
	t.Helper()
	srv := awstest.Moto(t)
	e := &env{front: &front{}}
	e.events = seed(t, cloudwatchlogs.NewFromConfig(awstest.Config(srv.URL)))
	fr := awstest.Front(t, srv.URL, e.front.answer)
	e.api = cloudwatchlogs.NewFromConfig(awstest.Config(fr.URL), func(o *cloudwatchlogs.Options) {
		o.RetryMaxAttempts = attempts // else the config's 1 wraps the retryer
		// retries without waiting: pacing is the Limiter's, and tests
		// count, never time
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			so.RateLimiter = ratelimit.None
		})
	})
	return e
}

var fixedNow = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }

func openCase(t *testing.T) *casefile.Case {
	t.Helper()
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// options collects the window fast: tests count requests, never time them.
func options(limit int32) Options {
	since, until := window()
	return Options{Account: account, Region: awstest.Region, Since: since, Until: until, Rate: 1000, Limit: limit, Now: fixedNow}
}

// noAlternatives fails the test if any file of the case was stored twice
// under one name (AddAcquired's ".harrier-" suffix): a page overwritten.
func noAlternatives(t *testing.T, c *casefile.Case) {
	t.Helper()
	for _, e := range c.Latest() {
		if strings.Contains(e.Path, ".harrier-") && strings.Contains(e.Path, "/page-") {
			t.Errorf("a page was stored twice: %s", e.Path)
		}
	}
}
