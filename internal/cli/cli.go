// Package cli is harrier's command line: each command parses its flags into
// an options struct and calls the package that does the work. Errors become
// exit codes in one place (exitCode).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/store"
)

// Exit codes. Scripts branch on them; docs/CLI.md lists them.
const (
	ExitOK         = 0 // everything worked
	ExitError      = 1 // harrier could not do what was asked
	ExitUsage      = 2 // the command line is wrong
	ExitPartial    = 3 // the work was done, but some input failed (files unreadable, records rejected)
	ExitUnverified = 4 // verify ran, and the evidence is not (all) verified
)

// Version is harrier's version; release builds set it with -ldflags.
var Version = "0.1.0-dev"

// version includes the VCS revision when the binary was built from a checkout.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return Version + "+" + s.Value[:12]
			}
		}
	}
	return Version
}

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")

// errPartial marks a run that finished with some input failing; the command
// has already reported what.
var errPartial = errors.New("some input failed")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// env is what a command needs from the process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the one list of harrier's commands.
func commands() []command {
	return []command{
		{"investigate", "ingest evidence and report what the case holds (--demo: on a simulated breach)", runInvestigate},
		{"acquire", "collect evidence (CloudTrail, flow logs, findings, configuration) from a live AWS account or organisation, read-only, into a case", runAcquire},
		{"ingest", "copy, hash and load evidence files or folders into a case", runIngest},
		{"verify", "check the evidence: the case's chain of custody and CloudTrail's digest chains", runVerify},
		{"hunt", "run the Sigma rule pack (and your rules) and behavioural analytics; store and print findings", runHunt},
		{"rules", "the rule pack: list, show RULE_ID, test DIR, coverage", runRules},
		{"scope", "follow a compromise from one key, principal or IP through every credential derived from it", runScope},
		{"report", "write a self-contained HTML report of the case: integrity, findings, ATT&CK, volume, scope, timeline", runReport},
		{"timeline", "list events in time order, filtered by key, principal, IP, event, ...", runTimeline},
		{"export", "write the timeline (csv, jsonl, timesketch, parquet) or findings (jsonl, sarif) for other tools", runExport},
		{"query", "run read-only SQL over the case's events", runQuery},
		{"serve", "the local investigation UI over a case: findings, timeline with pivots, scope graph (loopback, token)", runServe},
		{"case", "case info: what the case holds", runCase},
		{"contain", "contain a key, user, role or instance in AWS: plan first, change only with --apply, audited", runContain},
		{"undo", "reverse recorded containment actions (plan first, change only with --apply)", runUndo},
		{"image", "hashed image of an attached device or file: SHA-256 and MD5 in one pass, bad sectors recorded, verified, logged", runImage},
		{"collect", "collect evidence from EC2 resources: snapshot (a hashed image through the EBS direct APIs)", runCollect},
		{"simulate", "write a realistic simulated breach as CloudTrail S3-layout files", runSimulate},
		{"version", "print harrier's version", runVersion},
	}
}

// Run runs harrier with args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	return e.run(ctx, args)
}

func (e *env) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		e.usage(e.stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(e.stderr, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(e.stderr, "harrier: unknown command %q\n\n", args[0])
	e.usage(e.stderr)
	return ExitUsage
}

func (e *env) usage(w io.Writer) {
	fmt.Fprintf(w, "harrier %s: investigate breaches in AWS\n\nUsage: harrier COMMAND [flags] [args]\n\nCommands:\n", version())
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'harrier COMMAND -h' for a command's flags. Docs: README.md, docs/CLI.md.\n")
}

// exitCode maps an error to the process exit code, reporting it.
func exitCode(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "harrier: %s\n", safe(strings.TrimPrefix(err.Error(), "usage: ")))
		return ExitUsage
	case errors.Is(err, errPartial):
		return ExitPartial
	case errors.Is(err, errUnverified):
		return ExitUnverified
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "harrier: interrupted")
		return ExitError
	case errors.Is(err, casefile.ErrLocked), errors.Is(err, store.ErrBusy):
		fmt.Fprintf(stderr, "harrier: %s\n", safe(err.Error()))
		return ExitError
	}
	// errors can quote evidence (a DuckDB conversion error, a file name)
	fmt.Fprintf(stderr, "harrier: %s\n", safe(err.Error()))
	return ExitError
}

// flagSet makes a command's flag set that reports errors as usage errors.
func flagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: harrier %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags wherever they stand among the positional arguments
// (harrier ingest ./evidence --case X works as well as the other order).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// caseDir is --case, or HARRIER_CASE.
func (e *env) caseDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := e.getenv("HARRIER_CASE"); v != "" {
		return v, nil
	}
	return "", usageErr("name the case with --case DIR or HARRIER_CASE")
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func runVersion(_ context.Context, e *env, args []string) error {
	fmt.Fprintf(e.stdout, "harrier %s\n", version())
	return nil
}

// sortedKeys returns a map's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
