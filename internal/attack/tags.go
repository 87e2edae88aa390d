package attack

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors a TagError wraps, for errors.Is.
var (
	ErrUnknownTactic    = errors.New("unknown ATT&CK tactic")
	ErrUnknownTechnique = errors.New("unknown ATT&CK technique")
)

// TagError is an attack.* tag that has the shape of a tactic or technique
// but names none in the catalogue.
type TagError struct {
	Index int    // the tag's position in the list given to ParseTags
	Tag   string // the tag as written
	Err   error  // ErrUnknownTactic or ErrUnknownTechnique
	Hint  string // what was probably meant, when that can be told; else ""
}

func (e *TagError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("tag %q: %v (%s)", e.Tag, e.Err, e.Hint)
	}
	return fmt.Sprintf("tag %q: %v", e.Tag, e.Err)
}

func (e *TagError) Unwrap() error { return e.Err }

// ParseTags reads a Sigma rule's tags against the enterprise catalogue; see
// Catalog.ParseTags.
func ParseTags(tags []string) (tactics, techniques []string, err error) {
	return Enterprise().ParseTags(tags)
}

// ParseTags picks the ATT&CK tactics and techniques out of a Sigma rule's
// tags, in any letter case: attack.<tactic short name> and
// attack.tNNNN[.NNN]. It returns the tactics' short names in matrix order
// and the technique ids upper-cased in id order, each once. Tags outside the
// attack namespace (cve.2021-44228, detection.threat-hunting) and attack tags
// for groups, software and campaigns (attack.g0016, attack.s0002,
// attack.c0024) are not its business and are skipped. An attack tag shaped
// like a tactic (letters, - and _) or a technique (t and a digit) that the
// catalogue does not know is an error: every such tag is reported, each a
// *TagError, joined, and no tactics or techniques are returned.
func (c *Catalog) ParseTags(tags []string) (tactics, techniques []string, err error) {
	var errs []error
	tacticSeen := make([]bool, len(c.tactics))
	techSeen := make(map[string]bool)
	for i, raw := range tags {
		rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(raw)), "attack.")
		if !ok || rest == "" {
			continue
		}
		switch {
		case len(rest) >= 2 && rest[0] == 't' && rest[1] >= '0' && rest[1] <= '9':
			id := strings.ToUpper(rest)
			if _, ok := c.techAt[id]; ok {
				techSeen[id] = true
				continue
			}
			te := &TagError{Index: i, Tag: raw, Err: ErrUnknownTechnique}
			if !validTechniqueID(id) {
				te.Hint = "technique ids are t1234 or t1234.567"
			}
			errs = append(errs, te)
		case tacticShaped(rest):
			if at, ok := c.tacticAt[rest]; ok {
				tacticSeen[at] = true
				continue
			}
			errs = append(errs, &TagError{Index: i, Tag: raw, Err: ErrUnknownTactic, Hint: c.tacticHint(rest)})
		case len(rest) == 6 && strings.HasPrefix(rest, "ta") && digits(rest[2:]):
			te := &TagError{Index: i, Tag: raw, Err: ErrUnknownTactic, Hint: "Sigma names tactics by short name"}
			for _, t := range c.tactics {
				if strings.EqualFold(t.ID, rest) {
					te.Hint = "Sigma names tactics by short name: attack." + t.ShortName
				}
			}
			errs = append(errs, te)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	tactics = []string{}
	for i, seen := range tacticSeen {
		if seen {
			tactics = append(tactics, c.tactics[i].ShortName)
		}
	}
	techniques = make([]string, 0, len(techSeen))
	for id := range techSeen {
		techniques = append(techniques, id)
	}
	slices.Sort(techniques)
	return tactics, techniques, nil
}

// tacticShaped reports whether s could be meant as a tactic short name:
// letters with - or _ between words.
func tacticShaped(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '-' && s[i] != '_' {
			return false
		}
	}
	return true
}

// tacticHint suggests the short name meant by the underscore spelling some
// older Sigma rules use (attack.defense_evasion).
func (c *Catalog) tacticHint(s string) string {
	if fixed := strings.ReplaceAll(s, "_", "-"); fixed != s {
		if _, ok := c.tacticAt[fixed]; ok {
			return "did you mean attack." + fixed + "?"
		}
	}
	return ""
}
