package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/report"
	"github.com/harrier-ir/harrier/internal/store"
)

// reportFile is where a report goes when -o is not given: beside the
// case's database, not among the evidence.
const reportFile = "report.html"

func runReport(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "report", "--case DIR [-o FILE.html [--overwrite]] [--scope KIND:VALUE]... [--since T] [--until T]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	out := fs.String("o", "", "write the report here (default: report.html in the case folder, replaced each time; - for standard output); never among the case's records")
	overwrite := fs.Bool("overwrite", false, "replace an existing file named with -o (the case's own report.html is always replaced)")
	var scopes listFlag
	fs.Var(&scopes, "scope", "a compromised credential to scope: key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS (repeatable; default: the keys behind high and critical findings)")
	since := fs.String("since", "", "scope from this time on (RFC 3339 or YYYY-MM-DD, UTC)")
	until := fs.String("until", "", "scope until this time")
	volumeBy := fs.String("volume-by", "account", "the volume chart's lines: account or principal")
	maxRows := fs.Int("max-rows", 500, "the most rows any table shows")
	generated := fs.String("generated", "", "the generation time the report states (RFC 3339; default now), for reproducible reports")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *volumeBy != "account" && *volumeBy != "principal" {
		return usageErr("--volume-by is account or principal, not %q", *volumeBy)
	}
	if *maxRows < 1 {
		return usageErr("--max-rows must be at least 1")
	}
	opts := report.Options{VolumeBy: *volumeBy, MaxRows: *maxRows, Version: version(), Generated: time.Now().UTC()}
	for _, s := range scopes {
		sd, err := parseScopeSeed(s)
		if err != nil {
			return err
		}
		opts.Seeds = append(opts.Seeds, sd)
	}
	var err error
	if opts.Since, err = parseTimeFlag("since", *since, false); err != nil {
		return err
	}
	if opts.Until, err = parseTimeFlag("until", *until, true); err != nil {
		return err
	}
	if *generated != "" {
		if opts.Generated, err = time.Parse(time.RFC3339, *generated); err != nil {
			return usageErr("--generated %q: use RFC 3339", *generated)
		}
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	path, err := writeReportTo(ctx, e, c, st, *out, *overwrite, opts)
	if err != nil {
		return err
	}
	if path != "-" {
		fmt.Fprintf(e.stdout, "Report written to %s\n", path)
	}
	return nil
}

// writeReport writes the case's report to out ("" for the case folder's
// report.html, "-" for standard output), replacing no file but the case's
// own report.html, and returns where it went.
func writeReport(ctx context.Context, e *env, c *casefile.Case, st *store.Store, out string, opts report.Options) (string, error) {
	return writeReportTo(ctx, e, c, st, out, false, opts)
}

// writeReportTo writes the case's report to out and returns where it went.
// The output may not be among the case's records (checkOutputPath), and
// an existing file is replaced only with overwrite, or when it is the
// case's own report.html, which every report rewrites. A file is written
// whole or not at all.
func writeReportTo(ctx context.Context, e *env, c *casefile.Case, st *store.Store, out string, overwrite bool, opts report.Options) (string, error) {
	opts.Case = c
	cov, err := caseCoverage(c)
	if err != nil {
		return "", err
	}
	opts.Coverage = cov
	if out == "-" {
		return out, report.Write(ctx, e.stdout, st, opts)
	}
	def := c.Path(reportFile)
	if out == "" {
		out = def
	}
	abs, err := checkOutputPath(c, out)
	if err != nil {
		return "", err
	}
	if fi, err := os.Lstat(abs); err == nil {
		if fi.IsDir() {
			return "", fmt.Errorf("-o %s is a directory; name a file", out)
		}
		if defAbs, derr := resolvePath(def); !overwrite && (derr != nil || defAbs != abs) {
			return "", fmt.Errorf("-o %s exists; --overwrite replaces it", out)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), ".report-*.html")
	if err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := report.Write(ctx, tmp, st, opts); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return abs, nil
}
