package attack

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Version is the ATT&CK Enterprise release the catalogue reproduces.
const Version = "v18"

//go:embed enterprise.tsv
var enterpriseTSV string

// Catalog is a read-only set of tactics and techniques; it is safe for
// concurrent use. Harrier uses one, Enterprise; tests build small ones.
type Catalog struct {
	tactics    []Tactic       // matrix order
	tacticAt   map[string]int // short name -> index in tactics
	techniques []Technique    // id order
	techAt     map[string]int // id -> index in techniques
}

var enterprise = sync.OnceValue(func() *Catalog {
	c, err := parseCatalog(strings.NewReader(enterpriseTSV))
	if err != nil {
		// The file is embedded and its tests parse it: this is a broken build.
		panic("attack: enterprise.tsv: " + err.Error())
	}
	return c
})

// Enterprise returns the ATT&CK Enterprise catalogue built into Harrier.
func Enterprise() *Catalog { return enterprise() }

// Tactics returns the enterprise catalogue's tactics in matrix order.
func Tactics() []Tactic { return Enterprise().Tactics() }

// Tactics returns the tactics in matrix order.
func (c *Catalog) Tactics() []Tactic { return slices.Clone(c.tactics) }

// Tactic looks a tactic up by its short name, privilege-escalation, in any
// letter case.
func (c *Catalog) Tactic(shortName string) (Tactic, bool) {
	i, ok := c.tacticAt[strings.ToLower(shortName)]
	if !ok {
		return Tactic{}, false
	}
	return c.tactics[i], true
}

// Technique looks a technique up by its id, T1098.001, in any letter case.
func (c *Catalog) Technique(id string) (Technique, bool) {
	i, ok := c.techAt[strings.ToUpper(id)]
	if !ok {
		return Technique{}, false
	}
	return c.technique(i), true
}

// Techniques returns every technique and sub-technique in id order.
func (c *Catalog) Techniques() []Technique {
	out := make([]Technique, len(c.techniques))
	for i := range c.techniques {
		out[i] = c.technique(i)
	}
	return out
}

// CloudTechniques returns the techniques the coverage matrix counts, in id
// order.
func (c *Catalog) CloudTechniques() []Technique {
	var out []Technique
	for i, t := range c.techniques {
		if t.Cloud {
			out = append(out, c.technique(i))
		}
	}
	return out
}

// technique returns a copy the caller may change without changing c.
func (c *Catalog) technique(i int) Technique {
	t := c.techniques[i]
	t.Tactics = slices.Clone(t.Tactics)
	return t
}

// catalogError says which line of a catalogue file is wrong.
type catalogError struct {
	Line int
	Msg  string
}

func (e *catalogError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// parseCatalog reads techniques in enterprise.tsv's format (its header says
// what the columns hold) against the enterprise tactics, and checks what the
// rest of the package relies on: ids well formed and ascending, so unique
// and sub-techniques after their parent; a sub-technique's parent present and
// its name prefixed with the parent's; tactics known and in matrix order.
func parseCatalog(r io.Reader) (*Catalog, error) {
	c := &Catalog{
		tactics:  enterpriseTactics,
		tacticAt: make(map[string]int, len(enterpriseTactics)),
		techAt:   make(map[string]int),
	}
	for i, t := range c.tactics {
		c.tacticAt[t.ShortName] = i
	}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		t, msg := c.parseTechnique(text)
		if msg != "" {
			return nil, &catalogError{Line: line, Msg: msg}
		}
		c.techAt[t.ID] = len(c.techniques)
		c.techniques = append(c.techniques, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(c.techniques) == 0 {
		return nil, &catalogError{Line: line, Msg: "no techniques"}
	}
	return c, nil
}

// parseTechnique parses one data line, checking it against the techniques
// already read; it returns what is wrong with it, or "".
func (c *Catalog) parseTechnique(text string) (Technique, string) {
	f := strings.Split(text, "\t")
	if len(f) != 4 {
		return Technique{}, fmt.Sprintf("%d tab-separated fields, want 4 (id, name, tactics, scope)", len(f))
	}
	t := Technique{ID: f[0], Name: f[1]}
	if !validTechniqueID(t.ID) {
		return t, fmt.Sprintf("technique id %q is not T1234 or T1234.567", t.ID)
	}
	if n := len(c.techniques); n > 0 && c.techniques[n-1].ID >= t.ID {
		return t, fmt.Sprintf("technique %s after %s: ids must ascend", t.ID, c.techniques[n-1].ID)
	}
	if strings.TrimSpace(t.Name) != t.Name || t.Name == "" {
		return t, fmt.Sprintf("technique %s: name %q is empty or has surrounding space", t.ID, t.Name)
	}
	if p := t.Parent(); p != "" {
		i, ok := c.techAt[p]
		if !ok {
			return t, fmt.Sprintf("sub-technique %s: no parent %s before it", t.ID, p)
		}
		prefix := c.techniques[i].Name + ": "
		if !strings.HasPrefix(t.Name, prefix) || len(t.Name) == len(prefix) {
			return t, fmt.Sprintf("sub-technique %s: name %q does not start with %q and a name", t.ID, t.Name, prefix)
		}
	}
	last := -1
	for short := range strings.SplitSeq(f[2], ",") {
		i, ok := c.tacticAt[short]
		if !ok {
			return t, fmt.Sprintf("technique %s: unknown tactic %q", t.ID, short)
		}
		if i <= last {
			return t, fmt.Sprintf("technique %s: tactic %s repeated or out of matrix order", t.ID, short)
		}
		last = i
		t.Tactics = append(t.Tactics, short)
	}
	switch f[3] {
	case "iaas":
		t.IaaS, t.Cloud = true, true
	case "aws":
		t.Cloud = true
	case "-":
	default:
		return t, fmt.Sprintf("technique %s: scope %q, want iaas, aws or -", t.ID, f[3])
	}
	return t, ""
}
