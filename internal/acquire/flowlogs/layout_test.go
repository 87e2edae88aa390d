package flowlogs

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
)

func TestParseS3(t *testing.T) {
	tests := []struct {
		name, arn, bucket, prefix string
		bad                       bool
	}{
		{"bucket", "arn:aws:s3:::flows", "flows", "", false},
		{"bucket and prefix", "arn:aws:s3:::flows/vpc/prod/", "flows", "vpc/prod", false},
		{"other partition", "arn:aws-us-gov:s3:::flows/p", "flows", "p", false},
		{"not s3", "arn:aws:logs:us-east-1:1:log-group:x", "", "", true},
		{"no bucket", "arn:aws:s3:::", "", "", true},
		{"not an ARN", "flows", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, p, err := parseS3(tt.arn)
			if (err != nil) != tt.bad || b != tt.bucket || p != tt.prefix {
				t.Errorf("parseS3(%q) = %q, %q, %v", tt.arn, b, p, err)
			}
		})
	}
}

func TestDestinations(t *testing.T) {
	fl := func(id, res string, kind types.LogDestinationType, dest, group string) types.FlowLog {
		return types.FlowLog{FlowLogId: aws.String(id), ResourceId: aws.String(res), LogDestinationType: kind,
			LogDestination: aws.String(dest), LogGroupName: aws.String(group)}
	}
	ds, bad := destinations([]types.FlowLog{
		fl("fl-2", "vpc-2", types.LogDestinationTypeS3, "arn:aws:s3:::b/p", ""),
		fl("fl-1", "vpc-1", types.LogDestinationTypeS3, "arn:aws:s3:::b/p/", ""),
		fl("fl-3", "eni-3", types.LogDestinationTypeCloudWatchLogs, "arn:aws:logs:us-east-1:1:log-group:/g:*", ""),
		fl("fl-4", "subnet-4", types.LogDestinationTypeS3, "nonsense", ""),
	})
	var got []string
	for _, d := range ds {
		got = append(got, d.String()+" "+d.flowLogs[0]+" "+d.resources[len(d.resources)-1])
	}
	if want := []string{"CloudWatch Logs group /g fl-3 eni-3", "s3://b/p fl-1 vpc-2"}; !slices.Equal(got, want) || len(bad) != 1 || bad["fl-4"] == nil {
		t.Errorf("destinations = %q, bad %v", got, bad)
	}
}

func TestSpan(t *testing.T) {
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		level int
		above time.Time
		start time.Time
		ok    bool
	}{
		{"2024", 0, time.Time{}, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"year=2024", 0, time.Time{}, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"02", 1, feb, feb, true},
		{"month=02", 1, feb, feb, true},
		{"13", 1, feb, time.Time{}, false},
		{"2", 1, feb, time.Time{}, false},
		{"day=29", 2, feb, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"30", 2, feb, time.Time{}, false},
		{"aws-region=x", 0, time.Time{}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, _, ok := span(tt.name, tt.level, tt.above)
			if ok != tt.ok || (ok && !start.Equal(tt.start)) {
				t.Errorf("span(%q) = %s, %v", tt.name, start, ok)
			}
		})
	}
}

// TestWalkPrefix walks a destination with a key prefix (moto cannot make a
// flow log with one), in both layouts.
func TestWalkPrefix(t *testing.T) {
	srv := awstest.Moto(t)
	api := s3.NewFromConfig(awstest.Config(srv.URL), awstest.PathStyle)
	objs := seedObjects(t, "vpc/prod")
	seedS3(t, api, objs)
	since, until := testWindow()
	calls := 0
	w := &walker{api: api, bucket: bucket, list: func() { calls++ }, failed: func(p string, err error) { t.Errorf("list %s: %v", p, err) }}
	var got []string
	for _, root := range roots("vpc/prod", account, awstest.Region) {
		if err := w.walk(context.Background(), root, window{since, until.Add(Grace)}, func(o object) { got = append(got, o.key) }); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(got)
	if want := wanted(objs); !slices.Equal(got, want) {
		t.Errorf("walked %q\nwant %q", got, want)
	}
}
