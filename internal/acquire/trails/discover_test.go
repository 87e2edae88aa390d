package trails

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/harrier-ir/harrier/internal/awstest"
)

func ctClient(endpoint, region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(awstest.Config(endpoint), func(o *cloudtrail.Options) { o.Region = region })
}

// TestDiscoverMoto creates trails in moto_server's CloudTrail, finds them
// with Discover from two regions, and collects the multi-region trail's
// files with what Discover said about it.
func TestDiscoverMoto(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	home := ctClient(e.moto.URL, "us-east-1")
	if _, err := home.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(trailName), S3BucketName: aws.String(bucket),
		S3KeyPrefix: aws.String(keyPrefix), IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := home.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trailName)}); err != nil {
		t.Fatal(err)
	}
	if _, err := home.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(trailName),
		EventSelectors: []types.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: types.ReadWriteTypeAll}}}); err != nil {
		t.Fatal(err)
	}
	eu := ctClient(e.moto.URL, "eu-west-1")
	if _, err := eu.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("local"), S3BucketName: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	d, err := Discover(ctx, map[string]CloudTrailAPI{"us-east-1": home, "eu-west-1": eu})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems: %+v", d.Problems)
	}
	var names []string
	for _, tr := range d.Trails {
		names = append(names, tr.Name)
	}
	if !slices.Equal(names, []string{"local", trailName}) {
		t.Fatalf("trails %q", names)
	}
	local, mgmt := d.Trails[0], d.Trails[1]
	if local.HomeRegion != "eu-west-1" || local.MultiRegion || !slices.Equal(local.SeenIn, []string{"eu-west-1"}) || local.Status == nil {
		t.Errorf("local trail %+v", local)
	}
	if mgmt.HomeRegion != "us-east-1" || !mgmt.MultiRegion || !mgmt.LogFileValidation || mgmt.Bucket != bucket || mgmt.Prefix != keyPrefix ||
		!strings.HasSuffix(mgmt.ARN, ":trail/"+trailName) || mgmt.Account == "" {
		t.Errorf("multi-region trail %+v", mgmt)
	}
	if !slices.Equal(mgmt.SeenIn, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("multi-region trail seen in %q, want both regions (a shadow trail in eu-west-1)", mgmt.SeenIn)
	}
	if mgmt.Status == nil || !mgmt.Status.IsLogging || mgmt.Status.StartLoggingTime.IsZero() {
		t.Errorf("status %+v", mgmt.Status)
	}
	if len(mgmt.EventSelectors) != 1 || !aws.ToBool(mgmt.EventSelectors[0].IncludeManagementEvents) {
		t.Errorf("event selectors %+v", mgmt.EventSelectors)
	}
	// Two DescribeTrails, then a status and the selectors per trail, asked
	// once, in its home region.
	var calls []string
	for _, r := range d.Responses {
		calls = append(calls, r.API+" "+r.Region+" "+r.Path())
		if !json.Valid(r.Body) || strings.Contains(string(r.Body), "ResultMetadata") || r.RequestTime.IsZero() {
			t.Errorf("response %s: %s", r.API, r.Body)
		}
	}
	want := []string{
		"DescribeTrails eu-west-1 cloudtrail/eu-west-1/DescribeTrails.json",
		"DescribeTrails us-east-1 cloudtrail/us-east-1/DescribeTrails.json",
		"GetTrailStatus eu-west-1 cloudtrail/eu-west-1/GetTrailStatus_" + local.Account + "_local.json",
		"GetEventSelectors eu-west-1 cloudtrail/eu-west-1/GetEventSelectors_" + local.Account + "_local.json",
		"GetTrailStatus us-east-1 cloudtrail/us-east-1/GetTrailStatus_" + mgmt.Account + "_mgmt.json",
		"GetEventSelectors us-east-1 cloudtrail/us-east-1/GetEventSelectors_" + mgmt.Account + "_mgmt.json",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("responses\n%q\nwant\n%q", calls, want)
	}
	if !strings.Contains(string(d.Responses[1].Body), `"S3BucketName": "`+bucket+`"`) {
		t.Errorf("DescribeTrails body:\n%s", d.Responses[1].Body)
	}

	opts := Options{Since: day(3, 2), Until: day(3, 3), Regions: []string{"us-east-1"}, Now: fixedNow}
	st, err := Collect(ctx, e.s3, mgmt, opts, CaseSink(openCase(t)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(wanted(e.objs, opts)); st.Downloaded != n || n == 0 {
		t.Errorf("collected %d of the discovered trail's files, want %d", st.Downloaded, n)
	}
	if len(st.Coverage) != 3 || st.Coverage[0].Account != acctA || !st.Coverage[0].FirstDay.Equal(day(3, 2)) ||
		!st.Coverage[0].LastDay.Equal(day(3, 4)) || st.Coverage[0].Logs != 4 || st.Coverage[0].Digests != 3 || st.Coverage[2].Org != orgID {
		t.Errorf("coverage %+v", st.Coverage)
	}
}

// fakeCT answers as CloudTrail in one region would, or fails where told.
type fakeCT struct {
	trails []types.Trail
	fail   map[string]error // by API name
	calls  *[]string
	region string
}

func (f fakeCT) call(api string) error {
	*f.calls = append(*f.calls, api+" "+f.region)
	return f.fail[api]
}

func (f fakeCT) DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	if !aws.ToBool(in.IncludeShadowTrails) {
		return nil, errors.New("shadow trails not asked for")
	}
	if err := f.call("DescribeTrails"); err != nil {
		return nil, err
	}
	return &cloudtrail.DescribeTrailsOutput{TrailList: f.trails}, nil
}

func (f fakeCT) GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	if err := f.call("GetTrailStatus"); err != nil {
		return nil, err
	}
	stop := time.Date(2026, 3, 2, 3, 4, 5, 0, time.UTC)
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(false), StopLoggingTime: &stop}, nil
}

func (f fakeCT) GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	if err := f.call("GetEventSelectors"); err != nil {
		return nil, err
	}
	return &cloudtrail.GetEventSelectorsOutput{TrailARN: in.TrailName}, nil
}

func TestDiscoverProblems(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform cloudtrail:DescribeTrails"}
	notFound := &smithy.GenericAPIError{Code: "TrailNotFoundException", Message: "unknown trail"}
	network := errors.New("dial tcp: connection refused")
	org := types.Trail{Name: aws.String("org"), TrailARN: aws.String("arn:aws:cloudtrail:us-east-1:999988887777:trail/org"),
		HomeRegion: aws.String("us-east-1"), IsOrganizationTrail: aws.Bool(true), IsMultiRegionTrail: aws.Bool(true), S3BucketName: aws.String("b")}
	tests := []struct {
		name     string
		fail     map[string]map[string]error // region -> API -> error
		calls    []string
		problems []string // "API region denied"
		trails   int
		fatal    bool
		regions  []string // the clients given; us-east-1 and eu-west-1 when empty
	}{
		{name: "all answer", trails: 1,
			calls: []string{"DescribeTrails eu-west-1", "DescribeTrails us-east-1", "GetTrailStatus us-east-1", "GetEventSelectors us-east-1"}},
		{name: "a region denies DescribeTrails", trails: 1,
			fail:     map[string]map[string]error{"eu-west-1": {"DescribeTrails": denied}},
			calls:    []string{"DescribeTrails eu-west-1", "DescribeTrails us-east-1", "GetTrailStatus us-east-1", "GetEventSelectors us-east-1"},
			problems: []string{"DescribeTrails eu-west-1 true"}},
		{name: "the home region denies a call; the trail is kept", trails: 1,
			fail:     map[string]map[string]error{"us-east-1": {"GetEventSelectors": denied, "GetTrailStatus": notFound}},
			calls:    []string{"DescribeTrails eu-west-1", "DescribeTrails us-east-1", "GetTrailStatus us-east-1", "GetEventSelectors us-east-1"},
			problems: []string{"GetTrailStatus us-east-1 false", "GetEventSelectors us-east-1 true"}},
		{name: "the home region denies everything: all recorded, the trail kept", trails: 1,
			fail:     map[string]map[string]error{"us-east-1": {"DescribeTrails": denied, "GetTrailStatus": denied, "GetEventSelectors": denied}},
			calls:    []string{"DescribeTrails eu-west-1", "DescribeTrails us-east-1", "GetTrailStatus us-east-1", "GetEventSelectors us-east-1"},
			problems: []string{"DescribeTrails us-east-1 true", "GetTrailStatus us-east-1 true", "GetEventSelectors us-east-1 true"}},
		{name: "no client in the home region: asked where it was seen", trails: 1, regions: []string{"eu-west-1"},
			calls: []string{"DescribeTrails eu-west-1", "GetTrailStatus eu-west-1", "GetEventSelectors eu-west-1"}},
		{name: "the network fails", fatal: true,
			fail:  map[string]map[string]error{"eu-west-1": {"DescribeTrails": network}},
			calls: []string{"DescribeTrails eu-west-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			clients := map[string]CloudTrailAPI{}
			regions := tc.regions
			if regions == nil {
				regions = []string{"us-east-1", "eu-west-1"}
			}
			for _, r := range regions {
				clients[r] = fakeCT{trails: []types.Trail{org}, fail: tc.fail[r], calls: &calls, region: r}
			}
			d, err := Discover(context.Background(), clients)
			if tc.fatal {
				if !errors.Is(err, network) {
					t.Errorf("Discover = %v, want the network's error", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(calls, tc.calls) {
				t.Errorf("calls %q, want %q", calls, tc.calls)
			}
			var problems []string
			for _, p := range d.Problems {
				problems = append(problems, p.API+" "+p.Region+" "+map[bool]string{true: "true", false: "false"}[p.Denied])
				if p.Service != "cloudtrail" || p.Error == "" || p.Err == nil {
					t.Errorf("problem %+v", p)
				}
			}
			if !slices.Equal(problems, tc.problems) {
				t.Errorf("problems %q, want %q", problems, tc.problems)
			}
			if len(d.Trails) != tc.trails {
				t.Fatalf("%d trails, want %d", len(d.Trails), tc.trails)
			}
			if tc.trails == 1 && !tc.fatal {
				tr := d.Trails[0]
				if !tr.Organization || tr.Account != "999988887777" {
					t.Errorf("trail %+v", tr)
				}
				if (tc.fail["us-east-1"]["GetTrailStatus"] == nil) != (tr.Status != nil) {
					t.Errorf("status %+v", tr.Status)
				}
				if tr.Status != nil && (tr.Status.IsLogging || !tr.Status.StopLoggingTime.Equal(time.Date(2026, 3, 2, 3, 4, 5, 0, time.UTC))) {
					t.Errorf("status %+v", tr.Status)
				}
			}
		})
	}
}
