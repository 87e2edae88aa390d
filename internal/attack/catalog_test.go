package attack

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestEnterpriseInvariants(t *testing.T) {
	c := Enterprise()
	tactics := c.Tactics()
	if len(tactics) != 14 {
		t.Fatalf("%d tactics, want ATT&CK Enterprise's 14", len(tactics))
	}
	shorts := make(map[string]bool)
	ids := make(map[string]bool)
	for _, ta := range tactics {
		if len(ta.ID) != 6 || !strings.HasPrefix(ta.ID, "TA") || !digits(ta.ID[2:]) {
			t.Errorf("tactic id %q is not TA and four digits", ta.ID)
		}
		if ids[ta.ID] || shorts[ta.ShortName] {
			t.Errorf("tactic %s %s listed twice", ta.ID, ta.ShortName)
		}
		ids[ta.ID], shorts[ta.ShortName] = true, true
		if want := strings.ReplaceAll(strings.ToLower(ta.Name), " ", "-"); ta.ShortName != want {
			t.Errorf("tactic %s short name %q, want %q", ta.ID, ta.ShortName, want)
		}
	}

	techs := c.Techniques()
	if len(techs) != 691 {
		t.Errorf("%d techniques and sub-techniques, want v18's 691", len(techs))
	}
	seen := make(map[string]Technique)
	for i, tech := range techs {
		if !validTechniqueID(tech.ID) {
			t.Errorf("technique id %q is malformed", tech.ID)
		}
		if _, dup := seen[tech.ID]; dup {
			t.Errorf("technique %s listed twice", tech.ID)
		}
		if i > 0 && techs[i-1].ID >= tech.ID {
			t.Errorf("technique %s after %s: not in id order", tech.ID, techs[i-1].ID)
		}
		seen[tech.ID] = tech
		if len(tech.Tactics) == 0 {
			t.Errorf("technique %s has no tactic", tech.ID)
		}
		for _, short := range tech.Tactics {
			if !shorts[short] {
				t.Errorf("technique %s: tactic %q does not exist", tech.ID, short)
			}
		}
		if tech.IaaS && !tech.Cloud {
			t.Errorf("technique %s is IaaS but not counted as cloud", tech.ID)
		}
		p := tech.Parent()
		if p == "" {
			continue
		}
		parent, ok := seen[p]
		if !ok {
			t.Errorf("sub-technique %s: parent %s missing", tech.ID, p)
			continue
		}
		if !strings.HasPrefix(tech.Name, parent.Name+": ") {
			t.Errorf("sub-technique %s name %q lacks its parent's %q", tech.ID, tech.Name, parent.Name)
		}
		// True of every sub-technique in ATT&CK; a difference is a
		// transcription error.
		if !slices.Equal(tech.Tactics, parent.Tactics) {
			t.Errorf("sub-technique %s tactics %v, parent %s has %v", tech.ID, tech.Tactics, p, parent.Tactics)
		}
	}
}

// The number of techniques and sub-techniques under each tactic in ATT&CK
// Enterprise v18.1's matrix: a check on the tactic column of enterprise.tsv
// against an independent count.
func TestEnterpriseTacticCounts(t *testing.T) {
	want := map[string]int{
		"reconnaissance": 45, "resource-development": 47, "initial-access": 22,
		"execution": 46, "persistence": 126, "privilege-escalation": 109,
		"defense-evasion": 215, "credential-access": 67, "discovery": 49,
		"lateral-movement": 23, "collection": 41, "command-and-control": 45,
		"exfiltration": 19, "impact": 33,
	}
	got := make(map[string]int)
	for _, tech := range Enterprise().Techniques() {
		for _, short := range tech.Tactics {
			got[short]++
		}
	}
	for short, n := range want {
		if got[short] != n {
			t.Errorf("%s: %d techniques, want %d", short, got[short], n)
		}
	}
}

func TestCloudScope(t *testing.T) {
	c := Enterprise()
	// Techniques AWS intrusions commonly show: the coverage matrix must
	// count every one of them.
	aws := []string{
		"T1078.004", "T1098.001", "T1098.003", "T1136.003", "T1530", "T1537",
		"T1562.001", "T1562.008", "T1580", "T1526", "T1069.003", "T1087.004",
		"T1119", "T1190", "T1496", "T1496.001", "T1496.002", "T1496.003",
		"T1496.004", "T1485", "T1485.001", "T1486", "T1490", "T1531",
		"T1552.001", "T1552.005", "T1555.006", "T1578", "T1578.001",
		"T1578.002", "T1578.003", "T1578.004", "T1578.005", "T1021.007",
		"T1021.008", "T1651", "T1648", "T1059.009", "T1204.003", "T1525",
		"T1535", "T1538", "T1556", "T1556.006", "T1556.007", "T1556.009",
		"T1606.002", "T1550.001", "T1199", "T1567", "T1020", "T1048",
		"T1213.003", "T1040", "T1046", "T1518.001", "T1619", "T1201", "T1082",
		"T1614", "T1654", "T1657", "T1666", "T1211", "T1212", "T1114.003",
	}
	for _, id := range aws {
		tech, ok := c.Technique(id)
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		if !tech.Cloud {
			t.Errorf("%s %s is not counted as a cloud technique", id, tech.Name)
		}
	}
	for _, tc := range []struct {
		id          string
		iaas, cloud bool
	}{
		{"T1535", true, true},       // Unused/Unsupported Cloud Regions: IaaS only
		{"T1036.010", true, true},   // Masquerade Account Name lists IaaS; its parent does not
		{"T1036", false, false},     // Masquerading
		{"T1212", false, true},      // Exploitation for Credential Access: AWS-relevant, not IaaS in ATT&CK
		{"T1114.003", false, true},  // Email Forwarding Rule (SES, WorkMail)
		{"T1059.001", false, false}, // PowerShell
		{"T1595", false, false},     // Active Scanning: PRE
	} {
		tech, _ := c.Technique(tc.id)
		if tech.IaaS != tc.iaas || tech.Cloud != tc.cloud {
			t.Errorf("%s: iaas %v cloud %v, want %v %v", tc.id, tech.IaaS, tech.Cloud, tc.iaas, tc.cloud)
		}
	}
	cloud := c.CloudTechniques()
	if len(cloud) != 112 {
		t.Errorf("%d cloud techniques, want 112 (104 IaaS, 8 AWS additions)", len(cloud))
	}
}

func TestLookups(t *testing.T) {
	c := Enterprise()
	tests := []struct {
		name     string
		lookup   func() (string, bool)
		want     string
		wantFind bool
	}{
		{"tactic", func() (string, bool) { ta, ok := c.Tactic("privilege-escalation"); return ta.ID + " " + ta.Name, ok }, "TA0004 Privilege Escalation", true},
		{"tactic any case", func() (string, bool) { ta, ok := c.Tactic("Command-And-Control"); return ta.ID, ok }, "TA0011", true},
		{"tactic by id is not a lookup", func() (string, bool) { _, ok := c.Tactic("TA0004"); return "", ok }, "", false},
		{"tactic underscore spelling", func() (string, bool) { _, ok := c.Tactic("defense_evasion"); return "", ok }, "", false},
		{"technique", func() (string, bool) { te, ok := c.Technique("T1098.001"); return te.Name, ok }, "Account Manipulation: Additional Cloud Credentials", true},
		{"technique lower case", func() (string, bool) { te, ok := c.Technique("t1562.008"); return te.ID + " " + te.Name, ok }, "T1562.008 Impair Defenses: Disable or Modify Cloud Logs", true},
		{"technique tactics", func() (string, bool) { te, ok := c.Technique("T1078.004"); return strings.Join(te.Tactics, ","), ok }, "initial-access,persistence,privilege-escalation,defense-evasion", true},
		{"parent", func() (string, bool) { te, ok := c.Technique("T1530"); return te.Name + "|" + te.Parent(), ok }, "Data from Cloud Storage|", true},
		{"sub-technique parent", func() (string, bool) { te, ok := c.Technique("T1578.005"); return te.Parent(), ok }, "T1578", true},
		{"revoked before v18", func() (string, bool) { _, ok := c.Technique("T1574.002"); return "", ok }, "", false},
		{"never existed", func() (string, bool) { _, ok := c.Technique("T9999"); return "", ok }, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.lookup()
			if ok != tc.wantFind || got != tc.want {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.wantFind)
			}
		})
	}

	order := Tactics()
	if order[0].ShortName != "reconnaissance" || order[11].ShortName != "command-and-control" || order[13].ShortName != "impact" {
		t.Errorf("tactics not in matrix order: %v", order)
	}
	// What the lookups return is the caller's to change.
	order[0].Name = "changed"
	te, _ := c.Technique("T1078")
	te.Tactics[0] = "changed"
	if Tactics()[0].Name != "Reconnaissance" {
		t.Error("changing Tactics' result changed the catalogue")
	}
	if te2, _ := c.Technique("T1078"); te2.Tactics[0] != "initial-access" {
		t.Error("changing a Technique's tactics changed the catalogue")
	}
}

func TestParseCatalogErrors(t *testing.T) {
	const good = "T1098\tAccount Manipulation\tpersistence,privilege-escalation\t-\n"
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"fields", good + "T1099\tName\tpersistence\n", 2, "3 tab-separated fields"},
		{"id shape", "T10981\tName\tpersistence\t-\n", 1, `"T10981" is not T1234`},
		{"lower-case id", "t1098\tName\tpersistence\t-\n", 1, "is not T1234"},
		{"sub id shape", good + "T1098.01\tAccount Manipulation: X\tpersistence\t-\n", 2, "is not T1234"},
		{"duplicate", "# comment\n\n" + good + good, 4, "ids must ascend"},
		{"descending", "T1099\tA\tpersistence\t-\n" + good, 2, "ids must ascend"},
		{"orphan", "T1098.001\tAccount Manipulation: X\tpersistence\t-\n", 1, "no parent T1098"},
		{"sub name", good + "T1098.001\tAdditional Cloud Credentials\tpersistence,privilege-escalation\tiaas\n", 2, "does not start with"},
		{"sub name empty", good + "T1098.001\tAccount Manipulation: \tpersistence\tiaas\n", 2, "name"},
		{"name space", "T1098\t Account\tpersistence\t-\n", 1, "surrounding space"},
		{"empty name", "T1098\t\tpersistence\t-\n", 1, "is empty"},
		{"unknown tactic", "T1098\tA\tpersistance\t-\n", 1, `unknown tactic "persistance"`},
		{"no tactic", "T1098\tA\t\t-\n", 1, `unknown tactic ""`},
		{"tactic order", "T1098\tA\tprivilege-escalation,persistence\t-\n", 1, "out of matrix order"},
		{"tactic twice", "T1098\tA\tpersistence,persistence\t-\n", 1, "repeated"},
		{"scope", "T1098\tA\tpersistence\tcloud\n", 1, `scope "cloud"`},
		{"nothing", "# only comments\n\n", 2, "no techniques"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCatalog(strings.NewReader(tc.in))
			var ce *catalogError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *catalogError", err)
			}
			if ce.Line != tc.line || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got line %d %q, want line %d containing %q", ce.Line, ce.Msg, tc.line, tc.msg)
			}
		})
	}

	c, err := parseCatalog(strings.NewReader(good + "T1098.001\tAccount Manipulation: Additional Cloud Credentials\tpersistence,privilege-escalation\tiaas\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if te, _ := c.Technique("T1098.001"); !te.IaaS || !te.Cloud || te.Name != "Account Manipulation: Additional Cloud Credentials" {
		t.Errorf("parsed %+v", te)
	}
}

// Enterprise is built once and shared; go test -race checks that first use
// from many goroutines at once is safe.
func TestEnterpriseConcurrent(t *testing.T) {
	t.Parallel()
	done := make(chan error)
	for range 8 {
		go func() {
			_, techniques, err := Enterprise().ParseTags([]string{"attack.t1530"})
			if err == nil && (len(techniques) != 1 || techniques[0] != "T1530") {
				err = errors.New("wrong result")
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
