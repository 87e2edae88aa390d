package simulate

import "strconv"

// call sets up r as an API call of a in region at time t, recorded in
// account acct, with the catalogue's static requestParameters. The caller
// sets who, ip and ua, and overrides parameters for dynamic calls.
func (r *record) call(a api, region int, t int64, acct string) {
	d := &apis[a]
	if d.global {
		region = rUSE1
	}
	r.version = "1.09"
	r.time = t
	r.source = d.source
	r.name = d.name
	r.region = regions[region]
	r.readOnly = roFalse
	if d.readOnly {
		r.readOnly = roTrue
	}
	r.eventType = "AwsApiCall"
	r.mgmt = !d.data
	r.recipient = acct
	r.req = append(r.req, d.req...)
	r.tls = tls13
	r.tlsHost = hosts[a][region]
	r.s3ReqID = d.svc == "s3"
}

// byService marks r as made by an AWS service for itself or through a
// service-linked role: no TLS details, service name as address and agent.
func (r *record) byService(svc string) {
	r.ip, r.ua, r.tls, r.tlsHost = svc, svc, tlsNone, ""
}

// errorCode for an authorisation failure of svc, as CloudTrail records it
// for that service's protocol.
func denyCode(svc string) string {
	switch svc {
	case "ec2":
		return "Client.UnauthorizedOperation"
	case "iam", "sts", "s3", "rds", "monitoring", "autoscaling", "cloudformation":
		return "AccessDenied"
	}
	return "AccessDeniedException"
}

// deny turns r into a failed call: principal was not allowed to call a on
// resourceARN (empty for unscoped actions); scp says the deny came from a
// service control policy rather than a missing allow.
func (r *record) deny(a api, principal, resourceARN string, scp bool) {
	d := &apis[a]
	r.errCode = denyCode(d.svc)
	r.resp = r.resp[:0]
	if d.svc == "s3" {
		r.errMsg = "Access Denied"
		return
	}
	act := actionName(a)
	m := "User: " + principal + " is not authorized to perform: " + act
	if resourceARN != "" {
		m += " on resource: " + resourceARN
	}
	if scp {
		m += " with an explicit deny in a service control policy"
	} else {
		m += " because no identity-based policy allows the " + act + " action"
	}
	if d.svc == "ec2" {
		m = "You are not authorized to perform this operation. " + m
	}
	r.errMsg = m
}

// cliUA is the user agent of u running the aws-cli command of a.
func cliUA(u *user, a api) string {
	if u.boto {
		return u.cli
	}
	if u.newCLI {
		return u.cli + " md/command#" + apis[a].cli
	}
	return u.cli + " command/" + apis[a].cli
}

// assumeRole fills AssumeRole parameters and the credentials issued.
// CloudTrail never records the secret key; the session token is left out
// too so nothing here looks like a usable credential.
func (r *record) assumeRole(ro *role, session, keyID string, duration int64, externalID string) {
	r.req = r.req[:0]
	r.req = append(r.req, '{')
	r.req = kstr(r.req, "roleArn", ro.arn)
	r.req = kstr(r.req, "roleSessionName", session)
	if duration > 0 {
		r.req = kint(r.req, "durationSeconds", duration)
	}
	if externalID != "" {
		r.req = kstr(r.req, "externalId", externalID)
	}
	r.req = append(r.req, '}')
	r.stsCredentials(ro, session, keyID, duration)
	r.res = append(r.res, resource{account: ro.account, typ: "AWS::IAM::Role", arn: ro.arn})
}

func (r *record) stsCredentials(ro *role, session, keyID string, duration int64) {
	if duration <= 0 {
		duration = 3600
	}
	r.resp = append(r.resp[:0], '{')
	r.resp = kobj(r.resp, "credentials")
	r.resp = kstr(r.resp, "accessKeyId", keyID)
	r.resp = kstr(r.resp, "expiration", awsDate(r.time+duration))
	r.resp = append(r.resp, '}')
	r.resp = kobj(r.resp, "assumedRoleUser")
	r.resp = kstr(r.resp, "assumedRoleId", ro.id+":"+session)
	r.resp = kstr(r.resp, "arn", ro.sessionARN(session))
	r.resp = append(r.resp, '}', '}')
}

// s3Object fills an S3 object-level data event.
func (r *record) s3Object(g *rng, acct, bucket, objKey string, out, in int64) {
	h := bucket + ".s3." + r.region + ".amazonaws.com"
	r.req = append(r.req[:0], '{')
	r.req = kstr(r.req, "bucketName", bucket)
	r.req = kstr(r.req, "Host", h)
	r.req = kstr(r.req, "key", objKey)
	if r.name == "PutObject" {
		r.req = kstr(r.req, "x-amz-server-side-encryption", "AES256")
		r.resp = append(r.resp[:0], `{"x-amz-server-side-encryption":"AES256"}`...)
	}
	r.req = append(r.req, '}')
	r.s3Extra(g, out, in)
	r.tlsHost = h
	r.res = append(r.res,
		resource{typ: "AWS::S3::Object", arn: "arn:aws:s3:::" + bucket + "/" + objKey},
		resource{account: acct, typ: "AWS::S3::Bucket", arn: "arn:aws:s3:::" + bucket})
}

// s3Bucket fills a bucket-level S3 call (ListObjects, GetBucketPolicy ...).
func (r *record) s3Bucket(g *rng, acct, bucket, sub string, prefix string) {
	h := bucket + ".s3." + r.region + ".amazonaws.com"
	r.req = append(r.req[:0], '{')
	if r.name == "ListObjects" {
		r.req = kstr(r.req, "list-type", "2")
		r.req = kstr(r.req, "bucketName", bucket)
		r.req = kstr(r.req, "encoding-type", "url")
		r.req = kstr(r.req, "max-keys", "1000")
		r.req = kstr(r.req, "prefix", prefix)
		r.req = kstr(r.req, "delimiter", "/")
	} else {
		r.req = kstr(r.req, "bucketName", bucket)
		r.req = kstr(r.req, sub, "")
	}
	r.req = kstr(r.req, "Host", h)
	r.req = append(r.req, '}')
	r.s3Extra(g, int64(g.between(300, 9000)), 0)
	r.tlsHost = h
	r.res = append(r.res, resource{account: acct, typ: "AWS::S3::Bucket", arn: "arn:aws:s3:::" + bucket})
}

// listBuckets fills the account-level ListBuckets call.
func (r *record) listBuckets(g *rng) {
	r.req = append(r.req[:0], `{"Host":"`...)
	r.req = append(r.req, r.tlsHost...)
	r.req = append(r.req, `"}`...)
	r.s3Extra(g, int64(g.between(800, 4000)), 0)
}

func (r *record) s3Extra(g *rng, out, in int64) {
	r.add = append(r.add[:0], '{')
	r.add = kstr(r.add, "SignatureVersion", "SigV4")
	if r.tls == tls12 {
		r.add = kstr(r.add, "CipherSuite", "ECDHE-RSA-AES128-GCM-SHA256")
	} else {
		r.add = kstr(r.add, "CipherSuite", "TLS_AES_128_GCM_SHA256")
	}
	r.add = kint(r.add, "bytesTransferredIn", in)
	r.add = kstr(r.add, "AuthenticationMethod", "AuthHeader")
	r.add = append(key(r.add, "x-amz-id-2"), '"')
	r.add = appendAmzID2(r.add, g)
	r.add = append(r.add, '"')
	r.add = kint(r.add, "bytesTransferredOut", out)
	r.add = append(r.add, '}')
}

// kmsCall fills Decrypt or GenerateDataKey under keyARN with an encryption
// context naming what the data key protects.
func (r *record) kmsCall(keyARN, ctxKey, ctxVal string) {
	r.req = append(r.req[:0], '{')
	if r.name == "GenerateDataKey" {
		r.req = kstr(r.req, "keyId", keyARN)
	}
	r.req = kobj(r.req, "encryptionContext")
	r.req = kstr(r.req, ctxKey, ctxVal)
	r.req = append(r.req, '}')
	if r.name == "GenerateDataKey" {
		r.req = kstr(r.req, "keySpec", "AES_256")
	} else {
		r.req = kstr(r.req, "encryptionAlgorithm", "SYMMETRIC_DEFAULT")
	}
	r.req = append(r.req, '}')
	r.res = append(r.res, resource{account: keyAccount(keyARN), typ: "AWS::KMS::Key", arn: keyARN})
}

// keyAccount extracts the account id from a KMS key ARN.
func keyAccount(arn string) string {
	// arn:aws:kms:<region>:<account>:key/...
	n := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' {
			n++
			if n == 4 && i+13 <= len(arn) {
				return arn[i+1 : i+13]
			}
		}
	}
	return ""
}

// oneParam fills {"<k>":"<v>"}.
func (r *record) oneParam(k, v string) {
	r.req = append(r.req[:0], '{')
	r.req = kstr(r.req, k, v)
	r.req = append(r.req, '}')
}

// instancesItems appends {"items":[{"instanceId":...}]}.
func instancesItems(b []byte, ids ...string) []byte {
	b = append(b, `{"items":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"instanceId":"`...)
		b = append(b, id...)
		b = append(b, `"}`...)
	}
	return append(b, `]}`...)
}

// itoa is strconv.Itoa for int64.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
