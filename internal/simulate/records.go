package simulate

import "strings"

// idKind is userIdentity.type (or its absence for AWS-internal events).
type idKind uint8

const (
	idIAMUser     idKind = iota // long-term user or console session of a user
	idAssumedRole               // role session (AssumeRole*, instance profile, service-linked role)
	idWebIdentity               // the caller of AssumeRoleWithWebIdentity
	idAWSService                // a service acting for itself (ec2.amazonaws.com refreshing instance credentials)
	idAWSAccount                // another account, as seen by the target of a cross-account call
	idInternal                  // "AWS Internal" service events: only accountId and invokedBy
)

var idKindNames = [...]string{"IAMUser", "AssumedRole", "WebIdentityUser", "AWSService", "AWSAccount", ""}

// identity is everything a record's userIdentity block can say.
type identity struct {
	kind      idKind
	principal string
	arn       string
	account   string
	keyID     string
	userName  string

	session       bool  // write sessionContext
	issuer        *role // sessionIssuer for role sessions; nil writes {}
	webIDProvider string
	created       int64
	mfa           bool
	ec2Delivery   bool // instance-profile credentials delivered over IMDSv2

	invokedBy        string
	identityProvider string
}

// resource is one entry of a record's resources array.
type resource struct{ account, typ, arn string }

// Values for record.readOnly; zero omits the field (console sign-in events).
const (
	roOmit int8 = iota
	roFalse
	roTrue
)

// tlsDetails variants seen on public endpoints.
const (
	tlsNone uint8 = iota
	tls12
	tls13
)

// record is one CloudTrail event under construction. Generators fill it and
// render turns it into JSON in CloudTrail's own key order. One record is
// reused for every event a worker writes, so the byte slices keep their
// capacity.
type record struct {
	version   string
	who       identity
	time      int64
	source    string
	name      string
	region    string
	ip        string
	ua        string
	errCode   string
	errMsg    string
	req       []byte // requestParameters object; empty writes null
	resp      []byte // responseElements object; empty writes null
	add       []byte // additionalEventData object; empty omits it
	requestID string // empty generates one
	s3ReqID   bool   // S3-style request id
	eventID   string // empty generates one
	readOnly  int8
	res       []resource
	eventType string
	mgmt      bool
	recipient string
	shared    string
	details   []byte // serviceEventDetails object of service events
	tls       uint8
	tlsHost   string
	console   bool // sessionCredentialFromConsole
}

// reset clears r for the next event, keeping buffer capacity.
func (r *record) reset() {
	req, resp, add, res, det := r.req[:0], r.resp[:0], r.add[:0], r.res[:0], r.details[:0]
	*r = record{req: req, resp: resp, add: add, res: res, details: det}
}

// render appends r as one JSON object. Ids not set on r come from g.
func render(b []byte, r *record, g *rng) []byte {
	b = append(b, '{')
	b = kstr(b, "eventVersion", r.version)
	b = appendIdentity(b, &r.who)
	b = ktime(b, "eventTime", r.time)
	b = kstr(b, "eventSource", r.source)
	b = kstr(b, "eventName", r.name)
	b = kstr(b, "awsRegion", r.region)
	b = kstr(b, "sourceIPAddress", r.ip)
	if r.source == "s3.amazonaws.com" && len(r.ua) > 0 && r.ua[0] != '[' && strings.IndexByte(r.ua, '/') >= 0 {
		// S3 records SDK and CLI agents in brackets.
		b = append(key(b, "userAgent"), '"', '[')
		b = append(escape(b, r.ua), ']', '"')
	} else {
		b = kstr(b, "userAgent", r.ua)
	}
	if r.errCode != "" {
		b = kstr(b, "errorCode", r.errCode)
	}
	if r.errMsg != "" {
		b = kstr(b, "errorMessage", r.errMsg)
	}
	b = rawOrNull(b, "requestParameters", r.req)
	b = rawOrNull(b, "responseElements", r.resp)
	if len(r.add) > 0 {
		b = append(key(b, "additionalEventData"), r.add...)
	}
	if r.eventType != "AwsConsoleSignIn" {
		b = append(key(b, "requestID"), '"')
		switch {
		case r.requestID != "":
			b = append(b, r.requestID...)
		case r.s3ReqID:
			b = appendS3RequestID(b, g)
		default:
			b = appendUUID(b, g)
		}
		b = append(b, '"')
	}
	b = append(key(b, "eventID"), '"')
	if r.eventID != "" {
		b = append(b, r.eventID...)
	} else {
		b = appendUUID(b, g)
	}
	b = append(b, '"')
	if r.readOnly != roOmit {
		b = kbool(b, "readOnly", r.readOnly == roTrue)
	}
	if len(r.res) > 0 {
		b = karr(b, "resources")
		for i, x := range r.res {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if x.account != "" {
				b = kstr(b, "accountId", x.account)
			}
			b = kstr(b, "type", x.typ)
			b = kstr(b, "ARN", x.arn)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = kstr(b, "eventType", r.eventType)
	b = kbool(b, "managementEvent", r.mgmt)
	b = kstr(b, "recipientAccountId", r.recipient)
	if r.shared != "" {
		b = kstr(b, "sharedEventID", r.shared)
	}
	if len(r.details) > 0 {
		b = append(key(b, "serviceEventDetails"), r.details...)
	}
	if r.mgmt {
		b = kstr(b, "eventCategory", "Management")
	} else {
		b = kstr(b, "eventCategory", "Data")
	}
	if r.tls != tlsNone {
		b = kobj(b, "tlsDetails")
		if r.tls == tls13 {
			b = kstr(b, "tlsVersion", "TLSv1.3")
			b = kstr(b, "cipherSuite", "TLS_AES_128_GCM_SHA256")
		} else {
			b = kstr(b, "tlsVersion", "TLSv1.2")
			b = kstr(b, "cipherSuite", "ECDHE-RSA-AES128-GCM-SHA256")
		}
		b = kstr(b, "clientProvidedHostHeader", r.tlsHost)
		b = append(b, '}')
	}
	if r.console {
		b = kstr(b, "sessionCredentialFromConsole", "true")
	}
	return append(b, '}')
}

func rawOrNull(b []byte, k string, v []byte) []byte {
	b = key(b, k)
	if len(v) == 0 {
		return append(b, "null"...)
	}
	return append(b, v...)
}

// appendIdentity appends the userIdentity block.
func appendIdentity(b []byte, id *identity) []byte {
	b = kobj(b, "userIdentity")
	if id.kind != idInternal {
		b = kstr(b, "type", idKindNames[id.kind])
	}
	if id.principal != "" {
		b = kstr(b, "principalId", id.principal)
	}
	if id.arn != "" {
		b = kstr(b, "arn", id.arn)
	}
	if id.account != "" {
		b = kstr(b, "accountId", id.account)
	}
	if id.keyID != "" {
		b = kstr(b, "accessKeyId", id.keyID)
	}
	if id.userName != "" {
		b = kstr(b, "userName", id.userName)
	}
	if id.session {
		b = kobj(b, "sessionContext")
		b = kobj(b, "sessionIssuer")
		if is := id.issuer; is != nil {
			b = kstr(b, "type", "Role")
			b = kstr(b, "principalId", is.id)
			b = kstr(b, "arn", is.arn)
			b = kstr(b, "accountId", is.account)
			b = kstr(b, "userName", is.name)
		}
		b = append(b, '}')
		b = kobj(b, "webIdFederationData")
		if id.webIDProvider != "" {
			b = kstr(b, "federatedProvider", id.webIDProvider)
			b = kraw(b, "attributes", "{}")
		}
		b = append(b, '}')
		b = kobj(b, "attributes")
		b = ktime(b, "creationDate", id.created)
		if id.mfa {
			b = kstr(b, "mfaAuthenticated", "true")
		} else {
			b = kstr(b, "mfaAuthenticated", "false")
		}
		b = append(b, '}')
		if id.ec2Delivery {
			b = kstr(b, "ec2RoleDelivery", "2.0")
		}
		b = append(b, '}')
	}
	if id.invokedBy != "" {
		b = kstr(b, "invokedBy", id.invokedBy)
	}
	if id.identityProvider != "" {
		b = kstr(b, "identityProvider", id.identityProvider)
	}
	return append(b, '}')
}
