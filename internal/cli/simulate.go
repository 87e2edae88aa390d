package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/harrier-ir/harrier/internal/simulate"
)

func runSimulate(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "simulate", "--out DIR [--seed N] [--scale N] [--start DATE] [--days N]")
	out := fs.String("out", "", "folder to write the CloudTrail S3 layout (AWSLogs/...) into")
	seed := fs.Int64("seed", 1, "scenario seed: the same seed writes the same files")
	scale := fs.Int("scale", 1, "multiply background volume (250 is about 10 million events)")
	start := fs.String("start", "", "first day simulated, UTC (default 2026-03-08)")
	days := fs.Int("days", 7, "days simulated; the attack happens on the last one")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("simulate needs --out DIR")
	}
	if *scale < 1 || *days < 1 {
		return usageErr("--scale and --days must be at least 1")
	}
	opts := simulate.Options{Seed: *seed, Scale: *scale, Days: *days}
	if *start != "" {
		t, err := parseTimeFlag("start", *start, false)
		if err != nil {
			return err
		}
		opts.Start = t
	}
	res, err := simulate.Write(ctx, *out, opts)
	if errors.Is(err, simulate.ErrInvalidOptions) {
		return usageErr("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s CloudTrail events in %s files (%s) to %s\n", num(res.Events), num(res.Files), bytesHuman(res.Bytes), *out)
	printTruth(e.stdout, res.Truth)
	return nil
}

// printTruth tells what the simulated attacker did, so a newcomer knows what
// to look for.
func printTruth(w io.Writer, t simulate.Truth) {
	fmt.Fprintf(w, "The attack (%s to %s):\n", timeText(t.AttackStart), timeText(t.AttackEnd))
	fmt.Fprintf(w, "  leaked key    %s of %s\n", t.LeakedAccessKeyID, t.LeakedUserARN)
	fmt.Fprintf(w, "  attacker IPs  %v\n", t.AttackerIPs)
	fmt.Fprintf(w, "  backdoor      %s with key %s\n", t.BackdoorUserARN, t.BackdoorAccessKeyID)
	fmt.Fprintf(w, "  pivots        %s, then %s (account %s)\n", t.PivotRoleARN, t.CrossAccountRoleARN, t.SecondAccount)
	fmt.Fprintf(w, "  data          %d objects (%s) from s3://%s; snapshot %s shared with %s\n", t.ExfilObjects, bytesHuman(t.ExfilBytes), t.ExfilBucket, t.SnapshotID, t.OutsideAccount)
}
