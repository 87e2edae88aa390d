package findings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/smithy-go"
)

func TestOptionsValidate(t *testing.T) {
	ok := testOptions("us-east-1")
	tests := []struct {
		name   string
		change func(*Options)
		want   string // part of the error; "" for none
	}{
		{"valid", func(*Options) {}, ""},
		{"no account", func(o *Options) { o.Account = "" }, "no account"},
		{"no stamp", func(o *Options) { o.Stamp = "" }, "bad stamp"},
		{"stamp with a slash", func(o *Options) { o.Stamp = "../x" }, "bad stamp"},
		{"no since", func(o *Options) { o.Since = time.Time{} }, "both since and until"},
		{"until before since", func(o *Options) { o.Until = o.Since.Add(-time.Hour) }, "before since"},
		{"no regions", func(o *Options) { o.Regions = nil }, "no regions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			err := o.validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  string // the names selected, or the error's start
	}{
		{"all, sorted", []string{"securityhub", "macie", "inspector", "guardduty"}, "guardduty inspector macie securityhub"},
		{"one", []string{"macie"}, "macie"},
		{"unknown", []string{"guardduty", "cloudtrail"}, `unknown findings source "cloudtrail" (known: guardduty, inspector, macie, securityhub)`},
		{"twice", []string{"macie", "macie"}, `findings source "macie" given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Select(tt.names)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				var names []string
				for _, c := range cs {
					names = append(names, c.Name)
					if len(c.Actions) == 0 || c.Collect == nil {
						t.Errorf("%s: no actions or no collect", c.Name)
					}
				}
				got = strings.Join(names, " ")
			}
			if got != tt.want {
				t.Errorf("Select(%v) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	api := func(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }
	tests := []struct {
		name                           string
		err                            error
		throttle, macieOff, hubMissing bool
	}{
		{"throttling", api("ThrottlingException", "Rate exceeded"), true, false, false},
		{"too many requests", api("TooManyRequestsException", "slow down"), true, false, false},
		{"macie not enabled", api("AccessDeniedException", "Macie is not enabled."), false, true, false},
		{"macie session missing", api("ResourceNotFoundException", "The request failed because the specified resource doesn't exist."), false, true, false},
		{"a real denial", api("AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized to perform: macie2:GetMacieSession"), false, false, false},
		{"hub not subscribed", api("InvalidAccessException", "Account 123456789012 is not subscribed to AWS Security Hub"), false, false, true},
		{"hub other access error", api("InvalidAccessException", "The account is not a member"), false, false, false},
		{"network", errors.New("dial tcp: connection refused"), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isThrottle(tt.err); got != tt.throttle {
				t.Errorf("isThrottle = %v", got)
			}
			if got := macieNotEnabled(tt.err); got != tt.macieOff {
				t.Errorf("macieNotEnabled = %v", got)
			}
			if got := notSubscribed(tt.err); got != tt.hubMissing {
				t.Errorf("notSubscribed = %v", got)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	ids := make([]string, 123)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	var sizes []int
	for _, b := range batches(ids, 50) {
		sizes = append(sizes, len(b))
	}
	if fmt.Sprint(sizes) != "[50 50 23]" || len(batches(nil, 50)) != 0 {
		t.Errorf("batches: %v", sizes)
	}
}

// netFailGuardDuty fails ListDetectors as the network does: not an
// answer from AWS, so the collection ends with the error rather than a
// problem on a row. deniedGuardDuty refuses it as AWS does.
type (
	netFailGuardDuty struct{ GuardDutyAPI }
	deniedGuardDuty  struct{ GuardDutyAPI }
)

func (netFailGuardDuty) ListDetectors(context.Context, *guardduty.ListDetectorsInput, ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error) {
	return nil, errors.New("connection refused")
}

func (deniedGuardDuty) ListDetectors(context.Context, *guardduty.ListDetectorsInput, ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: guardduty:ListDetectors"}
}

func TestNetworkErrorEndsCollection(t *testing.T) {
	_, err := GuardDuty(context.Background(), newMemSink(), testOptions("us-east-1"), func(string) GuardDutyAPI {
		return netFailGuardDuty{}
	})
	if err == nil || !strings.Contains(err.Error(), "guardduty us-east-1: ListDetectors: connection refused") {
		t.Fatalf("err = %v", err)
	}
	// and a denial is a row, not an error
	rows, err := GuardDuty(context.Background(), newMemSink(), testOptions("us-east-1"), func(string) GuardDutyAPI {
		return deniedGuardDuty{}
	})
	if err != nil || len(rows) != 1 || rows[0].Exists != "unknown" || len(rows[0].Problems) != 1 || !rows[0].Problems[0].Denied {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
}
