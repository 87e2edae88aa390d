package findings

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/awstest"
)

// The investigation window of the tests, and their clock.
var (
	since   = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	until   = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clockAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

const account = "123456789012"

func testOptions(regions ...string) Options {
	return Options{Account: account, Stamp: "20260302T090000Z", Since: since, Until: until, Regions: regions,
		Now: func() time.Time { return clockAt }}
}

// restError answers as a REST-JSON AWS service refuses a call: the status,
// the X-Amzn-ErrorType header naming the error, and a JSON body with the
// message.
func restError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", "harrier-test-request")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Write(b)
}

// writeJSON answers 200 with v as REST-JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", "harrier-test-request")
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// readBody decodes the request's JSON into v and returns the key that
// tells the request apart from any other: its region, path and body.
func readBody(t *testing.T, r *http.Request, v any) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read request body: %v", err)
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // epoch milliseconds compared exactly
	if err := d.Decode(v); err != nil {
		t.Errorf("request body %s: %v", b, err)
	}
	return regionOf(r) + " " + r.URL.Path + " " + string(b)
}

var scopeRE = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// regionOf is the region a request was signed for (SigV4's credential
// scope): how AWS, and moto, know which region is asked.
func regionOf(r *http.Request) string {
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// distinct records the requests a fake answered, once each: the tests'
// SDK configuration retries a connection the test server dropped, and a
// retried request must not read as a second page.
type distinct struct {
	mu   sync.Mutex
	seen map[string]bool
	keys []string
}

// add records key and reports whether it is new.
func (d *distinct) add(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	if d.seen[key] {
		return false
	}
	d.seen[key] = true
	d.keys = append(d.keys, key)
	return true
}

func (d *distinct) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.keys)
}

// memSink keeps what a collection stores, for the test to read back.
type memSink struct {
	mu    sync.Mutex
	files map[string]stored
}

type stored struct {
	content string
	data    []byte
	src     evidence.Source
}

func newMemSink() *memSink { return &memSink{files: map[string]stored{}} }

func (s *memSink) Have(rel, etag string, size int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[rel]
	return ok && int64(len(f.data)) == size
}

func (s *memSink) Put(rel, content string, data []byte, src evidence.Source) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[rel] = stored{content: content, data: slices.Clone(data), src: src}
	return nil
}

func (s *memSink) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p := range s.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// doc decodes a stored file as JSON.
func (s *memSink) doc(t *testing.T, rel string) (map[string]any, evidence.Source) {
	t.Helper()
	s.mu.Lock()
	f, ok := s.files[rel]
	s.mu.Unlock()
	if !ok {
		t.Fatalf("nothing stored at %s; stored: %s", rel, strings.Join(s.paths(), "\n"))
	}
	if f.content != evidence.ContentAPI {
		t.Errorf("%s: content %q", rel, f.content)
	}
	var m map[string]any
	if err := json.Unmarshal(f.data, &m); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return m, f.src
}

// retrying is the SDK configuration of the collection tests: several
// attempts, no wait between them, no retry quota. Throttles are retried as
// the CLI's retryer does; so is, now and then, a keep-alive connection
// the local test server has dropped ("use of closed network connection",
// seen about once in five runs under -race), which AWS's retryer also
// retries.
func retrying(cfg aws.Config, attempts int) aws.Config {
	cfg.RetryMaxAttempts = attempts
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	return cfg
}

// collector returns the named collector, as the CLI gets it.
func collector(t *testing.T, name string) Collector {
	t.Helper()
	cs, err := Select([]string{name})
	if err != nil || len(cs) != 1 {
		t.Fatalf("Select(%s) = %v, %v", name, cs, err)
	}
	return cs[0]
}

func collect(t *testing.T, name string, cfg aws.Config, sink evidence.Sink, opts Options) []evidence.Coverage {
	t.Helper()
	rows, err := collector(t, name).Collect(context.Background(), sink, opts, cfg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

func rowOf(t *testing.T, rows []evidence.Coverage, region string) evidence.Coverage {
	t.Helper()
	for _, r := range rows {
		if r.Region == region {
			return r
		}
	}
	t.Fatalf("no coverage row for %s in %+v", region, rows)
	return evidence.Coverage{}
}

// motoConfig is the SDK configuration that talks to moto directly, to
// set up what a test collects.
func motoConfig(srv *awstest.Server, region string) aws.Config {
	cfg := awstest.Config(srv.URL)
	cfg.Region = region
	return cfg
}
