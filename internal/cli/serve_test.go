package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a stdout that a running command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe(t *testing.T) {
	caseDir := craftedCase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &syncBuffer{}, &syncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() { done <- e.run(ctx, []string{"serve", "--case", caseDir, "--port", "0"}) }()

	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]{64}`)
	var url string
	for deadline := time.Now().Add(2 * time.Minute); url == ""; time.Sleep(20 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before serving\n%s%s", code, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URL:\n%s%s", out.String(), errb.String())
		}
		url = urlRE.FindString(out.String())
	}
	if n := len(urlRE.FindAllString(out.String(), -1)); n != 1 || strings.Count(out.String(), url[strings.Index(url, "=")+1:]) != 1 {
		t.Errorf("the token is printed other than once in the URL:\n%s", out.String())
	}

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `<script src="/app.js"`) || len(resp.Cookies()) != 0 {
		t.Fatalf("first load: %d, cookies %v\n%s", resp.StatusCode, resp.Cookies(), page)
	}
	base := url[:strings.Index(url, "/?")]
	token := url[strings.Index(url, "=")+1:]
	req, _ := http.NewRequest(http.MethodGet, base+"/api/summary", nil)
	req.Header.Set("X-Harrier-Token", token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Case      string
		Summary   struct{ Events int64 }
		Integrity struct{ Verified bool }
	}
	json.NewDecoder(resp.Body).Decode(&sum)
	resp.Body.Close()
	if resp.StatusCode != 200 || sum.Summary.Events != int64(len(crafted)) || sum.Case != "case" || sum.Integrity.Verified {
		t.Fatalf("summary: %d %+v", resp.StatusCode, sum)
	}
	if resp, err := http.Get(base + "/api/summary"); err != nil || resp.StatusCode != 403 {
		t.Fatalf("without the token: %v %v", resp, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("serve exited %d after an interrupt\n%s", code, errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop when interrupted")
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--case", "x", "--addr", "0.0.0.0"},
		{"serve", "--case", "x", "--addr", "192.0.2.1"},
		{"serve", "--case", "x", "--port", "70000"},
		{"serve"},
	} {
		if _, errOut, code := harrier(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, errOut)
		}
	}
}
