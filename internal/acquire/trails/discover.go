package trails

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// now is Discover's clock, for the request times of its responses; tests
// replace it.
var now = func() time.Time { return time.Now().UTC() }

// Trail is one trail as Discover found it.
type Trail struct {
	Name              string   `json:"name"`
	ARN               string   `json:"arn"`
	Account           string   `json:"account"` // the trail's owner, from its ARN
	HomeRegion        string   `json:"home_region"`
	Bucket            string   `json:"s3_bucket"`
	Prefix            string   `json:"s3_key_prefix,omitempty"`
	MultiRegion       bool     `json:"multi_region"`
	Organization      bool     `json:"organization"`
	LogFileValidation bool     `json:"log_file_validation"`
	GlobalEvents      bool     `json:"include_global_service_events"`
	KMSKeyID          string   `json:"kms_key_id,omitempty"`
	LogGroupARN       string   `json:"cloudwatch_logs_log_group_arn,omitempty"`
	SeenIn            []string `json:"seen_in"` // the regions whose DescribeTrails listed it, sorted

	// Status and the selectors are nil when their call failed (see the
	// Discovery's problems).
	Status                 *Status                       `json:"status,omitempty"`
	EventSelectors         []types.EventSelector         `json:"event_selectors,omitempty"`
	AdvancedEventSelectors []types.AdvancedEventSelector `json:"advanced_event_selectors,omitempty"`
}

// Status is what GetTrailStatus says about a trail's logging: whether it
// was on, and when it was last stopped, an attacker's favourite move.
type Status struct {
	IsLogging                 bool      `json:"is_logging"`
	StartLoggingTime          time.Time `json:"start_logging_time,omitzero"`
	StopLoggingTime           time.Time `json:"stop_logging_time,omitzero"`
	LatestDeliveryTime        time.Time `json:"latest_delivery_time,omitzero"`
	LatestDeliveryError       string    `json:"latest_delivery_error,omitempty"`
	LatestDigestDeliveryTime  time.Time `json:"latest_digest_delivery_time,omitzero"`
	LatestDigestDeliveryError string    `json:"latest_digest_delivery_error,omitempty"`
}

// Response is one CloudTrail answer kept as evidence: the SDK's output as
// JSON, with the API's member names, without the SDK's own metadata.
type Response struct {
	Service     string          `json:"service"` // "cloudtrail"
	API         string          `json:"api"`
	Region      string          `json:"region"`          // the region called
	Trail       string          `json:"trail,omitempty"` // the trail's ARN, for per-trail calls
	RequestTime time.Time       `json:"request_time"`    // UTC
	Body        json.RawMessage `json:"body"`
}

// Path is where the response belongs in a case's evidence, one file per
// call: cloudtrail/REGION/API.json or cloudtrail/REGION/API_ACCOUNT_TRAIL.json.
func (r Response) Path() string {
	if r.Trail == "" {
		return fmt.Sprintf("cloudtrail/%s/%s.json", r.Region, r.API)
	}
	account, name := arnAccount(r.Trail), r.Trail[strings.LastIndex(r.Trail, "/")+1:]
	return fmt.Sprintf("cloudtrail/%s/%s_%s_%s.json", r.Region, r.API, account, name)
}

// Discovery is what Discover found: the trails (sorted by ARN), the
// responses to keep, and the calls that were refused.
type Discovery struct {
	Trails    []Trail
	Responses []Response
	Problems  []Problem
}

// Discover lists the trails visible from each region in clients (keyed by
// region), shadow trails included so that a multi-region or organisation
// trail is found from any region, then asks each trail's home region (or,
// when it has no client there, the first region that listed it) for its
// status and event selectors, once per trail. A region or call that AWS
// refuses is recorded in Problems and the rest goes on; an error that is not
// AWS's answer (the network, ctx) ends it.
func Discover(ctx context.Context, clients map[string]CloudTrailAPI) (Discovery, error) {
	var d Discovery
	byARN := map[string]*Trail{}
	for _, region := range slices.Sorted(maps.Keys(clients)) {
		at := now()
		out, err := clients[region].DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		if err != nil {
			if !answered(err) {
				return d, fmt.Errorf("cloudtrail DescribeTrails in %s: %w", region, err)
			}
			d.Problems = append(d.Problems, newProblem("cloudtrail", "DescribeTrails", region, "", err))
			continue
		}
		if err := d.keep("DescribeTrails", region, "", at, out); err != nil {
			return d, err
		}
		for _, t := range out.TrailList {
			arn := aws.ToString(t.TrailARN)
			if tr, ok := byARN[arn]; ok {
				tr.SeenIn = append(tr.SeenIn, region)
				continue
			}
			tr := trailOf(t)
			tr.SeenIn = []string{region}
			byARN[arn] = &tr
		}
	}
	for _, arn := range slices.Sorted(maps.Keys(byARN)) {
		tr := byARN[arn]
		region := tr.HomeRegion
		api, ok := clients[region]
		if !ok {
			region = tr.SeenIn[0]
			api = clients[region]
		}
		at := now()
		st, err := api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		switch {
		case err == nil:
			tr.Status = statusOf(st)
			if err := d.keep("GetTrailStatus", region, arn, at, st); err != nil {
				return d, err
			}
		case answered(err):
			d.Problems = append(d.Problems, newProblem("cloudtrail", "GetTrailStatus", region, arn, err))
		default:
			return d, fmt.Errorf("cloudtrail GetTrailStatus %s: %w", arn, err)
		}
		at = now()
		sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		switch {
		case err == nil:
			tr.EventSelectors, tr.AdvancedEventSelectors = sel.EventSelectors, sel.AdvancedEventSelectors
			if err := d.keep("GetEventSelectors", region, arn, at, sel); err != nil {
				return d, err
			}
		case answered(err):
			d.Problems = append(d.Problems, newProblem("cloudtrail", "GetEventSelectors", region, arn, err))
		default:
			return d, fmt.Errorf("cloudtrail GetEventSelectors %s: %w", arn, err)
		}
		d.Trails = append(d.Trails, *tr)
	}
	return d, nil
}

// keep records an output as a Response.
func (d *Discovery) keep(api, region, trail string, at time.Time, out any) error {
	body, err := outputJSON(out)
	if err != nil {
		return fmt.Errorf("cloudtrail %s in %s: keep the response: %w", api, region, err)
	}
	d.Responses = append(d.Responses, Response{Service: "cloudtrail", API: api, Region: region, Trail: trail,
		RequestTime: at.UTC(), Body: body})
	return nil
}

// outputJSON renders an SDK output without its ResultMetadata, which holds
// nothing about the account.
func outputJSON(out any) (json.RawMessage, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "ResultMetadata")
	return json.MarshalIndent(m, "", "  ")
}

func trailOf(t types.Trail) Trail {
	arn := aws.ToString(t.TrailARN)
	home := aws.ToString(t.HomeRegion)
	if home == "" {
		home = arnField(arn, 3)
	}
	return Trail{
		Name: aws.ToString(t.Name), ARN: arn, Account: arnAccount(arn), HomeRegion: home,
		Bucket: aws.ToString(t.S3BucketName), Prefix: aws.ToString(t.S3KeyPrefix),
		MultiRegion: aws.ToBool(t.IsMultiRegionTrail), Organization: aws.ToBool(t.IsOrganizationTrail),
		LogFileValidation: aws.ToBool(t.LogFileValidationEnabled), GlobalEvents: aws.ToBool(t.IncludeGlobalServiceEvents),
		KMSKeyID: aws.ToString(t.KmsKeyId), LogGroupARN: aws.ToString(t.CloudWatchLogsLogGroupArn),
	}
}

func statusOf(o *cloudtrail.GetTrailStatusOutput) *Status {
	utc := func(t *time.Time) time.Time { return aws.ToTime(t).UTC() }
	return &Status{
		IsLogging:        aws.ToBool(o.IsLogging),
		StartLoggingTime: utc(o.StartLoggingTime), StopLoggingTime: utc(o.StopLoggingTime),
		LatestDeliveryTime: utc(o.LatestDeliveryTime), LatestDeliveryError: aws.ToString(o.LatestDeliveryError),
		LatestDigestDeliveryTime: utc(o.LatestDigestDeliveryTime), LatestDigestDeliveryError: aws.ToString(o.LatestDigestDeliveryError),
	}
}

// arnField returns the i-th colon-separated field of an ARN
// (arn:partition:service:region:account:resource), or "".
func arnField(arn string, i int) string {
	f := strings.SplitN(arn, ":", 6)
	if i < len(f) {
		return f[i]
	}
	return ""
}

func arnAccount(arn string) string { return arnField(arn, 4) }
