package attack

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseTags feeds newline-separated tag lists. Whatever comes back must
// be what ParseTags promises: known names and ids, sorted, each once, each
// from a tag given; or errors that name given tags.
func FuzzParseTags(f *testing.F) {
	for _, seed := range []string{
		"attack.persistence\nattack.t1098.001",
		"attack.Defense_Evasion\nattack.TA0005\nattack.t1562.8",
		"cve.2021-44228\nattack.g0016\nattack.s0002\n attack.T1530 ",
		"attack.\nattack\nattack.t\nattack.t1\nattack.t10980\nattack.ta",
		"ATTACK.IMPACT\nattack.t1485.001\nattack.impact",
	} {
		f.Add(seed)
	}
	c := Enterprise()
	f.Fuzz(func(t *testing.T, in string) {
		tags := strings.Split(in, "\n")
		tactics, techniques, err := c.ParseTags(tags)
		if err != nil {
			if tactics != nil || techniques != nil {
				t.Fatalf("results with error %v", err)
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("error %T is not a joined list", err)
			}
			for _, e := range joined.Unwrap() {
				var te *TagError
				if !errors.As(e, &te) || te.Index < 0 || te.Index >= len(tags) || tags[te.Index] != te.Tag {
					t.Fatalf("error %v does not name a given tag", e)
				}
			}
			return
		}
		given := make(map[string]bool)
		for _, tag := range tags {
			given[strings.ToLower(strings.TrimSpace(tag))] = true
		}
		last := -1
		for _, short := range tactics {
			at, ok := c.tacticAt[short]
			if !ok || at <= last || !given["attack."+short] {
				t.Fatalf("tactics %q: %q unknown, out of order or not given", tactics, short)
			}
			last = at
		}
		for i, id := range techniques {
			if _, ok := c.Technique(id); !ok || id != strings.ToUpper(id) || i > 0 && techniques[i-1] >= id || !given["attack."+strings.ToLower(id)] {
				t.Fatalf("techniques %q: %q unknown, not canonical, out of order or not given", techniques, id)
			}
		}
	})
}

// FuzzParseCatalog checks that no input panics the catalogue reader and that
// what it accepts keeps the invariants lookups and coverage rely on.
func FuzzParseCatalog(f *testing.F) {
	f.Add(enterpriseTSV)
	f.Add(fixture)
	f.Add("T1098\tA\tpersistence\t-\nT1098.001\tA: B\tpersistence\taws\n")
	f.Add("T1098\tA\tpersistence,impact\tiaas\r\n\n# x\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := parseCatalog(strings.NewReader(in))
		if err != nil {
			return
		}
		techs := c.Techniques()
		if len(techs) == 0 {
			t.Fatal("accepted a catalogue without techniques")
		}
		for i, te := range techs {
			if !validTechniqueID(te.ID) || i > 0 && techs[i-1].ID >= te.ID {
				t.Fatalf("technique %q malformed or out of order", te.ID)
			}
			if p := te.Parent(); p != "" {
				if _, ok := c.Technique(p); !ok {
					t.Fatalf("%s accepted without parent %s", te.ID, p)
				}
			}
			if len(te.Tactics) == 0 {
				t.Fatalf("%s accepted without tactics", te.ID)
			}
			for _, short := range te.Tactics {
				if _, ok := c.Tactic(short); !ok {
					t.Fatalf("%s accepted with tactic %q", te.ID, short)
				}
			}
			if got, ok := c.Technique(te.ID); !ok || got.Name != te.Name {
				t.Fatalf("%s not found by id", te.ID)
			}
		}
		if _, err := c.Coverage([]Item{{ID: "r", Techniques: []string{techs[0].ID}}}); err != nil {
			t.Fatal(err)
		}
	})
}
