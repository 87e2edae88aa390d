package ingest

import (
	"fmt"
	"github.com/harrier-ir/harrier/internal/casefile"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// input is one file to ingest: where it is, and the path it keeps inside the
// case's evidence folder (relative to the parent of the input named on the
// command line, so an S3-layout tree keeps its layout).
type input struct {
	abs string
	rel string
	// acquired evidence already in the case (harrier acquire put it
	// there): read in place and checked against its manifest entry
	entry *casefile.Entry
}

// walk expands the inputs into files, sorted so runs are reproducible. The
// case folder itself (however it is reached) is never taken as evidence.
// Two inputs with the same name get distinct places in the case, decided
// here in argument order rather than by whichever worker comes first.
// Inputs that cannot be read are reported, not fatal.
func walk(inputs []string, caseDir string) ([]input, []Failure) {
	var files []input
	var failures []Failure
	seen := map[string]bool{}
	caseInfo, _ := os.Stat(caseDir)
	resolvedCase, err := filepath.EvalSymlinks(caseDir)
	if err != nil {
		resolvedCase = caseDir
	}
	isCase := func(info fs.FileInfo) bool { return caseInfo != nil && info != nil && os.SameFile(info, caseInfo) }
	inCase := func(p string) bool {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return p == resolvedCase || strings.HasPrefix(p, resolvedCase+string(filepath.Separator))
	}
	roots := map[string]string{} // name in the case -> input that has it
	rootName := func(abs string) string {
		base := filepath.Base(abs)
		name := base
		for n := 2; roots[name] != "" && roots[name] != abs; n++ {
			name = base + "." + strconv.Itoa(n)
		}
		roots[name] = abs
		return name
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
			switch {
			case !info.Mode().IsRegular():
				failures = append(failures, Failure{Path: arg, Err: notRegular(info.Mode())})
			case inCase(abs):
				failures = append(failures, Failure{Path: arg, Err: "inside the case folder: not evidence"})
			case !seen[abs]:
				seen[abs] = true
				name := rootName(abs)
				files = append(files, input{abs: abs, rel: name})
			}
			continue
		}
		if isCase(info) || inCase(abs) {
			failures = append(failures, Failure{Path: arg, Err: "the case folder itself: not evidence"})
			continue
		}
		name := rootName(abs)
		before := len(files)
		err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				failures = append(failures, Failure{Path: p, Err: err.Error()})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if di, err := d.Info(); err == nil && isCase(di) {
					return fs.SkipDir
				}
				return nil
			}
			if seen[p] {
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
				if inCase(p) {
					return nil
				}
			}
			seen[p] = true
			rel, err := filepath.Rel(abs, p)
			if err != nil {
				rel = filepath.Base(p)
			}
			files = append(files, input{abs: p, rel: filepath.Join(name, rel)})
			return nil
		})
		if err != nil {
			failures = append(failures, Failure{Path: arg, Err: err.Error()})
		}
		if len(files) == before {
			failures = append(failures, Failure{Path: arg, Err: "no evidence files in this folder"})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].abs < files[j].abs })
	return files, failures
}

func notRegular(m fs.FileMode) string {
	return fmt.Sprintf("not a regular file (%s): skipped", m.Type())
}
