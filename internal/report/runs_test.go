package report

import (
	"fmt"
	"strings"
	"testing"
)

// ev is an event for the collapser: who, what, to what, outcome, and
// whether it is read-only.
type runEv struct {
	who, what, target, outcome string
	ro                         bool
}

func (e runEv) row(i int) eventRow {
	return eventRow{Time: fmt.Sprintf("t%03d", i), Who: e.who, Key: "AKIA" + e.who, IP: "192.0.2.1", What: e.what, Target: e.target, Outcome: e.outcome}
}

// describe is a row in a few words: what, how many, first to last time, targets.
func describe(r eventRow) string {
	s := fmt.Sprintf("%s %s x%d %s-%s", r.Who, r.What, r.Count, r.Time, r.LastTime)
	if len(r.Targets) > 0 {
		s += " on " + strings.Join(r.Targets, "+")
		if r.MoreTargets {
			s += "+…"
		}
	}
	return s
}

func TestCollapser(t *testing.T) {
	gets := func(who string, n int) []runEv {
		var out []runEv
		for i := range n {
			out = append(out, runEv{who, "s3:GetObject", fmt.Sprintf("s3://b/%d", i), "OK", true})
		}
		return out
	}
	cat := func(ls ...[]runEv) []runEv {
		var out []runEv
		for _, l := range ls {
			out = append(out, l...)
		}
		return out
	}
	write := func(who, what string) []runEv { return []runEv{{who, what, "", "OK", false}} }
	cases := []struct {
		name string
		max  int
		evs  []runEv
		want []string
		cut  string
	}{
		{"a run of reads is one row with a sample of targets", 10, gets("a", 5),
			[]string{"a s3:GetObject x5 t000-t004 on s3://b/0+s3://b/1+s3://b/2+…"}, ""},
		{"another outcome breaks the run", 10, []runEv{{"a", "s3:GetObject", "x", "OK", true}, {"a", "s3:GetObject", "y", "AccessDenied", true}, {"a", "s3:GetObject", "z", "OK", true}},
			[]string{"a s3:GetObject x1 t000-t000 on x", "a s3:GetObject x1 t001-t001 on y", "a s3:GetObject x1 t002-t002 on z"}, ""},
		{"another caller breaks the run", 10, cat(gets("a", 2), gets("b", 2)),
			[]string{"a s3:GetObject x2 t000-t001 on s3://b/0+s3://b/1", "b s3:GetObject x2 t002-t003 on s3://b/0+s3://b/1"}, ""},
		{"the same target is named once", 10, []runEv{{"a", "iam:ListUsers", "", "OK", true}, {"a", "iam:ListUsers", "", "OK", true}},
			[]string{"a iam:ListUsers x2 t000-t001"}, ""},
		{"over the cap, reads are cut and every write kept", 3,
			cat(write("a", "iam:CreateUser"), gets("a", 2), write("a", "ec2:RunInstances"), []runEv{{"a", "s3:ListBucket", "b", "OK", true}}, write("a", "iam:CreateAccessKey"), []runEv{{"a", "sts:GetCallerIdentity", "", "OK", true}}),
			[]string{"a iam:CreateUser x1 t000-t000", "a ec2:RunInstances x1 t003-t003", "a iam:CreateAccessKey x1 t005-t005"},
			"not shown: 3 read-only rows (4 events), the latest, to keep every row that changes something. harrier timeline --scope lists every event."},
		{"reads fill what room is left, earliest first", 3,
			cat(gets("a", 2), write("a", "iam:CreateUser"), []runEv{{"a", "s3:ListBucket", "b", "OK", true}}, []runEv{{"a", "sts:GetCallerIdentity", "", "OK", true}}),
			[]string{"a s3:GetObject x2 t000-t001 on s3://b/0+s3://b/1", "a iam:CreateUser x1 t002-t002", "a s3:ListBucket x1 t003-t003 on b"},
			"not shown: 1 read-only row (1 event), the latest, to keep every row that changes something. harrier timeline --scope lists every event."},
		{"more writes than the cap", 2, cat(write("a", "w1"), write("b", "w2"), write("a", "w3")),
			[]string{"a w1 x1 t000-t000", "b w2 x1 t001-t001"},
			"not shown: 1 later row that change something (1 event), past the limit of 2 rows. harrier timeline --scope lists every event."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := newCollapser(c.max)
			for i, e := range c.evs {
				col.add(e.row(i), e.ro)
			}
			rows, cut := col.finish()
			var got []string
			for _, r := range rows {
				got = append(got, describe(r))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if cut != c.cut {
				t.Errorf("cut %q\nwant %q", cut, c.cut)
			}
		})
	}
}
