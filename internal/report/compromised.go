package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/scope"
	"github.com/harrier-ir/harrier/internal/store"
)

// seedChoice is a credential to scope and why.
type seedChoice struct {
	seed  scope.Seed
	since time.Time
	why   string
}

// seedPlan is the credentials to scope, in order, and how they were chosen.
type seedPlan struct {
	seeds []seedChoice
	// most is how many to scope (0: all); the cap applies to those scoped,
	// after the ones an earlier scope already reached are dropped
	most int
	// note says how they were chosen; fromFindings notes get the counts
	// added once scoping is done
	note         string
	fromFindings bool
}

// chooseSeeds picks the compromised credentials: those given, or the access
// keys behind high and critical findings, most severe first (a finding
// without a key gives its principal), each scoped from the hour of the
// first high or critical finding that names it.
func chooseSeeds(all []detect.Stored, opts Options) seedPlan {
	if len(opts.Seeds) > 0 {
		var out []seedChoice
		for _, s := range opts.Seeds {
			out = append(out, seedChoice{seed: s, since: opts.Since, why: "Named by the investigator"})
		}
		return seedPlan{seeds: out, note: fmt.Sprintf("The credentials below were named by the investigator (%d).", len(out))}
	}
	if len(all) == 0 {
		return seedPlan{note: "No findings, so no credential was taken as compromised. Name one with --scope key:ACCESS_KEY_ID (or principal:ARN, ip:ADDRESS)."}
	}
	// the first high or critical finding naming each key or principal: a
	// low one may be the owner's own use, days before the leak
	first := map[string]time.Time{}
	note := func(k string, t time.Time) {
		if t.IsZero() {
			return
		}
		if old, ok := first[k]; !ok || t.Before(old) {
			first[k] = t
		}
	}
	for _, f := range all {
		if f.Severity.Rank() < detect.High.Rank() {
			continue
		}
		for _, k := range f.AccessKeyIDs {
			note("key:"+k, f.FirstSeen)
		}
		note("principal:"+f.Principal, f.FirstSeen)
	}
	var out []seedChoice
	seen := map[string]bool{}
	add := func(s scope.Seed, f detect.Stored) {
		id := s.Kind + ":" + s.Value
		if seen[id] {
			return
		}
		seen[id] = true
		since := opts.Since
		if since.IsZero() {
			since = first[id].Truncate(time.Hour)
		}
		out = append(out, seedChoice{seed: s, since: since, why: fmt.Sprintf("Taken as compromised: behind the %s finding %q", f.Severity, f.Title)})
	}
	for _, f := range all {
		if f.Severity.Rank() < detect.High.Rank() {
			continue
		}
		keys := slices.Clone(f.AccessKeyIDs)
		slices.Sort(keys)
		if len(keys) == 0 && f.Principal != "" {
			add(scope.Seed{Kind: "principal", Value: f.Principal}, f)
		}
		for _, k := range keys {
			add(scope.Seed{Kind: "key", Value: k}, f)
		}
	}
	if len(out) == 0 {
		return seedPlan{note: "No high or critical finding names a credential, so none was taken as compromised. Name one with --scope key:ACCESS_KEY_ID (or principal:ARN, ip:ADDRESS)."}
	}
	return seedPlan{seeds: out, most: opts.MaxSeeds, fromFindings: true,
		note: "Taken as compromised: the access keys (or, without a key, the principals) behind high and critical findings, most severe first, each scoped from the hour of its first high or critical finding."}
}

// scopesOf scopes each compromised credential and returns the sections and
// the union of their events: the attacker's events. A credential an
// earlier scope already reached is not scoped again, and does not count
// against the cap: an independent credential after it is still scoped.
func scopesOf(ctx context.Context, st *store.Store, all []detect.Stored, opts Options) ([]scopeSection, *store.ScopeSet, string, error) {
	plan := chooseSeeds(all, opts)
	var out []scopeSection
	keys, events := map[string]bool{}, map[string]bool{}
	principals := map[string]bool{}
	var reached, notScoped []string
	for i, sc := range plan.seeds {
		if sc.seed.Kind == "key" && keys[sc.seed.Value] || sc.seed.Kind == "principal" && principals[sc.seed.Value] {
			reached = append(reached, sc.seed.Value)
			continue
		}
		if plan.most > 0 && len(out) == plan.most {
			notScoped = append(notScoped, sc.seed.Value)
			continue
		}
		sec := scopeSection{Seed: sc.seed, Since: timeText(sc.since), Until: timeText(opts.Until), Why: sc.why, Counts: map[string]int{}}
		rep, err := scope.Run(ctx, st, scope.Options{Seeds: []scope.Seed{sc.seed}, Since: sc.since, Until: opts.Until, MaxListed: opts.MaxRows})
		if errors.Is(err, scope.ErrNoSeed) {
			sec.Err = err.Error()
			out = append(out, sec)
			continue
		}
		if err != nil {
			return nil, nil, "", fmt.Errorf("scope %s:%s: %w", sc.seed.Kind, sc.seed.Value, err)
		}
		for _, k := range rep.AccessKeyIDs {
			keys[k] = true
		}
		for _, id := range rep.EventIDs {
			events[id] = true
		}
		for _, p := range rep.Principals {
			principals[p] = true
		}
		var svg bytes.Buffer
		if err := rep.Graph.WriteSVG(&svg); err != nil {
			return nil, nil, "", err
		}
		// several graphs in one page: their ids must not collide
		n := strconv.Itoa(i + 1)
		g := strings.NewReplacer("harrier-scope-arrow", "harrier-scope-arrow-"+n, "harrier-scope-text", "harrier-scope-text-"+n).Replace(svg.String())
		sec.Graph = template.HTML(g) // scope.WriteSVG escapes every text it draws
		sec.Report = rep
		sec.Credentials = capList(rep.Credentials, opts.MaxRows, "credentials", sec.Counts)
		sec.SourceIPs = capList(rep.SourceIPs, opts.MaxRows, "source_ips", sec.Counts)
		sec.Persistence = capList(rep.ResourcesChanged, opts.MaxRows, "persistence", sec.Counts)
		sec.Data = capList(rep.DataAccess, opts.MaxRows, "data", sec.Counts)
		out = append(out, sec)
	}
	note := plan.note
	if plan.fromFindings {
		note += fmt.Sprintf(" %d of the %d credentials they name are scoped below.", len(out), len(plan.seeds))
		if len(reached) > 0 {
			note += fmt.Sprintf(" Already reached by an earlier scope, so not scoped again: %s.", joinCapped(reached, 10))
		}
		if len(notScoped) > 0 {
			note += fmt.Sprintf(" Not scoped, as the report scopes at most %d: %s (name them with --scope).", plan.most, joinCapped(notScoped, 10))
		}
	}
	if len(keys) == 0 && len(events) == 0 {
		return out, nil, note, nil
	}
	set := &store.ScopeSet{AccessKeys: sortedSet(keys), EventIDs: sortedSet(events)}
	return out, set, note, nil
}

// capList keeps the first n of l and records its whole length under name.
func capList[T any](l []T, n int, name string, counts map[string]int) []T {
	counts[name] = len(l)
	if len(l) > n {
		return l[:n]
	}
	return l
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
