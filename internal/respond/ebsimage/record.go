package ebsimage

import (
	"fmt"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/respond/image"
)

// Snapshot is what EC2 says of the snapshot imaged: where it came from and
// how it is protected, for the record.
type Snapshot struct {
	VolumeID    string            `json:"volume_id"`
	OwnerID     string            `json:"owner_id"`
	StartTime   time.Time         `json:"start_time"`
	State       string            `json:"state"`
	Encrypted   bool              `json:"encrypted"`
	KMSKeyID    string            `json:"kms_key_id,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// Record is the acquisition record of a snapshot's image (DST.json), and
// the text of its log (DST.log).
type Record struct {
	image.Who
	Start            time.Time  `json:"start"`
	End              time.Time  `json:"end"`
	SnapshotID       string     `json:"snapshot_id"`
	Region           string     `json:"region,omitempty"`
	Snapshot         *Snapshot  `json:"snapshot,omitempty"`
	DescribeError    string     `json:"describe_error,omitempty"`
	Dest             string     `json:"dest"`
	VolumeSize       int64      `json:"volume_size_gib"`
	BlockSize        int32      `json:"block_size"`
	Bytes            int64      `json:"bytes"`
	BlocksListed     int64      `json:"blocks_listed"`
	BlocksFetched    int64      `json:"blocks_fetched"`   // by this run
	BlocksResumed    int64      `json:"blocks_resumed"`   // written by an earlier run, checked again
	BlocksRefetched  int64      `json:"blocks_refetched"` // written by an earlier run, no longer matching: fetched again
	ChecksumFailures int64      `json:"checksum_failures"`
	TokenRefreshes   int64      `json:"token_refreshes"`
	Sums             image.Sums `json:"sums"`
	Outcome          string     `json:"outcome"`
}

// Text is the record as a text log, like a device image's.
func (r Record) Text() []byte {
	snap := r.SnapshotID
	if r.Region != "" {
		snap += " in " + r.Region
	}
	if s := r.Snapshot; s != nil {
		enc := "not encrypted"
		if s.Encrypted {
			enc = "encrypted with " + s.KMSKeyID
		}
		snap += fmt.Sprintf("\nof volume %s, owner %s, started %s, %s, %s", s.VolumeID, s.OwnerID, image.UTC(s.StartTime), s.State, enc)
		if s.Description != "" {
			snap += "\ndescription: " + oneLine(s.Description)
		}
	}
	if r.DescribeError != "" {
		snap += "\nnot described: " + oneLine(r.DescribeError)
	}
	return image.Log(r.Tool+": acquisition log", []image.Field{
		{Name: "command", Value: strings.Join(r.Command, " ")},
		{Name: "operator", Value: r.Operator + " on " + r.Host},
		{Name: "started (UTC)", Value: image.UTC(r.Start)},
		{Name: "source", Value: "EBS snapshot " + snap},
		{Name: "method", Value: "EBS direct APIs (ListSnapshotBlocks, GetSnapshotBlock); each block checked against its SHA-256 checksum"},
		{Name: "destination", Value: r.Dest + " (sparse raw image; blocks never written are zeros)"},
		{Name: "volume", Value: fmt.Sprintf("%d GiB (%d bytes) in blocks of %d bytes", r.VolumeSize, r.VolumeSize<<30, r.BlockSize)},
		{Name: "blocks", Value: fmt.Sprintf("%d listed, %d fetched, %d resumed from an earlier run, %d fetched again", r.BlocksListed, r.BlocksFetched, r.BlocksResumed, r.BlocksRefetched)},
		{Name: "checksum failures", Value: fmt.Sprintf("%d (each block retried until it matched)", r.ChecksumFailures)},
		{Name: "token renewals", Value: fmt.Sprintf("%d", r.TokenRefreshes)},
		{Name: "sha256", Value: r.Sums.SHA256},
		{Name: "md5", Value: r.Sums.MD5},
		{Name: "verification", Value: "hashes computed by reading the written image back"},
		{Name: "finished (UTC)", Value: image.UTC(r.End)},
		{Name: "outcome", Value: r.Outcome},
	})
}

// oneLine keeps text from AWS (a snapshot's description is whatever its
// creator wrote, an attacker perhaps) on its line of the log: control
// characters become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
