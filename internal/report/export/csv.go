package export

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/store"
)

// CSVHeader is the CSV export's header row: `harrier timeline --format
// csv`'s columns, in its order.
var CSVHeader = []string{"time", "event_id", "account", "region", "principal", "identity_type", "access_key_id", "source_ip",
	"user_agent", "event_source", "event_name", "resource", "read_only", "error_code", "error_message", "evidence_file",
	"record_index", "integrity"}

// CSV writes RFC 4180 CSV: a header row, then one record per event, fields
// quoted where they hold a comma, a double quote, CR or LF (quotes doubled),
// and every record ended by CRLF. Field text is otherwise written as it is,
// line breaks included, except that a cell a spreadsheet would take for a
// formula is defused (see DefuseFormula).
type CSV struct {
	w      *bufio.Writer
	header bool
	row    []string
}

// NewCSV returns a CSV writer onto w; the header is written with the first
// event, or by Flush when there is none.
func NewCSV(w io.Writer) *CSV {
	return &CSV{w: bufio.NewWriterSize(w, 64<<10), row: make([]string, len(CSVHeader))}
}

// Write writes one event as a CSV record.
func (c *CSV) Write(ev *store.ExportEvent) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	ro := ""
	if ev.ReadOnly.Valid {
		ro = strconv.FormatBool(ev.ReadOnly.Bool)
	}
	r := c.row[:0]
	r = append(r, timeText(ev.Time), ev.EventID, ev.Account, ev.Region, ev.Principal(), ev.IdentityType, ev.AccessKeyID,
		ev.SourceIP, ev.UserAgent, ev.EventSource, ev.EventName, ev.Resource, ro, ev.ErrorCode, ev.ErrorMessage, ev.EvidenceFile,
		strconv.FormatInt(ev.RecordIndex, 10), ev.Integrity)
	return c.record(r)
}

// Flush writes the header if no event came, and what is buffered.
func (c *CSV) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *CSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.record(CSVHeader)
}

func (c *CSV) record(fields []string) error {
	for i, f := range fields {
		if i > 0 {
			c.w.WriteByte(',')
		}
		f, defused := DefuseFormula(f)
		if defused || strings.ContainsAny(f, ",\"\r\n") {
			c.w.WriteByte('"')
			c.w.WriteString(strings.ReplaceAll(f, `"`, `""`))
			c.w.WriteByte('"')
		} else {
			c.w.WriteString(f)
		}
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

// DefuseFormula keeps a spreadsheet from evaluating a cell: text starting
// with = + - @, a tab or a carriage return (the characters Excel, LibreOffice
// and Google Sheets read as the start of a formula, as OWASP's CSV injection
// guidance lists them) gets a single quote in front, which spreadsheets show
// as text. It reports whether it changed s. The JSON Lines and Parquet
// exports keep values as they are; only CSV, made for spreadsheets, does this.
func DefuseFormula(s string) (string, bool) {
	if s == "" {
		return s, false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s, true
	}
	return s, false
}

// timeText is an RFC 3339 UTC time, or "" for an event without one.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
