package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGuard(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	s, err := New(st, "127.0.0.1:8123", Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	good := http.Header{TokenHeader: {testToken}}
	cases := []struct {
		name   string
		method string
		host   string
		target string
		header http.Header
		cookie *http.Cookie
		want   int
	}{
		{name: "no token", target: "/api/summary", want: 403},
		{name: "wrong token in URL", target: "/api/summary?token=" + strings.Repeat("0", 32), want: 403},
		{name: "token a character short", target: "/api/summary?token=" + testToken[:31], want: 403},
		{name: "token in URL", target: "/api/summary?token=" + testToken, want: 200},
		{name: "token in header", target: "/api/summary", header: good, want: 200},
		{name: "wrong header", target: "/api/summary", header: http.Header{TokenHeader: {strings.Repeat("f", 32)}}, want: 403},
		{name: "wrong header, good URL token", target: "/api/summary?token=" + testToken, header: http.Header{TokenHeader: {strings.Repeat("f", 32)}}, want: 403},
		{name: "a cookie is no token", target: "/api/summary", cookie: &http.Cookie{Name: "harrier_token_8123", Value: testToken}, want: 403},
		{name: "graph without token", target: "/api/scope.svg?scope=key:" + malloryKey, want: 403},
		{name: "localhost", host: "localhost:8123", target: "/api/summary", header: good, want: 200},
		{name: "rebinding host", host: "evil.example:8123", target: "/api/summary", header: good, want: 403},
		{name: "rebinding host, the page", host: "evil.example:8123", target: "/", want: 403},
		{name: "another port", host: "127.0.0.1:8124", target: "/api/summary", header: good, want: 403},
		{name: "no port", host: "127.0.0.1", target: "/api/summary", header: good, want: 403},
		{name: "POST with token", method: "POST", target: "/api/summary", header: good, want: 405},
		{name: "DELETE with token", method: "DELETE", target: "/", header: good, want: 405},
		{name: "HEAD with token", method: "HEAD", target: "/", header: good, want: 405},
		{name: "POST without token", method: "POST", target: "/api/summary", want: 403},
		{name: "first load with the token", target: "/?token=" + testToken, want: 200},
		{name: "first load with a wrong token", target: "/?token=" + strings.Repeat("0", 32), want: 403},
		{name: "page without token (a reload: the tab keeps the token)", target: "/", want: 200},
		{name: "script without token", target: "/app.js", want: 200},
		{name: "unknown path", target: "/etc/passwd", header: good, want: 404},
		{name: "unknown path without token", target: "/etc/passwd", want: 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, c.target, nil)
			req.Host = "127.0.0.1:8123"
			if c.host != "" {
				req.Host = c.host
			}
			for k, v := range c.header {
				req.Header[k] = v
			}
			if c.cookie != nil {
				req.AddCookie(c.cookie)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body.String())
			}
			h := w.Result().Header
			for k, v := range map[string]string{"Content-Security-Policy": ContentSecurityPolicy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			if c.want == 405 && h.Get("Allow") != "GET" {
				t.Errorf("405 without Allow: GET")
			}
			if c.want == 403 && strings.Contains(w.Body.String(), testToken) {
				t.Errorf("a refusal shows the token")
			}
			if ck := w.Result().Cookies(); len(ck) != 0 {
				t.Errorf("cookies set %+v: the token must stay out of cookies (they go to every port)", ck)
			}
		})
	}
}

func TestCSPForbidsInlineScriptAndFraming(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "img-src 'self' data: blob:;", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("CSP allows %q", bad)
		}
	}
}

func TestNewTokens(t *testing.T) {
	st, _ := openCase(t, map[string][][]byte{"evidence/a.json": breach()}, false)
	a, err := New(st, "127.0.0.1:8123", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(st, "127.0.0.1:8123", Options{})
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.token) || a.token == b.token {
		t.Fatalf("tokens %q and %q: want 256 random bits each", a.token, b.token)
	}
	if !strings.HasPrefix(a.URL(), "http://127.0.0.1:8123/?token="+a.token) {
		t.Fatalf("URL %s", a.URL())
	}
	for _, addr := range []string{"0.0.0.0:8123", "192.0.2.1:8123", "127.0.0.1:0", "localhost"} {
		if _, err := New(st, addr, Options{}); err == nil {
			t.Errorf("New at %s: no error", addr)
		}
	}
	if _, err := New(st, "127.0.0.1:8123", Options{Token: "short"}); err == nil {
		t.Error("a short token was accepted")
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, c := range []struct {
		addr string
		ok   bool
	}{{"127.0.0.1", true}, {"localhost", true}, {"0.0.0.0", false}, {"192.0.2.1", false}, {"::", false}, {"example.com", false}, {"", false}} {
		ln, err := Listen(c.addr, 0)
		if (err == nil) != c.ok {
			t.Errorf("Listen(%q) error %v, want ok=%v", c.addr, err, c.ok)
		}
		if ln != nil {
			ln.Close()
		}
	}
}

func TestServeShutsDownWhenCancelled(t *testing.T) {
	ln, err := Listen("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

// TestScriptBuildsNoMarkupFromData reads the page's script and page: the
// script must never parse a string as HTML or code, and the page must have
// no inline script, style or handler (the CSP would block them anyway; this
// keeps them from being written).
func TestScriptBuildsNoMarkupFromData(t *testing.T) {
	js, err := os.ReadFile("assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(string(js), "")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "DOMParser",
		"createContextualFragment", "srcdoc", "setTimeout('", `setTimeout("`, "javascript:", ".href ="} {
		if strings.Contains(code, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	if !strings.Contains(code, "textContent") || !strings.Contains(code, "createElement") {
		t.Error("app.js should build the page with createElement and textContent")
	}
	page, err := os.ReadFile("assets/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`<script(?:\s[^>]*)?>`).FindAllString(string(page), -1); len(m) != 1 || !strings.Contains(m[0], `src="/app.js"`) {
		t.Errorf("index.html scripts %q: want only <script src=\"/app.js\">", m)
	}
	for _, bad := range []string{" style=", "<style", " onclick=", " onload=", " onerror="} {
		if strings.Contains(string(page), bad) {
			t.Errorf("index.html has inline %s", bad)
		}
	}
}
