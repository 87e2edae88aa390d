package cwlogs

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// CaseSink stores into a case through evidence.CaseSink and answers Held
// and Read from the case's manifest and evidence folder.
func CaseSink(c *casefile.Case) Sink { return caseSink{Sink: evidence.CaseSink(c), c: c} }

type caseSink struct {
	evidence.Sink
	c *casefile.Case
}

func evidencePath(rel string) string {
	return path.Join(casefile.EvidenceDir, path.Clean("/" + rel)[1:])
}

func (s caseSink) Held(dir string) ([]Held, error) {
	prefix := evidencePath(dir) + "/"
	var out []Held
	for _, e := range s.c.Latest() { // sorted by path
		name, ok := strings.CutPrefix(e.Path, prefix)
		if !ok || strings.Contains(name, "/") {
			continue
		}
		h := Held{Rel: path.Join(dir, name)}
		if len(e.Source) > 0 {
			if err := json.Unmarshal(e.Source, &h.Source); err != nil {
				return nil, fmt.Errorf("the provenance of %s: %w", e.Path, err)
			}
		}
		out = append(out, h)
	}
	return out, nil
}

func (s caseSink) Read(rel string) ([]byte, error) {
	return os.ReadFile(s.c.Path(evidencePath(rel)))
}
