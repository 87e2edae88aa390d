package awstest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// Front starts an httptest server in front of target (moto_server's URL):
// each request is first offered to answer, which writes an AWS-shaped
// response and returns true for the operations it takes over (an API moto
// lacks, a refusal, a throttle); everything else is forwarded to target
// unchanged. Point the SDK at the returned server's URL.
//
// The request's body can be read by answer: it is restored before the
// request is forwarded.
func Front(t testing.TB, target string, answer func(w http.ResponseWriter, r *http.Request, op string) bool) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("awstest.Front: %v", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = &http.Transport{Proxy: nil}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := Operation(r, body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if answer != nil && answer(w, r, op) {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		proxy.ServeHTTP(w, r)
	}))
	// one connection per request: a client reusing a kept-alive connection
	// the server side has just closed sees "use of closed network
	// connection" now and then under -race, a failure of the test's own
	// plumbing, not of the code under test
	srv.Config.SetKeepAlivesEnabled(false)
	t.Cleanup(srv.Close)
	return srv
}

// Operation names the AWS operation a request asks for, as far as the
// protocol says it: the X-Amz-Target's operation (JSON protocols), the
// Action parameter (query protocols: IAM, EC2, STS), or "" for REST
// protocols (S3, GuardDuty), where the method and path say it.
func Operation(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			return v.Get("Action")
		}
	}
	return r.URL.Query().Get("Action")
}
