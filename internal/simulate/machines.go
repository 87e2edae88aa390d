package simulate

// Machines: EC2 instances using their instance-profile role and scheduled
// Lambda functions. They run around the clock and make most of the volume.

const ssmAgentUA = "aws-sdk-go/1.44.260 (go1.21.9; linux; amd64) amazon-ssm-agent/3.3.380.0"

// instApp are the calls an application instance makes, weighted by repeats.
var instApp = []api{aGetObject, aGetObject, aGetObject, aPutObject, aHeadObject, aDecrypt, aDecrypt, aGetSecretValue, aDescribeTags, aListInstanceAssociations}

func (u *unit) genInstances() {
	g := u.rng(3)
	rate := 3 * diurnal(u.hour)
	for i, in := range u.a.instances {
		ep := mix(u.c.seed, strHash(in.id), uint64(u.hour))
		u.add(u.hour+in.phase, kInstAssume, aAssumeRole, in.region, i, ep, 0)
		for t := u.hour + in.phase%300; t < u.hour+hourSecs; t += 300 {
			u.add(t, kInst, aUpdateInstanceInformation, in.region, i, ep, int(t-u.hour))
		}
		n := g.poisson(rate)
		for k := 0; k < n; k++ {
			t := u.hour + int64(g.intn(hourSecs))
			u.add(t, kInst, instApp[g.intn(len(instApp))], in.region, i, ep, 4000+k)
		}
	}
}

// instanceCreds returns the instance's credentials in use at t: they are
// refreshed every hour at the instance's phase.
func (u *unit) instanceCreds(in *instance, t int64) (keyID string, created int64) {
	created = (t-in.phase)/hourSecs*hourSecs + in.phase
	return accessKeyID("ASIA", mix(u.c.seed, strHash(in.id), uint64(created))), created
}

func (u *unit) renderInstance(r *record, s *spec, g *rng) {
	in := u.a.instances[s.actor]
	r.call(s.api, int(s.region), s.t, u.a.id)
	keyID, created := u.instanceCreds(in, s.t)
	if s.kind == kInstAssume {
		r.who = identity{kind: idAWSService, invokedBy: "ec2.amazonaws.com"}
		r.byService("ec2.amazonaws.com")
		r.assumeRole(in.role, in.id, keyID, 0, "")
		r.stsCredentials(in.role, in.id, keyID, 6*hourSecs)
		return
	}
	r.who = identity{kind: idAssumedRole, principal: in.principal, arn: in.arn, account: u.a.id, keyID: keyID,
		session: true, issuer: in.role, created: created, ec2Delivery: true}
	r.ip, r.ua = in.ip, in.ua
	switch s.api {
	case aUpdateInstanceInformation:
		r.ua = ssmAgentUA
		r.req = append(r.req[:0], `{"instanceId":"`...)
		r.req = append(r.req, in.id...)
		r.req = append(r.req, `","agentVersion":"3.3.380.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"10.0.`...)
		r.req = append(r.req, in.id[3:5]...)
		r.req = append(r.req, `.12","computerName":"ip-10-0-`...)
		r.req = append(r.req, in.id[3:5]...)
		if in.region == rUSE1 {
			r.req = append(r.req, `-12.ec2.internal`...)
		} else {
			r.req = append(r.req, `-12.`...)
			r.req = append(r.req, r.region...)
			r.req = append(r.req, `.compute.internal`...)
		}
		r.req = append(r.req, `","agentName":"amazon-ssm-agent","availabilityZone":"`...)
		r.req = append(r.req, r.region...)
		r.req = append(r.req, `a","availabilityZoneId":"`...)
		r.req = append(r.req, r.region[:2]...)
		r.req = append(r.req, r.region[len(r.region)-1])
		r.req = append(r.req, `-az2","sSMConnectionChannel":"ssmmessages"}`...)
	case aListInstanceAssociations:
		r.ua = ssmAgentUA
		r.req = append(r.req[:0], `{"instanceId":"`...)
		r.req = append(r.req, in.id...)
		r.req = append(r.req, `","maxResults":20}`...)
	case aGetObject, aHeadObject:
		r.s3Object(g, u.a.id, in.bucket, objectKey(g, in.bucket), int64(g.between(1_000, 2_000_000)), 0)
		if s.api == aHeadObject {
			r.add = r.add[:0]
			r.s3Extra(g, 0, 0)
		}
	case aPutObject:
		r.s3Object(g, u.a.id, in.bucket, objectKey(g, in.bucket), 0, int64(g.between(1_000, 5_000_000)))
	case aDecrypt:
		r.kmsCall(u.a.kmsKey, "aws:s3:arn", "arn:aws:s3:::"+in.bucket)
	case aGetSecretValue:
		arn := "arn:aws:secretsmanager:" + r.region + ":" + u.a.id + ":secret:" + in.secret + "-Xq3T9b"
		r.oneParam("secretId", in.secret)
		r.res = append(r.res, resource{account: u.a.id, typ: "AWS::SecretsManager::Secret", arn: arn})
	case aDescribeTags:
		r.req = append(r.req[:0], `{"filterSet":{"items":[{"name":"resource-id","valueSet":{"items":[{"value":"`...)
		r.req = append(r.req, in.id...)
		r.req = append(r.req, `"}]}}]}}`...)
	}
}

// lambdaCalls are what the scheduled functions do.
var lambdaCalls = []api{aGetObject, aPutObject, aPutObject, aGetParameter, aDecrypt}

func (u *unit) genLambdas() {
	g := u.rng(4)
	for i, f := range u.a.functions {
		ep := mix(u.c.seed, strHash(f.name), uint64(u.hour))
		first := true
		for t := u.hour + (f.phase+u.hour)%f.period; t < u.hour+hourSecs; t += f.period {
			if first {
				// A new execution environment: credentials and a log stream.
				u.add(t, kLambdaAssume, aAssumeRole, f.region, i, ep, 0)
				u.add(t+1, kLambda, aCreateLogStream, f.region, i, ep, 1)
				first = false
			}
			n := g.between(1, 3)
			for k := 0; k < n; k++ {
				u.add(t+1+int64(k), kLambda, lambdaCalls[g.intn(len(lambdaCalls))], f.region, i, ep, int(t-u.hour)*4+k+2)
			}
		}
	}
}

func (u *unit) renderLambda(r *record, s *spec, g *rng) {
	f := u.a.functions[s.actor]
	r.call(s.api, int(s.region), s.t, u.a.id)
	created := u.hour + (f.phase+u.hour)%f.period
	keyID := accessKeyID("ASIA", mix(s.seed, 11))
	if s.kind == kLambdaAssume {
		r.who = identity{kind: idAWSService, invokedBy: "lambda.amazonaws.com"}
		r.byService("lambda.amazonaws.com")
		r.assumeRole(f.role, f.name, keyID, 0, "")
		r.stsCredentials(f.role, f.name, keyID, 12*hourSecs)
		return
	}
	r.who = identity{kind: idAssumedRole, principal: f.principal, arn: f.arn, account: u.a.id, keyID: keyID,
		session: true, issuer: f.role, created: created}
	r.ip, r.ua = awsPublicIP(mix(s.seed, 12), f.region), f.ua
	switch s.api {
	case aCreateLogStream:
		r.req = append(r.req[:0], `{"logGroupName":"/aws/lambda/`...)
		r.req = append(r.req, f.name...)
		r.req = append(r.req, `","logStreamName":"2026/03/01/[$LATEST]`...)
		r.req = appendS3RequestID(r.req, g)
		r.req = appendS3RequestID(r.req, g)
		r.req = append(r.req, `"}`...)
	case aGetObject:
		r.s3Object(g, u.a.id, f.bucket, objectKey(g, f.bucket), int64(g.between(500, 300_000)), 0)
	case aPutObject:
		r.s3Object(g, u.a.id, f.bucket, "reports/"+f.name+"/"+itoa(s.t)+".json", 0, int64(g.between(500, 90_000)))
	case aGetParameter:
		r.req = append(r.req[:0], `{"name":"/prod/`...)
		r.req = append(r.req, f.name...)
		r.req = append(r.req, `/config","withDecryption":true}`...)
	case aDecrypt:
		r.kmsCall(u.a.kmsKey, "LambdaFunctionName", f.name)
	}
}
