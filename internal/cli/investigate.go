package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/harrier-ir/harrier/internal/report"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/simulate"
)

func runInvestigate(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "investigate", "--case DIR PATH... | --demo")
	caseFlag := fs.String("case", "", "the case folder (created on first use); or HARRIER_CASE")
	demo := fs.Bool("demo", false, "investigate a freshly simulated breach in a temporary folder")
	seed := fs.Int64("seed", 1, "with --demo: the scenario seed")
	reference := fs.Bool("reference", false, "record large evidence in place instead of copying it")
	var keyFiles listFlag
	fs.Var(&keyFiles, "public-keys", "CloudTrail public keys for verify (as `aws cloudtrail list-public-keys` prints them)")
	fetch := fs.Bool("fetch-keys", false, "fetch CloudTrail's public keys for verify (ListPublicKeys, read-only) and keep them in the case")
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	var truth *simulate.Truth
	dir := *caseFlag
	if *demo {
		if len(paths) > 0 {
			return usageErr("--demo simulates its own evidence; give no paths")
		}
		tmp, err := os.MkdirTemp("", "harrier-demo-")
		if err != nil {
			return err
		}
		evidence := filepath.Join(tmp, "evidence")
		fmt.Fprintf(e.stdout, "Simulating a breach into %s ...\n", evidence)
		res, err := simulate.Write(ctx, evidence, simulate.Options{Seed: *seed})
		if err != nil {
			return err
		}
		truth = &res.Truth
		// the simulation's signing key, moved out of the evidence: in a
		// real case the keys come from --public-keys or --fetch-keys,
		// never from the evidence itself
		keys := filepath.Join(tmp, "public-keys.json")
		if err := os.Rename(res.PublicKeys, keys); err != nil {
			return err
		}
		keyFiles = append(keyFiles, keys)
		if dir == "" {
			dir = filepath.Join(tmp, "case")
		}
		paths = []string{evidence}
	} else {
		if dir, err = e.caseDir(dir); err != nil {
			return err
		}
		if len(paths) == 0 {
			return usageErr("investigate needs evidence paths (or --demo)")
		}
	}
	fmt.Fprintf(e.stdout, "\n== Ingest\n")
	ingestErr := ingestPaths(ctx, e, dir, paths, *reference, 0)
	if ingestErr != nil && ingestErr != errPartial {
		return ingestErr
	}
	c, st, err := openForWrite(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	// the integrity result comes first: everything after stands on it
	fmt.Fprintf(e.stdout, "\n== Integrity\n")
	if *fetch {
		if err := fetchKeys(ctx, e.stderr, c); err != nil {
			return err
		}
	}
	ver, err := verifyCase(ctx, c, st, keyFiles)
	if err != nil {
		return err
	}
	printVerify(e.stdout, ver)
	info, err := gatherInfo(ctx, c, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n== The case\n")
	if err := printInfo(e.stdout, info, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n== Findings\n")
	hr, err := hunt(ctx, e, c, st, huntOptions{format: "table"})
	if err != nil {
		return err
	}
	writeFindingsCompact(e, hr)
	if truth != nil {
		// from the first sign of the attack: the key's owner used it for
		// days before it leaked, and a responder scopes from the intrusion
		since := truth.AttackStart.Truncate(time.Hour)
		fmt.Fprintf(e.stdout, "\n== Scope of the leaked key, from %s\n", timeText(since))
		rep, err := scope.Run(ctx, st, scope.Options{Seeds: []scope.Seed{{Kind: "key", Value: truth.LeakedAccessKeyID}}, Since: since})
		if err != nil {
			return err
		}
		writeScope(e.stdout, rep, 10)
	}
	// the report: the demo scopes the key it leaked, from the intrusion;
	// a real case the keys behind its high and critical findings
	ropts := report.Options{Version: version(), Generated: time.Now().UTC()}
	if truth != nil {
		ropts.Seeds = []scope.Seed{{Kind: "key", Value: truth.LeakedAccessKeyID}}
		ropts.Since = truth.AttackStart.Truncate(time.Hour)
	}
	reportPath, err := writeReport(ctx, e, c, st, "", ropts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n== Report\nThe report is at %s (open it in a browser; print it to PDF from there).\n", reportPath)
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(e.stdout, "\n== Next\nThe case is at %s. Ask it questions:\n", abs)
	fmt.Fprintf(e.stdout, "  harrier hunt --case %s             # each finding in full: who, from where, when, which events\n", abs)
	if truth != nil {
		fmt.Fprintln(e.stdout)
		printTruth(e.stdout, *truth)
		since := timeText(truth.AttackStart.Truncate(time.Hour))
		fmt.Fprintf(e.stdout, "\n  harrier scope --case %s --key %s --since %s --graph scope.svg\n", abs, truth.LeakedAccessKeyID, since)
		fmt.Fprintf(e.stdout, "  harrier timeline --case %s --scope key:%s --since %s\n", abs, truth.LeakedAccessKeyID, since)
		fmt.Fprintf(e.stdout, "  harrier timeline --case %s --ip %s --errors\n", abs, truth.AttackerIPs[len(truth.AttackerIPs)/2])
	} else {
		fmt.Fprintf(e.stdout, "  harrier timeline --case %s --errors --limit 50\n", abs)
	}
	fmt.Fprintf(e.stdout, "  harrier query --case %s \"SELECT event_name, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 20\"\n", abs)
	// unverified evidence outweighs unreadable input in the exit code; the
	// demo's gap is its story, not a failure of the demo
	if !ver.OK() && !*demo {
		return errUnverified
	}
	return ingestErr
}
