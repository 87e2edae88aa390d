package detect

import "strings"

// A field as Sigma rules name it (CloudTrail's own names, dotted for
// nesting) is read either from one of the events table's VARCHAR columns,
// which hold exactly the record's string (an empty string is NULL there), or
// from a path inside one of the JSON text columns.
type fieldLoc struct {
	column  string   // a VARCHAR column, or ""
	jsonCol string   // the JSON text column to look in
	path    []string // the path inside it; empty means the whole member
	getter  func(e *Event) string
}

var columnFields = map[string]struct {
	column string
	get    func(e *Event) string
}{
	"eventName":          {"event_name", func(e *Event) string { return e.ev.EventName }},
	"eventSource":        {"event_source", func(e *Event) string { return e.ev.EventSource }},
	"awsRegion":          {"aws_region", func(e *Event) string { return e.ev.Region }},
	"sourceIPAddress":    {"source_ip", func(e *Event) string { return e.ev.SourceIP }},
	"userAgent":          {"user_agent", func(e *Event) string { return e.ev.UserAgent }},
	"errorCode":          {"error_code", func(e *Event) string { return e.ev.ErrorCode }},
	"errorMessage":       {"error_message", func(e *Event) string { return e.ev.ErrorMessage }},
	"eventType":          {"event_type", func(e *Event) string { return e.ev.EventType }},
	"eventCategory":      {"event_category", func(e *Event) string { return e.ev.EventCategory }},
	"recipientAccountId": {"recipient_account_id", func(e *Event) string { return e.ev.RecipientAccountID }},
	"sharedEventID":      {"shared_event_id", func(e *Event) string { return e.ev.SharedEventID }},
	"requestID":          {"request_id", func(e *Event) string { return e.ev.RequestID }},
	"eventVersion":       {"event_version", func(e *Event) string { return e.ev.EventVersion }},
	"vpcEndpointId":      {"vpc_endpoint_id", func(e *Event) string { return e.ev.VPCEndpointID }},

	"userIdentity.type":        {"identity_type", func(e *Event) string { return e.ev.Identity.Type }},
	"userIdentity.arn":         {"identity_arn", func(e *Event) string { return e.ev.Identity.ARN }},
	"userIdentity.principalId": {"principal_id", func(e *Event) string { return e.ev.Identity.PrincipalID }},
	"userIdentity.accountId":   {"identity_account_id", func(e *Event) string { return e.ev.Identity.AccountID }},
	"userIdentity.accessKeyId": {"access_key_id", func(e *Event) string { return e.ev.Identity.AccessKeyID }},
	"userIdentity.userName":    {"user_name", func(e *Event) string { return e.ev.Identity.UserName }},
	"userIdentity.invokedBy":   {"invoked_by", func(e *Event) string { return e.ev.Identity.InvokedBy }},

	"userIdentity.sessionContext.sessionIssuer.type":      {"session_issuer_type", func(e *Event) string { return e.ev.Identity.SessionIssuerType }},
	"userIdentity.sessionContext.sessionIssuer.arn":       {"session_issuer_arn", func(e *Event) string { return e.ev.Identity.SessionIssuerARN }},
	"userIdentity.sessionContext.sessionIssuer.userName":  {"session_issuer_name", func(e *Event) string { return e.ev.Identity.SessionIssuerName }},
	"userIdentity.sessionContext.sessionIssuer.accountId": {"session_issuer_account_id", func(e *Event) string { return e.ev.Identity.SessionIssuerAccountID }},
}

var jsonMembers = map[string]string{
	"requestParameters":   "request_parameters",
	"responseElements":    "response_elements",
	"additionalEventData": "additional_event_data",
	"resources":           "resources",
}

// locate says where a field lives.
func locate(field string) fieldLoc {
	if c, ok := columnFields[field]; ok {
		return fieldLoc{column: c.column, getter: c.get}
	}
	parts := strings.Split(field, ".")
	if col, ok := jsonMembers[parts[0]]; ok {
		return fieldLoc{jsonCol: col, path: parts[1:]}
	}
	return fieldLoc{jsonCol: "raw", path: parts}
}
