package respond

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoryScriptDiskGuards runs the Linux capture script for real with
// df and stat replaced where a case needs it: without df --output (busybox,
// old coreutils) the type comes from stat -f and a tmpfs is still refused;
// a type neither tells is refused; a directory with less room than the
// image is refused; so is one whose free space df -P cannot tell. Each
// refusal comes before the tool is fetched (its URL leads nowhere).
func TestMemoryScriptDiskGuards(t *testing.T) {
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skip("no /dev/shm")
	}
	realDF, err := exec.LookPath("df")
	if err != nil {
		t.Skip("no df")
	}
	// fake tools: "nooutput" fails df --output; "fail" fails always
	df := map[string]string{
		"nooutput": "#!/bin/sh\ncase \"$*\" in *--output*) echo 'df: unrecognized option' >&2; exit 1;; esac\nexec " + realDF + " \"$@\"\n",
		"fail":     "#!/bin/sh\necho 'df: not here' >&2\nexit 1\n",
	}
	stat := map[string]string{"fail": "#!/bin/sh\necho 'stat: not here' >&2\nexit 1\n"}
	tests := []struct {
		name       string
		df, stat   string // "" for the real one
		dir        string
		imageBytes int64
		code       int
		stderr     string
	}{
		{"tmpfs found by stat -f without df --output", "nooutput", "", "/dev/shm", 0, 5, "is tmpfs, in memory"},
		{"type unknown", "nooutput", "fail", t.TempDir(), 0, 5, "file system type of"},
		{"not enough room", "", "", t.TempDir(), 1 << 60, 7, "MiB free; the image needs about"},
		{"free space unknown", "nooutput", "", t.TempDir(), 1 << 20, 7, "free space of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			if tc.df == "fail" || tc.name == "free space unknown" {
				// df -P fails too
				os.WriteFile(filepath.Join(bin, "df"), []byte(df["fail"]), 0o755)
			} else if tc.df != "" {
				os.WriteFile(filepath.Join(bin, "df"), []byte(df[tc.df]), 0o755)
			}
			if tc.stat != "" {
				os.WriteFile(filepath.Join(bin, "stat"), []byte(stat[tc.stat]), 0o755)
			}
			script := strings.Join(MemoryScript(ToolAVML, "http://127.0.0.1:1/avml", "", tc.dir, tc.imageBytes, 5<<20, []string{"http://127.0.0.1:1/p"}), "\n")
			cmd := exec.Command("bash", "-c", script)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, want %d and %q: %s", code, tc.code, tc.stderr, stderr.String())
			}
		})
	}
}
