package analytics

import (
	"regexp"
	"strings"
)

// uaFamily is one kind of client, recognised by a case-insensitive RE2
// pattern over the raw user agent. The same pattern runs in Go (Family, for
// tests and callers) and in DuckDB (regexp_matches, for the analytics), and
// both use RE2, so the two cannot disagree.
type uaFamily struct {
	name      string
	pattern   string
	offensive bool // a tool or platform attackers favour: a new one is high severity
	transfer  bool // a bulk-transfer or raw-HTTP client: a new one is medium
}

// uaFamilies is the ordered list of user-agent families; the first match
// wins. Offensive markers come first because they ride on ordinary SDK
// agents (Pacu is boto3 on Kali: "Boto3/… Linux/6.5.0-kali3-amd64"), then
// tools that embed an SDK's agent (Terraform's names aws-sdk-go-v2), then
// the console, then the SDKs themselves. Anything else is named by its
// first token (see Family).
var uaFamilies = []uaFamily{
	{name: "trufflehog", pattern: `trufflehog`, offensive: true},
	{name: "pacu", pattern: `pacu`, offensive: true},
	{name: "kali", pattern: `kali`, offensive: true},
	{name: "parrot", pattern: `parrot`, offensive: true},
	{name: "terraform", pattern: `terraform`},
	{name: "pulumi", pattern: `pulumi`},
	{name: "cloudformation", pattern: `cloudformation\.amazonaws\.com`},
	// The console in its guises: the service consoles' own agents, S3's
	// console (an aws-sdk-java agent marked S3Console/aws-internal), sign-in
	// and AWS's internal callers.
	{name: "console", pattern: `^\[?(console(\.[a-z0-9-]+)?\.amazonaws\.com|signin\.amazonaws\.com|aws internal)|s3console|aws-internal`},
	{name: "python-requests", pattern: `python-requests`, transfer: true},
	{name: "curl", pattern: `(^|[\s\[])curl/`, transfer: true},
	{name: "s3-browser", pattern: `s3 browser`, transfer: true},
	{name: "cyberduck", pattern: `cyberduck`, transfer: true},
	{name: "rclone", pattern: `rclone`, transfer: true},
	{name: "aws-cli", pattern: `aws-cli/`},
	{name: "boto3", pattern: `boto3/|botocore/`},
	{name: "aws-sdk-go-v2", pattern: `aws-sdk-go-v2`},
	{name: "aws-sdk-go", pattern: `aws-sdk-go`},
	{name: "aws-sdk-java", pattern: `aws-sdk-java`},
	{name: "aws-sdk-js", pattern: `aws-sdk-js|aws-sdk-nodejs`},
	// A service calling for itself or for a principal (Athena, Glue, ...).
	{name: "aws-service", pattern: `^\[?[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com\]?$`},
	{name: "browser", pattern: `^\[?mozilla/`},
}

// firstToken is the fallback family: the agent's first word (ASCII letters,
// digits and ._+-), without its version, lower-cased and at most
// maxFamilyLen characters. Keeping it ASCII keeps Go and DuckDB agreeing on
// case and length.
const (
	firstToken   = `^\[?([A-Za-z0-9._+-]+)`
	maxFamilyLen = 40
)

var uaRegexps = func() []*regexp.Regexp {
	rs := make([]*regexp.Regexp, len(uaFamilies))
	for i, f := range uaFamilies {
		rs[i] = regexp.MustCompile(`(?i)` + f.pattern)
	}
	return rs
}()

var firstTokenRe = regexp.MustCompile(firstToken)

// Family names the client family of a user agent: one of uaFamilies, or the
// agent's first token for anything else, or "" for an empty agent.
func Family(ua string) string {
	if strings.Trim(ua, " ") == "" {
		return ""
	}
	for i, re := range uaRegexps {
		if re.MatchString(ua) {
			return uaFamilies[i].name
		}
	}
	m := firstTokenRe.FindStringSubmatch(ua)
	if m == nil {
		return "other"
	}
	return truncate(strings.ToLower(m[1]), maxFamilyLen)
}

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// familySQL is the DuckDB expression equal to Family(col).
func familySQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE WHEN trim(coalesce(" + col + ", '')) = '' THEN NULL")
	for _, f := range uaFamilies {
		b.WriteString(" WHEN regexp_matches(" + col + ", " + sqlString(`(?i)`+f.pattern) + ") THEN " + sqlString(f.name))
	}
	b.WriteString(" ELSE coalesce(nullif(left(lower(regexp_extract(" + col + ", " + sqlString(firstToken) + ", 1)), " +
		itoa(maxFamilyLen) + "), ''), 'other') END")
	return b.String()
}

// familyKind tells how alarming a new family is.
func familyKind(name string) (offensive, transfer bool) {
	for _, f := range uaFamilies {
		if f.name == name {
			return f.offensive, f.transfer
		}
	}
	return false, false
}
