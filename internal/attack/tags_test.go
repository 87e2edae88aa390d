package attack

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseTags(t *testing.T) {
	tests := []struct {
		name       string
		tags       []string
		tactics    []string
		techniques []string
	}{
		{"none", nil, []string{}, []string{}},
		{
			"typical rule",
			[]string{"attack.persistence", "attack.privilege-escalation", "attack.t1098.001"},
			[]string{"persistence", "privilege-escalation"},
			[]string{"T1098.001"},
		},
		{
			"matrix order and id order, each once",
			[]string{"attack.impact", "attack.t1485", "attack.initial-access", "attack.T1078.004", "attack.t1078", "attack.impact", "attack.t1485"},
			[]string{"initial-access", "impact"},
			[]string{"T1078", "T1078.004", "T1485"},
		},
		{
			"command and control before exfiltration",
			[]string{"attack.exfiltration", "attack.command-and-control"},
			[]string{"command-and-control", "exfiltration"},
			[]string{},
		},
		{
			"any letter case, surrounding space",
			[]string{"ATTACK.Defense-Evasion", " attack.T1562.008 ", "Attack.t1535"},
			[]string{"defense-evasion"},
			[]string{"T1535", "T1562.008"},
		},
		{
			"other namespaces and attack groups, software, campaigns skipped",
			[]string{
				"cve.2021-44228", "detection.threat-hunting", "detection.emerging-threats",
				"tlp.white", "car.2016-04-005", "attack.g0016", "attack.s0002", "attack.c0024",
				"attack", "attack.", "attacker.persistence", "attack.discovery",
			},
			[]string{"discovery"},
			[]string{},
		},
		{"non-cloud technique known to ATT&CK", []string{"attack.execution", "attack.t1059.004"}, []string{"execution"}, []string{"T1059.004"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tactics, techniques, err := ParseTags(tc.tags)
			if err != nil {
				t.Fatal(err)
			}
			if tactics == nil || techniques == nil {
				t.Errorf("nil result: %#v %#v; want empty lists for JSON's sake", tactics, techniques)
			}
			if !slices.Equal(tactics, tc.tactics) || !slices.Equal(techniques, tc.techniques) {
				t.Errorf("got %q %q, want %q %q", tactics, techniques, tc.tactics, tc.techniques)
			}
		})
	}
}

func TestParseTagsErrors(t *testing.T) {
	tests := []struct {
		name  string
		tags  []string
		index int
		is    error
		msg   string // the error's text contains it
	}{
		{"misspelt tactic", []string{"attack.persistance"}, 0, ErrUnknownTactic, `tag "attack.persistance": unknown ATT&CK tactic`},
		{"underscore tactic", []string{"attack.t1562.008", "attack.defense_evasion"}, 1, ErrUnknownTactic, "did you mean attack.defense-evasion?"},
		{"tactic id", []string{"attack.TA0005"}, 0, ErrUnknownTactic, "attack.defense-evasion"},
		{"unknown tactic id", []string{"attack.ta0099"}, 0, ErrUnknownTactic, "short name"},
		{"bare t", []string{"attack.t"}, 0, ErrUnknownTactic, `"attack.t"`},
		{"unknown technique", []string{"attack.t9999"}, 0, ErrUnknownTechnique, `tag "attack.t9999": unknown ATT&CK technique`},
		{"unknown sub-technique", []string{"attack.t1098.999"}, 0, ErrUnknownTechnique, "t1098.999"},
		{"revoked technique", []string{"attack.t1574.002"}, 0, ErrUnknownTechnique, "t1574.002"},
		{"malformed technique", []string{"attack.t1098.1"}, 0, ErrUnknownTechnique, "t1234 or t1234.567"},
		{"five digits", []string{"attack.t10980"}, 0, ErrUnknownTechnique, "t1234 or t1234.567"},
		{"junk after id", []string{"attack.t1098.001x"}, 0, ErrUnknownTechnique, "t1234"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tactics, techniques, err := ParseTags(tc.tags)
			if err == nil {
				t.Fatalf("no error; got %q %q", tactics, techniques)
			}
			if tactics != nil || techniques != nil {
				t.Errorf("results %q %q returned with an error", tactics, techniques)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			var te *TagError
			if !errors.As(err, &te) || te.Index != tc.index || te.Tag != tc.tags[tc.index] {
				t.Errorf("error %#v, want a *TagError for tag %d %q", te, tc.index, tc.tags[tc.index])
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

// Every bad tag is reported, not just the first, so a rule is fixed in one go.
func TestParseTagsReportsAll(t *testing.T) {
	_, _, err := ParseTags([]string{"attack.persistance", "attack.t1098.001", "attack.t9999", "cve.2024-1"})
	var tags []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var te *TagError
		if errors.As(e, &te) {
			tags = append(tags, te.Tag)
		}
	}
	if want := []string{"attack.persistance", "attack.t9999"}; !slices.Equal(tags, want) {
		t.Errorf("reported %q, want %q", tags, want)
	}
	if !errors.Is(err, ErrUnknownTactic) || !errors.Is(err, ErrUnknownTechnique) {
		t.Errorf("%v: want both sentinels", err)
	}
}
