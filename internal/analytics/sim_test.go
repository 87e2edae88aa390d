package analytics

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/simulate"
	"github.com/harrier-ir/harrier/internal/store"
)

// maxBenign bounds the findings about principals the attack never touched
// on the default simulation: a week of people, machines, CI and services.
const maxBenign = 3

// TestSimulatedCase runs the analytics on the default simulated breach and
// checks them against its ground truth: the leaked key, every attacker
// address, the pivot role's sessions and the backdoor user are found, and
// little else is.
func TestSimulatedCase(t *testing.T) {
	db, truth := defaultSim(t)
	res, err := Run(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("baseline %s: %d events, %d principals; detection %s: %d events, %d principals",
		res.Baseline, res.Baseline.Events, res.Baseline.Principals, res.Detect, res.Detect.Events, res.Detect.Principals)
	for _, n := range res.Notes {
		t.Logf("note: %s", n)
	}
	if want := (Window{Start: simulate.DefaultStart, End: simulate.DefaultStart.Add(6 * 24 * time.Hour)}); !res.Baseline.Start.Equal(want.Start) || !res.Baseline.End.Equal(want.End) {
		t.Errorf("baseline %s, want %s", res.Baseline, want)
	}
	if res.Baseline.Events == 0 || res.Baseline.Principals == 0 || res.Detect.Events == 0 {
		t.Errorf("empty windows: %+v %+v", res.Baseline, res.Detect)
	}

	attackKeys := append([]string{truth.LeakedAccessKeyID, truth.BackdoorAccessKeyID}, truth.SessionKeys...)
	attacker := func(f detect.Finding) bool {
		return f.Principal == truth.LeakedUserARN || f.Principal == truth.BackdoorUserARN ||
			slices.ContainsFunc(f.SourceIPs, func(ip string) bool { return slices.Contains(truth.AttackerIPs, ip) }) ||
			slices.ContainsFunc(f.AccessKeyIDs, func(k string) bool { return slices.Contains(attackKeys, k) })
	}
	var benign int
	for i, f := range res.Findings {
		tag := "attack"
		if !attacker(f) {
			tag = "BENIGN"
			benign++
		}
		t.Logf("%-6s %-8s %-24s %-75s %4d  %s", tag, f.Severity, strings.TrimPrefix(f.RuleID, "harrier.analytics."), f.Principal, f.Count, f.Description)
		if int64(len(res.AllEventIDs[i])) != f.Count || len(f.EventIDs) > detect.MaxListedEvents || len(f.EventIDs) == 0 {
			t.Errorf("%s %s: count %d, all %d, listed %d", f.RuleID, f.Principal, f.Count, len(res.AllEventIDs[i]), len(f.EventIDs))
		}
	}
	if benign > maxBenign {
		t.Errorf("%d findings about benign principals, want at most %d", benign, maxBenign)
	}

	has := func(rule string, pred func(detect.Finding) bool) bool {
		return slices.ContainsFunc(res.Findings, func(f detect.Finding) bool { return f.RuleID == rule && pred(f) })
	}
	leaked := func(f detect.Finding) bool { return slices.Contains(f.AccessKeyIDs, truth.LeakedAccessKeyID) }
	for _, rule := range []string{RuleNewSourceIP, RuleNewUserAgent, RuleNewRegion, RuleErrorBurst, RuleNewAPI} {
		if !has(rule, leaked) {
			t.Errorf("%s did not find the leaked key %s", rule, truth.LeakedAccessKeyID)
		}
	}
	if !has(RuleNewSourceIP, func(f detect.Finding) bool { return leaked(f) && f.Severity == detect.High }) {
		t.Errorf("the leaked key from a new network is not high severity")
	}
	for _, ip := range truth.AttackerIPs {
		if !slices.ContainsFunc(res.Findings, func(f detect.Finding) bool { return slices.Contains(f.SourceIPs, ip) }) {
			t.Errorf("attacker address %s is in no finding", ip)
		}
	}
	pivot := "arn:aws:sts::" + truth.VictimAccount + ":assumed-role/" + truth.PivotRoleARN[strings.LastIndex(truth.PivotRoleARN, "/")+1:] + "/"
	if !has(RuleNewAPI, func(f detect.Finding) bool { return strings.HasPrefix(f.Principal, pivot) && f.Severity == detect.High }) {
		t.Errorf("no high new-api finding for the pivot role's sessions (%s...)", pivot)
	}
	backdoor := func(f detect.Finding) bool { return f.Principal == truth.BackdoorUserARN }
	if !has(RuleNewPrincipal, backdoor) || !has(RuleNewRegion, backdoor) {
		t.Errorf("the backdoor user %s is not reported as new and in new regions", truth.BackdoorUserARN)
	}
	if !has(RuleNewPrincipal, func(f detect.Finding) bool { return slices.Contains(f.AccessKeyIDs, truth.BackdoorAccessKeyID) }) {
		t.Errorf("the backdoor key %s is in no new-principal finding", truth.BackdoorAccessKeyID)
	}

	// the same case gives the same answer
	again, err := Run(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, again) {
		t.Errorf("two runs differ")
	}
}

// TestPrincipalsAgreeWithStore checks that the analytics name principals as
// store.PrincipalSQL does, except where they resolve more: a cross-account
// copy to its caller's session, an event without an ARN to its user's.
func TestPrincipalsAgreeWithStore(t *testing.T) {
	db, truth := defaultSim(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := &runner{opts: Options{BaselineStart: simulate.DefaultStart, BaselineEnd: simulate.DefaultStart.Add(6 * 24 * time.Hour),
		DetectStart: simulate.DefaultStart.Add(6 * 24 * time.Hour), DetectEnd: simulate.DefaultStart.Add(7 * 24 * time.Hour)}}
	defer dropTemp(ctx, conn)
	if err := prepare(ctx, conn, r); err != nil {
		t.Fatal(err)
	}
	var mismatched, total int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE a.rp <> `+store.PrincipalSQL+`), count(*)
		FROM `+tempEvents+` a JOIN events e ON e.event_id = a.eid
		WHERE NOT (e.identity_type = 'AWSAccount' OR e.identity_arn IS NULL AND e.identity_type IN ('IAMUser', 'Root'))`).Scan(&mismatched, &total); err != nil {
		t.Fatal(err)
	}
	if mismatched != 0 || total == 0 {
		t.Errorf("%d of %d principals named differently from store.PrincipalSQL", mismatched, total)
	}
	step, ok := truth.Step("cross-account-assume-role-target")
	if !ok {
		t.Fatal("no cross-account step in the truth")
	}
	var rp, bp string
	if err := conn.QueryRowContext(ctx, `SELECT rp, bp FROM `+tempEvents+` WHERE eid = ? AND acct = ?`, step.EventID, step.Account).Scan(&rp, &bp); err != nil {
		t.Fatal(err)
	}
	if bp != truth.PivotRoleARN || rp != "arn:aws:sts::"+truth.VictimAccount+":assumed-role/infra-admin/"+truth.LeakedUserName {
		t.Errorf("cross-account copy resolved to %s (baseline %s)", rp, bp)
	}
}

// BenchmarkRun runs the analytics over a simulated case of about 200,000
// events (scale 5).
func BenchmarkRun(b *testing.B) {
	st, _, err := buildSim(context.Background(), filepath.Join(scratch, "bench"), simulate.Options{Seed: 1, Scale: 5})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var events int64
	if err := st.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&events); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), st.DB(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
