package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/detect"
	"github.com/harrier-ir/harrier/internal/store"
)

// craftedCase is a small event set, what one analytic must report on it,
// and optional further checks.
type craftedCase struct {
	name  string
	evs   []ev
	opts  *Options // nil: craftedOpts
	want  []got
	check func(t *testing.T, fs []detect.Finding, res Result)
}

func runCrafted(t *testing.T, rule string, cases []craftedCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := craftedOpts
			if c.opts != nil {
				opts = *c.opts
			}
			fs, res := findingsOf(t, craftedDB(t, c.evs), opts, rule)
			if g := gots(fs); !reflect.DeepEqual(g, c.want) {
				t.Errorf("findings:\n got %v\nwant %v", g, c.want)
				for _, f := range fs {
					t.Logf("%s", f.Description)
				}
			}
			if c.check != nil {
				c.check(t, fs, res)
			}
		})
	}
}

// wantIn checks that the one finding's description holds every part.
func wantIn(parts ...string) func(t *testing.T, fs []detect.Finding, res Result) {
	return func(t *testing.T, fs []detect.Finding, _ Result) {
		t.Helper()
		if len(fs) != 1 {
			t.Fatalf("want one finding, got %d", len(fs))
		}
		for _, p := range parts {
			if !strings.Contains(fs[0].Description, p) {
				t.Errorf("description lacks %q:\n%s", p, fs[0].Description)
			}
		}
	}
}

func TestNewSourceIP(t *testing.T) {
	deploy := session("deploy", "job-1", "ASIADEPLOY0000000001")
	runCrafted(t, RuleNewSourceIP, []craftedCase{{
		name: "key from a new network",
		evs:  join(daily(alice(), 2), daily(alice(), 1, ip("198.51.100.9")), once(alice(), ip("203.0.113.5"))),
		want: []got{{RuleNewSourceIP, aliceARN, detect.High}},
		check: func(t *testing.T, fs []detect.Finding, res Result) {
			wantIn("key AKIAALICE00000000001 of "+aliceARN, "203.0.113.5 (network 203.0.113.0/24)",
				"baseline 2026-03-08T00:00Z–2026-03-14T00:00Z", "1 network: 198.51.100.0/24 (18 events)")(t, fs, res)
			f := fs[0]
			if !slices.Equal(f.SourceIPs, []string{"203.0.113.5"}) || !slices.Equal(f.AccessKeyIDs, []string{"AKIAALICE00000000001"}) ||
				f.Count != 1 || len(f.EventIDs) != 1 || !slices.Equal(f.Techniques, []string{"T1078.004"}) {
				t.Errorf("finding %+v", f)
			}
		},
	}, {
		name: "all new addresses of a principal in one finding",
		evs: join(daily(alice(), 2), once(alice(), ip("203.0.113.5")), once(alice(), ip("203.0.113.6")),
			burst(alice(), 2, time.Minute, ip("192.0.2.1"))),
		want:  []got{{RuleNewSourceIP, aliceARN, detect.High}},
		check: wantIn("192.0.2.1 (network 192.0.2.0/24), 203.0.113.5, 203.0.113.6 (network 203.0.113.0/24)"),
	}, {
		name: "same network, new address",
		evs:  join(daily(alice(), 2), once(alice(), ip("198.51.100.200"))),
	}, {
		name: "service names are not places",
		evs:  join(daily(alice(), 2), once(alice(), ip("ec2.amazonaws.com")), once(alice(), ip("AWS Internal"))),
	}, {
		name: "AWS services acting for themselves are not judged",
		evs:  join(daily(alice(), 2), once(alice(), itype("AWSService"), ip("203.0.113.5"))),
	}, {
		name: "a role's sessions are judged by the role and reported as the session",
		evs: join(daily(deploy, 3), daily(deploy, 1, ip("10.0.1.21")),
			once(session("deploy", "job-7", "ASIADEPLOY0000000007"), ip("10.0.9.4"))),
		want:  []got{{RuleNewSourceIP, "arn:aws:sts::" + acctA + ":assumed-role/deploy/job-7", detect.Medium}},
		check: wantIn("judged by the history of arn:aws:iam::" + acctA + ":role/deploy"),
	}, {
		name: "a principal on a new network every day is volatile and only noted",
		evs: func() []ev {
			var evs []ev
			for d := 0; d < 6; d++ {
				for i := 0; i < 3; i++ {
					evs = append(evs, deploy.with(ip("20.1."+itoa(d)+".9"), at(day(d).Add(time.Duration(9+i)*time.Hour))))
				}
			}
			return append(evs, once(deploy, ip("20.1.99.9"))...)
		}(),
		check: func(t *testing.T, _ []detect.Finding, res Result) {
			if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "new-source-ip skipped 1 principal") ||
				!strings.Contains(res.Notes[0], "role/deploy (6 networks on 6 days, a new one on 5 of the 5 after the first; 1 new now)") {
				t.Errorf("notes %q", res.Notes)
			}
		},
	}, {
		name: "more networks than MaxBaselineNetworks is volatile",
		evs: join(daily(alice(), 5), daily(alice(), 1, ip("198.51.101.1")), daily(alice(), 1, ip("198.51.102.1")),
			once(alice(), ip("203.0.113.5"))),
		opts: &Options{BaselineStart: day(0), BaselineEnd: day(6), DetectStart: day(6), DetectEnd: day(7), MaxBaselineNetworks: 2},
	}, {
		name: "too little history to judge",
		evs:  join(daily(alice(), 1)[:3], once(alice(), ip("203.0.113.5"))),
	}, {
		name: "IPv6 within the same /48",
		evs:  join(daily(alice(), 2, ip("2001:db8:1:1::5")), once(alice(), ip("2001:db8:1:2::7"))),
	}, {
		name:  "IPv6 from a new /48",
		evs:   join(daily(alice(), 2, ip("2001:db8:1:1::5")), once(alice(), ip("2001:db8:2::1"))),
		want:  []got{{RuleNewSourceIP, aliceARN, detect.High}},
		check: wantIn("2001:db8:2::1 (network 2001:db8:2::/48)", "1 network: 2001:db8:1::/48"),
	}})
}

func TestNewUserAgent(t *testing.T) {
	runCrafted(t, RuleNewUserAgent, []craftedCase{{
		name:  "Kali boto3 on a CLI user's key",
		evs:   join(daily(alice(), 2), burst(alice(), 3, time.Minute, ua(kaliUA), ip("192.0.2.7"))),
		want:  []got{{RuleNewUserAgent, aliceARN, detect.High}},
		check: wantIn(`kali (3 calls, e.g. "Boto3/1.26.90`, "used aws-cli (12 events)"),
	}, {
		name: "a new version of the same client",
		evs:  join(daily(alice(), 2), once(alice(), ua("aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0"))),
	}, {
		name: "a script instead of the CLI",
		evs:  join(daily(alice(), 2), once(alice(), ua("Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0"))),
		want: []got{{RuleNewUserAgent, aliceARN, detect.Low}},
	}, {
		name: "a bulk-transfer client",
		evs:  join(daily(alice(), 2), once(alice(), ua("rclone/v1.66.0"))),
		want: []got{{RuleNewUserAgent, aliceARN, detect.Medium}},
	}, {
		name: "two families, the worst sets the severity",
		evs:  join(daily(alice(), 2), once(alice(), ua("curl/8.4.0")), once(alice(), ua("TruffleHog"))),
		want: []got{{RuleNewUserAgent, aliceARN, detect.High}},
	}, {
		name: "a principal without history is left to new-principal",
		evs:  join(daily(alice(), 2), once(user("bob"), ua(kaliUA))),
	}, {
		name: "no user agent is no family",
		evs:  join(daily(alice(), 2), once(alice(), ua(""))),
	}})
}

func TestNewRegion(t *testing.T) {
	bob := user("bob")
	runCrafted(t, RuleNewRegion, []craftedCase{{
		name: "a region the account never used",
		evs:  join(daily(alice(), 2), once(alice(), region("ap-south-1"), denied("Client.UnauthorizedOperation"))),
		want: []got{{RuleNewRegion, aliceARN, detect.High}},
		check: wantIn("active in ap-south-1 the account never used", "account 111122223333 used us-east-1",
			"1 of its 1 calls there were denied"),
	}, {
		name:  "a region only new to the principal",
		evs:   join(daily(alice(), 2), daily(bob, 1, region("eu-west-1")), once(alice(), region("eu-west-1"))),
		want:  []got{{RuleNewRegion, aliceARN, detect.Low}},
		check: wantIn("in eu-west-1, which " + aliceARN + " never used in the baseline"),
	}, {
		name: "a region it used",
		evs:  join(daily(alice(), 2), daily(alice(), 1, region("eu-west-1")), once(alice(), region("eu-west-1"))),
	}, {
		name: "a new principal in a region the account knows",
		evs:  join(daily(alice(), 2), daily(bob, 1, region("eu-west-1")), once(user("carol"), region("eu-west-1"))),
	}, {
		name: "a new principal in a region the account never used",
		evs:  join(daily(alice(), 2), once(user("carol"), region("sa-east-1"))),
		want: []got{{RuleNewRegion, "arn:aws:iam::" + acctA + ":user/carol", detect.High}},
	}, {
		name: "an account without a baseline is not judged by the account test",
		evs: join(daily(alice(), 2), once(alice(), region("ap-south-1"), func(e *ev) { e.recipient = "999988887777" }),
			once(user("carol"), region("sa-east-1"), func(e *ev) { e.recipient = "999988887777" })),
		want: []got{{RuleNewRegion, aliceARN, detect.Low}},
	}})
}

func TestNewAPI(t *testing.T) {
	runCrafted(t, RuleNewAPI, []craftedCase{{
		name: "creating a user is a sensitive write",
		evs:  join(daily(alice(), 2), once(alice(), call("iam.amazonaws.com", "CreateUser", true))),
		want: []got{{RuleNewAPI, aliceARN, detect.High}},
		check: func(t *testing.T, fs []detect.Finding, res Result) {
			wantIn("1 write API: iam:CreateUser*", "never called in the baseline")(t, fs, res)
			if !slices.Equal(fs[0].Techniques, []string{"T1136.003"}) || !slices.Equal(fs[0].Tactics, []string{"persistence"}) {
				t.Errorf("ATT&CK %v %v", fs[0].Techniques, fs[0].Tactics)
			}
		},
	}, {
		name: "two new ordinary reads are not enough",
		evs: join(daily(alice(), 2), once(alice(), call("ec2.amazonaws.com", "DescribeVolumes", false)),
			once(alice(), call("ec2.amazonaws.com", "DescribeSnapshots", false))),
	}, {
		name: "three new ordinary reads are",
		evs: join(daily(alice(), 2), once(alice(), call("ec2.amazonaws.com", "DescribeVolumes", false)),
			once(alice(), call("ec2.amazonaws.com", "DescribeSnapshots", false)),
			once(alice(), call("rds.amazonaws.com", "DescribeDBInstances", false))),
		want: []got{{RuleNewAPI, aliceARN, detect.Low}},
	}, {
		name: "one new ordinary write is",
		evs:  join(daily(alice(), 2), once(alice(), call("ec2.amazonaws.com", "RunInstances", true))),
		want: []got{{RuleNewAPI, aliceARN, detect.Low}},
	}, {
		name:  "a sensitive read, denied",
		evs:   join(daily(alice(), 2), once(alice(), call("iam.amazonaws.com", "ListUsers", false), denied("AccessDenied"))),
		want:  []got{{RuleNewAPI, aliceARN, detect.Medium}},
		check: wantIn("iam:ListUsers* (denied)"),
	}, {
		name: "an API used in the baseline",
		evs: join(daily(alice(), 2), daily(alice(), 1, call("iam.amazonaws.com", "CreateUser", true)),
			once(alice(), call("iam.amazonaws.com", "CreateUser", true))),
	}, {
		name: "a principal with little history",
		evs:  join(daily(alice(), 1)[:5], once(alice(), call("iam.amazonaws.com", "CreateUser", true))),
	}})
}

func TestErrorBurst(t *testing.T) {
	apis := []string{"ListSecrets", "ListKeys", "ListFunctions", "DescribeTrails", "ListDetectors", "ListTables",
		"DescribeStacks", "ListClusters", "DescribeRepositories", "ListAccounts", "DescribeOrganization", "ListUsers"}
	sweep := func(n int, spacing time.Duration) []ev {
		var out []ev
		for i, e := range burst(alice(), n, spacing, denied("AccessDenied")) {
			out = append(out, e.with(call("x.amazonaws.com", apis[i%len(apis)], false)))
		}
		return out
	}
	runCrafted(t, RuleErrorBurst, []craftedCase{{
		name:  "a sweep of denied calls",
		evs:   join(daily(alice(), 2), daily(alice(), 1, denied("AccessDenied")), sweep(12, 20*time.Second)),
		want:  []got{{RuleErrorBurst, aliceARN, detect.High}},
		check: wantIn("refused 12 calls (AccessDenied; up to 12 within an hour) across 12 APIs", "busiest hour", "had 1 such errors"),
	}, {
		name: "few APIs refused many times is medium",
		evs: join(daily(alice(), 2), burst(alice(), 15, 10*time.Second, denied("Client.UnauthorizedOperation")),
			burst(alice(), 1, time.Second, denied("ThrottlingException"))),
		want: []got{{RuleErrorBurst, aliceARN, detect.Medium}},
		check: func(t *testing.T, fs []detect.Finding, _ Result) {
			if fs[0].Count != 15 {
				t.Errorf("count %d, want 15 (throttling is not a refusal)", fs[0].Count)
			}
		},
	}, {
		name: "below the principal's usual rate times the factor",
		evs:  join(daily(alice(), 2), daily(alice(), 4, denied("AccessDenied")), sweep(12, 20*time.Second)),
	}, {
		name: "too few",
		evs:  join(daily(alice(), 2), sweep(9, 20*time.Second)),
	}, {
		name: "spread over hours",
		evs:  join(daily(alice(), 2), sweep(12, 20*time.Minute)),
	}, {
		name: "a burst straddling the hour is one finding",
		evs:  join(daily(alice(), 2), burst(alice(), 12, 4*time.Minute, denied("AccessDenied"), func(e *ev) { e.t = e.t.Add(-25 * time.Minute) })),
		want: []got{{RuleErrorBurst, aliceARN, detect.Medium}},
	}})
}

func TestNewPrincipal(t *testing.T) {
	carol := user("carol")
	runCrafted(t, RuleNewPrincipal, []craftedCase{{
		name:  "a new user that writes",
		evs:   join(daily(alice(), 2), once(carol, ip("10.0.0.5"), call("ec2.amazonaws.com", "RunInstances", true))),
		want:  []got{{RuleNewPrincipal, "arn:aws:iam::" + acctA + ":user/carol", detect.Low}},
		check: wantIn("has no events in the baseline", "1 write call (ec2:RunInstances)", "low severity"),
	}, {
		name: "a new user reading from a private address",
		evs:  join(daily(alice(), 2), once(carol, ip("10.0.0.5"))),
	}, {
		name:  "a new user reading from a public address",
		evs:   join(daily(alice(), 2), once(carol, ip("192.0.2.7"))),
		want:  []got{{RuleNewPrincipal, "arn:aws:iam::" + acctA + ":user/carol", detect.Low}},
		check: wantIn("calls from public addresses 192.0.2.7"),
	}, {
		name: "a known user with a new long-term key",
		evs:  join(daily(alice(), 2), once(alice(), key("AKIAALICE00000000002"))),
		want: []got{{RuleNewPrincipal, aliceARN, detect.Low}},
		check: func(t *testing.T, fs []detect.Finding, res Result) {
			wantIn("long-term key AKIAALICE00000000002 of "+aliceARN+" was never used")(t, fs, res)
			if fs[0].Title != "New long-term access key active" {
				t.Errorf("title %q", fs[0].Title)
			}
		},
	}, {
		name: "a known role's new session key",
		evs: join(daily(session("deploy", "a", "ASIADEPLOY0000000001"), 2),
			once(session("deploy", "b", "ASIADEPLOY0000000002"), ip("192.0.2.7"))),
	}, {
		name: "AWS services are not principals here",
		evs:  join(daily(alice(), 2), once(carol, itype("AWSService"), ip("192.0.2.7"))),
	}})
}

func TestWindows(t *testing.T) {
	evs := join(daily(alice(), 2), once(alice()))
	db := craftedDB(t, evs)
	ctx := context.Background()
	res, err := Run(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// the last event is at day 6 12:00: detection is the 24 hours to 12:01
	end := day(6).Add(12*time.Hour + time.Minute)
	if !res.Detect.Start.Equal(end.Add(-24*time.Hour)) || !res.Detect.End.Equal(end) ||
		!res.Baseline.Start.Equal(day(0).Add(9*time.Hour)) || !res.Baseline.End.Equal(res.Detect.Start) {
		t.Errorf("windows %v %v", res.Baseline, res.Detect)
	}
	if res.Baseline.Events != 12 || res.Detect.Events != 1 || res.Baseline.Principals != 1 || res.Detect.Principals != 1 {
		t.Errorf("sizes %+v %+v", res.Baseline, res.Detect)
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes %q", res.Notes)
	}

	for _, c := range []struct {
		name string
		opts Options
	}{
		{"overlap", Options{BaselineEnd: day(6).Add(time.Hour), DetectStart: day(6)}},
		{"empty detection", Options{DetectStart: day(6), DetectEnd: day(6)}},
		{"baseline backwards", Options{BaselineStart: day(3), BaselineEnd: day(2), DetectStart: day(6)}},
		{"negative threshold", Options{ErrorBurstMin: -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Run(ctx, db, c.opts); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("error %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestThinAndEmptyCases(t *testing.T) {
	ctx := context.Background()
	t.Run("thin", func(t *testing.T) {
		evs := join(burst(alice(), 3, time.Hour), once(user("carol"), call("iam.amazonaws.com", "CreateUser", true)))
		res, err := Run(ctx, craftedDB(t, evs), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Notes) != 2 || !strings.Contains(res.Notes[0], "the case spans only 2h0m0s") ||
			!strings.Contains(res.Notes[1], "holds no events") {
			t.Errorf("notes %q", res.Notes)
		}
		// with nothing in the baseline everyone is new
		want := []got{{RuleNewPrincipal, aliceARN, detect.Low}, {RuleNewPrincipal, "arn:aws:iam::" + acctA + ":user/carol", detect.Low}}
		if g := gots(res.Findings); !reflect.DeepEqual(g, want) {
			t.Errorf("findings %v, want %v", g, want)
		}
	})
	t.Run("empty", func(t *testing.T) {
		res, err := Run(ctx, craftedDB(t, nil), Options{})
		if err != nil || len(res.Findings) != 0 || len(res.Notes) != 1 {
			t.Errorf("%+v %v", res, err)
		}
	})
}

func TestEventIDsAreCapped(t *testing.T) {
	evs := join(daily(alice(), 2), burst(alice(), detect.MaxListedEvents+5, time.Second, ip("192.0.2.9")))
	fs, res := findingsOf(t, craftedDB(t, evs), craftedOpts, RuleNewSourceIP)
	if len(fs) != 1 {
		t.Fatalf("findings %v", gots(fs))
	}
	f := fs[0]
	i := slices.IndexFunc(res.Findings, func(g detect.Finding) bool { return g.RuleID == RuleNewSourceIP })
	all := res.AllEventIDs[i]
	if f.Count != int64(detect.MaxListedEvents+5) || len(f.EventIDs) != detect.MaxListedEvents || len(all) != int(f.Count) ||
		!slices.Equal(all[:detect.MaxListedEvents], f.EventIDs) || !slices.IsSorted(all) {
		t.Errorf("count %d, listed %d, all %d", f.Count, len(f.EventIDs), len(all))
	}
}

func TestSortOrder(t *testing.T) {
	t0 := day(6)
	hs := []hit{
		{Finding: detect.Finding{RuleID: "b", Severity: detect.Low, FirstSeen: t0}},
		{Finding: detect.Finding{RuleID: "a", Severity: detect.Low, FirstSeen: t0, Principal: "z"}},
		{Finding: detect.Finding{RuleID: "a", Severity: detect.Low, FirstSeen: t0, Principal: "y"}},
		{Finding: detect.Finding{RuleID: "c", Severity: detect.Low, FirstSeen: t0.Add(-time.Hour)}},
		{Finding: detect.Finding{RuleID: "d", Severity: detect.High, FirstSeen: t0.Add(time.Hour)}},
	}
	sortHits(hs)
	var order []string
	for _, h := range hs {
		order = append(order, h.RuleID+h.Principal)
	}
	if want := []string{"d", "c", "ay", "az", "b"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestAnalyticIDsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range analytics {
		if seen[a.id] || !strings.HasPrefix(a.id, "harrier.analytics.") {
			t.Errorf("analytic id %q repeated or outside harrier.analytics.", a.id)
		}
		seen[a.id] = true
	}
}

// TestSandboxedReadOnlyCase runs on a case opened as `harrier query` opens
// it: read-only, sandboxed, one connection.
func TestSandboxedReadOnlyCase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	insertEvents(t, st.DB(), join(daily(alice(), 2), once(alice(), ip("203.0.113.5"))))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(ctx, path, store.Options{ReadOnly: true, Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 2 { // the temporary tables are gone after each run
		res, err := Run(ctx, st.DB(), craftedOpts)
		if err != nil {
			t.Fatal(err)
		}
		if want := []got{{RuleNewSourceIP, aliceARN, detect.High}}; !reflect.DeepEqual(gots(res.Findings), want) {
			t.Errorf("findings %v, want %v", gots(res.Findings), want)
		}
	}
}

func TestWindowJSON(t *testing.T) {
	b, err := json.Marshal(Window{Start: day(0), End: day(6), Events: 3, Principals: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"start":"2026-03-08T00:00:00Z","end":"2026-03-14T00:00:00Z","events":3,"principals":1}`; string(b) != want {
		t.Errorf("%s, want %s", b, want)
	}
}
