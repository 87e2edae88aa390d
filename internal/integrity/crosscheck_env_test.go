package integrity

import (
	"bytes"
	"context"
	"fmt"
	"github.com/harrier-ir/harrier/internal/awstest"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The cross-check runs AWS's own implementation, `aws cloudtrail
// validate-logs`, against local stand-ins for the services it reads: S3
// is moto_server, behind a recording proxy (crosscheck_s3_test.go);
// CloudTrail and Organizations are crossCloudTrail, an httptest server
// speaking their JSON 1.1 wire protocol (crosscheck_cloudtrail_test.go).
// The CLI is pointed at them with botocore's per-service endpoint
// variables (AWS_ENDPOINT_URL_S3, ..._CLOUDTRAIL, ..._ORGANIZATIONS),
// which every client it makes honours, whatever its region (checkCalls
// sees to it); HTTP(S)_PROXY lead to a closed port, so that a request
// that escaped them would fail rather than reach AWS.
//
// HARRIER_PYTHON and HARRIER_AWS_CLI say where the tools are;
// HARRIER_CROSSCHECK_DEBUG=1 adds --debug to the CLI's arguments.

// Timeouts of the cross-check: each CLI run, each HTTP call the test
// makes, and moto_server's start.
const (
	crossCLITimeout  = 30 * time.Second
	crossHTTPTimeout = 10 * time.Second
	crossMotoStart   = 30 * time.Second
)

// crossTools are the programs the cross-check runs.
type crossTools struct {
	python string // an interpreter that imports moto
	aws    string // the AWS CLI
	awsVer string // what `aws --version` printed
}

// findCrossTools locates a Python with moto (HARRIER_PYTHON, else python3
// on PATH, pyenv's shim and pyenv's versions) and the AWS CLI
// (HARRIER_AWS_CLI, else aws on PATH and pyenv's shim). Without them the
// test is skipped, except on CI (CI=true), which must run it.
func findCrossTools(t *testing.T) crossTools {
	t.Helper()
	var why []string
	tools := crossTools{python: crossFindPython(t.Context(), &why)}
	tools.aws, tools.awsVer = crossFindAWSCLI(t.Context(), &why)
	if tools.python == "" || tools.aws == "" {
		msg := "the cross-check with `aws cloudtrail validate-logs` needs a Python that imports moto " +
			"(set HARRIER_PYTHON) and the AWS CLI (set HARRIER_AWS_CLI): " + strings.Join(why, "; ")
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return tools
}

// crossFindPython returns the interpreter (as sys.executable names it)
// of the first candidate that imports moto: awstest's search, shared by
// every test that runs moto_server.
func crossFindPython(_ context.Context, why *[]string) string {
	return awstest.FindPython(why)
}

// crossFindAWSCLI returns the first AWS CLI that reports its version.
func crossFindAWSCLI(ctx context.Context, why *[]string) (string, string) {
	var cands []string
	if p := os.Getenv("HARRIER_AWS_CLI"); p != "" {
		cands = []string{p}
	} else {
		if p, err := exec.LookPath("aws"); err == nil {
			cands = append(cands, p)
		}
		cands = append(cands, filepath.Join(awstest.PyenvRoot(), "shims", "aws"))
	}
	for _, c := range slices.Compact(cands) {
		vctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(vctx, c, "--version").CombinedOutput()
		cancel()
		if err == nil && bytes.HasPrefix(out, []byte("aws-cli/")) {
			return crossUnshim(ctx, c), string(bytes.TrimSpace(out))
		}
		*why = append(*why, fmt.Sprintf("%s --version failed (%v)", c, err))
	}
	if len(cands) == 0 {
		*why = append(*why, "no aws found")
	}
	return "", ""
}

// crossUnshim returns the program a pyenv shim runs, sparing each run the
// shim's own start, or the shim when pyenv cannot tell.
func crossUnshim(ctx context.Context, prog string) string {
	if filepath.Base(filepath.Dir(prog)) != "shims" {
		return prog
	}
	pyenv := filepath.Join(filepath.Dir(filepath.Dir(prog)), "libexec", "pyenv")
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pyenv, "which", filepath.Base(prog)).Output()
	if p := string(bytes.TrimSpace(out)); err == nil && filepath.IsAbs(p) {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return prog
}

// crossEnv is the local AWS the CLI runs against.
type crossEnv struct {
	tools   crossTools
	moto    string // moto_server's URL, for the test's own calls
	s3      *crossS3Proxy
	ct      *crossCloudTrail
	home    string // the CLI's HOME
	config  string // its AWS_CONFIG_FILE
	client  *http.Client
	cliRuns int
}

func newCrossEnv(t *testing.T, tools crossTools) *crossEnv {
	t.Helper()
	e := &crossEnv{tools: tools, home: t.TempDir(),
		client: &http.Client{Timeout: crossHTTPTimeout, Transport: &http.Transport{Proxy: nil}}}
	e.moto = crossStartMoto(t, tools.python, e.client)
	e.s3 = newCrossS3Proxy(t, e.moto)
	e.ct = newCrossCloudTrail(t)
	e.config = filepath.Join(e.home, "config")
	if err := os.WriteFile(e.config, []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// crossFreePort returns a TCP port of 127.0.0.1 free a moment ago.
func crossFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// crossStartMoto starts moto_server on a free port and waits until it
// answers; the test's cleanup kills its process group. When the port was
// taken in between, it tries another.
func crossStartMoto(t *testing.T, python string, client *http.Client) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "moto.log")
	for attempt := 1; ; attempt++ {
		port := crossFreePort(t)
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", port)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		crossInGroup(cmd)
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("start moto_server: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); logf.Close(); close(exited) }()
		t.Cleanup(func() {
			crossKillGroup(cmd)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("moto_server (pid %d) did not exit", cmd.Process.Pid)
			}
		})
		u := "http://127.0.0.1:" + port
		if crossWaitMoto(t, client, u, exited) {
			return u
		}
		crossKillGroup(cmd)
		<-exited
		log, _ := os.ReadFile(logPath)
		if attempt == 3 {
			t.Fatalf("moto_server did not start on %s:\n%s", u, log)
		}
		t.Logf("moto_server did not start on %s, trying another port:\n%s", u, log)
	}
}

// crossWaitMoto waits until moto_server answers its reset call, or
// exits, or crossMotoStart passes.
func crossWaitMoto(t *testing.T, client *http.Client, u string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(crossMotoStart)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		case <-t.Context().Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := client.Post(u+"/moto-api/reset", "", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
	}
	return false
}

// crossCLIResult is one run of validate-logs.
type crossCLIResult struct {
	args           []string
	stdout, stderr string
	code           int
	calls          []crossCall // to CloudTrail, Organizations and S3, in order per service
	refused        []string    // calls the fakes refused
}

// validateLogs runs `aws cloudtrail validate-logs --verbose` for trail tr
// of the fake CloudTrail over [start, end], in tr's region, with a clean
// environment that leads every client the CLI makes to the local
// endpoints.
func (e *crossEnv) validateLogs(t *testing.T, tr trail, start, end time.Time) crossCLIResult {
	t.Helper()
	args := []string{"cloudtrail", "validate-logs", "--trail-arn", crossTrailARN(tr),
		"--start-time", start.UTC().Format(time.RFC3339), "--end-time", end.UTC().Format(time.RFC3339),
		"--region", tr.region, "--verbose"}
	if os.Getenv("HARRIER_CROSSCHECK_DEBUG") != "" {
		args = append(args, "--debug") // botocore's requests and responses, on stderr
	}
	if tr.org != "" {
		args = append(args, "--account-id", tr.account)
	}
	ctx, cancel := context.WithTimeout(t.Context(), crossCLITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.tools.aws, args...)
	crossInGroup(cmd)
	cmd.Cancel = func() error { return crossKillGroup(cmd) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = e.home
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"PYENV_ROOT=" + awstest.PyenvRoot(),
		"HOME=" + e.home,
		"LANG=C.UTF-8",
		"PYTHONDONTWRITEBYTECODE=1",
		"AWS_ACCESS_KEY_ID=AKIAHARRIERCROSSCHK1",
		"AWS_SECRET_ACCESS_KEY=harrier-cross-check-not-a-secret",
		"AWS_DEFAULT_REGION=" + tr.region,
		"AWS_CONFIG_FILE=" + e.config,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=2",
		"AWS_ENDPOINT_URL_S3=" + e.s3.srv.URL,
		"AWS_ENDPOINT_URL_CLOUDTRAIL=" + e.ct.srv.URL,
		"AWS_ENDPOINT_URL_ORGANIZATIONS=" + e.ct.srv.URL,
		// Anything that escaped the endpoints above would go through a
		// proxy that is not there, and fail.
		"HTTP_PROXY=http://127.0.0.1:1",
		"HTTPS_PROXY=http://127.0.0.1:1",
		"NO_PROXY=127.0.0.1,localhost",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	e.cliRuns++
	r := crossCLIResult{args: args, stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	r.calls, r.refused = e.ct.take()
	r.calls = append(r.calls, e.s3.take()...)
	if ctx.Err() != nil {
		t.Fatalf("aws %s: timed out after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), crossCLITimeout, r.stdout, r.stderr)
	}
	if err != nil && r.code != 1 {
		t.Fatalf("aws %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, r.stdout, r.stderr)
	}
	return r
}

// crossOrgAccount owns the organisation trail of the fixtures.
const crossOrgAccount = "999988887777"

// crossTrailARN is the ARN of the trail that delivers tr's digests: an
// organisation trail belongs to the management account.
func crossTrailARN(tr trail) string {
	acct := tr.account
	if tr.org != "" {
		acct = crossOrgAccount
	}
	return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", tr.home, acct, tr.name)
}
