package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/harrier-ir/harrier/internal/scope"
)

// scopeFlags are the seed and window flags scope and timeline --scope share.
type scopeFlags struct {
	key, principal, ip string
	since, until       string
}

// seedFrom reads one seed: scope takes exactly one indicator.
func (f scopeFlags) seed() (scope.Seed, error) {
	var seeds []scope.Seed
	for _, k := range []struct{ kind, value, flag string }{{"key", f.key, "--key"}, {"principal", f.principal, "--principal"}, {"ip", f.ip, "--ip"}} {
		if k.value == "" {
			continue
		}
		s, err := scope.NewSeed(k.kind, k.value)
		if err != nil {
			return scope.Seed{}, usageErr("%s: %v", k.flag, err)
		}
		seeds = append(seeds, s)
	}
	if len(seeds) != 1 {
		return scope.Seed{}, usageErr("give one indicator: --key ACCESS_KEY_ID, --principal ARN or --ip IP")
	}
	return seeds[0], nil
}

// parseScopeSeed reads timeline's --scope KIND:VALUE.
func parseScopeSeed(v string) (scope.Seed, error) {
	kind, value, ok := strings.Cut(v, ":")
	if !ok || value == "" {
		return scope.Seed{}, usageErr("--scope %q: write key:ACCESS_KEY_ID, principal:ARN or ip:ADDRESS", v)
	}
	f := scopeFlags{}
	switch kind {
	case "key":
		f.key = value
	case "principal":
		f.principal = value
	case "ip":
		f.ip = value
	default:
		return scope.Seed{}, usageErr("--scope %q: the kind is key, principal or ip", v)
	}
	return f.seed()
}

func runScope(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "scope", "--case DIR (--key ID | --principal ARN | --ip IP) [--since T] [--until T] [--format text|json] [--graph FILE.svg|FILE.dot]")
	caseFlag := fs.String("case", "", "the case folder; or HARRIER_CASE")
	var f scopeFlags
	fs.StringVar(&f.key, "key", "", "start from this access key id")
	fs.StringVar(&f.principal, "principal", "", "start from this principal ARN (a role ARN takes all its sessions)")
	fs.StringVar(&f.ip, "ip", "", "start from the credentials used from this IP address")
	fs.StringVar(&f.since, "since", "", "only events from this time on (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.StringVar(&f.until, "until", "", "only events before this time")
	format := fs.String("format", "text", "output: text or json")
	graphFile := fs.String("graph", "", "also draw the credential chain into this file: .svg, or .dot for Graphviz")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format, "text", "json"); err != nil {
		return err
	}
	seed, err := f.seed()
	if err != nil {
		return err
	}
	since, err := parseTimeFlag("since", f.since, false)
	if err != nil {
		return err
	}
	until, err := parseTimeFlag("until", f.until, true)
	if err != nil {
		return err
	}
	if *graphFile != "" {
		if ext := strings.ToLower(filepath.Ext(*graphFile)); ext != ".svg" && ext != ".dot" && ext != ".gv" {
			return usageErr("--graph %s: name an .svg or a .dot file", *graphFile)
		}
	}
	dir, err := e.caseDir(*caseFlag)
	if err != nil {
		return err
	}
	c, st, err := openForRead(ctx, dir, false)
	if err != nil {
		return err
	}
	defer c.Close()
	defer st.Close()
	rep, err := scope.Run(ctx, st, scope.Options{Seeds: []scope.Seed{seed}, Since: since, Until: until})
	if errors.Is(err, scope.ErrNoSeed) {
		return fmt.Errorf("%s %s: %w", seed.Kind, seed.Value, err)
	}
	if err != nil {
		return err
	}
	if *graphFile != "" {
		if err := writeGraph(*graphFile, &rep.Graph); err != nil {
			return err
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	writeScope(e.stdout, rep, 20)
	if *graphFile != "" {
		fmt.Fprintf(e.stdout, "\nThe credential chain is drawn in %s\n", *graphFile)
	}
	return nil
}

func writeGraph(path string, g *scope.Graph) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		err = g.WriteSVG(f)
	} else {
		err = g.WriteDOT(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeScope prints a scope for a terminal; lists stop at n lines.
func writeScope(w io.Writer, r *scope.Report, n int) {
	fmt.Fprintf(w, "Scope of %s %s", r.Seed.Kind, safe(r.Seed.Value))
	if r.Seed.Since != "" || r.Seed.Until != "" {
		fmt.Fprintf(w, " (%s → %s)", orOpen(r.Seed.Since), orOpen(r.Seed.Until))
	}
	fmt.Fprintf(w, ": %s events, %s → %s\n", num(int(r.EventCount)), r.FirstSeen, r.LastSeen)
	fmt.Fprintf(w, "  %d credentials, %d principals, %d source IPs, %d accounts, %d regions, %s write calls, %d resources changed\n",
		len(r.Credentials), len(r.Principals), len(r.SourceIPs), len(r.Accounts), len(r.Regions), num(int(r.WriteEventCount)), len(r.ResourcesChanged))

	fmt.Fprintf(w, "\nCredentials (how each was obtained)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACCESS KEY\tKIND\tPRINCIPAL\tOBTAINED BY\tEVENTS\tFIRST SEEN\tLAST SEEN")
	for _, c := range r.Credentials {
		via := "the seed"
		if c.ObtainedBy != nil {
			via = c.ObtainedBy.How + " by " + c.ObtainedBy.From + " at " + c.ObtainedBy.Time
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(c.AccessKeyID), c.Kind, clipMiddle(safe(c.Principal), 70), clipMiddle(safe(via), 80),
			num(int(c.Events)), c.FirstSeen, c.LastSeen)
	}
	tw.Flush()
	for _, c := range r.Credentials {
		if c.Note != "" {
			fmt.Fprintf(w, "  ! %s: %s\n", safe(c.AccessKeyID), safe(c.Note))
		}
	}
	fmt.Fprintf(w, "\nPrincipals  %s\n", safe(listText(r.Principals, n)))
	var userEdges []scope.Edge
	for _, e := range r.Edges {
		if strings.HasPrefix(e.To, "user:") {
			userEdges = append(userEdges, e)
		}
	}
	if len(userEdges) > 0 {
		fmt.Fprintf(w, "\nUsers taken over (their console sign-ins are followed)\n")
		for _, e := range userEdges {
			fmt.Fprintf(w, "  %s  %s by %s at %s (event %s)\n", safe(strings.TrimPrefix(e.To, "user:")), e.How, safe(e.From), e.Time, safe(e.EventID))
		}
	}
	fmt.Fprintf(w, "\nSource IPs\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  IP\tEVENTS\tFIRST SEEN\tLAST SEEN\tACCESS KEYS")
	for i, u := range r.SourceIPs {
		if i == n {
			fmt.Fprintf(tw, "  … %d more\n", len(r.SourceIPs)-n)
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", safe(u.IP), num(int(u.Events)), u.FirstSeen, u.LastSeen, safe(listText(u.AccessKeyIDs, 4)))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nAccounts   %s\n", safe(tallyText(r.Accounts, 10)))
	fmt.Fprintf(w, "Regions    %s\n", safe(tallyText(r.Regions, 10)))
	fmt.Fprintf(w, "Clients    %s\n", safe(tallyText(r.UserAgents, 5)))

	fmt.Fprintf(w, "\nAPI calls (%d distinct)\n", len(r.APICalls))
	for i, a := range r.APICalls {
		if i == n {
			fmt.Fprintf(w, "  … %d more (--format json lists them all)\n", len(r.APICalls)-n)
			break
		}
		errs := ""
		if a.Errors > 0 {
			errs = fmt.Sprintf("  (%s failed)", num(int(a.Errors)))
		}
		fmt.Fprintf(w, "  %7s  %s:%s%s\n", num(int(a.Events)), safe(strings.TrimSuffix(a.EventSource, ".amazonaws.com")), safe(a.EventName), errs)
	}
	fmt.Fprintf(w, "\nWrite calls (%s, oldest first; failed ones included)\n", num(int(r.WriteEventCount)))
	for i, we := range r.WriteEvents {
		if i == n {
			fmt.Fprintf(w, "  … %s more (--format json, or timeline --scope)\n", num(int(r.WriteEventCount)-n))
			break
		}
		outcome := "OK"
		if we.ErrorCode != "" {
			outcome = we.ErrorCode
		}
		fmt.Fprintf(w, "  %s  %s:%s  %s  %s  %s\n", we.Time, safe(strings.TrimSuffix(we.EventSource, ".amazonaws.com")), safe(we.EventName),
			clipMiddle(safe(we.Resource), 60), safe(we.AccessKeyID), safe(outcome))
	}
	fmt.Fprintf(w, "\nResources created or changed (persistence inventory)\n")
	if len(r.ResourcesChanged) == 0 {
		fmt.Fprintln(w, "  none")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, res := range r.ResourcesChanged {
		if i == 2*n {
			fmt.Fprintf(tw, "  … %d more (--format json lists them all)\n", len(r.ResourcesChanged)-i)
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", res.Time, res.Kind, safe(res.Action), clipMiddle(safe(res.Name), 60), safe(res.Account+" "+res.Region), clip(safe(res.Detail), 80))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nData touched\n")
	if len(r.DataAccess) == 0 {
		fmt.Fprintln(w, "  none logged (S3 object reads appear only with data events)")
	}
	for _, d := range r.DataAccess {
		bytes := ""
		if d.Bytes > 0 {
			bytes = ", " + sizeText(d.Bytes)
		}
		fmt.Fprintf(w, "  %s %s: %s objects in %s requests%s, %s → %s\n", d.Service, safe(d.Container), num(int(d.Objects)), num(int(d.Requests)), bytes, d.FirstSeen, d.LastSeen)
	}
	for _, note := range r.Notes {
		fmt.Fprintf(w, "\nnote: %s\n", safe(note))
	}
}

func orOpen(s string) string {
	if s == "" {
		return "…"
	}
	return s
}

func tallyText(t []scope.Tally, n int) string {
	var parts []string
	for i, v := range t {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(t)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", v.Value, num(int(v.Events))))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func sizeText(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}
