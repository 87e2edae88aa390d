package analytics

import "strings"

// sensitiveSources are the services whose every API is sensitive: who can
// do what (IAM, STS, SSO, Organizations), keys and secrets (KMS, Secrets
// Manager), and what watches (CloudTrail, GuardDuty, Security Hub, Config,
// Access Analyzer). A principal's first call to one of them is never
// ignored, however small.
var sensitiveSources = []string{
	"iam.amazonaws.com", "sts.amazonaws.com", "sso.amazonaws.com", "identitystore.amazonaws.com",
	"organizations.amazonaws.com", "kms.amazonaws.com", "secretsmanager.amazonaws.com",
	"cloudtrail.amazonaws.com", "guardduty.amazonaws.com", "securityhub.amazonaws.com",
	"config.amazonaws.com", "access-analyzer.amazonaws.com",
}

// sensitiveAPIs are single sensitive APIs of other services: secrets in
// Parameter Store, sharing disks and images out, SSH keys, bucket policies,
// Lambda resource policies.
var sensitiveAPIs = []string{
	"ssm.amazonaws.com:GetParameter", "ssm.amazonaws.com:GetParameters", "ssm.amazonaws.com:GetParametersByPath",
	"ec2.amazonaws.com:ModifySnapshotAttribute", "ec2.amazonaws.com:ModifyImageAttribute",
	"ec2.amazonaws.com:CreateKeyPair", "ec2.amazonaws.com:ImportKeyPair", "ec2.amazonaws.com:GetPasswordData",
	"s3.amazonaws.com:PutBucketPolicy", "s3.amazonaws.com:PutBucketAcl", "s3.amazonaws.com:DeleteBucketPolicy",
	"s3.amazonaws.com:PutBucketPublicAccessBlock", "lambda.amazonaws.com:AddPermission20150331v2",
	"lambda.amazonaws.com:AddPermission",
}

// sensitiveSQL is true for an api column value (event_source:event_name)
// in the lists above.
func sensitiveSQL(api string) string {
	return "(split_part(" + api + ", ':', 1) IN (" + sqlList(sensitiveSources) + ") OR " + api + " IN (" + sqlList(sensitiveAPIs) + "))"
}

func sqlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = sqlString(s)
	}
	return strings.Join(q, ", ")
}

// technique is an ATT&CK technique and the tactic it serves.
type technique struct{ id, tactic string }

// apiTechniques map the APIs whose meaning is unambiguous to ATT&CK; other
// first uses are discovery when read-only (T1580) and unmapped otherwise.
var apiTechniques = map[string][]technique{
	"CreateUser":                    {{"T1136.003", "persistence"}},
	"CreateLoginProfile":            {{"T1098.001", "persistence"}},
	"UpdateLoginProfile":            {{"T1098.001", "persistence"}},
	"CreateAccessKey":               {{"T1098.001", "persistence"}},
	"AttachUserPolicy":              {{"T1098.003", "persistence"}, {"T1098.003", "privilege-escalation"}},
	"AttachRolePolicy":              {{"T1098.003", "persistence"}, {"T1098.003", "privilege-escalation"}},
	"PutUserPolicy":                 {{"T1098.003", "persistence"}, {"T1098.003", "privilege-escalation"}},
	"PutRolePolicy":                 {{"T1098.003", "persistence"}, {"T1098.003", "privilege-escalation"}},
	"AddUserToGroup":                {{"T1098.003", "persistence"}, {"T1098.003", "privilege-escalation"}},
	"UpdateAssumeRolePolicy":        {{"T1098.003", "persistence"}, {"T1098.003", "privilege-escalation"}},
	"StopLogging":                   {{"T1562.008", "defense-evasion"}},
	"DeleteTrail":                   {{"T1562.008", "defense-evasion"}},
	"UpdateTrail":                   {{"T1562.008", "defense-evasion"}},
	"PutEventSelectors":             {{"T1562.008", "defense-evasion"}},
	"UpdateDetector":                {{"T1562.001", "defense-evasion"}},
	"DeleteDetector":                {{"T1562.001", "defense-evasion"}},
	"StopConfigurationRecorder":     {{"T1562.001", "defense-evasion"}},
	"AuthorizeSecurityGroupIngress": {{"T1562.007", "defense-evasion"}},
	"CreateSnapshot":                {{"T1578.001", "defense-evasion"}},
	"RunInstances":                  {{"T1578.002", "defense-evasion"}},
	"ModifySnapshotAttribute":       {{"T1537", "exfiltration"}},
	"ModifyImageAttribute":          {{"T1537", "exfiltration"}},
	"GetSecretValue":                {{"T1555.006", "credential-access"}},
	"GetParameter":                  {{"T1555.006", "credential-access"}},
	"GetParameters":                 {{"T1555.006", "credential-access"}},
	"GetParametersByPath":           {{"T1555.006", "credential-access"}},
	"GetObject":                     {{"T1530", "collection"}},
	"ListBuckets":                   {{"T1619", "discovery"}},
	"ListObjects":                   {{"T1619", "discovery"}},
	"ListObjectsV2":                 {{"T1619", "discovery"}},
	"GetCallerIdentity":             {{"T1087.004", "discovery"}},
	"AssumeRole":                    {{"T1078.004", "privilege-escalation"}},
}

// techniquesFor maps one API (event_source:event_name) to ATT&CK.
func techniquesFor(api string, write bool) []technique {
	source, name, _ := strings.Cut(api, ":")
	if ts, ok := apiTechniques[name]; ok {
		return ts
	}
	if write {
		return nil
	}
	if source == "iam.amazonaws.com" || source == "organizations.amazonaws.com" || source == "sso.amazonaws.com" || source == "identitystore.amazonaws.com" {
		return []technique{{"T1087.004", "discovery"}}
	}
	return []technique{{"T1580", "discovery"}}
}

// shortAPI drops ".amazonaws.com" from an api: "iam:CreateUser".
func shortAPI(api string) string {
	source, name, ok := strings.Cut(api, ":")
	if !ok {
		return api
	}
	return strings.TrimSuffix(source, ".amazonaws.com") + ":" + name
}
