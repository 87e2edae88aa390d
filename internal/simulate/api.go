package simulate

import "strings"

// api identifies an AWS API call in the catalogue below.
type api uint16

// apiDef says how CloudTrail records one API: its event source, whether it
// is read-only or a data event, whether it is global (IAM, logged in
// us-east-1), and the requestParameters of a typical call when they are
// static. Calls whose parameters vary are filled by the helpers in
// params.go.
type apiDef struct {
	svc      string // IAM action prefix and CLI service name ("ec2")
	name     string
	readOnly bool
	data     bool
	global   bool
	req      string
	cli      string // aws-cli command ("ec2.describe-instances")
	source   string
}

const (
	aGetCallerIdentity api = iota
	aAssumeRole
	aAssumeRoleWithWebIdentity
	aListBuckets
	aGetBucketPolicy
	aGetBucketAcl
	aGetBucketVersioning
	aListObjects
	aGetObject
	aPutObject
	aHeadObject
	aDescribeInstances
	aDescribeSecurityGroups
	aDescribeVpcs
	aDescribeSubnets
	aDescribeVolumes
	aDescribeSnapshots
	aDescribeRegions
	aDescribeTags
	aDescribeImages
	aDescribeInstanceStatus
	aDescribeAccountAttributes
	aDescribeKeyPairs
	aRunInstances
	aTerminateInstances
	aCreateSnapshot
	aModifySnapshotAttribute
	aImportKeyPair
	aCreateSecurityGroup
	aAuthorizeSecurityGroupIngress
	aListUsers
	aListRoles
	aGetUser
	aGetRole
	aListAttachedRolePolicies
	aListAttachedUserPolicies
	aListPolicies
	aListGroupsForUser
	aListAccessKeys
	aListMFADevices
	aGetAccountSummary
	aGetAccountAuthorizationDetails
	aCreateUser
	aAttachUserPolicy
	aCreateAccessKey
	aCreateLoginProfile
	aDescribeTrails
	aGetTrailStatus
	aGetEventSelectors
	aLookupEvents
	aStopLogging
	aStartLogging
	aDeleteTrail
	aPutEventSelectors
	aListDetectors
	aGetDetector
	aUpdateDetector
	aDeleteDetector
	aUpdateInstanceInformation
	aListInstanceAssociations
	aGetParameter
	aGetParametersByPath
	aDescribeParameters
	aDecrypt
	aGenerateDataKey
	aDescribeKey
	aListKeys
	aRotateKey
	aGetSecretValue
	aListSecrets
	aListFunctions
	aGetFunction
	aUpdateFunctionCode
	aDescribeLogGroups
	aFilterLogEvents
	aCreateLogStream
	aListClusters
	aDescribeServices
	aUpdateService
	aRegisterTaskDefinition
	aDescribeTaskDefinition
	aGetAuthorizationToken
	aDescribeRepositories
	aDescribeStacks
	aDescribeDBInstances
	aListTables
	aDescribeTable
	aDescribeOrganization
	aListAccounts
	aDescribeAlarms
	aGetMetricData
	aDescribeAutoScalingGroups
	aConsoleLogin
	aCheckMfa
	apiCount
)

var apis = [apiCount]apiDef{
	aGetCallerIdentity:              {svc: "sts", name: "GetCallerIdentity", readOnly: true},
	aAssumeRole:                     {svc: "sts", name: "AssumeRole", readOnly: true},
	aAssumeRoleWithWebIdentity:      {svc: "sts", name: "AssumeRoleWithWebIdentity", readOnly: true},
	aListBuckets:                    {svc: "s3", name: "ListBuckets", readOnly: true},
	aGetBucketPolicy:                {svc: "s3", name: "GetBucketPolicy", readOnly: true},
	aGetBucketAcl:                   {svc: "s3", name: "GetBucketAcl", readOnly: true},
	aGetBucketVersioning:            {svc: "s3", name: "GetBucketVersioning", readOnly: true},
	aListObjects:                    {svc: "s3", name: "ListObjects", readOnly: true, data: true},
	aGetObject:                      {svc: "s3", name: "GetObject", readOnly: true, data: true},
	aPutObject:                      {svc: "s3", name: "PutObject", data: true},
	aHeadObject:                     {svc: "s3", name: "HeadObject", readOnly: true, data: true},
	aDescribeInstances:              {svc: "ec2", name: "DescribeInstances", readOnly: true, req: `{"instancesSet":{},"filterSet":{}}`},
	aDescribeSecurityGroups:         {svc: "ec2", name: "DescribeSecurityGroups", readOnly: true, req: `{"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{}}`},
	aDescribeVpcs:                   {svc: "ec2", name: "DescribeVpcs", readOnly: true, req: `{"vpcSet":{},"filterSet":{}}`},
	aDescribeSubnets:                {svc: "ec2", name: "DescribeSubnets", readOnly: true, req: `{"subnetSet":{},"filterSet":{}}`},
	aDescribeVolumes:                {svc: "ec2", name: "DescribeVolumes", readOnly: true, req: `{"volumeSet":{},"filterSet":{}}`},
	aDescribeSnapshots:              {svc: "ec2", name: "DescribeSnapshots", readOnly: true, req: `{"snapshotSet":{},"ownersSet":{"items":[{"owner":"self"}]},"sharedUsersSet":{},"filterSet":{}}`},
	aDescribeRegions:                {svc: "ec2", name: "DescribeRegions", readOnly: true, req: `{"regionSet":{},"allRegions":false}`},
	aDescribeTags:                   {svc: "ec2", name: "DescribeTags", readOnly: true, req: `{"filterSet":{"items":[{"name":"resource-type","valueSet":{"items":[{"value":"instance"}]}}]}}`},
	aDescribeImages:                 {svc: "ec2", name: "DescribeImages", readOnly: true, req: `{"executableBySet":{},"imagesSet":{},"ownersSet":{"items":[{"owner":"self"}]},"filterSet":{}}`},
	aDescribeInstanceStatus:         {svc: "ec2", name: "DescribeInstanceStatus", readOnly: true, req: `{"instancesSet":{},"filterSet":{},"includeAllInstances":false}`},
	aDescribeAccountAttributes:      {svc: "ec2", name: "DescribeAccountAttributes", readOnly: true, req: `{"accountAttributeNameSet":{"items":[{"attributeName":"supported-platforms"}]},"filterSet":{}}`},
	aDescribeKeyPairs:               {svc: "ec2", name: "DescribeKeyPairs", readOnly: true, req: `{"keySet":{},"filterSet":{}}`},
	aRunInstances:                   {svc: "ec2", name: "RunInstances"},
	aTerminateInstances:             {svc: "ec2", name: "TerminateInstances"},
	aCreateSnapshot:                 {svc: "ec2", name: "CreateSnapshot"},
	aModifySnapshotAttribute:        {svc: "ec2", name: "ModifySnapshotAttribute"},
	aImportKeyPair:                  {svc: "ec2", name: "ImportKeyPair"},
	aCreateSecurityGroup:            {svc: "ec2", name: "CreateSecurityGroup"},
	aAuthorizeSecurityGroupIngress:  {svc: "ec2", name: "AuthorizeSecurityGroupIngress"},
	aListUsers:                      {svc: "iam", name: "ListUsers", readOnly: true, global: true},
	aListRoles:                      {svc: "iam", name: "ListRoles", readOnly: true, global: true},
	aGetUser:                        {svc: "iam", name: "GetUser", readOnly: true, global: true},
	aGetRole:                        {svc: "iam", name: "GetRole", readOnly: true, global: true},
	aListAttachedRolePolicies:       {svc: "iam", name: "ListAttachedRolePolicies", readOnly: true, global: true},
	aListAttachedUserPolicies:       {svc: "iam", name: "ListAttachedUserPolicies", readOnly: true, global: true},
	aListPolicies:                   {svc: "iam", name: "ListPolicies", readOnly: true, global: true, req: `{"scope":"Local","onlyAttached":false,"policyUsageFilter":"PermissionsPolicy"}`},
	aListGroupsForUser:              {svc: "iam", name: "ListGroupsForUser", readOnly: true, global: true},
	aListAccessKeys:                 {svc: "iam", name: "ListAccessKeys", readOnly: true, global: true},
	aListMFADevices:                 {svc: "iam", name: "ListMFADevices", readOnly: true, global: true},
	aGetAccountSummary:              {svc: "iam", name: "GetAccountSummary", readOnly: true, global: true},
	aGetAccountAuthorizationDetails: {svc: "iam", name: "GetAccountAuthorizationDetails", readOnly: true, global: true, req: `{"filter":["User","Role","Group","LocalManagedPolicy","AWSManagedPolicy"]}`},
	aCreateUser:                     {svc: "iam", name: "CreateUser", global: true},
	aAttachUserPolicy:               {svc: "iam", name: "AttachUserPolicy", global: true},
	aCreateAccessKey:                {svc: "iam", name: "CreateAccessKey", global: true},
	aCreateLoginProfile:             {svc: "iam", name: "CreateLoginProfile", global: true},
	aDescribeTrails:                 {svc: "cloudtrail", name: "DescribeTrails", readOnly: true, req: `{"includeShadowTrails":true}`},
	aGetTrailStatus:                 {svc: "cloudtrail", name: "GetTrailStatus", readOnly: true},
	aGetEventSelectors:              {svc: "cloudtrail", name: "GetEventSelectors", readOnly: true},
	aLookupEvents:                   {svc: "cloudtrail", name: "LookupEvents", readOnly: true, req: `{"maxResults":50}`},
	aStopLogging:                    {svc: "cloudtrail", name: "StopLogging"},
	aStartLogging:                   {svc: "cloudtrail", name: "StartLogging"},
	aDeleteTrail:                    {svc: "cloudtrail", name: "DeleteTrail"},
	aPutEventSelectors:              {svc: "cloudtrail", name: "PutEventSelectors"},
	aListDetectors:                  {svc: "guardduty", name: "ListDetectors", readOnly: true},
	aGetDetector:                    {svc: "guardduty", name: "GetDetector", readOnly: true},
	aUpdateDetector:                 {svc: "guardduty", name: "UpdateDetector"},
	aDeleteDetector:                 {svc: "guardduty", name: "DeleteDetector"},
	aUpdateInstanceInformation:      {svc: "ssm", name: "UpdateInstanceInformation"},
	aListInstanceAssociations:       {svc: "ssm", name: "ListInstanceAssociations", readOnly: true},
	aGetParameter:                   {svc: "ssm", name: "GetParameter", readOnly: true},
	aGetParametersByPath:            {svc: "ssm", name: "GetParametersByPath", readOnly: true},
	aDescribeParameters:             {svc: "ssm", name: "DescribeParameters", readOnly: true, req: `{"maxResults":50}`},
	aDecrypt:                        {svc: "kms", name: "Decrypt", readOnly: true},
	aGenerateDataKey:                {svc: "kms", name: "GenerateDataKey", readOnly: true},
	aDescribeKey:                    {svc: "kms", name: "DescribeKey", readOnly: true},
	aListKeys:                       {svc: "kms", name: "ListKeys", readOnly: true},
	aRotateKey:                      {svc: "kms", name: "RotateKey"},
	aGetSecretValue:                 {svc: "secretsmanager", name: "GetSecretValue", readOnly: true},
	aListSecrets:                    {svc: "secretsmanager", name: "ListSecrets", readOnly: true},
	aListFunctions:                  {svc: "lambda", name: "ListFunctions20150331", readOnly: true},
	aGetFunction:                    {svc: "lambda", name: "GetFunction20150331v2", readOnly: true},
	aUpdateFunctionCode:             {svc: "lambda", name: "UpdateFunctionCode20150331v2"},
	aDescribeLogGroups:              {svc: "logs", name: "DescribeLogGroups", readOnly: true, req: `{"limit":50}`},
	aFilterLogEvents:                {svc: "logs", name: "FilterLogEvents", readOnly: true},
	aCreateLogStream:                {svc: "logs", name: "CreateLogStream"},
	aListClusters:                   {svc: "ecs", name: "ListClusters", readOnly: true},
	aDescribeServices:               {svc: "ecs", name: "DescribeServices", readOnly: true},
	aUpdateService:                  {svc: "ecs", name: "UpdateService"},
	aRegisterTaskDefinition:         {svc: "ecs", name: "RegisterTaskDefinition"},
	aDescribeTaskDefinition:         {svc: "ecs", name: "DescribeTaskDefinition", readOnly: true},
	aGetAuthorizationToken:          {svc: "ecr", name: "GetAuthorizationToken", readOnly: true},
	aDescribeRepositories:           {svc: "ecr", name: "DescribeRepositories", readOnly: true},
	aDescribeStacks:                 {svc: "cloudformation", name: "DescribeStacks", readOnly: true},
	aDescribeDBInstances:            {svc: "rds", name: "DescribeDBInstances", readOnly: true},
	aListTables:                     {svc: "dynamodb", name: "ListTables", readOnly: true},
	aDescribeTable:                  {svc: "dynamodb", name: "DescribeTable", readOnly: true},
	aDescribeOrganization:           {svc: "organizations", name: "DescribeOrganization", readOnly: true, global: true},
	aListAccounts:                   {svc: "organizations", name: "ListAccounts", readOnly: true, global: true},
	aDescribeAlarms:                 {svc: "monitoring", name: "DescribeAlarms", readOnly: true},
	aGetMetricData:                  {svc: "monitoring", name: "GetMetricData", readOnly: true},
	aDescribeAutoScalingGroups:      {svc: "autoscaling", name: "DescribeAutoScalingGroups", readOnly: true},
	aConsoleLogin:                   {svc: "signin", name: "ConsoleLogin"},
	aCheckMfa:                       {svc: "signin", name: "CheckMfa"},
}

func init() {
	for i := range apis {
		d := &apis[i]
		d.source = d.svc + ".amazonaws.com"
		d.cli = cliService(d.svc) + "." + kebab(d.name)
	}
	initHosts()
}

func cliService(svc string) string {
	switch svc {
	case "monitoring":
		return "cloudwatch"
	case "s3":
		return "s3api"
	}
	return svc
}

// kebab turns "DescribeInstances20150331" into "describe-instances".
func kebab(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= '0' && c <= '9' {
			break
		}
		if c >= 'A' && c <= 'Z' {
			if i > 0 && !(name[i-1] >= 'A' && name[i-1] <= 'Z') {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// actionName is the IAM action ("ec2:DescribeInstances") quoted in
// authorisation errors.
func actionName(a api) string {
	d := &apis[a]
	n := d.name
	if i := strings.IndexAny(n, "0123456789"); i > 0 {
		n = n[:i]
	}
	switch d.svc {
	case "monitoring":
		return "cloudwatch:" + n
	case "s3":
		switch n {
		case "GetBucketPolicy", "GetBucketAcl", "GetBucketVersioning":
			return "s3:" + n
		case "ListObjects":
			return "s3:ListBucket"
		case "ListBuckets":
			return "s3:ListAllMyBuckets"
		}
	}
	return d.svc + ":" + n
}

// hosts caches, per API and region, the endpoint a client sends its request
// to, as recorded in tlsDetails.clientProvidedHostHeader.
var hosts [apiCount][len(regions)]string

func initHosts() {
	for a := range hosts {
		d := &apis[a]
		for r, region := range regions {
			switch d.svc {
			case "iam":
				hosts[a][r] = "iam.amazonaws.com"
			case "organizations":
				hosts[a][r] = "organizations.us-east-1.amazonaws.com"
			case "signin":
				hosts[a][r] = "signin.aws.amazon.com"
			case "s3":
				hosts[a][r] = "s3." + region + ".amazonaws.com"
			default:
				hosts[a][r] = d.svc + "." + region + ".amazonaws.com"
			}
		}
	}
}
