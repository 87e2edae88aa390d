package cloudtrail

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 3, 14, 9, 12, 33, 0, time.UTC)

var parseEventTests = []struct {
	name string
	raw  string
	// want holds the typed fields to expect; its JSON members
	// (UserIdentity, RequestParameters ...) are compared only when not nil.
	want Event
	err  error
}{
	{
		name: "IAMUser",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE",` +
			`"arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE",` +
			`"userName":"alice"},"eventTime":"2026-03-14T09:12:33Z","eventSource":"iam.amazonaws.com",` +
			`"eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7",` +
			`"userAgent":"aws-cli/2.15.0","requestParameters":{"userName":"bob"},` +
			`"responseElements":{"user":{"userName":"bob"}},"requestID":"req-1","eventID":"ev-1",` +
			`"readOnly":false,"eventType":"AwsApiCall","managementEvent":true,` +
			`"recipientAccountId":"111122223333","eventCategory":"Management","vpcEndpointId":"vpce-1"}`,
		want: Event{
			Time: t0, EventID: "ev-1", EventName: "CreateUser", EventSource: "iam.amazonaws.com",
			Region: "us-east-1", SourceIP: "198.51.100.7", UserAgent: "aws-cli/2.15.0",
			ReadOnly: OptBool{Value: false, Valid: true}, EventType: "AwsApiCall", EventCategory: "Management",
			ManagementEvent: OptBool{Value: true, Valid: true}, RecipientAccountID: "111122223333",
			RequestID: "req-1", EventVersion: "1.08", VPCEndpointID: "vpce-1",
			Identity: Identity{
				Type: "IAMUser", ARN: "arn:aws:iam::111122223333:user/alice", PrincipalID: "AIDAEXAMPLE",
				AccountID: "111122223333", AccessKeyID: "AKIAEXAMPLE", UserName: "alice",
			},
			RequestParameters: []byte(`{"userName":"bob"}`),
			ResponseElements:  []byte(`{"user":{"userName":"bob"}}`),
			Resource:          "user/bob",
		},
	},
	{
		name: "AssumedRole with session context",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:dev",` +
			`"arn":"arn:aws:sts::111122223333:assumed-role/Ops/dev","accountId":"111122223333",` +
			`"accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role",` +
			`"principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/Ops","accountId":"111122223333",` +
			`"userName":"Ops"},"webIdFederationData":{},"attributes":{"creationDate":"2026-03-14T08:00:00Z",` +
			`"mfaAuthenticated":"true"},"sourceIdentity":"alice@example.com"}},` +
			`"eventTime":"2026-03-14T09:12:33Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",` +
			`"requestParameters":{"bucketName":"b","key":"k"},"readOnly":true}`,
		want: Event{
			Time: t0, EventName: "GetObject", EventSource: "s3.amazonaws.com",
			ReadOnly: OptBool{Value: true, Valid: true}, EventVersion: "1.08",
			Identity: Identity{
				Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/Ops/dev",
				PrincipalID: "AROAEXAMPLE:dev", AccountID: "111122223333", AccessKeyID: "ASIAEXAMPLE",
				SessionIssuerType: "Role", SessionIssuerARN: "arn:aws:iam::111122223333:role/Ops",
				SessionIssuerName: "Ops", SessionIssuerAccountID: "111122223333",
				MFAAuthenticated: OptBool{Value: true, Valid: true},
				SessionCreated:   time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC),
				SourceIdentity:   "alice@example.com",
			},
			Resource: "s3://b/k",
		},
	},
	{
		name: "AWSAccount cross-account",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"AWSAccount","principalId":"AIDAOTHER",` +
			`"accountId":"444455556666"},"eventTime":"2026-03-14T09:12:33Z","eventSource":"kms.amazonaws.com",` +
			`"eventName":"Decrypt","recipientAccountId":"111122223333","sharedEventID":"shared-1",` +
			`"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k1"}]}`,
		want: Event{
			Time: t0, EventName: "Decrypt", EventSource: "kms.amazonaws.com", EventVersion: "1.08",
			RecipientAccountID: "111122223333", SharedEventID: "shared-1",
			Identity: Identity{Type: "AWSAccount", PrincipalID: "AIDAOTHER", AccountID: "444455556666"},
			Resource: "arn:aws:kms:us-east-1:111122223333:key/k1",
		},
	},
	{
		name: "AWSService invokedBy",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},` +
			`"eventTime":"2026-03-14T09:12:33Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole",` +
			`"sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com",` +
			`"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/web","roleSessionName":"i-0abc"}}`,
		want: Event{
			Time: t0, EventName: "AssumeRole", EventSource: "sts.amazonaws.com", EventVersion: "1.08",
			SourceIP: "ec2.amazonaws.com", UserAgent: "ec2.amazonaws.com",
			Identity: Identity{Type: "AWSService", InvokedBy: "ec2.amazonaws.com"},
			Resource: "arn:aws:iam::111122223333:role/web",
		},
	},
	{
		name: "WebIdentity federated provider",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAWEB:gh",` +
			`"arn":"arn:aws:sts::111122223333:assumed-role/ci/gh","accountId":"111122223333",` +
			`"sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/ci","userName":"ci"},` +
			`"webIdFederationData":{"federatedProvider":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",` +
			`"attributes":{}},"attributes":{"creationDate":"2026-03-14T09:00:00Z","mfaAuthenticated":"false"}}},` +
			`"eventTime":"2026-03-14T09:12:33Z","eventSource":"s3.amazonaws.com","eventName":"PutObject"}`,
		want: Event{
			Time: t0, EventName: "PutObject", EventSource: "s3.amazonaws.com", EventVersion: "1.08",
			Identity: Identity{
				Type: "AssumedRole", ARN: "arn:aws:sts::111122223333:assumed-role/ci/gh", PrincipalID: "AROAWEB:gh",
				AccountID: "111122223333", SessionIssuerType: "Role", SessionIssuerARN: "arn:aws:iam::111122223333:role/ci",
				SessionIssuerName: "ci", MFAAuthenticated: OptBool{Value: false, Valid: true},
				SessionCreated:   time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC),
				IdentityProvider: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
			},
		},
	},
	{
		name: "WebIdentityUser",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"WebIdentityUser","principalId":"accounts.google.com:app:user",` +
			`"userName":"user","identityProvider":"accounts.google.com"},"eventTime":"2026-03-14T09:12:33Z",` +
			`"eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithWebIdentity"}`,
		want: Event{
			Time: t0, EventName: "AssumeRoleWithWebIdentity", EventSource: "sts.amazonaws.com", EventVersion: "1.08",
			Identity: Identity{Type: "WebIdentityUser", PrincipalID: "accounts.google.com:app:user", UserName: "user",
				IdentityProvider: "accounts.google.com"},
		},
	},
	{
		name: "SAMLUser",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"SAMLUser","principalId":"SAMLEXAMPLE:alice",` +
			`"userName":"alice","identityProvider":"arn:aws:iam::111122223333:saml-provider/Okta"},` +
			`"eventTime":"2026-03-14T09:12:33Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithSAML"}`,
		want: Event{
			Time: t0, EventName: "AssumeRoleWithSAML", EventSource: "sts.amazonaws.com", EventVersion: "1.08",
			Identity: Identity{Type: "SAMLUser", PrincipalID: "SAMLEXAMPLE:alice", UserName: "alice",
				IdentityProvider: "arn:aws:iam::111122223333:saml-provider/Okta"},
		},
	},
	{
		name: "Root",
		raw: `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333",` +
			`"arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-03-14T09:12:33Z",` +
			`"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},` +
			`"additionalEventData":{"MFAUsed":"No"},"eventType":"AwsConsoleSignIn"}`,
		want: Event{
			Time: t0, EventName: "ConsoleLogin", EventSource: "signin.amazonaws.com", EventVersion: "1.08",
			EventType: "AwsConsoleSignIn",
			Identity: Identity{Type: "Root", PrincipalID: "111122223333", ARN: "arn:aws:iam::111122223333:root",
				AccountID: "111122223333"},
			ResponseElements:    []byte(`{"ConsoleLogin":"Success"}`),
			AdditionalEventData: []byte(`{"MFAUsed":"No"}`),
		},
	},
	{
		name: "error code and message",
		raw: `{"eventTime":"2026-03-14T09:12:33Z","eventName":"GetObject","errorCode":"AccessDenied",` +
			`"errorMessage":"Access Denied"}`,
		want: Event{Time: t0, EventName: "GetObject", ErrorCode: "AccessDenied", ErrorMessage: "Access Denied"},
	},
	{
		name: "insight event without identity",
		raw: `{"eventVersion":"1.07","eventTime":"2026-03-14T09:12:33Z","awsRegion":"us-east-1","eventID":"ev-2",` +
			`"eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start"},"eventCategory":"Insight"}`,
		want: Event{Time: t0, EventVersion: "1.07", Region: "us-east-1", EventID: "ev-2",
			EventType: "AwsCloudTrailInsight", EventCategory: "Insight"},
	},
	{
		name: "missing fields",
		raw:  `{"eventName":"ListBuckets"}`,
		want: Event{EventName: "ListBuckets"},
	},
	{
		name: "null fields",
		raw: `{"eventName":"ListBuckets","eventTime":null,"userIdentity":null,"requestParameters":null,` +
			`"errorCode":null,"readOnly":null,"resources":null}`,
		want: Event{EventName: "ListBuckets"},
	},
	{
		name: "readOnly as a string",
		raw:  `{"eventName":"ListBuckets","readOnly":"true","managementEvent":"FALSE"}`,
		want: Event{EventName: "ListBuckets", ReadOnly: OptBool{Value: true, Valid: true},
			ManagementEvent: OptBool{Value: false, Valid: true}},
	},
	{
		name: "readOnly neither true nor false",
		raw:  `{"eventName":"ListBuckets","readOnly":"maybe","managementEvent":1}`,
		want: Event{EventName: "ListBuckets"},
	},
	{
		name: "number sourceIPAddress",
		raw:  `{"eventTime":"2026-03-14T09:12:33Z","eventName":"GetObject","sourceIPAddress":3325256711,"awsRegion":"us-east-1"}`,
		want: Event{Time: t0, EventName: "GetObject", SourceIP: "3325256711", Region: "us-east-1"},
	},
	{
		name: "object userAgent",
		raw: `{"eventTime":"2026-03-14T09:12:33Z","eventName":"GetObject","userAgent":{"name":"x"},` +
			`"readOnly":true,"userIdentity":{"type":"IAMUser","accountId":111122223333,"userName":"alice",` +
			`"sessionContext":{"attributes":{"mfaAuthenticated":"true","creationDate":"2026-03-14T08:00:00Z"}}},` +
			`"requestParameters":{"bucketName":"b"}}`,
		want: Event{Time: t0, EventName: "GetObject", UserAgent: `{"name":"x"}`, ReadOnly: OptBool{Value: true, Valid: true},
			Identity: Identity{Type: "IAMUser", AccountID: "111122223333", UserName: "alice",
				MFAAuthenticated: OptBool{Value: true, Valid: true}, SessionCreated: time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)},
			Resource: "s3://b"},
	},
	{
		name: "sessionContext of the wrong type",
		raw:  `{"eventName":"GetObject","userIdentity":{"type":"AssumedRole","arn":"arn:x","sessionContext":"s"}}`,
		want: Event{EventName: "GetObject", Identity: Identity{Type: "AssumedRole", ARN: "arn:x"}},
	},
	{
		name: "userIdentity not an object",
		raw:  `{"eventName":"GetObject","userIdentity":"alice"}`,
		want: Event{EventName: "GetObject", UserIdentity: []byte(`"alice"`)},
	},
	{
		name: "eventTime with fractions and an offset",
		raw:  `{"eventName":"A","eventTime":"2026-03-14T11:12:33.123456+02:00"}`,
		want: Event{EventName: "A", Time: t0.Add(123456 * time.Microsecond)},
	},
	{
		name: "eventTime unparseable",
		raw:  `{"eventName":"A","eventTime":"14/03/2026 09:12"}`,
		want: Event{EventName: "A"},
	},
	{
		name: "eventTime a number",
		raw:  `{"eventName":"A","eventTime":1773479553}`,
		want: Event{EventName: "A"},
	},
	{
		name: "only eventTime",
		raw:  `{"eventTime":"2026-03-14T09:12:33Z"}`,
		want: Event{Time: t0},
	},
	{
		name: "invalid UTF-8",
		raw: `{"eventName":"Get` + "\xff" + `Object","eventTime":"2026-03-14T09:12:33Z",` +
			`"userIdentity":{"type":"IAMUser","userName":"al` + "\xc3" + `ice"},"requestParameters":{"key":"` + "\xfe" + `"}}`,
		want: Event{Time: t0, EventName: "Get\uFFFDObject",
			Identity:          Identity{Type: "IAMUser", UserName: "al\uFFFDice"},
			RequestParameters: []byte(`{"key":"` + "\uFFFD" + `"}`)},
	},
	{
		name: "invalid UTF-8 on the lenient path",
		raw:  `{"eventName":"Get` + "\xff" + `Object","eventTime":"2026-03-14T09:12:33Z","sourceIPAddress":7}`,
		want: Event{Time: t0, EventName: "Get\uFFFDObject", SourceIP: "7"},
	},

	// Not events.
	{name: "object without event fields", raw: `{"foo":1,"userIdentity":{"type":"Root"}}`, err: ErrNotEvent},
	{name: "empty object", raw: `{}`, err: ErrNotEvent},
	{name: "only an unparseable eventTime", raw: `{"eventTime":"garbage"}`, err: ErrNotEvent},
	{name: "lenient path without event fields", raw: `{"foo":1,"eventName":null,"awsRegion":5}`, err: ErrNotEvent},
	{name: "array", raw: `[{"eventName":"A"}]`, err: ErrNotEvent},
	{name: "string", raw: `"eventName"`, err: ErrNotEvent},
	{name: "null", raw: `null`, err: ErrNotEvent},
	{name: "number", raw: `42`, err: ErrNotEvent},
	{name: "truncated JSON", raw: `{"eventName":"A",`, err: ErrSyntax},
	{name: "trailing data", raw: `{"eventName":"A"} {"eventName":"B"}`, err: ErrSyntax},
	{name: "trailing comma", raw: `{"eventName":"A",}`, err: ErrSyntax},
	{name: "empty input", raw: ``, err: ErrSyntax},
	{name: "not JSON", raw: `eventName=A`, err: ErrSyntax},
}

func TestParseEvent(t *testing.T) {
	for _, tt := range parseEventTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.raw))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseEvent: %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			// JSON members the case does not state are not compared.
			for _, m := range []struct{ got, want *[]byte }{
				{&got.UserIdentity, &tt.want.UserIdentity},
				{&got.RequestParameters, &tt.want.RequestParameters},
				{&got.ResponseElements, &tt.want.ResponseElements},
				{&got.AdditionalEventData, &tt.want.AdditionalEventData},
				{&got.Resources, &tt.want.Resources},
				{&got.ServiceEventDetails, &tt.want.ServiceEventDetails},
			} {
				if *m.want == nil {
					*m.got = nil
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEvent:\n got %+v\nwant %+v", got, tt.want)
			}
			if !got.Time.IsZero() && got.Time.Location() != time.UTC {
				t.Errorf("Time in %v, want UTC", got.Time.Location())
			}
		})
	}
}

// TestParseEventJSONMembers checks that nested members keep their JSON text
// and that null members are nil, on both the typed and the lenient path.
func TestParseEventJSONMembers(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		raw := `{"eventName":"A","userIdentity":{"type":"Root"},"requestParameters":{"z":"<a&b>","b":[1,2.50,"x"]},` +
			`"responseElements":null,"additionalEventData":{},"resources":[{"ARN":"arn:r"}],"serviceEventDetails":"s"`
		if lenient {
			raw += `,"awsRegion":1` // a number where a string belongs
		}
		raw += `}`
		ev, err := ParseEvent([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			name string
			got  []byte
			want string
		}{
			{"userIdentity", ev.UserIdentity, `{"type":"Root"}`},
			{"requestParameters", ev.RequestParameters, `{"z":"<a&b>","b":[1,2.50,"x"]}`},
			{"additionalEventData", ev.AdditionalEventData, `{}`},
			{"resources", ev.Resources, `[{"ARN":"arn:r"}]`},
			{"serviceEventDetails", ev.ServiceEventDetails, `"s"`},
		} {
			if string(m.got) != m.want {
				t.Errorf("lenient %t: %s = %s, want %s", lenient, m.name, m.got, m.want)
			}
		}
		if ev.ResponseElements != nil {
			t.Errorf("lenient %t: null responseElements = %q, want nil", lenient, ev.ResponseElements)
		}
		if ev.Resource != "arn:r" {
			t.Errorf("lenient %t: Resource = %q, want arn:r", lenient, ev.Resource)
		}
	}
}

// TestParseEventOwnsItsData checks that an Event does not share memory
// with the record it came from: the Decoder reuses that buffer.
func TestParseEventOwnsItsData(t *testing.T) {
	for _, raw := range []string{
		`{"eventName":"Get","userIdentity":{"type":"IAMUser","userName":"alice"},"requestParameters":{"bucketName":"b"}}`,
		`{"eventName":"Get","userIdentity":{"type":"IAMUser","userName":"alice"},"requestParameters":{"bucketName":"b"},"awsRegion":1}`,
	} {
		buf := []byte(raw)
		ev, err := ParseEvent(buf)
		if err != nil {
			t.Fatal(err)
		}
		want := ev.EventName + ev.Identity.UserName + string(ev.UserIdentity) + string(ev.RequestParameters) + ev.Resource
		copy(buf, bytes.Repeat([]byte{'#'}, len(buf)))
		if got := ev.EventName + ev.Identity.UserName + string(ev.UserIdentity) + string(ev.RequestParameters) + ev.Resource; got != want {
			t.Errorf("after the record's buffer was reused, the event reads %q, want %q", got, want)
		}
	}
}

func TestValidUTF8(t *testing.T) {
	if got := ValidUTF8([]byte("ok")); string(got) != "ok" {
		t.Errorf("ValidUTF8(ok) = %q", got)
	}
	if got := ValidUTF8([]byte("a\xffb")); string(got) != "a\uFFFDb" || !utf8.Valid(got) {
		t.Errorf("ValidUTF8(a\\xffb) = %q", got)
	}
}

func TestFormatString(t *testing.T) {
	seen := map[string]bool{}
	for f := FormatUnknown; f <= FormatDigestMetadata; f++ {
		s := f.String()
		if s == "" || (seen[s] && f != FormatUnknown) {
			t.Errorf("Format(%d).String() = %q: empty or used twice", f, s)
		}
		seen[s] = true
		if want := f >= FormatTrailLog && f <= FormatJSONArray; f.HasEvents() != want {
			t.Errorf("%v.HasEvents() = %t, want %t", f, f.HasEvents(), want)
		}
	}
	if s := Format(-1).String(); s != "unknown" {
		t.Errorf("Format(-1) = %q", s)
	}
	if s := Format(99).String(); !strings.Contains(s, "unknown") {
		t.Errorf("Format(99) = %q", s)
	}
}

func TestParseTimeExportLayouts(t *testing.T) {
	want := time.Date(2026, 3, 14, 11, 0, 6, 0, time.UTC)
	for _, s := range []string{"2026-03-14T11:00:06Z", "2026-03-14 11:00:06.000", "2026-03-14 11:00:06", "2026-03-14T11:00:06.000", "2026-03-14T12:00:06+01:00"} {
		if got := parseTime(s); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"", "yesterday", "14/03/2026 11:00"} {
		if got := parseTime(s); !got.IsZero() {
			t.Errorf("parseTime(%q) = %v, want zero", s, got)
		}
	}
}
