package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/harrier-ir/harrier/internal/detect"
)

// WriteFindingsJSONL writes one finding per line: `harrier hunt --format
// jsonl`'s keys (detect.Finding's), plus finding_id, hunt_id and
// rule_source, the case's own keys for the finding. Lists are [] when
// empty, never null; times are RFC 3339 UTC.
func WriteFindingsJSONL(w io.Writer, findings []detect.Stored) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, f := range findings {
		if err := enc.Encode(cleanStored(f)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// cleanStored gives a finding the shape hunt prints: empty lists as [],
// times in UTC.
func cleanStored(f detect.Stored) detect.Stored {
	for _, l := range []*[]string{&f.Techniques, &f.Tactics, &f.AccessKeyIDs, &f.SourceIPs, &f.Accounts, &f.Regions, &f.EventIDs} {
		if *l == nil {
			*l = []string{}
		}
	}
	f.FirstSeen, f.LastSeen = f.FirstSeen.UTC(), f.LastSeen.UTC()
	return f
}
