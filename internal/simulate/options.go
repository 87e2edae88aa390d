// Package simulate writes a realistic, deterministic AWS breach scenario as
// CloudTrail log files in the S3 layout CloudTrail delivers, so that
// ingestion, detection and the investigation UI can be tested, benchmarked
// and demonstrated without anyone's real logs.
//
// The trails have log file integrity validation on: hourly digest files,
// signed with a public demo key (demokey/) whose list-public-keys document
// is written beside them, let the simulated evidence be verified like real
// evidence. The chains are whole but where the attacker stopped logging.
//
// A week of benign activity in two accounts of one organisation (people,
// machines, CI, AWS services) surrounds the attack responders see most: a
// leaked developer key, recon, a role pivot, a backdoor admin, logging and
// GuardDuty tampering, a cross-account hop, bulk S3 theft, an EBS snapshot
// shared out and GPU mining. Result.Truth says exactly what happened so
// tests can check that Harrier finds it.
package simulate

import (
	"errors"
	"fmt"
	"time"
)

// Options controls a simulation. The same options (seed included) always
// produce byte-identical files, so tests and benchmarks can rely on them.
type Options struct {
	// Seed selects one of many equally realistic scenarios.
	Seed int64
	// Scale multiplies background volume (people, machines, services);
	// the attack stays the same size. 1 (the default for zero) gives some
	// tens of thousands of events over a week; 250 gives about ten million.
	Scale int
	// Start is the first instant simulated, truncated to the hour; zero
	// means 2026-03-08T00:00:00Z. All times are UTC.
	Start time.Time
	// Days is how long the simulation runs; zero means 7. The attack
	// happens on the last day.
	Days int
	// Workers bounds the goroutines rendering and compressing files; zero
	// means GOMAXPROCS. Output does not depend on it.
	Workers int

	maxPerFile int      // records per file before a window is split; tests lower it
	sink       fileSink // where files go; nil writes under the folder given to Write
}

// ErrInvalidOptions is wrapped by the error Write returns for options it
// cannot honour, so callers can tell a usage error from an I/O failure.
var ErrInvalidOptions = errors.New("invalid simulation options")

// maxScale keeps a typo from trying to fill a disk: 5000 is about 200
// million events.
const maxScale = 5000

// DefaultStart is the first instant simulated when Options.Start is zero.
var DefaultStart = time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)

func (o Options) normalize() (Options, error) {
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Days == 0 {
		o.Days = 7
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.maxPerFile == 0 {
		o.maxPerFile = defaultMaxPerFile
	}
	o.Start = o.Start.UTC().Truncate(time.Hour)
	switch {
	case o.Scale < 0 || o.Scale > maxScale:
		return o, fmt.Errorf("%w: scale %d not in 1..%d", ErrInvalidOptions, o.Scale, maxScale)
	case o.Days < 0 || o.Days > 366:
		return o, fmt.Errorf("%w: days %d not in 1..366", ErrInvalidOptions, o.Days)
	case o.Workers < 0:
		return o, fmt.Errorf("%w: workers %d is negative", ErrInvalidOptions, o.Workers)
	}
	return o, nil
}

// Result tells what Write produced and what really happened in it.
type Result struct {
	Files  int   // log files written
	Events int   // records in them, background and attack
	Bytes  int64 // compressed bytes of the log files
	// JSONBytes is the uncompressed size of the records, for sizing
	// ingestion (real CloudTrail averages about 1.5 KB per record).
	JSONBytes int64
	// Digests counts the digest files written beside the log files
	// (AWSLogs/.../CloudTrail-Digest/...), each with its signature in a
	// DIGEST.json.gz.metadata.json sidecar, as S3 metadata is kept on disk.
	Digests int
	// PublicKeys is the path of the list-public-keys document holding the
	// demo key the digests are signed with (PublicKeysFile in the folder
	// given to Write): pass it to `harrier verify --public-keys`.
	PublicKeys string
	Truth      Truth
}

// Truth is the ground truth of the embedded attack: what a responder
// should find. Tests and the demo compare Harrier's answers with it.
type Truth struct {
	Accounts       []string // every account id that appears
	OrgID          string   // the organisation, as in the org-trail path
	VictimAccount  string   // where the key leaked and most damage was done
	SecondAccount  string   // reached by a cross-account role hop
	OutsideAccount string   // the attacker's account the snapshot was shared with
	VendorAccount  string   // a benign monitoring vendor assuming a role every few minutes

	LeakedUserName    string
	LeakedUserARN     string
	LeakedAccessKeyID string // the long-term AKIA key that leaked

	AttackerIPs        []string // scanner, operator, mining server
	AttackerUserAgents []string
	CorporateIPs       []string // office egress addresses, for contrast

	PivotRoleARN        string   // the victim role the attacker assumed
	CrossAccountRoleARN string   // the role assumed in the second account
	SessionKeys         []string // ASIA keys the attacker obtained, in order

	BackdoorUser        string
	BackdoorUserARN     string
	BackdoorAccessKeyID string

	LoggingStopped   time.Time // StopLogging took effect: nothing recorded from here ...
	LoggingRestarted time.Time // ... until auto-remediation restarted the trail

	// The trails' digest chains, as verification should find them: one
	// chain per account and region with log files, every digest signed
	// with the demo key and valid, and one gap in each chain of the
	// stopped trail.
	DigestChains int
	Digests      int // digest files in them
	DigestGap    DigestGap

	ExfilBucket  string
	ExfilObjects int   // GetObject calls in the bulk download
	ExfilBytes   int64 // sum of their bytesTransferredOut
	VolumeID     string
	SnapshotID   string // shared with OutsideAccount

	GPUInstanceIDs []string // mining instances that launched
	GPURegions     []string // regions where they did

	AttackStart time.Time
	AttackEnd   time.Time
	Events      int    // attack records, both copies of cross-account calls included
	Steps       []Step // key events in time order
}

// DigestGap is where stopping the trail broke its digest chains: each
// chain's last digest before it ends at Start, when StopLogging took
// effect, with the log files of what was recorded until then; the next
// starts at End, when logging restarted, and names no previous digest.
// No digest vouches for Start..End, as none could: nothing was logged.
type DigestGap struct {
	Account string
	Trail   string
	Regions []string // the chains broken, one gap each: every region of the trail with log files
	Start   time.Time
	End     time.Time
}

// Step is one key event of the attack, with the ids needed to find it.
type Step struct {
	Name          string // stable identifier, e.g. "create-user"
	EventName     string
	EventID       string
	SharedEventID string // set on both copies of a cross-account call
	Time          time.Time
	Account       string // recipientAccountId: whose trail has it
	Region        string
	SourceIP      string
	AccessKeyID   string
}
