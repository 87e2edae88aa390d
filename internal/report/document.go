package report

import (
	"html/template"
	"time"

	"github.com/harrier-ir/harrier/internal/acquire/evidence"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// document is everything the template shows, gathered and capped. Only
// the SVG pictures are template.HTML: drawn by our own code, which escapes
// every text it places; everything else is escaped by html/template.
type document struct {
	Generated string
	Version   string
	MaxRows   int
	Case      caseSection
	Integrity integritySection
	Coverage  coverageSection
	Findings  findingsSection
	Matrix    []matrixColumn
	Volume    volumeSection
	Scopes    []scopeSection
	// ScopeNote says how the compromised credentials were chosen, or why
	// none were.
	ScopeNote     string
	Attacker      eventTable
	FindingEvents []findingEvents
}

type caseSection struct {
	ID, CreatedAt, CreatedBy string
	EvidenceFiles            int
	EvidenceBytes            string
	EvidenceContent          []tally
	Referenced               int
	ManifestProblems         []string
	Summary                  store.Summary
	First, Last, Span        string
	Accounts, Regions        []store.Counts
}

type tally struct {
	Name  string
	Count int64
}

type integritySection struct {
	Verified    bool // verify has run on the case
	VerifiedAt  string
	AllVerified bool // every event comes from verified evidence
	Events      []tally
	Files       []tally
	Periods     []store.Period
	PeriodsAll  int
	Untrusted   int64 // events from evidence not verified
}

type coverageSection struct {
	Rows         []evidence.Coverage
	Silences     []store.Period
	SilencesAll  int64
	SilenceAtMin string
}

type findingsSection struct {
	Ran        bool
	Rows       []findingRow
	Total      int
	BySeverity []tally
}

type findingRow struct {
	ID                           int64
	Severity, Title, RuleID      string
	Techniques                   []techRef
	Principal                    string
	Keys, IPs, Accounts, Regions []string
	First, Last                  string
	Count                        int64
}

type techRef struct{ ID, Name string }

type matrixColumn struct {
	ID, Name string
	Cells    []matrixCell
}

type matrixCell struct {
	ID, Name string
	Findings int
	Level    int // 0 none, 1..4 by how many findings: the cell's colour
}

type volumeSection struct {
	By      string
	SVG     template.HTML
	Legend  []legendEntry
	Markers int
	// MarkerNote says which findings are marked and how many are not
	MarkerNote string
	Empty      bool
}

type legendEntry struct{ Name, Class string }

type scopeSection struct {
	Seed        scope.Seed
	Since       string
	Until       string
	Why         string // how the credential was chosen
	Err         string // scoping failed (the seed matches no event)
	Graph       template.HTML
	Report      *scope.Report
	Credentials []scope.Credential
	SourceIPs   []scope.IPUse
	Persistence []scope.Resource
	Data        []scope.DataAccess
	Counts      map[string]int // list name -> entries in all, when capped
}

// eventTable is events as people read them, capped.
type eventTable struct {
	Rows  []eventRow
	Total int64
	// Runs: each row is a run of like events (runsOf); Cut says what
	// was left out
	Runs bool
	Cut  string
}

type eventRow struct {
	Time, Account, Region     string
	Who, Key, IP, UserAgent   string
	What, Target, Outcome     string
	Failed, Untrusted, NoTime bool
	EventID, EvidenceFile     string
	RecordIndex               int64
	// a row of a collapsed run: how many events, the last one's time and
	// a sample of their targets
	Count       int64
	LastTime    string
	Targets     []string
	MoreTargets bool
}

type findingEvents struct {
	Finding findingRow
	Events  eventTable
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func ptrTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timeText(*t)
}
