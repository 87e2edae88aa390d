package detect

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// corrEvents makes a deterministic mix of events: three principals, a few
// IPs, calls A B C at random times over two hours, some with byte counts.
func corrEvents(n int, seed int64) [][]byte {
	rnd := rand.New(rand.NewSource(seed))
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	users := []string{"alice", "bob", "carol"}
	ips := []string{"203.0.113.1", "203.0.113.2", "198.51.100.9", "192.0.2.5", ""}
	names := []string{"CallA", "CallB", "CallC", "Other"}
	var out [][]byte
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(rnd.Intn(7200)) * time.Second)
		u := users[rnd.Intn(len(users))]
		ip := ips[rnd.Intn(len(ips))]
		ipField := ""
		if ip != "" {
			ipField = fmt.Sprintf(`"sourceIPAddress":%q,`, ip)
		}
		bytes := ""
		switch rnd.Intn(3) {
		case 0:
			bytes = fmt.Sprintf(`,"additionalEventData":{"bytesTransferredOut":%d}`, rnd.Intn(5000))
		case 1:
			bytes = `,"additionalEventData":{"bytesTransferredOut":"n/a"}`
		}
		out = append(out, []byte(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"ev-%04d","eventTime":%q,"eventSource":"test.amazonaws.com","eventName":%q,%s"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/%s","userName":%q},"requestParameters":{"target":"t%d"}%s}`,
			i, t.Format(time.RFC3339), names[rnd.Intn(len(names))], ipField, u, u, rnd.Intn(4), bytes)))
	}
	return out
}

const corrRules = `title: A
id: a
name: call_a
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CallA}, condition: sel}
---
title: B
id: b
name: call_b
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CallB}, condition: sel}
---
title: C
id: c
name: call_c
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: CallC}, condition: sel}
level: low
---
title: many A
id: count
correlation: {type: event_count, rules: [call_a], group-by: [userIdentity.arn], timespan: 10m, condition: {gte: 4}}
---
title: A or B burst, no group
id: count-nogroup
correlation: {type: event_count, rules: [call_a, call_b], timespan: 2m, condition: {gt: 4}}
---
title: few C
id: count-lt
correlation: {type: event_count, rules: [call_c], group-by: [userIdentity.arn, sourceIPAddress], timespan: 15m, condition: {lt: 2}}
---
title: A from many IPs
id: vcount
correlation: {type: value_count, rules: [call_a], group-by: [userIdentity.arn], timespan: 30m, condition: {field: sourceIPAddress, gte: 3}}
---
title: A B C together
id: temporal
correlation: {type: temporal, rules: [call_a, call_b, call_c], group-by: [userIdentity.arn], timespan: 3m}
---
title: two of A B C
id: temporal-2
correlation: {type: temporal, rules: [call_a, call_b, call_c], group-by: [userIdentity.arn], timespan: 90s, condition: {gte: 2}}
---
title: A then B then C
id: ordered
correlation: {type: temporal_ordered, rules: [call_a, call_b, call_c], group-by: [userIdentity.arn], timespan: 5m}
---
title: bytes
id: sum
correlation: {type: value_sum, rules: [call_a, call_b], group-by: [userIdentity.arn], timespan: 20m, condition: {field: additionalEventData.bytesTransferredOut, gte: 12000}}
---
title: avg
id: avg
correlation: {type: value_avg, rules: [call_c], group-by: [requestParameters.target], timespan: 20m, condition: {field: additionalEventData.bytesTransferredOut, gt: 3000}}
---
title: min max median
id: min
correlation: {type: value_min, rules: [call_b], group-by: [userIdentity.arn], timespan: 10m, condition: {field: additionalEventData.bytesTransferredOut, gte: 1000, lt: 4000}}
---
title: max
id: max
correlation: {type: value_max, rules: [call_b], timespan: 5m, condition: {field: additionalEventData.bytesTransferredOut, eq: 4999}}
---
title: median
id: median
correlation: {type: value_median, rules: [call_a], group-by: [userIdentity.userName], timespan: 30m, condition: {field: additionalEventData.bytesTransferredOut, gte: 2500}}
---
title: aliased
id: alias
correlation:
    type: temporal
    rules: [call_a, call_c]
    group-by: [who]
    timespan: 10m
    aliases:
        who:
            call_a: userIdentity.userName
            call_c: requestParameters.target
---
title: bursts of bursts
id: chain
correlation: {type: event_count, rules: [count], group-by: [sourceIPAddress], timespan: 30m, condition: {gte: 3}}
generate: true
`

func hitsByRule(t testing.TB, run *Run) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, h := range run.Hits {
		ids, err := run.EventIDs(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(ids)) != h.Count {
			t.Errorf("%s: count %d, %d event ids", h.RuleID, h.Count, len(ids))
		}
		for _, id := range ids {
			out[h.RuleID] = append(out[h.RuleID], h.Group+"|"+id)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func TestCorrelations(t *testing.T) {
	c, err := sigma.Parse("corr.yml", []byte(corrRules), sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Build(c, func(string) string { return "test" })
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			recs := corrEvents(400, seed)
			st := loadStore(t, recs)
			run, err := Hunt(context.Background(), st, rs)
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			got := hitsByRule(t, run)
			ref := RefHunt(rs, prepare(t, recs))
			fired := 0
			for i, r := range rs.Rules {
				if !r.Generate {
					if _, ok := got[r.ID]; ok {
						t.Errorf("%s is referenced by a correlation without generate, yet made findings", r.ID)
					}
					continue
				}
				var want []string
				for _, h := range ref[i] {
					want = append(want, h.Group+"|"+h.EventID)
				}
				sort.Strings(want)
				if !reflect.DeepEqual(got[r.ID], want) {
					t.Errorf("%s: SQL and reference differ\nSQL (%d): %s\nref (%d): %s", r.ID, len(got[r.ID]), head(got[r.ID]), len(want), head(want))
				}
				if len(want) > 0 {
					fired++
				}
			}
			if fired < 10 {
				t.Errorf("only %d correlations fired: the events no longer exercise them", fired)
			}
		})
	}
}

func head(s []string) string {
	if len(s) > 12 {
		s = s[:12]
	}
	return strings.Join(s, " ")
}
