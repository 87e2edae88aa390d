package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var pageTemplate string

//go:embed report.css
var pageCSS string

// page is the parsed template; html/template escapes every value for where
// it lands (text, attribute, URL), so event fields, which an attacker
// controls, are only ever text.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"tm":    timeText,
	"dur":   func(a, b time.Time) string { return durationText(b.Sub(a)) },
	"len64": func(n int) int64 { return int64(n) },
	"join":  func(l []string) string { return strings.Join(l, ", ") },
	"joinN": joinCapped,
	"capOf": func(shown, total int) capped { return capped{Shown: shown, Total: total, Cut: shown < total} },
}).Parse(pageTemplate))

// capped says a list was cut.
type capped struct {
	Shown, Total int
	Cut          bool
}

// CSP is the report's Content-Security-Policy: nothing may load, no script
// runs, and the one stylesheet is allowed by its hash. Browsers enforce it
// from the meta tag, so even a template bug that let markup through could
// neither fetch nor run anything.
func CSP() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; base-uri 'none'; form-action 'none'"
}

func render(w io.Writer, doc *document) error {
	data := struct {
		CSP string
		CSS template.CSS // our own stylesheet, hashed into the CSP
		Doc *document
	}{CSP(), template.CSS(pageCSS), doc}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

// durationText is a duration in days, hours and minutes.
func durationText(d time.Duration) string {
	days := int(d.Hours()) / 24
	hours := int(d.Hours()) % 24
	mins := int(d.Minutes()) % 60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}
