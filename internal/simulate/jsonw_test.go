package simulate

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendTimeMatchesTimeFormat(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"epoch", time.Unix(0, 0)},
		{"default start", DefaultStart},
		{"leap day", time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"end of century", time.Date(2099, 12, 31, 12, 0, 1, 0, time.UTC)},
		{"before epoch", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := string(appendTime(nil, tc.at.Unix())), tc.at.UTC().Format(time.RFC3339); got != want {
				t.Errorf("appendTime = %s, want %s", got, want)
			}
			if got, want := string(appendDatePath(nil, tc.at.Unix())), tc.at.UTC().Format("2006/01/02"); got != want {
				t.Errorf("appendDatePath = %s, want %s", got, want)
			}
		})
	}
	g := newRng(1)
	for i := 0; i < 10000; i++ {
		u := int64(g.u64() % (200 * 365 * 86400))
		if got, want := string(appendTime(nil, u)), time.Unix(u, 0).UTC().Format(time.RFC3339); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", u, got, want)
		}
	}
}

func TestLogFileName(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 15, 0, 0, time.UTC).Unix()
	got := logFileName("111122223333", "eu-west-1", at, "AbCdEfGh12345678")
	if want := "111122223333_CloudTrail_eu-west-1_20260314T0915Z_AbCdEfGh12345678.json.gz"; got != want {
		t.Errorf("logFileName = %s, want %s", got, want)
	}
}

func TestNaming(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"kebab", kebab("DescribeInstances"), "describe-instances"},
		{"kebab with version", kebab("ListFunctions20150331"), "list-functions"},
		{"kebab acronym", kebab("GetMFADevice"), "get-mfadevice"},
		{"iam action", actionName(aListFunctions), "lambda:ListFunctions"},
		{"s3 action", actionName(aListObjects), "s3:ListBucket"},
		{"cloudwatch action", actionName(aGetMetricData), "cloudwatch:GetMetricData"},
		{"kms account", keyAccount("arn:aws:kms:us-east-1:111122223333:key/abc"), "111122223333"},
		{"host", hosts[aListUsers][rEUW1], "iam.amazonaws.com"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\x00\x1f", "ünïcode ☃"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("records only carry valid UTF-8")
		}
		var back string
		if err := json.Unmarshal(jstr(nil, s), &back); err != nil {
			t.Fatalf("jstr(%q) is not a JSON string: %v", s, err)
		}
		if back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
	})
}
