package detect

import "time"

// Severity is a finding's (and a rule's) level, as Sigma names them.
type Severity string

// The severities, least to most severe.
const (
	Informational Severity = "informational"
	Low           Severity = "low"
	Medium        Severity = "medium"
	High          Severity = "high"
	Critical      Severity = "critical"
)

// Rank orders severities: informational 0 … critical 4; unknown -1.
func (s Severity) Rank() int {
	switch s {
	case Informational:
		return 0
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return -1
}

// Finding is what hunting reports: one rule (or analytic) matched by one
// principal, its repeated matches collapsed into a count. The JSON keys are a
// public interface (docs/CLI.md, `hunt --format jsonl`): keep them stable.
type Finding struct {
	RuleID       string    `json:"rule_id"`
	Title        string    `json:"title"`
	Severity     Severity  `json:"severity"`
	Techniques   []string  `json:"techniques"` // ATT&CK ids, e.g. T1098.001
	Tactics      []string  `json:"tactics"`    // ATT&CK tactic short names, e.g. persistence
	Principal    string    `json:"principal"`  // the caller's ARN (or its best name)
	AccessKeyIDs []string  `json:"access_key_ids"`
	SourceIPs    []string  `json:"source_ips"`
	Accounts     []string  `json:"accounts"`
	Regions      []string  `json:"regions"`
	EventIDs     []string  `json:"event_ids"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	Count        int64     `json:"count"`
	Description  string    `json:"description"`
}
