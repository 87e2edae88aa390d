// Package export writes a case's timeline and findings in the formats other
// tools read: CSV for spreadsheets, JSON Lines for scripts and SIEMs,
// Timesketch's JSONL import format, and SARIF for code-scanning dashboards.
// (Parquet is written by the store itself, inside DuckDB.)
//
// Event writers stream: they hold one event at a time, so a case of any size
// exports in constant memory. Event fields are attacker-controlled (a user
// agent, an error message, even an account id in forged logs), so every
// writer encodes them for its format and never interprets them; the CSV
// writer also defuses spreadsheet formulas. The field names of each format
// are a public interface, documented in docs/CLI.md.
package export

import (
	"errors"
	"fmt"
	"io"

	"github.com/harrier-ir/harrier/internal/store"
)

// EventWriter writes events in one format, one at a time, in the order
// given.
type EventWriter interface {
	// Write writes one event. The event and its record may be reused by the
	// caller once Write returns.
	Write(ev *store.ExportEvent) error
	// Flush writes out what is buffered; the underlying writer stays open.
	Flush() error
}

// ErrNoTime is returned by a writer whose format needs every event's time
// (Timesketch) for an event that has none; nothing was written for it, and
// the writer can go on with the next event.
var ErrNoTime = errors.New("the event has no time")

// EventFormats are the formats NewEventWriter knows, in the order the CLI
// lists them.
var EventFormats = []string{"csv", "jsonl", "timesketch"}

// Options tune the event writers.
type Options struct {
	// OmitRecord leaves the raw CloudTrail record out of JSON Lines (it
	// roughly doubles the output).
	OmitRecord bool
}

// NewEventWriter returns the writer of format (one of EventFormats) onto w.
func NewEventWriter(format string, w io.Writer, opts Options) (EventWriter, error) {
	switch format {
	case "csv":
		return NewCSV(w), nil
	case "jsonl":
		return NewJSONL(w, !opts.OmitRecord), nil
	case "timesketch":
		return NewTimesketch(w), nil
	}
	return nil, fmt.Errorf("no event format %q", format)
}
