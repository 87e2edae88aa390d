package integrity

import (
	"testing"
	"time"
)

func TestKeyFromPath(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"evidence/s3/trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/a.json.gz", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/14/a.json.gz"},
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/d.json.gz", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/14/d.json.gz"},
		{"/mnt/AWSLogs/backup/AWSLogs/o-abc/111122223333/CloudTrail/x.json.gz", "AWSLogs/o-abc/111122223333/CloudTrail/x.json.gz"},
		{"evidence/AWSLogs/1/CloudTrail/x.json.gz.harrier-0123456789ab", "AWSLogs/1/CloudTrail/x.json.gz"},
		{"evidence/AWSLogs/1/CloudTrail/x.json.gz.harrier-01234", "AWSLogs/1/CloudTrail/x.json.gz.harrier-01234"},
		{"/home/ir/Downloads/111122223333_CloudTrail_us-east-1_20260314T0815Z_abc.json.gz", "111122223333_CloudTrail_us-east-1_20260314T0815Z_abc.json.gz"},
		{"evidence/MyAWSLogs/x.json", "x.json"},
	} {
		if got := KeyFromPath(tc.path); got != tc.want {
			t.Errorf("KeyFromPath(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestParseDigestName(t *testing.T) {
	at := time.Date(2015, 8, 16, 23, 5, 50, 0, time.UTC)
	for _, tc := range []struct {
		key  string
		want digestName
		ok   bool
	}{
		// the AWS CLI's date extraction vector
		{"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2015/08/16/123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_20150816T230550Z.json.gz",
			digestName{Account: "123456789012", Region: "us-east-1", Trail: "foo", HomeRegion: "us-east-1", Time: at}, true},
		{"p/AWSLogs/o-exampleorgid/123456789012/CloudTrail-Digest/eu-west-1/2015/08/16/123456789012_CloudTrail-Digest_eu-west-1_my_org_trail_us-east-1_20150816T230550Z_backfill.json.gz",
			digestName{Org: "o-exampleorgid", Account: "123456789012", Region: "eu-west-1", Trail: "my_org_trail", HomeRegion: "us-east-1", Time: at, Backfill: true}, true},
		{"123456789012_CloudTrail-Digest_us-gov-west-1_t_us-gov-west-1_20150816T230550Z.json",
			digestName{Account: "123456789012", Region: "us-gov-west-1", Trail: "t", HomeRegion: "us-gov-west-1", Time: at}, true},
		{"foo/baz/bar", digestName{}, false},
		{"123456789012_CloudTrail_us-east-1_20150816T2305Z_abc.json.gz", digestName{}, false},
		{"123456789012_CloudTrail-Digest_us-east-1_foo_us-east-1_20151316T230550Z.json.gz", digestName{}, false},
	} {
		got, ok := parseDigestName(tc.key)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseDigestName(%q) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	for key, want := range map[string]fileKind{
		"AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/14/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260314T090131Z.json.gz":               kindDigest,
		"AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/14/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260314T090131Z.json.gz.metadata.json": kindSidecar,
		"1_CloudTrail-Digest_us-east-1_t_us-east-1_20260314T090131Z.json.gz":                                                                kindDigest,
		"AWSLogs/1/CloudTrail-Digest/us-east-1/renamed.json.gz":                                                                             kindDigest,
		"AWSLogs/1/CloudTrail/us-east-1/2026/03/14/1_CloudTrail_us-east-1_20260314T0815Z_abc.json.gz":                                       kindLog,
		"export.json": kindLog,
	} {
		if got := classify(key); got != want {
			t.Errorf("classify(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestMatchKey(t *testing.T) {
	for _, tc := range []struct {
		obj, key string
		want     bool
	}{
		{"AWSLogs/1/CloudTrail/x.json.gz", "AWSLogs/1/CloudTrail/x.json.gz", true},
		{"prefix/AWSLogs/1/CloudTrail/x.json.gz", "AWSLogs/1/CloudTrail/x.json.gz", true},
		{"AWSLogs/1/CloudTrail/x.json.gz", "x.json.gz", true},
		{"AWSLogs/1/CloudTrail/xx.json.gz", "x.json.gz", false},
		{"AWSLogs/1/CloudTrail/x.json.gz", "AWSLogs/2/CloudTrail/x.json.gz", false},
		{"x.json.gz", "AWSLogs/1/x.json.gz", false},
	} {
		if got := matchKey(tc.obj, tc.key); got != tc.want {
			t.Errorf("matchKey(%q, %q) = %v", tc.obj, tc.key, got)
		}
	}
}
