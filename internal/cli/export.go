package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/report/export"
	"github.com/harrier-ir/harrier/internal/store"
)

// exportOptions is what `harrier export` was asked.
type exportOptions struct {
	what, format, out string
	path              string // out resolved: where the export is written (checkOutputPath)
	overwrite         bool
	omitRecord        bool
	ev                eventFilter
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "export", "--case DIR [--what events|findings] --format csv|jsonl|timesketch|parquet|sarif -o PATH|- [--overwrite] [filters]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	var o exportOptions
	fs.StringVar(&o.what, "what", "events", "what to export: events (the timeline) or findings (the latest hunt's)")
	fs.StringVar(&o.format, "format", "", "events: csv, jsonl, timesketch or parquet; findings: jsonl or sarif")
	fs.StringVar(&o.out, "o", "", "the output file (a directory for parquet); - for standard output")
	fs.BoolVar(&o.overwrite, "overwrite", false, "replace an existing output file, or a directory holding an earlier Parquet export")
	fs.BoolVar(&o.omitRecord, "no-record", false, "jsonl events: leave out each event's raw CloudTrail record")
	o.ev.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("export takes no arguments (got %q); name the output with -o", pos[0])
	}
	switch o.what {
	case "events":
		if err := checkFormat(o.format, append(export.EventFormats, "parquet")...); err != nil {
			return err
		}
	case "findings":
		if err := checkFormat(o.format, "jsonl", "sarif"); err != nil {
			return err
		}
	default:
		return usageErr("--what is events or findings, not %q", o.what)
	}
	if o.out == "" {
		return usageErr("name the output with -o PATH (- for standard output)")
	}
	if o.out == "-" && o.format == "parquet" {
		return usageErr("parquet is a directory of files: name it with -o DIR")
	}
	if err := o.ev.parse(); err != nil {
		return err
	}
	for _, ip := range o.ev.ips {
		if p, err := netip.ParsePrefix(ip); err == nil && o.format == "parquet" && !p.Addr().Is4() {
			return usageErr("--ip %s: an IPv6 CIDR block cannot be applied to a parquet export (name addresses, or export jsonl)", ip)
		}
	}
	if o.what == "findings" && o.ev.given() {
		return usageErr("the event filters select events; findings are exported whole (filter them with jq, or hunt again)")
	}
	if o.what == "findings" && o.omitRecord {
		return usageErr("--no-record is for events")
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
	if o.out != "-" {
		if o.path, err = checkOutputPath(c, o.out); err != nil {
			return err
		}
	}
	if err := o.ev.resolveScope(ctx, st); err != nil {
		return err
	}
	switch {
	case o.format == "parquet":
		return exportParquet(ctx, e, st, o)
	case o.what == "findings":
		return exportFindings(ctx, e, st, o)
	}
	return exportEvents(ctx, e, st, o)
}

// exportEvents streams the events into one of the event formats.
func exportEvents(ctx context.Context, e *env, st *store.Store, o exportOptions) error {
	var n, noTime int
	err := withOutput(e, o, func(w io.Writer) error {
		ew, err := export.NewEventWriter(o.format, w, export.Options{OmitRecord: o.omitRecord})
		if err != nil {
			return err
		}
		err = st.ExportEvents(ctx, o.ev.f, func(ev *store.ExportEvent) error {
			err := ew.Write(ev)
			if errors.Is(err, export.ErrNoTime) {
				noTime++
				return nil
			}
			n++
			return err
		})
		if err != nil {
			return err
		}
		return ew.Flush()
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %s events as %s to %s\n", num(n), o.format, outName(o.out))
	if noTime > 0 {
		fmt.Fprintf(e.stderr, "harrier: %s events have no time and are not in the Timesketch file (Timesketch needs one); export jsonl to see them\n", num(noTime))
		return errPartial
	}
	return nil
}

// exportFindings writes the latest hunt's findings.
func exportFindings(ctx context.Context, e *env, st *store.Store, o exportOptions) error {
	findings, err := detect.Findings(ctx, st, detect.MaxListedEvents)
	if err != nil {
		return err
	}
	err = withOutput(e, o, func(w io.Writer) error {
		if o.format == "sarif" {
			return export.WriteSARIF(w, findings, export.Tool{Version: version(), InformationURI: "https://github.com/harrier-ir/harrier"})
		}
		return export.WriteFindingsJSONL(w, findings)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %s findings as %s to %s\n", num(len(findings)), o.format, outName(o.out))
	return nil
}

// defuseRow defuses every cell a spreadsheet would take for a formula, as
// the CSV export does (export.DefuseFormula), for `timeline --format csv`:
// an attacker's user agent of =HYPERLINK(...) must not run in the
// responder's spreadsheet whichever command wrote the file.
func defuseRow(row []string) []string {
	for i, f := range row {
		row[i], _ = export.DefuseFormula(f)
	}
	return row
}

func outName(out string) string {
	if out == "-" {
		return "standard output"
	}
	return out
}

// withOutput runs write onto standard output, or onto a new file beside
// the output that replaces it only once complete: an interrupted export
// leaves no truncated file under the output's name, and an existing file
// is replaced only with --overwrite.
func withOutput(e *env, o exportOptions, write func(io.Writer) error) error {
	if o.out == "-" {
		return write(e.stdout)
	}
	if fi, err := os.Lstat(o.path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("-o %s is a directory", o.out)
		}
		if !o.overwrite {
			return fmt.Errorf("-o %s exists; --overwrite replaces it", o.out)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.path), "."+filepath.Base(o.path)+".partial-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("export to %s: %w", o.out, err)
	}
	return nil
}

// exportParquet has DuckDB write the partitioned files into a scratch
// folder beside the output, then moves it into place: the output directory
// appears complete or not at all. An existing directory is used only if it is
// empty, or, with --overwrite, replaced if it holds nothing but an earlier
// export's partitions (never a folder of other files).
func exportParquet(ctx context.Context, e *env, st *store.Store, o exportOptions) error {
	replace := false
	if entries, err := os.ReadDir(o.path); err == nil {
		if len(entries) > 0 {
			if !o.overwrite {
				return fmt.Errorf("-o %s is not empty; --overwrite replaces an earlier Parquet export", o.out)
			}
			for _, en := range entries {
				if !en.IsDir() || !strings.HasPrefix(en.Name(), store.ParquetPartitions[0]+"=") {
					return fmt.Errorf("-o %s holds %s, which no Parquet export wrote; not replacing it", o.out, en.Name())
				}
			}
		}
		replace = true
	} else if _, serr := os.Lstat(o.path); serr == nil {
		return fmt.Errorf("-o %s is a file; parquet writes a directory", o.out)
	}
	scratch, err := os.MkdirTemp(filepath.Dir(o.path), "."+filepath.Base(o.path)+".partial-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.RemoveAll(scratch)
	data := filepath.Join(scratch, "data")
	n, err := st.ExportParquet(ctx, o.ev.f, data)
	if err != nil {
		return err
	}
	if n == 0 {
		// DuckDB writes no file for no rows
		if err := os.MkdirAll(data, 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if replace {
		if err := os.RemoveAll(o.path); err != nil {
			return fmt.Errorf("export: replace %s: %w", o.out, err)
		}
	}
	if err := os.Rename(data, o.path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(e.stderr, "exported %s events as parquet to %s (partitioned %s)\n", num(int(n)), o.out, strings.Join(store.ParquetPartitions, "/"))
	return nil
}
