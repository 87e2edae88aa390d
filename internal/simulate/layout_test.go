package simulate

import (
	"regexp"
	"testing"
	"time"
)

// CloudTrail's S3 key: AWSLogs/[o-org/]<acct>/CloudTrail/<region>/YYYY/MM/DD/
// <acct>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 alnum>.json.gz
var logKey = regexp.MustCompile(`^AWSLogs/(?:(o-[a-z0-9]{10})/)?(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/` +
	`(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)

func TestLayoutMatchesRecords(t *testing.T) {
	t.Parallel()
	res, logs := fixture(t)
	orgFiles := 0
	for _, f := range logs {
		m := logKey.FindStringSubmatch(f.rel)
		if m == nil {
			t.Errorf("%s is not a CloudTrail log key", f.rel)
			continue
		}
		org, acct, region, day, fileAcct, fileRegion, stamp := m[1], m[2], m[3], m[4]+m[5]+m[6], m[7], m[8], m[9]
		if org != "" {
			orgFiles++
			if org != res.Truth.OrgID || acct != res.Truth.SecondAccount {
				t.Errorf("%s: org trail path for %s/%s, want %s/%s", f.rel, org, acct, res.Truth.OrgID, res.Truth.SecondAccount)
			}
		} else if acct == res.Truth.SecondAccount {
			t.Errorf("%s: second account delivered outside the organisation trail", f.rel)
		}
		if fileAcct != acct || fileRegion != region || stamp[:8] != day {
			t.Errorf("%s: file name disagrees with its folder", f.rel)
		}
		delivered, err := time.Parse("20060102T1504Z", stamp)
		if err != nil {
			t.Fatal(err)
		}
		if delivered.Minute()%5 != 0 {
			t.Errorf("%s: delivery time not on a five-minute boundary", f.rel)
		}
		for _, r := range f.records {
			if got := str(r.m, "recipientAccountId"); got != acct {
				t.Errorf("%s: record for account %s", f.rel, got)
			}
			if got := str(r.m, "awsRegion"); got != region {
				t.Errorf("%s: record in region %s", f.rel, got)
			}
			at, err := time.Parse(time.RFC3339, str(r.m, "eventTime"))
			if err != nil {
				t.Fatalf("%s: %v", f.rel, err)
			}
			if at.Before(delivered.Add(-window*time.Second)) || !at.Before(delivered) {
				t.Errorf("%s: event at %s outside the five minutes before delivery", f.rel, at)
			}
		}
		// gzip header: no modification time, OS "unknown", as a
		// reproducible writer must leave it.
		if len(f.gz) < 10 || f.gz[4]|f.gz[5]|f.gz[6]|f.gz[7] != 0 || f.gz[9] != 255 {
			t.Errorf("%s: gzip header carries mtime or OS: % x", f.rel, f.gz[:10])
		}
	}
	if orgFiles == 0 {
		t.Error("no organisation-trail files written")
	}
}
