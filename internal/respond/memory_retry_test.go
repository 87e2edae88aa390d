package respond

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestMemoryScriptRetriesParts runs the Linux capture script for real
// against a part endpoint that refuses each part's first PUT: curl
// retries it (every error with --retry-all-errors; an older curl without
// that option retries the transient 503 with --retry alone), and every
// part reaches the endpoint.
func TestMemoryScriptRetriesParts(t *testing.T) {
	real, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl on this machine")
	}
	tool := fakeTool(t, bytes.Repeat([]byte("m"), 3<<20))
	tests := []struct {
		name    string
		oldCurl bool // a curl that knows no --retry-all-errors
		first   int  // the status of each part's first PUT
	}{
		{"a 403 retried with --retry-all-errors", false, http.StatusForbidden},
		{"an older curl retries a 503", true, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			tries := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				n := r.URL.Query().Get("partNumber")
				tries[n]++
				if tries[n] == 1 {
					w.WriteHeader(tc.first)
					return
				}
				w.Header().Set("ETag", `"etag-`+n+`"`)
			}))
			defer srv.Close()
			env := append(os.Environ(), "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=")
			if tc.oldCurl {
				bin := t.TempDir()
				wrapper := "#!/bin/sh\nfor a in \"$@\"; do\n  case \"$a\" in --retry-all-errors) echo 'curl: option --retry-all-errors: is unknown' >&2; exit 2;; esac\ndone\n" +
					"if [ \"$1\" = --help ]; then echo ' --retry <num>  Retry request if transient problems occur'; exit 0; fi\nexec " + real + " \"$@\"\n"
				if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(wrapper), 0o755); err != nil {
					t.Fatal(err)
				}
				env = append(env, "PATH="+bin+":"+os.Getenv("PATH"))
			}
			urls := []string{srv.URL + "/k?partNumber=1", srv.URL + "/k?partNumber=2"}
			script := strings.Join(MemoryScript(ToolAVML, tool+"/avml", "", t.TempDir(), 0, 2<<20, urls), "\n")
			cmd := exec.Command("bash", "-c", script)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, &stderr, env
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
			}
			for _, w := range []string{"harrier-part: 1 etag-1", "harrier-part: 2 etag-2", "harrier-uploaded: ok"} {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
			if tries["1"] != 2 || tries["2"] != 2 {
				t.Errorf("tries %v", tries)
			}
		})
	}
}
