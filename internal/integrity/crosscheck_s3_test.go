package integrity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// s3Call sends one plain (unsigned: moto_server accepts it) S3 request to
// moto_server and fails the test unless it succeeds.
func (e *crossEnv) s3Call(t *testing.T, method, path string, body []byte, header http.Header) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), crossHTTPTimeout)
	defer cancel()
	path, query, _ := strings.Cut(path, "?")
	u := e.moto + (&url.URL{Path: path}).EscapedPath()
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %v\n%s", method, path, resp.Status, err, b)
	}
	return b
}

// load empties moto_server and puts the scenario's evidence in it, as
// CloudTrail delivers it: each digest with its signature in S3 user
// metadata (from its sidecar, or as recorded), backfill digests also with
// backfill-generation-timestamp unless noStamp. Sidecars are the
// evidence's record of that metadata, not objects of the bucket.
func (e *crossEnv) load(t *testing.T, ev *evidence, region string, noStamp bool) {
	t.Helper()
	e.s3Call(t, http.MethodPost, "/moto-api/reset", nil, nil)
	buckets := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(ev.files)) {
		if classify(p) == kindSidecar {
			continue
		}
		bucket, key, _ := strings.Cut(p, "/")
		if !buckets[bucket] {
			var body []byte
			if region != "" && region != "us-east-1" {
				body = fmt.Appendf(nil, `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+
					`<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>`, region)
			}
			e.s3Call(t, http.MethodPut, "/"+bucket, body, nil)
			buckets[bucket] = true
		}
		h := http.Header{"Content-Type": {"application/octet-stream"}}
		meta := maps.Clone(ev.meta[p])
		if side, ok := ev.files[p+SidecarSuffix]; ok {
			if err := json.Unmarshal(side, &meta); err != nil {
				t.Fatalf("sidecar of %s: %v", p, err)
			}
		}
		if classify(p) == kindDigest && strings.HasSuffix(p, "_backfill.json.gz") && !noStamp {
			if meta == nil {
				meta = map[string]string{}
			}
			meta["backfill-generation-timestamp"] = "2026-03-15T02:00:00Z"
		}
		for k, v := range meta {
			h["x-amz-meta-"+strings.ToLower(k)] = []string{v} // as S3 stores them
		}
		e.s3Call(t, http.MethodPut, "/"+bucket+"/"+key, ev.files[p], h)
	}
	if region != "" && region != "us-east-1" {
		b := e.s3Call(t, http.MethodGet, "/"+slices.Sorted(maps.Keys(buckets))[0]+"?location", nil, nil)
		if !bytes.Contains(b, []byte(region)) {
			t.Fatalf("moto_server put the bucket elsewhere than %s: %s", region, b)
		}
	}
}

// crossScope reads the region and service a SigV4 Authorization
// header was signed for.
var crossScope = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=[^/]+/[0-9]{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request,`)

// crossCall is one request the CLI made to a local endpoint, named
// "SERVICE REGION Operation" by String: the service and region its SigV4
// signature is for, the operation it asks for.
type crossCall struct{ Service, Region, Op string }

func (c crossCall) String() string { return c.Service + " " + c.Region + " " + c.Op }

// signedFor fills in a call's service and region from its Authorization
// header (both empty when it is not signed).
func (c crossCall) signedFor(r *http.Request) crossCall {
	if m := crossScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.Region, c.Service = m[1], m[2]
	}
	return c
}

// s3Op names the S3 operation of a path-style request.
func s3Op(r *http.Request) string {
	object := strings.Contains(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && q.Has("location"):
		return "GetBucketLocation"
	case r.Method == http.MethodGet && !object && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet && !object:
		return "ListObjects"
	case r.Method == http.MethodGet:
		return "GetObject"
	case r.Method == http.MethodHead && object:
		return "HeadObject"
	}
	return r.Method + " " + r.URL.Path
}

// crossS3Proxy records the CLI's S3 requests on their way to moto_server. It
// forwards them by hand rather than with httputil.ReverseProxy, which
// would canonicalise "x-amz-meta-signature" into "X-Amz-Meta-Signature":
// S3 sends user metadata names in lower case, as it stores them, and
// botocore keeps their case, so validate-logs would find no "signature".
type crossS3Proxy struct {
	srv    *httptest.Server
	target string
	client *http.Client
	mu     sync.Mutex
	calls  []crossCall
}

func newCrossS3Proxy(t *testing.T, motoURL string) *crossS3Proxy {
	p := &crossS3Proxy{target: motoURL, client: &http.Client{
		Timeout:       crossHTTPTimeout,
		Transport:     &http.Transport{Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.forward))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *crossS3Proxy) forward(w http.ResponseWriter, r *http.Request) {
	c := crossCall{Op: s3Op(r)}.signedFor(r)
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()

	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Host, out.ContentLength = r.Host, r.ContentLength
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		if k == "Connection" {
			continue
		}
		if l := strings.ToLower(k); strings.HasPrefix(l, "x-amz-meta-") {
			k = l
		}
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// take returns the calls since the last take.
func (p *crossS3Proxy) take() []crossCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := p.calls
	p.calls = nil
	return calls
}
