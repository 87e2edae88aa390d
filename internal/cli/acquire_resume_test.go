package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// TestAcquireThrottledInterruptedResumed runs acquire through a front of
// moto that throttles the first download (S3's 503 SlowDown, which the
// SDK's retryer takes) and interrupts the run on the third, as a responder's
// Ctrl-C would. The re-run fetches only what is missing, and the case ends
// with every file once and every event loaded once.
func TestAcquireThrottledInterruptedResumed(t *testing.T) {
	srv := awstest.Moto(t)
	seedTrail(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	gets, throttled := 0, 0
	interrupt := true
	front := awstest.Front(t, srv.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/AWSLogs/") {
			return false
		}
		mu.Lock()
		gets++
		n := gets
		stop := interrupt
		mu.Unlock()
		switch {
		case n == 1:
			mu.Lock()
			throttled++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>HARRIER1</RequestId></Error>`)
			return true
		case n == 3 && stop:
			cancel()
			<-r.Context().Done() // the client gives up: the download is cut short
			return true
		}
		return false
	})
	motoEnv(t, front.URL)
	caseDir := filepath.Join(t.TempDir(), "case")
	args := []string{"acquire", "--case", caseDir, "--since", "2026-03-13", "--until", "2026-03-15", "--regions", "us-east-1", "--concurrency", "1", "--sources", "cloudtrail,digests"}
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := e.run(ctx, args); code != ExitError || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("interrupted run: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if throttled != 1 {
		t.Fatalf("%d throttled answers, want 1", throttled)
	}
	mu.Lock()
	interrupt = false
	mu.Unlock()
	stdout, stderr, code := harrier(t, args[0:]...)
	if code != ExitOK && code != ExitPartial {
		t.Fatalf("resumed run: exit %d\n%s%s", code, stdout, stderr)
	}
	// one object (the first, after its throttle) was stored before the
	// interruption; the others now
	if !strings.Contains(stdout, "3 objects in the window, 2 downloaded") || !strings.Contains(stdout, "1 already in the case") {
		t.Errorf("resumed run:\n%s%s", stdout, stderr)
	}
	manifest, err := os.ReadFile(filepath.Join(caseDir, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(manifest), `"content":"cloudtrail-log"`); n != 2 {
		t.Errorf("%d log files in the manifest, want 2", n)
	}
	if strings.Contains(string(manifest), ".harrier-") {
		t.Errorf("a file was stored twice:\n%s", manifest)
	}
	q, _, _ := harrier(t, "query", "--case", caseDir, "--format", "csv", "SELECT count(*) FROM events")
	if !strings.Contains(q, "\n2\n") {
		t.Errorf("events loaded: %q", q)
	}
}
