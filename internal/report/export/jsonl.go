package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/harrier-ir/harrier/internal/store"
)

// EventJSON is one line of the JSON Lines export: `harrier timeline
// --format jsonl`'s keys, plus the event's CloudTrail record. Its keys are a
// public interface (docs/CLI.md).
type EventJSON struct {
	Time         string `json:"time"`
	EventID      string `json:"event_id"`
	Account      string `json:"account"`
	Region       string `json:"region"`
	Principal    string `json:"principal"`
	IdentityType string `json:"identity_type"`
	AccessKeyID  string `json:"access_key_id"`
	SourceIP     string `json:"source_ip"`
	UserAgent    string `json:"user_agent"`
	EventSource  string `json:"event_source"`
	EventName    string `json:"event_name"`
	Resource     string `json:"resource"`
	ReadOnly     *bool  `json:"read_only"`
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
	EvidenceFile string `json:"evidence_file"`
	RecordIndex  int64  `json:"record_index"`
	Integrity    string `json:"integrity"`
	// Record is the CloudTrail record as the evidence holds it: a JSON
	// object; a record that is not valid JSON (a lenient parse of damaged
	// evidence) is a JSON string of its text instead. Absent with
	// Options.OmitRecord.
	Record json.RawMessage `json:"record,omitempty"`
}

// JSONL writes one JSON object per event and line.
type JSONL struct {
	w      *bufio.Writer
	enc    *json.Encoder
	record bool
}

// NewJSONL returns a JSON Lines writer onto w; record says whether each line
// carries the raw CloudTrail record.
func NewJSONL(w io.Writer, record bool) *JSONL {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONL{w: bw, enc: enc, record: record}
}

// Write writes one event as a line.
func (j *JSONL) Write(ev *store.ExportEvent) error {
	return j.enc.Encode(eventJSON(ev, j.record))
}

// Flush writes out what is buffered.
func (j *JSONL) Flush() error { return j.w.Flush() }

func eventJSON(ev *store.ExportEvent, record bool) EventJSON {
	o := EventJSON{Time: timeText(ev.Time), EventID: ev.EventID, Account: ev.Account, Region: ev.Region, Principal: ev.Principal(),
		IdentityType: ev.IdentityType, AccessKeyID: ev.AccessKeyID, SourceIP: ev.SourceIP, UserAgent: ev.UserAgent,
		EventSource: ev.EventSource, EventName: ev.EventName, Resource: ev.Resource, ErrorCode: ev.ErrorCode,
		ErrorMessage: ev.ErrorMessage, EvidenceFile: ev.EvidenceFile, RecordIndex: ev.RecordIndex, Integrity: ev.Integrity}
	if ev.ReadOnly.Valid {
		b := ev.ReadOnly.Bool
		o.ReadOnly = &b
	}
	if record {
		if json.Valid(ev.Record) {
			o.Record = ev.Record
		} else {
			o.Record, _ = json.Marshal(string(ev.Record))
		}
	}
	return o
}
