package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Who is who made an acquisition, with what: every log names them.
type Who struct {
	Tool     string   `json:"tool"`              // "harrier 0.1.0"
	Command  []string `json:"command,omitempty"` // the command line, as given
	Operator string   `json:"operator"`          // user (uid)
	Host     string   `json:"host"`
}

// Verification is the written image read back and hashed again.
type Verification struct {
	Sums  Sums `json:"sums"`
	Match bool `json:"match"`
}

// Record is the acquisition record of one image: the JSON beside it
// (DST.json) and the text of its log (DST.log).
type Record struct {
	Who
	Start      time.Time     `json:"start"`
	End        time.Time     `json:"end"`
	Source     string        `json:"source"`
	SourceSize int64         `json:"source_size"` // -1 when the source could not tell
	Dest       string        `json:"dest"`
	SectorSize int           `json:"sector_size"`
	Bytes      int64         `json:"bytes"`       // bytes written
	SectorsIn  int64         `json:"sectors_in"`  // sectors read whole (a partial last one counts)
	SectorsOut int64         `json:"sectors_out"` // sectors written, zero-filled ones included
	BadSectors int64         `json:"bad_sectors"`
	Bad        []BadRange    `json:"bad_ranges"`
	Sums       Sums          `json:"sums"`
	Verify     *Verification `json:"verify,omitempty"`
	Outcome    string        `json:"outcome"` // complete, complete with bad sectors, verification failed, failed: ...
}

// Field is one line of a text log: a name and its value.
type Field struct{ Name, Value string }

// Log lays fields out as an acquisition log: one "name: value" line each,
// values aligned, continuation lines indented.
func Log(title string, fields []Field) []byte {
	var b strings.Builder
	b.WriteString(title + "\n\n")
	for _, f := range fields {
		lines := strings.Split(f.Value, "\n")
		fmt.Fprintf(&b, "%-18s %s\n", f.Name+":", lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "%-18s %s\n", "", l)
		}
	}
	return []byte(b.String())
}

// UTC formats a time as every log and record here does.
func UTC(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Text is the record as a dc3dd-like text log.
func (r Record) Text() []byte {
	size := "unknown"
	if r.SourceSize >= 0 {
		size = fmt.Sprintf("%d bytes", r.SourceSize)
	}
	bad := fmt.Sprintf("%d", r.BadSectors)
	for _, b := range r.Bad {
		bad += fmt.Sprintf("\nbytes %d-%d (%d sectors): %s", b.Offset, b.Offset+b.Length-1, (b.Length+int64(r.SectorSize)-1)/int64(r.SectorSize), b.Error)
	}
	verify := "not done"
	if r.Verify != nil {
		verify = fmt.Sprintf("image read back: sha256 %s md5 %s: ", r.Verify.Sums.SHA256, r.Verify.Sums.MD5)
		if r.Verify.Match {
			verify += "MATCH"
		} else {
			verify += "MISMATCH"
		}
	}
	return Log(r.Tool+": acquisition log", []Field{
		{"command", strings.Join(r.Command, " ")},
		{"operator", r.Operator + " on " + r.Host},
		{"started (UTC)", UTC(r.Start)},
		{"source", r.Source + " (" + size + ")"},
		{"destination", r.Dest},
		{"sector size", fmt.Sprintf("%d", r.SectorSize)},
		{"sectors in", fmt.Sprintf("%d", r.SectorsIn)},
		{"sectors out", fmt.Sprintf("%d (%d bytes)", r.SectorsOut, r.Bytes)},
		{"bad sectors", bad},
		{"sha256", r.Sums.SHA256},
		{"md5", r.Sums.MD5},
		{"verification", verify},
		{"finished (UTC)", UTC(r.End)},
		{"outcome", r.Outcome},
	})
}

// ErrExists refuses to overwrite: an image, its log or its record that is
// already there may be evidence.
var ErrExists = errors.New("already exists (a forensic image is never overwritten: name a new destination)")

// Sidecars are the names of an image's log and record.
func Sidecars(dst string) (log, record string) { return dst + ".log", dst + ".json" }

// WriteSidecars writes an image's text log and JSON record beside it,
// read-only, refusing to replace either.
func WriteSidecars(dst string, text []byte, record any) error {
	body, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		return fmt.Errorf("acquisition record: %w", err)
	}
	log, rec := Sidecars(dst)
	for _, f := range []struct {
		path string
		data []byte
	}{{log, text}, {rec, append(body, '\n')}} {
		if err := writeNew(f.path, f.data); err != nil {
			return err
		}
	}
	return nil
}

// writeNew writes a file that must not exist yet, syncs it and makes it
// read-only.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s %w", path, ErrExists)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, 0o444)
}

// Refuse returns ErrExists when dst, its log or its record already exist.
func Refuse(dst string) error {
	log, rec := Sidecars(dst)
	for _, p := range []string{dst, log, rec} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s %w", p, ErrExists)
		}
	}
	return nil
}
