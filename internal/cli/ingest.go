package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/harrier-ir/harrier/internal/ingest"
)

func runIngest(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "ingest", "--case DIR [--reference] PATH...")
	caseFlag := fs.String("case", "", "the case folder (created on first use); or HARRIER_CASE")
	reference := fs.Bool("reference", false, "record large evidence in place (hashed) instead of copying it into the case")
	workers := fs.Int("workers", 0, "files processed at once (default: one per CPU)")
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageErr("ingest needs at least one file or folder of evidence")
	}
	return ingestPaths(ctx, e, dir, paths, *reference, *workers)
}

// ingestPaths ingests and prints the summary; errPartial when some input failed.
func ingestPaths(ctx context.Context, e *env, dir string, paths []string, reference bool, workers int) error {
	c, st, err := openForWrite(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	counters := &ingest.Counters{}
	p := startProgress(e.stderr, counters)
	sum, err := ingest.Run(ctx, c, st, ingest.Options{Inputs: paths, Reference: reference, Workers: workers, Counters: counters})
	p.finish()
	if err != nil {
		return err
	}
	printIngestSummary(e.stdout, c.Meta.ID, sum)
	if !sum.OK() {
		return errPartial
	}
	return nil
}

func printIngestSummary(w io.Writer, caseID string, s ingest.Summary) {
	t := s.Totals
	fmt.Fprintf(w, "Ingested %s files into case %s (load %d) in %.1fs\n", num(t.Files), safe(caseID), s.LoadID, s.Elapsed.Seconds())
	fmt.Fprintf(w, "  evidence  %s new files copied and hashed, %s already in the case\n", num(s.NewFiles), num(s.KnownFiles))
	var formats []string
	for _, f := range sortedKeys(s.ByFormat) {
		formats = append(formats, fmt.Sprintf("%s %s", f, num(s.ByFormat[f])))
	}
	if len(formats) > 0 {
		fmt.Fprintf(w, "  formats   %s\n", strings.Join(formats, ", "))
	}
	fmt.Fprintf(w, "  records   %s read = %s stored + %s duplicates + %s rejected\n",
		num(t.RecordsRead), num(t.Stored), num(t.Duplicates), num(t.Rejected))
	if secs := s.Elapsed.Seconds(); secs > 0 && t.RecordsRead > 0 {
		fmt.Fprintf(w, "  speed     %s events/s\n", num(int64(float64(t.RecordsRead)/secs)))
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(w, "Failed files (%d); records read from a file before its error are stored:\n", len(s.Failures))
		for _, f := range s.Failures {
			fmt.Fprintf(w, "  %s: %s\n", safe(f.Path), safe(f.Err))
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(w, "Changed evidence (%d):\n", len(s.Warnings))
		for _, f := range s.Warnings {
			fmt.Fprintf(w, "  %s: %s\n", safe(f.Path), safe(f.Err))
		}
	}
	if t.Conflicts > 0 {
		fmt.Fprintf(w, "Conflicting copies (%s): the same eventID with different content, a sign of altered evidence\n", num(t.Conflicts))
		for _, c := range s.Conflicts {
			fmt.Fprintf(w, "  %s: %s record %d differs from the copy kept, %s record %d\n", safe(c.EventID), safe(c.OtherFile), c.OtherIndex, safe(c.KeptFile), c.KeptIndex)
		}
		fmt.Fprintf(w, "  all of them: harrier query --case DIR \"SELECT * FROM conflicts\"\n")
	}
	if t.Rejected > 0 {
		fmt.Fprintf(w, "Rejected records (%s; all in the rejections table):\n", num(t.Rejected))
		for _, r := range s.Rejections {
			fmt.Fprintf(w, "  %s record %d at byte offset %d: %s\n", safe(r.EvidenceFile), r.RecordIndex, r.ByteOffset, safe(clip(r.Reason, 200)))
		}
		if s.MoreRejections > 0 {
			fmt.Fprintf(w, "  … and %s more: harrier query --case DIR \"SELECT * FROM rejections\"\n", num(s.MoreRejections))
		}
	}
}
