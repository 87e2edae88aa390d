package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReportOnTheDemo runs the demo as a user would, checks that it writes
// the report and says where, and compares the structure of `harrier
// report` on the demo's case with a golden outline: the sections, the
// summary's counts, every table's row count, what was cut, the pictures.
func TestReportOnTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and ingests a week of logs")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the demo's evidence goes to a temporary folder
	caseDir := filepath.Join(tmp, "case")
	out, errOut, code := harrier(t, "investigate", "--demo", "--case", caseDir)
	if code != 0 {
		t.Fatalf("investigate --demo: exit %d\n%s", code, errOut)
	}
	m := regexp.MustCompile(`The report is at (\S+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("investigate --demo does not say where the report is:\n%s", out)
	}
	if b, err := os.ReadFile(m[1]); err != nil || !strings.Contains(string(b), "<section id=\"attacker\">") {
		t.Fatalf("the demo's report %s: %v", m[1], err)
	}

	file := filepath.Join(tmp, "report.html")
	args := []string{"report", "--case", caseDir, "-o", file, "--generated", "2026-03-20T12:00:00Z"}
	if out, errOut, code := harrier(t, args...); code != 0 || !strings.Contains(out, "Report written to "+file) {
		t.Fatalf("report: exit %d\n%s%s", code, out, errOut)
	}
	first, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := harrier(t, append(args, "--overwrite")...); code != 0 {
		t.Fatalf("report again: exit %d\n%s", code, errOut)
	}
	second, _ := os.ReadFile(file)
	if string(first) != string(second) {
		t.Error("two reports of the same case differ")
	}
	golden(t, "report.outline.golden.txt", outline(string(first)))

	// the whole attack fits in the attacker's timeline: its end too (the
	// backdoor user's console sign-in, key pairs, the opened security
	// group, the instances), with nothing cut
	html := string(first)
	sec := html[strings.Index(html, `<section id="attacker">`):]
	sec = sec[:strings.Index(sec, "</section>")]
	for _, want := range []string{"signin:ConsoleLogin", "ec2:ImportKeyPair", "ec2:AuthorizeSecurityGroupIngress", "ec2:RunInstances", "s3:GetObject <b class=\"times\">×"} {
		if !strings.Contains(sec, want) {
			t.Errorf("the attacker's timeline lacks %s", want)
		}
	}
	if strings.Contains(sec, `class="cap"`) {
		t.Error("the demo's attacker timeline is cut")
	}
}

var (
	outlineHeading = regexp.MustCompile(`(?s)<(h[1-4])[^>]*>(.*?)</h[1-4]>`)
	outlineTable   = regexp.MustCompile(`(?s)<table class="([^"]+)">(.*?)</table>`)
	outlineCap     = regexp.MustCompile(`<p class="cap">([^<]*)</p>`)
	outlineRuns    = regexp.MustCompile(`<p class="muted">(Events: \d+; rows: \d+)\.</p>`)
	outlineSummary = regexp.MustCompile(`<dt>(Events|Accounts|Findings|Compromised)</dt><dd>([^<]*)</dd>`)
	outlineBanner  = regexp.MustCompile(`<p class="banner[^"]*" id="integrity-banner">([A-Z ]+)`)
	outlineTag     = regexp.MustCompile(`<[^>]+>`)
)

// outline is the report's structure in document order, one line per
// heading, table, cap and picture, without the times of the run.
func outline(html string) string {
	type item struct {
		at   int
		text string
	}
	var items []item
	add := func(at int, format string, a ...any) { items = append(items, item{at, fmt.Sprintf(format, a...)}) }
	for _, m := range outlineHeading.FindAllStringSubmatchIndex(html, -1) {
		text := strings.Join(strings.Fields(outlineTag.ReplaceAllString(html[m[4]:m[5]], "")), " ")
		add(m[0], "%s %s", html[m[2]:m[3]], text)
	}
	for _, m := range outlineTable.FindAllStringSubmatchIndex(html, -1) {
		body := html[m[4]:m[5]]
		add(m[0], "  table.%s: %d rows", html[m[2]:m[3]], strings.Count(body, "<tr")-1)
	}
	for _, m := range outlineCap.FindAllStringSubmatchIndex(html, -1) {
		add(m[0], "  cap: %s", html[m[2]:m[3]])
	}
	for _, m := range outlineRuns.FindAllStringSubmatchIndex(html, -1) {
		add(m[0], "  runs: %s", html[m[2]:m[3]])
	}
	for _, m := range outlineSummary.FindAllStringSubmatchIndex(html, -1) {
		add(m[0], "  %s: %s", html[m[2]:m[3]], html[m[4]:m[5]])
	}
	for _, m := range outlineBanner.FindAllStringSubmatchIndex(html, -1) {
		add(m[0], "  integrity: %s", strings.TrimSpace(html[m[2]:m[3]]))
	}
	for _, m := range regexp.MustCompile(`(?s)<svg (.*?)</svg>`).FindAllStringSubmatchIndex(html, -1) {
		svg := html[m[0]:m[1]]
		kind := "graph"
		if strings.Contains(svg, `class="chart volume"`) {
			kind = "volume chart"
		}
		add(m[0], "  svg %s: %d series, %d markers, %d bands, %d nodes", kind, strings.Count(svg, "<polyline"),
			strings.Count(svg, `class="marker"`), strings.Count(svg, `class="band"`), strings.Count(svg, "<rect x="))
	}
	add(strings.Index(html, `<div class="matrix">`), "  matrix: %d cells, %d with findings", strings.Count(html, `<div class="cell `),
		strings.Count(html, `<div class="cell l`)-strings.Count(html, `<div class="cell l0"`))
	// document order
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && items[j].at < items[j-1].at; j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.text + "\n")
	}
	return b.String()
}
