package attack

// Tactic is one ATT&CK Enterprise tactic, a column of the matrix: the
// adversary's goal at that step.
type Tactic struct {
	ID        string `json:"id"`         // TA0004
	Name      string `json:"name"`       // Privilege Escalation
	ShortName string `json:"short_name"` // privilege-escalation, as in Sigma's attack.* tags
}

// enterpriseTactics are ATT&CK Enterprise v18's tactics in matrix order (the
// order of the columns on attack.mitre.org, which is not id order:
// Command and Control, TA0011, comes before Exfiltration, TA0010).
var enterpriseTactics = []Tactic{
	{"TA0043", "Reconnaissance", "reconnaissance"},
	{"TA0042", "Resource Development", "resource-development"},
	{"TA0001", "Initial Access", "initial-access"},
	{"TA0002", "Execution", "execution"},
	{"TA0003", "Persistence", "persistence"},
	{"TA0004", "Privilege Escalation", "privilege-escalation"},
	{"TA0005", "Defense Evasion", "defense-evasion"},
	{"TA0006", "Credential Access", "credential-access"},
	{"TA0007", "Discovery", "discovery"},
	{"TA0008", "Lateral Movement", "lateral-movement"},
	{"TA0009", "Collection", "collection"},
	{"TA0011", "Command and Control", "command-and-control"},
	{"TA0010", "Exfiltration", "exfiltration"},
	{"TA0040", "Impact", "impact"},
}
