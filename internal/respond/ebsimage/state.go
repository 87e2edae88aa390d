package ebsimage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// The state sidecar (DST.state) is what lets an interrupted acquisition
// resume: a header naming the snapshot and its geometry, then one line per
// block written to the image, with the checksum AWS gave for it. It is kept
// after the image is complete: it is the list of the snapshot's blocks and
// their checksums, which the image can be checked against later.
type stateHeader struct {
	SnapshotID string `json:"snapshot_id"`
	VolumeSize int64  `json:"volume_size_gib"`
	BlockSize  int32  `json:"block_size"`
}

type stateBlock struct {
	Block  int32  `json:"block"`
	SHA256 string `json:"sha256"` // base64, as x-amz-Checksum gives it
}

// StatePath is where an image's resume state is kept.
func StatePath(dst string) string { return dst + ".state" }

// loadState reads a state sidecar. A line cut short (the process died
// writing it) is skipped: that block is fetched again.
func loadState(path string) (stateHeader, map[int32]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return stateHeader{}, nil, err
	}
	lines := bytes.Split(b, []byte("\n"))
	var h stateHeader
	if err := json.Unmarshal(lines[0], &h); err != nil || h.SnapshotID == "" || h.BlockSize <= 0 || h.VolumeSize <= 0 {
		return h, nil, fmt.Errorf("resume state %s: damaged header", path)
	}
	done := map[int32]string{}
	for _, l := range lines[1:] {
		var s stateBlock
		if err := json.Unmarshal(l, &s); err != nil || s.Block < 0 || s.SHA256 == "" {
			continue
		}
		done[s.Block] = s.SHA256
	}
	return h, done, nil
}

// stateWriter appends block lines; flush makes them durable, after the
// image's own writes are (sync the image first).
type stateWriter struct {
	f *os.File
	w *bufio.Writer
}

func createState(path string, h stateHeader) (*stateWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	s := &stateWriter{f: f, w: bufio.NewWriter(f)}
	b, _ := json.Marshal(h)
	s.w.Write(append(b, '\n'))
	return s, s.flush()
}

func appendState(path string) (*stateWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	// a line cut short by a crash is ended, so the next starts clean
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(path); err == nil {
			r.ReadAt(last, st.Size()-1)
			r.Close()
			if last[0] != '\n' {
				f.Write([]byte("\n"))
			}
		}
	}
	return &stateWriter{f: f, w: bufio.NewWriter(f)}, nil
}

func (s *stateWriter) add(block int32, sum string) error {
	b, _ := json.Marshal(stateBlock{Block: block, SHA256: sum})
	_, err := s.w.Write(append(b, '\n'))
	return err
}

func (s *stateWriter) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	return nil
}

func (s *stateWriter) close() error {
	return errors.Join(s.flush(), s.f.Close())
}
