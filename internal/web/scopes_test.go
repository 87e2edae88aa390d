package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// serviceCase is breach() plus what AWS services do on their own: calls
// whose "source IP" is a service's hostname and whose principal is the
// service, without any access key. The facets list them; scoping cannot
// start from them.
func serviceCase(t *testing.T) *store.Store {
	recs := breach()
	for i, svc := range []string{"config.amazonaws.com", "lambda.amazonaws.com"} {
		recs = append(recs, rec{id: fmt.Sprintf("aws-%d", i), at: fmt.Sprintf("2026-03-10T11:0%d:00Z", i), name: "AssumeRole", source: "sts.amazonaws.com",
			ip: svc, ua: svc, extra: map[string]any{"userIdentity": map[string]any{"type": "AWSService", "invokedBy": svc}}}.json())
	}
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": recs}, false)
	return st
}

func TestScopeSeeds(t *testing.T) {
	st := serviceCase(t)
	s, _ := serve(t, st)
	for _, c := range []struct {
		name, seed string
		want       int
	}{
		{"a key", "key:" + malloryKey, 200},
		{"an ARN", "principal:" + mallory, 200},
		{"an IP", "ip:203.0.113.66", 200},
		{"a service's hostname as the IP", "ip:lambda.amazonaws.com", 400},
		{"another service's hostname", "ip:config.amazonaws.com", 400},
		{"a service as the principal", "principal:lambda.amazonaws.com", 400},
		{"an account as the principal", "principal:account/111122223333", 400},
		{"an IPv6 address with a zone", "ip:fe80::1%eth0", 400},
		{"a key in lower case", "key:akiamallory000000001", 400},
		{"a key too short", "key:AKIA", 400},
		{"no kind", malloryKey, 400},
		{"an unknown kind", "user:mallory", 400},
		{"a well-formed key the case does not hold", "key:AKIANOBODY0000000000", 404},
		{"a well-formed IP the case does not hold", "ip:192.0.2.99", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/api/scope", "/api/events", "/api/facets", "/api/histogram", "/api/scope.svg"} {
				w := ask(s, path+"?scope="+url.QueryEscape(c.seed))
				if w.Code != c.want {
					t.Fatalf("%s: status %d, want %d: %s", path, w.Code, c.want, w.Body.String())
				}
				if c.want == 400 && !strings.Contains(w.Body.String(), "scope") {
					t.Errorf("%s: the 400 does not say what is wrong: %s", path, w.Body.String())
				}
			}
		})
	}
	if _, err := ParseSeed("ip:2001:db8::1"); err != nil {
		t.Errorf("IPv6: %v", err)
	}
}

// ask sends a GET with the token header and returns the recorded answer.
func ask(s *Server, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = s.addr.String()
	req.Header.Set(TokenHeader, s.token)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// TestInternalErrorsStayInTheLog: a failing query's text (SQL, a driver's
// message) goes to the server's log with an id; the browser gets the id.
func TestInternalErrorsStayInTheLog(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	var logb bytes.Buffer
	s, err := New(st, "127.0.0.1:8123", Options{Token: testToken, Log: &logb})
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // every query now fails inside the driver
	for i, path := range []string{"/api/events", "/api/scope.svg?scope=key:" + malloryKey} {
		w := ask(s, path)
		var body struct{ Error string }
		json.Unmarshal(w.Body.Bytes(), &body)
		wantMsg := fmt.Sprintf("internal error %d:", i+1)
		if w.Code != 500 || !strings.HasPrefix(body.Error, wantMsg) {
			t.Fatalf("%s: %d %s, want 500 and %q", path, w.Code, w.Body.String(), wantMsg)
		}
		if strings.Contains(w.Body.String(), "closed") || strings.Contains(w.Body.String(), "sql") {
			t.Errorf("%s: the browser got the internal error: %s", path, w.Body.String())
		}
		if !strings.Contains(logb.String(), fmt.Sprintf("error %d: GET %s: ", i+1, strings.SplitN(path, "?", 2)[0])) || !strings.Contains(logb.String(), "closed") {
			t.Errorf("the log lacks the error %d:\n%s", i+1, logb.String())
		}
	}
}

// TestOneScopePerView: the page asks for a scope's report, page, facets,
// chart and graph at once; the case is scoped once, not five times.
func TestOneScopePerView(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	s, _ := serve(t, st)
	seed := "scope=" + url.QueryEscape("key:"+malloryKey)
	paths := []string{"/api/scope?" + seed, "/api/events?" + seed, "/api/facets?" + seed, "/api/histogram?" + seed, "/api/scope.svg?" + seed}
	start := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]int, 2*len(paths))
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = ask(s, paths[i%len(paths)]).Code
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("%s: %d", paths[i%len(paths)], c)
		}
	}
	if n := s.scopeRun.Load(); n != 1 {
		t.Fatalf("scope.Run ran %d times for one seed", n)
	}
	// another window is another scoping
	if c := ask(s, "/api/scope?"+seed+"&since=2026-03-10T10:02:00Z").Code; c != 200 || s.scopeRun.Load() != 2 {
		t.Fatalf("windowed scope: %d, runs %d", c, s.scopeRun.Load())
	}
}

// TestScopeWindow: since and until bound the scoping itself, not only the
// events listed: alice's key scoped from 09:20 covers her last four calls.
func TestScopeWindowed(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	s, _ := serve(t, st)
	for _, c := range []struct {
		name, q string
		want    int64
	}{
		{"whole case", "", 8},
		{"since", "&since=2026-03-10T09:20:00Z", 4},
		{"since and until", "&since=2026-03-10T09:20:00Z&until=2026-03-10T09:30:00Z", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := ask(s, "/api/scope?scope=key:"+aliceKey+c.q)
			var rep scope.Report
			if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body.String())
			}
			if rep.EventCount != c.want {
				t.Fatalf("scope counts %d events, want %d", rep.EventCount, c.want)
			}
			var p Page
			if code := getJSON(t, s, "/api/events?scope=key:"+aliceKey+c.q, &p); code != 200 || p.Total != c.want {
				t.Fatalf("scoped timeline %d: %d events, want %d", code, p.Total, c.want)
			}
		})
	}
}
