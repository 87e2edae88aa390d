package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referencedCase is a case whose evidence was ingested with --reference:
// it stays in place, at dir/src/events.jsonl, outside the case. It returns
// the case folder and the referenced file.
func referencedCase(t *testing.T) (caseDir, ref string) {
	t.Helper()
	dir := t.TempDir()
	var lines []string
	for _, e := range crafted {
		lines = append(lines, e.json())
	}
	ref = filepath.Join(dir, "src", "events.jsonl")
	if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ref, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	caseDir = filepath.Join(dir, "case")
	if out, errOut, code := harrier(t, "ingest", "--case", caseDir, "--reference", ref); code != 0 {
		t.Fatalf("ingest exit %d\n%s%s", code, out, errOut)
	}
	return caseDir, ref
}

// filesOf is every file under the given roots with its bytes.
func filesOf(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, root := range roots {
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(p, ".duckdb") && !strings.HasSuffix(p, ".wal") && !strings.HasSuffix(p, ".lock") {
				b, _ := os.ReadFile(p)
				m[p] = string(b)
			}
			return nil
		})
	}
	return m
}

// TestReportAndExportOutputNeverLandOnTheCaseRecords runs report and export with outputs
// that name, or lead by a symbolic link to, the case's records or the
// evidence it references in place, and checks every one is refused and
// nothing of the case changed; outputs elsewhere, and in a folder of their
// own inside the case, are written.
func TestReportAndExportOutputNeverLandOnTheCaseRecords(t *testing.T) {
	caseDir, ref := referencedCase(t)
	base := filepath.Dir(caseDir)
	link := func(name, to string) string {
		p := filepath.Join(base, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caseLink := link("caselink", caseDir)
	evLink := link("evlink", filepath.Join(caseDir, "evidence"))
	srcLink := link("srclink", filepath.Dir(ref))
	manLink := link("manifest-link.csv", filepath.Join(caseDir, "manifest.jsonl"))
	dangling := link("dangling.csv", filepath.Join(caseDir, "evidence", "nothing-yet.csv"))
	if err := os.MkdirAll(filepath.Join(caseDir, "exports"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := filesOf(t, caseDir, filepath.Dir(ref))

	refused := []struct {
		name, caseArg, out, msg string
	}{
		{"the manifest", caseDir, filepath.Join(caseDir, "manifest.jsonl"), "case's own records"},
		{"into the evidence", caseDir, filepath.Join(caseDir, "evidence", "x.csv"), "case's own records"},
		{"the case record", caseDir, filepath.Join(caseDir, "case.json"), "case's own records"},
		{"the audit log", caseDir, filepath.Join(caseDir, "actions.jsonl"), "case's own records"},
		{"scratch space", caseDir, filepath.Join(caseDir, "tmp", "x.csv"), "case's own records"},
		{"the database's WAL", caseDir, filepath.Join(caseDir, "harrier.duckdb.wal"), "case's own records"},
		{"a hidden file", caseDir, filepath.Join(caseDir, ".lock"), "case's own records"},
		{"the case folder", caseDir, caseDir, "case's own records"},
		{"relative dot-dot into the evidence", caseDir, filepath.Join(caseDir, "exports", "..", "evidence", "x.csv"), "case's own records"},
		{"case named by a link", caseLink, filepath.Join(caseDir, "evidence", "x.csv"), "case's own records"},
		{"output through a link to the case", caseDir, filepath.Join(caseLink, "manifest.jsonl"), "case's own records"},
		{"parent is a link into the evidence", caseDir, filepath.Join(evLink, "x.csv"), "case's own records"},
		{"output is a link to the manifest", caseDir, manLink, "case's own records"},
		{"dangling link into the evidence", caseDir, dangling, "not writing"},
		{"referenced evidence", caseDir, ref, "referenced in place"},
		{"referenced evidence through a link", caseDir, filepath.Join(srcLink, "events.jsonl"), "referenced in place"},
		{"folder holding referenced evidence", caseDir, filepath.Dir(ref), "referenced in place"},
	}
	for _, cmd := range []string{"report", "export"} {
		for _, c := range refused {
			t.Run(cmd+"/"+c.name, func(t *testing.T) {
				args := []string{cmd, "--case", c.caseArg, "-o", c.out, "--overwrite"}
				if cmd == "export" {
					args = append(args, "--format", "csv")
				}
				_, errOut, code := harrier(t, args...)
				if code == 0 || !strings.Contains(errOut, c.msg) {
					t.Errorf("exit %d; stderr %q should say %q", code, errOut, c.msg)
				}
			})
		}
		t.Run(cmd+"/parquet into a link to the evidence", func(t *testing.T) {
			if cmd != "export" {
				t.Skip("parquet is export's")
			}
			_, errOut, code := harrier(t, "export", "--case", caseDir, "--format", "parquet", "-o", filepath.Join(evLink, "pq"))
			if code == 0 || !strings.Contains(errOut, "case's own records") {
				t.Errorf("exit %d: %s", code, errOut)
			}
		})
	}
	after := filesOf(t, caseDir, filepath.Dir(ref))
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}

	for _, out := range []string{filepath.Join(caseDir, "exports", "x.csv"), filepath.Join(base, "out.csv"), filepath.Join(caseLink, "exports", "y.csv")} {
		if _, errOut, code := harrier(t, "export", "--case", caseDir, "--format", "csv", "-o", out); code != 0 {
			t.Errorf("export -o %s: exit %d %s", out, code, errOut)
		}
		if _, err := os.Stat(out); err != nil {
			t.Errorf("export -o %s wrote nothing: %v", out, err)
		}
	}
}

// TestReportOutputReplacesOnlyItsOwn checks that report replaces the
// case's own report.html every time, but another existing file only with
// --overwrite.
func TestReportOutputReplacesOnlyItsOwn(t *testing.T) {
	caseDir := craftedCase(t)
	for i := range 2 {
		if out, errOut, code := harrier(t, "report", "--case", caseDir); code != 0 || !strings.Contains(out, "report.html") {
			t.Fatalf("report %d: exit %d %s%s", i+1, code, out, errOut)
		}
	}
	existing := filepath.Join(t.TempDir(), "notes.html")
	os.WriteFile(existing, []byte("my notes"), 0o644)
	_, errOut, code := harrier(t, "report", "--case", caseDir, "-o", existing)
	if code == 0 || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("an existing file: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(existing); string(b) != "my notes" {
		t.Error("an existing file was replaced without --overwrite")
	}
	if _, errOut, code := harrier(t, "report", "--case", caseDir, "-o", existing, "--overwrite"); code != 0 {
		t.Errorf("--overwrite: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(existing); !strings.Contains(string(b), "<!DOCTYPE html>") {
		t.Error("--overwrite did not replace the file")
	}
	if _, errOut, code := harrier(t, "report", "--case", caseDir, "-o", filepath.Dir(existing)); code == 0 || !strings.Contains(errOut, "directory") {
		t.Errorf("a directory: exit %d %s", code, errOut)
	}
}
