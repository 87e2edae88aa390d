package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// errCaseRecord means an output named on the command line would land on
// what the case keeps as its record: evidence, database, manifest, audit
// log, scratch space, or evidence referenced in place outside the case.
var errCaseRecord = errors.New("is part of the case's own records")

// caseRecordNames are the case folder's own entries (first path element
// under the case): nothing harrier writes on request may go there.
var caseRecordNames = map[string]bool{
	casefile.EvidenceDir:  true,
	casefile.TempDir:      true,
	casefile.ManifestFile: true,
	casefile.MetaFile:     true,
	casefile.ActionsFile:  true,
}

// checkOutputPath refuses an output path (a file, or a directory for
// Parquet) that would overwrite or land among the case's records: inside
// evidence/ or tmp/, on the database (and its WAL), the manifest,
// case.json, actions.jsonl or a hidden file of the case, on the case
// folder itself, or on (or above) evidence that was referenced in place
// outside the case. Symbolic links are resolved on the case folder and on
// the output's deepest existing ancestor, so that a link cannot lead a
// write where its plain name would be refused. When a path cannot be
// resolved the write is refused: in doubt, evidence wins. Other files in
// the case (report.html, a folder of exports) are the responder's to name.
//
// It returns the path resolved, which is where the caller writes: what was
// checked is what is written, even if a name like link/.. means something
// else to the system than it does written down. Every command that writes
// where it is told (report, export, and later serve or timeline) calls
// this one checker.
func checkOutputPath(c *casefile.Case, out string) (string, error) {
	caseDir, err := resolvePath(c.Dir)
	if err != nil {
		return "", fmt.Errorf("-o %s: cannot tell where the case is (%w); not writing", out, err)
	}
	target, err := resolvePath(out)
	if err != nil {
		return "", fmt.Errorf("-o %s: cannot tell where this leads (%w); not writing", out, err)
	}
	refuse := func(what string) error {
		return usageErr("-o %s %s (%s); write it elsewhere, or into a folder of its own", out, errCaseRecord.Error(), what)
	}
	if rel, ok := within(caseDir, target); ok {
		first := strings.Split(filepath.ToSlash(rel), "/")[0]
		switch {
		case rel == ".":
			return "", refuse("the case folder")
		case caseRecordNames[first]:
			return "", refuse(first)
		case strings.HasPrefix(first, casefile.StoreFile):
			return "", refuse("the database")
		case strings.HasPrefix(first, "."):
			return "", refuse("a hidden file of the case")
		}
	}
	for _, en := range c.Entries() {
		if !en.Referenced {
			continue
		}
		ref, err := resolvePath(en.Path)
		if err != nil {
			// the referenced file is gone or unreadable: compare its name as recorded
			ref = filepath.Clean(en.Path)
		}
		for _, p := range []string{ref, filepath.Clean(en.Path)} {
			if _, ok := within(target, p); ok {
				return "", refuse("evidence referenced in place: " + en.Path)
			}
		}
	}
	return target, nil
}

// within reports whether path is dir or below it, and its path relative to
// dir. Both are absolute and clean.
func within(dir, path string) (string, bool) {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// resolvePath is path made absolute with every symbolic link resolved: the
// deepest ancestor that exists is resolved and the names below it (which do
// not exist yet) appended. A name that exists but cannot be resolved (a
// dangling link, a loop, no permission) is an error.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var rest []string
	for cur := abs; ; {
		if _, err := os.Lstat(cur); err == nil {
			real, err := filepath.EvalSymlinks(cur)
			if err != nil {
				return "", err
			}
			return filepath.Join(append([]string{real}, rest...)...), nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}
