package lookup

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// fakeTrail answers LookupEvents exactly as CloudTrail does on the wire
// (awsJson1_1: POST /, X-Amz-Target naming the operation, a SigV4
// signature, JSON bodies with timestamps as epoch seconds, errors as
// {"__type": ...} with HTTP 400), from a fixed event history. Anything the
// service would refuse is answered as it would, and recorded in bad.
type fakeTrail struct {
	srv *httptest.Server

	mu       sync.Mutex
	events   []fakeEvent // newest first
	throttle int         // throttle this many of the next requests
	deny     int         // deny requests from this page on (0: never)
	calls    []fakeCall
	bad      []string
}

type fakeEvent struct {
	id   string
	name string
	at   time.Time
}

// fakeCall is one request the fake received.
type fakeCall struct {
	at         time.Time
	start, end time.Time
	maxResults int
	token      string
}

func newFakeTrail(t *testing.T, events []fakeEvent) *fakeTrail {
	sort.Slice(events, func(i, j int) bool { return events[i].at.After(events[j].at) })
	f := &fakeTrail{events: events}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		for _, b := range f.bad {
			t.Errorf("the fake refused a request: %s", b)
		}
	})
	return f
}

// history makes n events a minute apart from since.
func history(n int, since time.Time) []fakeEvent {
	evs := make([]fakeEvent, n)
	for i := range evs {
		evs[i] = fakeEvent{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), name: "DescribeInstances",
			at: since.Add(time.Duration(i) * time.Minute)}
	}
	return evs
}

func (f *fakeTrail) client() *cloudtrail.Client {
	return cloudtrail.NewFromConfig(awstest.Config(f.srv.URL), func(o *cloudtrail.Options) {
		o.RetryMaxAttempts = 3
		// The standard retryer, with a short backoff to keep tests quick.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })
		})
	})
}

func (f *fakeTrail) taken() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

func (f *fakeTrail) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	// AWS answers a round trip later. An instant answer races the Go
	// transport's request writer, which then closes the connection under
	// the response (aws/aws-sdk-go-v2#2737); the SDK retries that, which
	// would blur the request counts these tests check.
	time.Sleep(2 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	fail := func(typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000000")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	refuse := func(typ, msg string) {
		f.bad = append(f.bad, msg)
		fail(typ, msg)
	}
	target := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "com.amazonaws.cloudtrail.v20131101.")
	auth := r.Header.Get("Authorization")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		refuse("UnknownOperationException", r.Method+" "+r.URL.Path)
		return
	case target != "CloudTrail_20131101.LookupEvents":
		refuse("UnknownOperationException", "X-Amz-Target "+target)
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		refuse("SerializationException", "Content-Type "+r.Header.Get("Content-Type"))
		return
	case !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/us-east-1/cloudtrail/aws4_request"):
		refuse("MissingAuthenticationTokenException", "Authorization "+auth)
		return
	}
	var in struct {
		StartTime  json.Number
		EndTime    json.Number
		MaxResults int
		NextToken  string
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		refuse("SerializationException", "body "+string(body)+": "+err.Error())
		return
	}
	c := fakeCall{at: now, maxResults: in.MaxResults, token: in.NextToken}
	for _, p := range []struct {
		n  json.Number
		to *time.Time
	}{{in.StartTime, &c.start}, {in.EndTime, &c.end}} {
		if p.n == "" {
			continue
		}
		secs, err := strconv.ParseFloat(string(p.n), 64)
		if err != nil {
			refuse("SerializationException", "time "+string(p.n))
			return
		}
		*p.to = time.UnixMilli(int64(secs * 1000)).UTC()
	}
	f.calls = append(f.calls, c)
	if f.throttle > 0 {
		f.throttle--
		fail("ThrottlingException", "Rate exceeded")
		return
	}
	if in.MaxResults < 0 || in.MaxResults > 50 {
		refuse("InvalidMaxResultsException", "MaxResults "+strconv.Itoa(in.MaxResults))
		return
	}
	if !c.end.IsZero() && c.end.Before(c.start) {
		refuse("InvalidTimeRangeException", "EndTime before StartTime")
		return
	}
	size := in.MaxResults
	if size == 0 {
		size = 50
	}
	// NextToken is opaque to callers; here it is the offset of the next
	// event among those of the window.
	from := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "tok-"))
		if err != nil {
			fail("InvalidNextTokenException", "A token you provided is not valid.")
			return
		}
		from = n
	}
	if f.deny > 0 && from/size+1 >= f.deny {
		fail("AccessDeniedException", "User: arn:aws:iam::111122223333:user/responder is not authorized to perform: cloudtrail:LookupEvents")
		return
	}
	var in_ []fakeEvent
	for _, e := range f.events {
		if (c.start.IsZero() || !e.at.Before(c.start)) && (c.end.IsZero() || !e.at.After(c.end)) {
			in_ = append(in_, e)
		}
	}
	out := map[string]any{}
	list := []map[string]any{}
	for i := from; i < len(in_) && i < from+size; i++ {
		e := in_[i]
		ct, _ := json.Marshal(map[string]any{"eventVersion": "1.08", "eventTime": e.at.Format(time.RFC3339),
			"eventSource": "ec2.amazonaws.com", "eventName": e.name, "awsRegion": "us-east-1",
			"eventID": e.id, "readOnly": true, "recipientAccountId": "111122223333",
			"userIdentity": map[string]any{"type": "IAMUser", "userName": "alice", "accessKeyId": "AKIAEXAMPLE00000001"}})
		list = append(list, map[string]any{"EventId": e.id, "EventName": e.name, "ReadOnly": "true",
			"AccessKeyId": "AKIAEXAMPLE00000001", "EventTime": e.at.Unix(), "EventSource": "ec2.amazonaws.com",
			"Username": "alice", "Resources": []map[string]string{{"ResourceType": "AWS::EC2::Instance", "ResourceName": "i-0abc"}},
			"CloudTrailEvent": string(ct)})
	}
	out["Events"] = list
	if from+size < len(in_) {
		out["NextToken"] = "tok-" + strconv.Itoa(from+size)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000001")
	json.NewEncoder(w).Encode(out)
}

// memSink keeps what Collect stores in memory, in order.
type memSink struct {
	mu    sync.Mutex
	files map[string]stored
	order []string
}

type stored struct {
	content string
	data    []byte
	source  any
}

func newMemSink() *memSink { return &memSink{files: map[string]stored{}} }

func (s *memSink) Have(rel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.files[rel]
	return ok
}

func (s *memSink) Put(rel, content string, data []byte, source any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[rel] = stored{content, append([]byte(nil), data...), source}
	s.order = append(s.order, rel)
	return nil
}
