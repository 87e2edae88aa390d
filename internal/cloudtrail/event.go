package cloudtrail

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-json"
)

// OptBool is a boolean CloudTrail may leave out; Valid is false when absent.
type OptBool struct {
	Value, Valid bool
}

// Event is one CloudTrail event flattened into the columns the store keeps.
// Strings are empty and times zero when the record lacks them; nested
// objects keep their JSON text so nothing the record said is lost.
type Event struct {
	Time               time.Time // eventTime, UTC; zero when absent or unparseable
	EventID            string
	EventName          string
	EventSource        string
	Region             string
	SourceIP           string
	UserAgent          string
	ErrorCode          string
	ErrorMessage       string
	ReadOnly           OptBool
	EventType          string
	EventCategory      string
	ManagementEvent    OptBool
	RecipientAccountID string
	SharedEventID      string
	RequestID          string
	EventVersion       string
	VPCEndpointID      string

	Identity Identity

	// JSON text of nested members; nil when absent or null.
	UserIdentity        []byte
	RequestParameters   []byte
	ResponseElements    []byte
	AdditionalEventData []byte
	Resources           []byte
	ServiceEventDetails []byte

	// Resource names what the call acted on, for timelines (see Resource).
	Resource string
}

// Identity is the flattened userIdentity block: who made the call.
type Identity struct {
	Type                   string
	ARN                    string
	PrincipalID            string
	AccountID              string
	AccessKeyID            string
	UserName               string
	SessionIssuerType      string
	SessionIssuerARN       string
	SessionIssuerName      string
	SessionIssuerAccountID string
	MFAAuthenticated       OptBool
	SessionCreated         time.Time
	InvokedBy              string
	IdentityProvider       string // web identity or SAML provider
	SourceIdentity         string
}

// wireEvent mirrors CloudTrail's record for the fast, typed decode.
type wireEvent struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        json.RawMessage `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            *bool           `json:"readOnly"` // a string here sends the record down the lenient path
	Resources           json.RawMessage `json:"resources"`
	EventType           string          `json:"eventType"`
	ManagementEvent     *bool           `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID"`
	EventCategory       string          `json:"eventCategory"`
	VPCEndpointID       string          `json:"vpcEndpointId"`
	ServiceEventDetails json.RawMessage `json:"serviceEventDetails"`
}

type wireIdentity struct {
	Type             string `json:"type"`
	PrincipalID      string `json:"principalId"`
	ARN              string `json:"arn"`
	AccountID        string `json:"accountId"`
	AccessKeyID      string `json:"accessKeyId"`
	UserName         string `json:"userName"`
	InvokedBy        string `json:"invokedBy"`
	IdentityProvider string `json:"identityProvider"`
	SessionContext   *struct {
		Attributes *struct {
			CreationDate     string `json:"creationDate"`
			MFAAuthenticated string `json:"mfaAuthenticated"` // CloudTrail writes "true"/"false"
		} `json:"attributes"`
		SessionIssuer *struct {
			Type        string `json:"type"`
			PrincipalID string `json:"principalId"`
			ARN         string `json:"arn"`
			AccountID   string `json:"accountId"`
			UserName    string `json:"userName"`
		} `json:"sessionIssuer"`
		WebIDFederationData *struct {
			FederatedProvider string `json:"federatedProvider"`
		} `json:"webIdFederationData"`
		SourceIdentity string `json:"sourceIdentity"`
	} `json:"sessionContext"`
}

// ParseEvent decodes one record. Well-formed CloudTrail takes a fast typed
// path; a record whose fields have unexpected types (a number where a string
// belongs, say) is still read, each value kept as its JSON text. Only
// invalid JSON, or an object with nothing of an event in it, is an error.
func ParseEvent(raw []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(raw, &w); err != nil {
		return parseLenient(raw)
	}
	var id wireIdentity
	if len(w.UserIdentity) > 0 && w.UserIdentity[0] == '{' {
		if err := json.Unmarshal(w.UserIdentity, &id); err != nil {
			return parseLenient(raw)
		}
	}
	t := parseTime(w.EventTime)
	if t.IsZero() && w.EventName == "" && w.EventID == "" && w.EventSource == "" {
		// the same test as parseLenient's: an unreadable eventTime alone
		// does not make an event
		return Event{}, fmt.Errorf("%w: no eventTime, eventName, eventID or eventSource", ErrNotEvent)
	}
	ev := Event{
		Time:                t,
		EventID:             w.EventID,
		EventName:           w.EventName,
		EventSource:         w.EventSource,
		Region:              w.AWSRegion,
		SourceIP:            w.SourceIPAddress,
		UserAgent:           w.UserAgent,
		ErrorCode:           w.ErrorCode,
		ErrorMessage:        w.ErrorMessage,
		ReadOnly:            ptrBool(w.ReadOnly),
		EventType:           w.EventType,
		EventCategory:       w.EventCategory,
		ManagementEvent:     ptrBool(w.ManagementEvent),
		RecipientAccountID:  w.RecipientAccountID,
		SharedEventID:       w.SharedEventID,
		RequestID:           w.RequestID,
		EventVersion:        w.EventVersion,
		VPCEndpointID:       w.VPCEndpointID,
		UserIdentity:        nonNull(w.UserIdentity),
		RequestParameters:   nonNull(w.RequestParameters),
		ResponseElements:    nonNull(w.ResponseElements),
		AdditionalEventData: nonNull(w.AdditionalEventData),
		Resources:           nonNull(w.Resources),
		ServiceEventDetails: nonNull(w.ServiceEventDetails),
	}
	ev.Identity = Identity{
		Type:             id.Type,
		ARN:              id.ARN,
		PrincipalID:      id.PrincipalID,
		AccountID:        id.AccountID,
		AccessKeyID:      id.AccessKeyID,
		UserName:         id.UserName,
		InvokedBy:        id.InvokedBy,
		IdentityProvider: id.IdentityProvider,
	}
	if sc := id.SessionContext; sc != nil {
		if a := sc.Attributes; a != nil {
			ev.Identity.SessionCreated = parseTime(a.CreationDate)
			ev.Identity.MFAAuthenticated = rawBool(json.RawMessage(a.MFAAuthenticated))
		}
		if si := sc.SessionIssuer; si != nil {
			ev.Identity.SessionIssuerType = si.Type
			ev.Identity.SessionIssuerARN = si.ARN
			ev.Identity.SessionIssuerName = si.UserName
			ev.Identity.SessionIssuerAccountID = si.AccountID
		}
		if wf := sc.WebIDFederationData; wf != nil && ev.Identity.IdentityProvider == "" {
			ev.Identity.IdentityProvider = wf.FederatedProvider
		}
		ev.Identity.SourceIdentity = sc.SourceIdentity
	}
	ev.Resource = Resource(ev.EventSource, ev.EventName, ev.RequestParameters, ev.Resources)
	if !utf8.Valid(raw) {
		ev.sanitize()
	}
	return ev, nil
}

// parseLenient reads a record whose values have unexpected types: every
// scalar becomes its text, so the event is kept rather than rejected.
func parseLenient(raw []byte) (Event, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		// Decode reads one value; anything after it makes the record invalid
		return Event{}, fmt.Errorf("%w: data after the JSON value", ErrSyntax)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Event{}, fmt.Errorf("%w: not a JSON object", ErrNotEvent)
	}
	// The members again as JSON text, so that nested objects are kept as
	// the record wrote them rather than re-encoded.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	str := func(m map[string]any, k string) string { return text(m[k]) }
	top := func(k string) string {
		if r := members[k]; len(r) > 0 && (r[0] == '{' || r[0] == '[') {
			return string(r)
		}
		return text(m[k])
	}
	ev := Event{
		Time:                parseTime(str(m, "eventTime")),
		EventID:             top("eventID"),
		EventName:           top("eventName"),
		EventSource:         top("eventSource"),
		Region:              top("awsRegion"),
		SourceIP:            top("sourceIPAddress"),
		UserAgent:           top("userAgent"),
		ErrorCode:           top("errorCode"),
		ErrorMessage:        top("errorMessage"),
		ReadOnly:            anyBool(m["readOnly"]),
		EventType:           top("eventType"),
		EventCategory:       top("eventCategory"),
		ManagementEvent:     anyBool(m["managementEvent"]),
		RecipientAccountID:  top("recipientAccountId"),
		SharedEventID:       top("sharedEventID"),
		RequestID:           top("requestID"),
		EventVersion:        top("eventVersion"),
		VPCEndpointID:       top("vpcEndpointId"),
		UserIdentity:        nonNull(members["userIdentity"]),
		RequestParameters:   nonNull(members["requestParameters"]),
		ResponseElements:    nonNull(members["responseElements"]),
		AdditionalEventData: nonNull(members["additionalEventData"]),
		Resources:           nonNull(members["resources"]),
		ServiceEventDetails: nonNull(members["serviceEventDetails"]),
	}
	if ev.Time.IsZero() && ev.EventName == "" && ev.EventID == "" && ev.EventSource == "" {
		return Event{}, fmt.Errorf("%w: no eventTime, eventName, eventID or eventSource", ErrNotEvent)
	}
	if id, ok := m["userIdentity"].(map[string]any); ok {
		ev.Identity = Identity{
			Type: str(id, "type"), ARN: str(id, "arn"), PrincipalID: str(id, "principalId"),
			AccountID: str(id, "accountId"), AccessKeyID: str(id, "accessKeyId"), UserName: str(id, "userName"),
			InvokedBy: str(id, "invokedBy"), IdentityProvider: str(id, "identityProvider"),
		}
		if sc, ok := id["sessionContext"].(map[string]any); ok {
			if a, ok := sc["attributes"].(map[string]any); ok {
				ev.Identity.SessionCreated = parseTime(str(a, "creationDate"))
				ev.Identity.MFAAuthenticated = anyBool(a["mfaAuthenticated"])
			}
			if si, ok := sc["sessionIssuer"].(map[string]any); ok {
				ev.Identity.SessionIssuerType = str(si, "type")
				ev.Identity.SessionIssuerARN = str(si, "arn")
				ev.Identity.SessionIssuerName = str(si, "userName")
				ev.Identity.SessionIssuerAccountID = str(si, "accountId")
			}
			if wf, ok := sc["webIdFederationData"].(map[string]any); ok && ev.Identity.IdentityProvider == "" {
				ev.Identity.IdentityProvider = str(wf, "federatedProvider")
			}
			ev.Identity.SourceIdentity = str(sc, "sourceIdentity")
		}
	}
	ev.Resource = Resource(ev.EventSource, ev.EventName, ev.RequestParameters, ev.Resources)
	ev.sanitize()
	return ev, nil
}

// sanitize replaces invalid UTF-8 so the store, which requires valid text,
// accepts the event; the evidence file keeps the original bytes.
func (ev *Event) sanitize() {
	for _, p := range []*string{&ev.EventID, &ev.EventName, &ev.EventSource, &ev.Region, &ev.SourceIP,
		&ev.UserAgent, &ev.ErrorCode, &ev.ErrorMessage, &ev.EventType, &ev.EventCategory,
		&ev.RecipientAccountID, &ev.SharedEventID, &ev.RequestID, &ev.EventVersion, &ev.VPCEndpointID,
		&ev.Identity.Type, &ev.Identity.ARN, &ev.Identity.PrincipalID, &ev.Identity.AccountID,
		&ev.Identity.AccessKeyID, &ev.Identity.UserName, &ev.Identity.SessionIssuerType,
		&ev.Identity.SessionIssuerARN, &ev.Identity.SessionIssuerName, &ev.Identity.SessionIssuerAccountID,
		&ev.Identity.InvokedBy, &ev.Identity.IdentityProvider, &ev.Identity.SourceIdentity, &ev.Resource} {
		if !utf8.ValidString(*p) {
			*p = strings.ToValidUTF8(*p, "\uFFFD")
		}
	}
	for _, p := range []*[]byte{&ev.UserIdentity, &ev.RequestParameters, &ev.ResponseElements,
		&ev.AdditionalEventData, &ev.Resources, &ev.ServiceEventDetails} {
		if *p != nil && !utf8.Valid(*p) {
			*p = bytes.ToValidUTF8(*p, []byte("\uFFFD"))
		}
	}
}

// ValidUTF8 returns raw, or a copy with invalid UTF-8 replaced, for stores
// that only hold valid text.
func ValidUTF8(raw []byte) []byte {
	if utf8.Valid(raw) {
		return raw
	}
	return bytes.ToValidUTF8(raw, []byte("\uFFFD"))
}

// parseTime reads CloudTrail's ISO 8601 times ("2026-03-14T09:12:33Z", with
// or without fractions or an offset) as UTC; anything else is the zero time.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	// CloudTrail Lake query results and some SIEM exports drop the T and
	// the zone ("2026-03-14 11:00:06.000"); CloudTrail's times are UTC.
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func nonNull(r json.RawMessage) []byte {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return r
}

func rawBool(r json.RawMessage) OptBool {
	switch strings.Trim(string(r), `"`) {
	case "true", "True", "TRUE":
		return OptBool{Value: true, Valid: true}
	case "false", "False", "FALSE":
		return OptBool{Value: false, Valid: true}
	}
	return OptBool{}
}

func anyBool(v any) OptBool {
	switch b := v.(type) {
	case bool:
		return OptBool{Value: b, Valid: true}
	case string:
		return rawBool(json.RawMessage(b))
	}
	return OptBool{}
}

// text renders any JSON value as the string a column can hold.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func ptrBool(b *bool) OptBool {
	if b == nil {
		return OptBool{}
	}
	return OptBool{Value: *b, Valid: true}
}
