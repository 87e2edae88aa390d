package ingest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// input is one file to ingest: where it is, and the path it keeps inside the
// case's evidence folder (relative to the parent of the input named on the
// command line, so an S3-layout tree keeps its layout).
type input struct {
	abs string
	rel string
}

// walk expands the inputs into files, sorted so runs are reproducible. The
// case folder itself is never taken as evidence. Inputs that cannot be read
// are reported, not fatal.
func walk(inputs []string, caseDir string) ([]input, []Failure) {
	var files []input
	var failures []Failure
	seen := map[string]bool{}
	inCase := func(p string) bool {
		return p == caseDir || strings.HasPrefix(p, caseDir+string(filepath.Separator))
	}
	for _, arg := range inputs {
		abs, err := filepath.Abs(arg)
		if err != nil {
			failures = append(failures, Failure{Path: arg, Err: err.Error()})
			continue
		}
		info, err := os.Stat(abs)
		if err != nil {
			failures = append(failures, Failure{Path: arg, Err: err.Error()})
			continue
		}
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				failures = append(failures, Failure{Path: arg, Err: notRegular(info.Mode())})
				continue
			}
			if !seen[abs] && !inCase(abs) {
				seen[abs] = true
				files = append(files, input{abs: abs, rel: filepath.Base(abs)})
			}
			continue
		}
		parent := filepath.Dir(abs)
		err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				failures = append(failures, Failure{Path: p, Err: err.Error()})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if inCase(p) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || seen[p] {
				return nil
			}
			if !d.Type().IsRegular() {
				// a symlink to a file is followed; anything else is reported,
				// never opened (a FIFO would block) and never silently dropped
				st, err := os.Stat(p)
				switch {
				case err != nil:
					failures = append(failures, Failure{Path: p, Err: err.Error()})
					return nil
				case st.IsDir():
					failures = append(failures, Failure{Path: p, Err: "symbolic link to a folder: not followed (name the folder itself to ingest it)"})
					return nil
				case !st.Mode().IsRegular():
					failures = append(failures, Failure{Path: p, Err: notRegular(st.Mode())})
					return nil
				}
			}
			seen[p] = true
			rel, err := filepath.Rel(parent, p)
			if err != nil {
				rel = filepath.Base(p)
			}
			files = append(files, input{abs: p, rel: rel})
			return nil
		})
		if err != nil {
			failures = append(failures, Failure{Path: arg, Err: err.Error()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].abs < files[j].abs })
	return files, failures
}

func notRegular(m fs.FileMode) string {
	return fmt.Sprintf("not a regular file (%s): skipped", m.Type())
}
