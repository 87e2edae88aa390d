package cloudtrail

import "testing"

var resourceTests = []struct {
	name              string
	source, event     string
	params, resources string
	want              string
}{
	{"S3 bucket and key", "s3.amazonaws.com", "GetObject", `{"bucketName":"corp-data","Host":"corp-data.s3.amazonaws.com","key":"exports/2026/a.csv"}`, ``, "s3://corp-data/exports/2026/a.csv"},
	{"S3 bucket", "s3.amazonaws.com", "PutBucketPolicy", `{"bucketName":"corp-data","policy":"{}"}`, ``, "s3://corp-data"},
	{"IAM user", "iam.amazonaws.com", "CreateUser", `{"userName":"bob","path":"/"}`, ``, "user/bob"},
	{"IAM role", "iam.amazonaws.com", "UpdateAssumeRolePolicy", `{"roleName":"Ops","policyDocument":"{}"}`, ``, "role/Ops"},
	{"IAM policy", "iam.amazonaws.com", "CreatePolicyVersion", `{"policyArn":"arn:aws:iam::111122223333:policy/p","setAsDefault":true}`, ``, "arn:aws:iam::111122223333:policy/p"},
	{"IAM policy attached to a user", "iam.amazonaws.com", "AttachUserPolicy", `{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, ``, "user/bob"},
	{"IAM group", "iam.amazonaws.com", "AddUserToGroup", `{"groupName":"admins"}`, ``, "group/admins"},
	{"access key with its user", "iam.amazonaws.com", "UpdateAccessKey", `{"accessKeyId":"AKIAEXAMPLE","status":"Inactive","userName":"bob"}`, ``, "AKIAEXAMPLE (user/bob)"},
	{"access key alone", "iam.amazonaws.com", "DeleteAccessKey", `{"accessKeyId":"AKIAEXAMPLE"}`, ``, "AKIAEXAMPLE"},
	{"access key created for a user", "iam.amazonaws.com", "CreateAccessKey", `{"userName":"bob"}`, ``, "user/bob"},
	{"role assumed", "sts.amazonaws.com", "AssumeRole", `{"roleArn":"arn:aws:iam::111122223333:role/Ops","roleSessionName":"s"}`, ``, "arn:aws:iam::111122223333:role/Ops"},
	{"RunInstances image", "ec2.amazonaws.com", "RunInstances", `{"instancesSet":{"items":[{"imageId":"ami-0abc","minCount":1,"maxCount":1}]},"instanceType":"t3.micro"}`, ``, "ami-0abc"},
	{"instances, three shown", "ec2.amazonaws.com", "StopInstances", `{"instancesSet":{"items":[{"instanceId":"i-1"},{"instanceId":"i-2"},{"instanceId":"i-3"},{"instanceId":"i-4"}]},"force":false}`, ``, "i-1,i-2,i-3,…"},
	{"instance", "ec2.amazonaws.com", "ModifyInstanceAttribute", `{"instanceId":"i-0abc","userData":"<sensitiveDataRemoved>"}`, ``, "i-0abc"},
	{"instancesSet of the wrong shape", "ec2.amazonaws.com", "RunInstances", `{"instancesSet":"i-1","instanceId":"i-2"}`, ``, "i-2"},
	{"instancesSet of the wrong shape beside a bucket", "s3.amazonaws.com", "GetObject", `{"bucketName":"b","instancesSet":{"items":"x"}}`, ``, "s3://b"},
	{"SSM parameter", "ssm.amazonaws.com", "GetParameter", `{"name":"/prod/db/password","withDecryption":true}`, ``, "parameter/prod/db/password"},
	{"SSM parameter without a slash", "ssm.amazonaws.com", "GetParameter", `{"name":"db-password"}`, ``, "parameter/db-password"},
	{"CloudTrail trail name", "cloudtrail.amazonaws.com", "StopLogging", `{"name":"org-trail"}`, ``, "trail/org-trail"},
	{"CloudTrail trail ARN", "cloudtrail.amazonaws.com", "DeleteTrail", `{"name":"arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"}`, ``, "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"},
	{"CloudTrail trailName", "cloudtrail.amazonaws.com", "PutEventSelectors", `{"trailName":"org-trail","eventSelectors":[]}`, ``, "trail/org-trail"},
	{"name of another service", "glue.amazonaws.com", "DeleteDatabase", `{"name":"sales"}`, ``, "sales"},
	{"Lambda function by ARN", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", `{"functionName":"arn:aws:lambda:us-east-1:111122223333:function:fn","zipFile":"x"}`, ``, "arn:aws:lambda:us-east-1:111122223333:function:fn"},
	{"Lambda function by name", "lambda.amazonaws.com", "GetFunction20150331v2", `{"functionName":"fn"}`, ``, "function/fn"},
	{"secret", "secretsmanager.amazonaws.com", "GetSecretValue", `{"secretId":"prod/db"}`, ``, "secret/prod/db"},
	{"GuardDuty detector", "guardduty.amazonaws.com", "DeleteDetector", `{"detectorId":"12abc"}`, ``, "detector/12abc"},
	{"RDS snapshot", "rds.amazonaws.com", "ModifyDBSnapshotAttribute", `{"dBSnapshotIdentifier":"snap-1","attributeName":"restore"}`, ``, "db-snapshot/snap-1"},
	{"resources fallback", "kms.amazonaws.com", "Decrypt", `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, `[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k1"}]`, "arn:aws:kms:us-east-1:111122223333:key/k1"},
	{"resources fallback skips an empty ARN", "kms.amazonaws.com", "Decrypt", ``, `[{"ARN":""},{"ARN":7},{"ARN":"arn:k2"}]`, "arn:k2"},
	{"requestParameters not an object", "s3.amazonaws.com", "ListBuckets", `"x"`, `[{"ARN":"arn:r"}]`, "arn:r"},
	{"field of the wrong type", "iam.amazonaws.com", "CreateUser", `{"bucketName":5,"userName":"bob"}`, ``, "user/bob"},
	{"nothing named", "sts.amazonaws.com", "GetCallerIdentity", `{}`, `[]`, ""},
	{"nothing at all", "s3.amazonaws.com", "ListBuckets", ``, ``, ""},
	{"malformed JSON", "s3.amazonaws.com", "GetObject", `{"bucketName":"b"`, `[{"ARN":`, ""},
}

func TestResource(t *testing.T) {
	for _, tt := range resourceTests {
		t.Run(tt.name, func(t *testing.T) {
			var params, resources []byte
			if tt.params != "" {
				params = []byte(tt.params)
			}
			if tt.resources != "" {
				resources = []byte(tt.resources)
			}
			if got := Resource(tt.source, tt.event, params, resources); got != tt.want {
				t.Errorf("Resource(%s, %s) = %q, want %q", tt.source, tt.event, got, tt.want)
			}
		})
	}
}
