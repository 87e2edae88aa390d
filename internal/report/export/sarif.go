package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/harrier-ir/harrier/internal/attack"
	"github.com/harrier-ir/harrier/internal/detect"
)

// SARIF 2.1.0 identifiers.
const (
	SARIFVersion = "2.1.0"
	SARIFSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

// Tool describes harrier in a SARIF log.
type Tool struct {
	Version        string // harrier's version
	InformationURI string
}

// The SARIF objects harrier writes: the subset of SARIF 2.1.0 that findings
// without files need. Field names are SARIF's.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string         `json:"id"`
		Name             string         `json:"name,omitempty"`
		ShortDescription sarifText      `json:"shortDescription"`
		FullDescription  *sarifText     `json:"fullDescription,omitempty"`
		Help             sarifHelp      `json:"help"`
		HelpURI          string         `json:"helpUri,omitempty"`
		Default          sarifRuleLevel `json:"defaultConfiguration"`
		Properties       map[string]any `json:"properties"`
	}
	sarifRuleLevel struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifHelp struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties"`
	}
	sarifLocation struct {
		LogicalLocations []sarifLogical `json:"logicalLocations"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// SARIFLevel maps a severity to a SARIF result level: critical and high
// are errors, medium a warning, low and informational notes.
func SARIFLevel(s detect.Severity) string {
	switch s {
	case detect.Critical, detect.High:
		return "error"
	case detect.Medium:
		return "warning"
	}
	return "note"
}

// SecuritySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's security-severity property (over 9.0 critical, 7.0–8.9 high,
// 4.0–6.9 medium, below low).
func SecuritySeverity(s detect.Severity) string {
	switch s {
	case detect.Critical:
		return "9.5"
	case detect.High:
		return "8.0"
	case detect.Medium:
		return "5.5"
	case detect.Low:
		return "3.0"
	}
	return "0.0"
}

// TechniqueURL is a technique's page on attack.mitre.org.
func TechniqueURL(id string) string {
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

// WriteSARIF writes findings as one SARIF 2.1.0 log with one run: each rule
// that produced a finding as a reportingDescriptor (its ATT&CK techniques
// and tactics as tags, its severity as security-severity), each finding as
// a result located at its principal and accounts (logical locations: there
// are no files), with the finding's keys as properties.
func WriteSARIF(w io.Writer, findings []detect.Stored, tool Tool) error {
	cat := attack.Enterprise()
	var rules []sarifRule
	index := map[string]int{}
	// the first finding of a rule describes it: findings come most severe
	// first, so that is its rule's level
	byRule := map[string]detect.Stored{}
	var ids []string
	for _, f := range findings {
		if _, ok := byRule[f.RuleID]; !ok {
			byRule[f.RuleID] = f
			ids = append(ids, f.RuleID)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		index[id] = len(rules)
		rules = append(rules, sarifRuleOf(cat, byRule[id]))
	}
	results := []sarifResult{}
	for _, f := range findings {
		results = append(results, sarifResultOf(f, index[f.RuleID]))
	}
	if rules == nil {
		rules = []sarifRule{}
	}
	log := sarifLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []sarifRun{{
		Tool:    sarifTool{Driver: sarifDriver{Name: "harrier", Version: tool.Version, InformationURI: tool.InformationURI, Rules: rules}},
		Results: results,
	}}}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

func sarifRuleOf(cat *attack.Catalog, f detect.Stored) sarifRule {
	tags := []string{"security"}
	tags = append(tags, f.Techniques...)
	tags = append(tags, f.Tactics...)
	var text, md strings.Builder
	text.WriteString(orElse(f.Description, orElse(f.Title, f.RuleID)))
	// rule descriptions can quote evidence; in markdown they stay text
	md.WriteString(markdownText(orElse(f.Description, orElse(f.Title, f.RuleID))))
	helpURI := ""
	if len(f.Techniques) > 0 {
		text.WriteString("\n\nMITRE ATT&CK:")
		md.WriteString("\n\nMITRE ATT&CK:\n")
		for _, id := range f.Techniques {
			name := id
			if t, ok := cat.Technique(id); ok {
				name = t.Name
			}
			text.WriteString(fmt.Sprintf("\n%s %s %s", id, name, TechniqueURL(id)))
			md.WriteString(fmt.Sprintf("\n- [%s](%s)", markdownText(id+" "+name), TechniqueURL(id)))
		}
		helpURI = TechniqueURL(f.Techniques[0])
	}
	r := sarifRule{ID: f.RuleID, Name: f.Title, ShortDescription: sarifText{Text: orElse(f.Title, f.RuleID)},
		Help: sarifHelp{Text: text.String(), Markdown: md.String()}, HelpURI: helpURI,
		Default: sarifRuleLevel{Level: SARIFLevel(f.Severity)},
		Properties: map[string]any{"tags": tags, "security-severity": SecuritySeverity(f.Severity),
			"severity": string(f.Severity), "rule_source": f.RuleSource}}
	if f.Description != "" {
		r.FullDescription = &sarifText{Text: f.Description}
	}
	return r
}

func sarifResultOf(f detect.Stored, ruleIndex int) sarifResult {
	f = cleanStored(f)
	msg := fmt.Sprintf("%s: %s, %d events", orElse(f.Title, f.RuleID), orElse(f.Principal, "(unknown principal)"), f.Count)
	if !f.FirstSeen.IsZero() {
		msg += fmt.Sprintf(" from %s to %s", timeText(f.FirstSeen), timeText(f.LastSeen))
	}
	if len(f.SourceIPs) > 0 {
		msg += " from " + strings.Join(f.SourceIPs, ", ")
	}
	var locs []sarifLogical
	if f.Principal != "" {
		locs = append(locs, sarifLogical{Name: f.Principal, FullyQualifiedName: f.Principal, Kind: "resource"})
	}
	for _, a := range f.Accounts {
		locs = append(locs, sarifLogical{Name: a, FullyQualifiedName: "aws-account/" + a, Kind: "namespace"})
	}
	if len(locs) == 0 {
		locs = append(locs, sarifLogical{Name: "(unknown)", FullyQualifiedName: "(unknown)", Kind: "resource"})
	}
	sum := sha256.Sum256([]byte(f.RuleID + "\x00" + f.Principal))
	return sarifResult{RuleID: f.RuleID, RuleIndex: ruleIndex, Level: SARIFLevel(f.Severity), Message: sarifText{Text: msg},
		Locations:           []sarifLocation{{LogicalLocations: locs}},
		PartialFingerprints: map[string]string{"harrierFinding/v1": hex.EncodeToString(sum[:])},
		Properties: map[string]any{"finding_id": f.ID, "hunt_id": f.HuntID, "severity": string(f.Severity), "techniques": f.Techniques,
			"tactics": f.Tactics, "principal": f.Principal, "access_key_ids": f.AccessKeyIDs, "source_ips": f.SourceIPs,
			"accounts": f.Accounts, "regions": f.Regions, "event_ids": f.EventIDs, "first_seen": timeText(f.FirstSeen),
			"last_seen": timeText(f.LastSeen), "count": f.Count, "rule_source": f.RuleSource}}
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// markdownText escapes every ASCII punctuation character (CommonMark lets
// any be backslash-escaped), so text shows as written: no HTML, no links, no
// emphasis.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && unicode.IsPunct(r) || r < 0x80 && unicode.IsSymbol(r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
