package lookup

import (
	"path"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// Resume moves since past the windows of this account and region the case
// already holds whole (their completion marker is in the manifest), as long
// as they join up from since: a re-run with an open end asks only for what
// came after the last complete window, instead of the whole history again.
func Resume(c *casefile.Case, account, region string, since time.Time) time.Time {
	const stamp = "20060102T150405Z"
	prefix := path.Join(casefile.EvidenceDir, "lookup-events", account, region) + "/"
	type window struct{ since, until time.Time }
	var done []window
	for _, e := range c.Latest() {
		if !strings.HasPrefix(e.Path, prefix) || path.Base(e.Path) != MarkerName {
			continue
		}
		name := path.Base(path.Dir(e.Path))
		s, u, ok := strings.Cut(name, "_")
		if !ok {
			continue
		}
		ts, err1 := time.Parse(stamp, s)
		tu, err2 := time.Parse(stamp, u)
		if err1 == nil && err2 == nil {
			done = append(done, window{ts, tu})
		}
	}
	for moved := true; moved; {
		moved = false
		for _, w := range done {
			if !w.since.After(since) && w.until.After(since) {
				since, moved = w.until, true
			}
		}
	}
	return since
}
