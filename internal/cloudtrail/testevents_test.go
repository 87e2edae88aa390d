package cloudtrail

import (
	"fmt"
	"math/rand/v2"
)

// sampleEvent returns event number i of a deterministic stream of realistic
// CloudTrail management events (~1.5 KB each): an assumed-role session
// calling one of a handful of APIs, with the identifiers varying as they do
// in a real trail so that the content compresses like one.
func sampleEvent(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	type api struct{ source, name, params string }
	apis := []api{
		{"s3.amazonaws.com", "GetObject", `{"bucketName":"corp-data-%[1]d","Host":"corp-data-%[1]d.s3.us-east-1.amazonaws.com","key":"exports/2026/03/%08[2]x.parquet"}`},
		{"iam.amazonaws.com", "CreateAccessKey", `{"userName":"svc-deploy-%[1]d"}`},
		{"sts.amazonaws.com", "AssumeRole", `{"roleArn":"arn:aws:iam::111122223333:role/ops-%[1]d","roleSessionName":"session-%08[2]x","durationSeconds":3600}`},
		{"ec2.amazonaws.com", "RunInstances", `{"instancesSet":{"items":[{"imageId":"ami-%017[2]x","minCount":1,"maxCount":1}]},"instanceType":"t3.micro","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false}`},
		{"ssm.amazonaws.com", "GetParameter", `{"name":"/prod/app-%[1]d/db-password","withDecryption":true}`},
		{"kms.amazonaws.com", "Decrypt", `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"aws:lambda:FunctionArn":"arn:aws:lambda:us-east-1:111122223333:function:fn-%[1]d"}}`},
	}
	a := apis[r.IntN(len(apis))]
	n, id := r.IntN(40), r.Uint64()
	sec := i / 10
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole",`+
		`"principalId":"AROAEXAMPLEID%05[1]d:session-%08[2]x","arn":"arn:aws:sts::111122223333:assumed-role/ops-%[1]d/session-%08[2]x",`+
		`"accountId":"111122223333","accessKeyId":"ASIA%016[3]X","sessionContext":{"sessionIssuer":{"type":"Role",`+
		`"principalId":"AROAEXAMPLEID%05[1]d","arn":"arn:aws:iam::111122223333:role/ops-%[1]d","accountId":"111122223333",`+
		`"userName":"ops-%[1]d"},"attributes":{"creationDate":"2026-03-14T%02[4]d:%02[5]d:00Z","mfaAuthenticated":"false"}}},`+
		`"eventTime":"2026-03-14T%02[4]d:%02[5]d:%02[6]dZ","eventSource":"%[7]s","eventName":"%[8]s","awsRegion":"us-east-1",`+
		`"sourceIPAddress":"198.51.100.%[9]d","userAgent":"aws-cli/2.15.%[10]d md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe command/%[8]s",`+
		`"requestParameters":%[11]s,"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4",`+
		`"CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader",`+
		`"x-amz-id-2":"%016[16]x%016[3]x/%[16]x=","bytesTransferredOut":%[9]d},`+
		`"requestID":"%[12]s","eventID":"%[13]s","readOnly":%[14]t,`+
		`"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management",`+
		`"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%[15]s.us-east-1.amazonaws.com"}}`,
		n, uint32(id), id, (sec/3600)%24, (sec/60)%60, sec%60, a.source, a.name, r.IntN(254)+1, r.IntN(100),
		fmt.Sprintf(a.params, n, id), uuid(r), uuid(r), r.IntN(2) == 0, a.source[:len(a.source)-len(".amazonaws.com")],
		r.Uint64())
}

func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(a), uint16(a>>32), uint16(a>>48)&0xfff, uint16(b)&0xfff, b>>16&0xffffffffffff)
}
