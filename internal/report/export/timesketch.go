package export

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/harrier-ir/harrier/internal/store"
)

// TimesketchJSON is one line of the Timesketch export, in the JSONL import
// format Timesketch documents ("Create timeline from JSON/JSONL/CSV file"):
// the mandatory message, datetime and timestamp_desc, the optional timestamp
// in microseconds, and the event's fields flat beside them, each one a
// column Timesketch can filter on. Its keys are a public interface
// (docs/CLI.md).
type TimesketchJSON struct {
	Message       string `json:"message"`
	Datetime      string `json:"datetime"`       // ISO 8601, UTC: 2026-03-14T09:00:00+00:00
	Timestamp     int64  `json:"timestamp"`      // microseconds since the epoch
	TimestampDesc string `json:"timestamp_desc"` // always "Event Time" (CloudTrail's eventTime)
	DataType      string `json:"data_type"`      // always "aws:cloudtrail:event"
	EventName     string `json:"event_name"`
	EventSource   string `json:"event_source"`
	Principal     string `json:"principal"`
	IdentityType  string `json:"identity_type"`
	AccessKeyID   string `json:"access_key_id"`
	SourceIP      string `json:"source_ip"`
	UserAgent     string `json:"user_agent"`
	Region        string `json:"region"`
	Account       string `json:"account"`
	Resource      string `json:"resource"`
	ReadOnly      *bool  `json:"read_only"`
	ErrorCode     string `json:"error_code"`
	ErrorMessage  string `json:"error_message"`
	EventID       string `json:"event_id"`
	EvidenceFile  string `json:"evidence_file"`
	RecordIndex   int64  `json:"record_index"`
	Integrity     string `json:"integrity"`
}

// Timesketch writes events in Timesketch's JSONL import format. An event
// without a time cannot be placed on Timesketch's timeline: Write refuses it
// with ErrNoTime and the caller says how many were left out.
type Timesketch struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewTimesketch returns a Timesketch writer onto w.
func NewTimesketch(w io.Writer) *Timesketch {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Timesketch{w: bw, enc: enc}
}

// Write writes one event as a line.
func (t *Timesketch) Write(ev *store.ExportEvent) error {
	if ev.Time.IsZero() {
		return ErrNoTime
	}
	at := ev.Time.UTC()
	o := TimesketchJSON{Message: Message(&ev.TimelineEvent), Datetime: at.Format("2006-01-02T15:04:05.999999-07:00"),
		Timestamp: at.UnixMicro(), TimestampDesc: "Event Time", DataType: "aws:cloudtrail:event",
		EventName: ev.EventName, EventSource: ev.EventSource, Principal: ev.Principal(), IdentityType: ev.IdentityType,
		AccessKeyID: ev.AccessKeyID, SourceIP: ev.SourceIP, UserAgent: ev.UserAgent, Region: ev.Region, Account: ev.Account,
		Resource: ev.Resource, ErrorCode: ev.ErrorCode, ErrorMessage: ev.ErrorMessage, EventID: ev.EventID,
		EvidenceFile: ev.EvidenceFile, RecordIndex: ev.RecordIndex, Integrity: ev.Integrity}
	if ev.ReadOnly.Valid {
		b := ev.ReadOnly.Bool
		o.ReadOnly = &b
	}
	return t.enc.Encode(o)
}

// Flush writes out what is buffered.
func (t *Timesketch) Flush() error { return t.w.Flush() }

// Message is an event as one human line: who did what to what, from where,
// and how it ended, e.g. "arn:aws:iam::111111111111:user/alice called
// iam:CreateAccessKey on backdoor in 111111111111/us-east-1 from
// 203.0.113.9: failed, AccessDenied (not authorized)". Evidence that verify
// could not vouch for is said first. Control and bidirectional-override
// characters are shown escaped (\x1b, \u202e) so the line reads as what
// it is; the separate fields keep the exact values.
func Message(ev *store.TimelineEvent) string {
	var b strings.Builder
	switch ev.Integrity {
	case "", "verified":
	default:
		b.WriteString("[evidence " + ev.Integrity + "] ")
	}
	who := ev.Principal()
	if who == "" {
		who = "(unknown principal)"
	}
	b.WriteString(who)
	b.WriteString(" called ")
	b.WriteString(strings.TrimSuffix(ev.EventSource, ".amazonaws.com") + ":" + ev.EventName)
	if ev.Resource != "" {
		b.WriteString(" on " + ev.Resource)
	}
	if ev.Account != "" || ev.Region != "" {
		b.WriteString(" in " + strings.Trim(ev.Account+"/"+ev.Region, "/"))
	}
	if ev.SourceIP != "" {
		b.WriteString(" from " + ev.SourceIP)
	}
	switch {
	case ev.ErrorCode == "":
		b.WriteString(": OK")
	case ev.ErrorMessage == "":
		b.WriteString(": failed, " + ev.ErrorCode)
	default:
		b.WriteString(": failed, " + ev.ErrorCode + " (" + ev.ErrorMessage + ")")
	}
	return escapeControls(b.String())
}

// escapeControls shows control characters, bidirectional controls and
// invalid UTF-8 as Go escapes.
func escapeControls(s string) string {
	bad := func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError
	}
	if strings.IndexFunc(s, bad) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if bad(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
