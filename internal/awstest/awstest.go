// Package awstest gives tests a local AWS to talk to: one moto_server per
// test binary, reset between tests, and SDK configuration built by hand so
// that nothing from the machine's AWS settings (profiles, environment,
// instance roles) can lead a test to real AWS.
//
// A Python that imports moto is found as the integrity cross-check finds
// it: HARRIER_PYTHON, else python3 on PATH, pyenv's shim and pyenv's
// versions. Without one the test is skipped, except on CI (CI=true), where
// it fails: CI must run every test.
package awstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Region is the region of Config; moto serves every region at once.
const Region = "us-east-1"

// Timeouts: moto_server's start, and each HTTP call made to manage it.
const (
	startTimeout = 30 * time.Second
	callTimeout  = 10 * time.Second
)

// Server is a running moto_server.
type Server struct {
	URL string // http://127.0.0.1:PORT
}

var (
	shared     *Server
	sharedErr  error // why it could not start
	sharedSkip bool  // sharedErr means "no moto here", not "moto failed"
	sharedOnce sync.Once
)

// client talks to moto_server directly, never through a proxy.
var client = &http.Client{Timeout: callTimeout, Transport: &http.Transport{Proxy: nil}}

// Moto returns the test binary's moto_server, started on the first call,
// reset so that the test starts from an empty account. It lives until the
// test binary exits. Tests that use it must not run in parallel with one
// another: they share its state.
func Moto(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() {
		var why []string
		python := FindPython(&why)
		if python == "" {
			sharedSkip = true
			sharedErr = fmt.Errorf("these tests need moto_server: a Python that imports moto "+
				"(pip install 'moto[server]', or set HARRIER_PYTHON): %s", strings.Join(why, "; "))
			return
		}
		shared, sharedErr = start(python)
	})
	if sharedErr != nil {
		if sharedSkip && os.Getenv("CI") != "true" {
			t.Skip(sharedErr.Error())
		}
		t.Fatal(sharedErr)
	}
	shared.Reset(t)
	return shared
}

// Reset empties moto_server (POST /moto-api/reset): every service, every
// region.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	if err := s.reset(); err != nil {
		t.Fatalf("reset moto_server: %v", err)
	}
}

func (s *Server) reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto-api/reset: %s", resp.Status)
	}
	return nil
}

// Config is SDK configuration for a local endpoint, built directly: region
// us-east-1, static credentials, one attempt per call (a test sees the
// first error, not a retry's), no proxy, and nothing read from shared
// config files or the environment.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAHARRIERTEST00001", "harrier-test-not-a-secret", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.Proxy = nil
		}),
	}
}

// PathStyle is the S3 client option a local endpoint needs: bucket names
// in the path, not in the host name.
func PathStyle(o *s3.Options) { o.UsePathStyle = true }

// FindPython returns the interpreter (as sys.executable names it) of the
// first candidate that imports moto, or "" with the reasons in why.
func FindPython(why *[]string) string {
	var cands []string
	if p := os.Getenv("HARRIER_PYTHON"); p != "" {
		cands = []string{p}
	} else {
		if p, err := exec.LookPath("python3"); err == nil {
			cands = append(cands, p)
		}
		root := PyenvRoot()
		cands = append(cands, filepath.Join(root, "shims", "python3"))
		versions, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python3"))
		slices.Reverse(versions) // newest first, roughly
		cands = append(cands, versions...)
	}
	for _, c := range slices.Compact(cands) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, c, "-c", "import sys, moto; print(sys.executable)").Output()
		cancel()
		if p := string(bytes.TrimSpace(out)); err == nil && p != "" {
			return p
		}
		*why = append(*why, fmt.Sprintf("%s cannot import moto (%v)", c, err))
	}
	if len(cands) == 0 {
		*why = append(*why, "no python3 found")
	}
	return ""
}

// PyenvRoot is where pyenv keeps its shims and Pythons.
func PyenvRoot() string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	if h, err := os.UserHomeDir(); err == nil {
		if _, err := os.Stat(filepath.Join(h, ".pyenv")); err == nil {
			return filepath.Join(h, ".pyenv")
		}
	}
	return "/root/.pyenv"
}

// start runs moto_server on a free port of 127.0.0.1 and waits until it
// answers, trying another port when the one chosen was taken meanwhile.
func start(python string) (*Server, error) {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startOnce(python)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

func startOnce(python string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// The log is an unnamed file: nothing to clean up, readable on failure.
	logf, err := os.CreateTemp("", "harrier-moto-*.log")
	if err != nil {
		return nil, err
	}
	os.Remove(logf.Name())
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", port)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	exited := make(chan struct{})
	if err := startTied(cmd, exited); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + port}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("moto_server exited on %s:\n%s", s.URL, readLog(logf))
		case <-time.After(200 * time.Millisecond):
		}
		if s.reset() == nil {
			return s, nil
		}
	}
	kill(cmd)
	<-exited
	return nil, fmt.Errorf("moto_server did not answer on %s within %v:\n%s", s.URL, startTimeout, readLog(logf))
}

func readLog(f *os.File) string {
	b := make([]byte, 64<<10)
	n, _ := f.ReadAt(b, 0)
	return string(b[:n])
}

// freePort returns a TCP port of 127.0.0.1 free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
