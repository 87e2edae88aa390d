package scope

// Graph is the credential chain of a scope: how each credential and
// principal in scope was reached from the seed.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// Node is a credential (an access key) or a principal (a user the attacker
// created or took over, a console session), or the seed itself.
type Node struct {
	ID    string // the access key id, the principal's ARN, or "seed"
	Kind  string // "seed", "long-term-key", "temporary-key", "principal"
	Label string // what to show: the key and who it belongs to
	// Principal is whose the credential is (for a key), as timeline names it.
	Principal string
	Events    int64 // events made with it, in scope
}

// Edge says how To was obtained from From.
type Edge struct {
	From    string `json:"from"`
	To      string `json:"to"`
	How     string `json:"how"`      // the API call or relation: AssumeRole, CreateAccessKey, ConsoleLogin, used-from-ip, ...
	EventID string `json:"event_id"` // the event that shows it
	Time    string `json:"time"`     // RFC 3339 UTC
	Account string `json:"account"`  // where it happened
}
