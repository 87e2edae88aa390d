package lookup

import (
	"path"

	"github.com/harrier-ir/harrier/internal/casefile"
)

// Sink is where Collect puts the pages it fetches.
type Sink interface {
	// Have reports whether something is already stored at rel.
	Have(rel string) bool
	// Put stores data, whole, at rel with its provenance. content names
	// its format ("lookup-events" for a page, as cloudtrail.Format names it).
	Put(rel, content string, data []byte, source any) error
}

// CaseSink stores into a case's evidence, read-only and hashed, through
// Case.AddAcquired, and answers Have from the case's manifest.
func CaseSink(c *casefile.Case) Sink { return caseSink{c} }

type caseSink struct{ c *casefile.Case }

func (s caseSink) Have(rel string) bool {
	want := path.Join(casefile.EvidenceDir, path.Clean("/" + rel)[1:])
	for _, e := range s.c.Latest() {
		if e.Path == want {
			return true
		}
	}
	return false
}

func (s caseSink) Put(rel, content string, data []byte, source any) error {
	origin := "aws:cloudtrail:LookupEvents"
	if src, ok := source.(Source); ok {
		origin += ":" + src.Account + ":" + src.Region
	}
	_, err := s.c.AddAcquired(rel, origin, content, data, source)
	return err
}
