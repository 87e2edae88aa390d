package flowlogs

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

const (
	account    = "123456789012" // moto's account
	bucket     = "harrier-flow-bucket"
	flowGroup  = "/vpc/flow-logs"
	deniedIn   = "ap-southeast-2" // DescribeFlowLogs is refused here
	emptyIn    = "eu-west-1"      // a VPC, no flow logs
	firehose   = "arn:aws:firehose:us-east-1:" + account + ":deliverystream/vpc-flows"
	header     = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	deliverArn = "arn:aws:iam::" + account + ":role/flow-logs-delivery"
)

// testWindow is two days, four days ago: moto takes CloudWatch Logs events of
// the last 14 days only.
func testWindow() (time.Time, time.Time) {
	since := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -4)
	return since, since.AddDate(0, 0, 2)
}

// seeded is one object put in the bucket.
type seeded struct {
	key  string
	day  time.Time
	want bool // in the window's days or the grace day after
	body []byte
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// flowFile is a delivered file: the header and n records of the default
// format for an ENI, starting at.
func flowFile(t testing.TB, eni string, at time.Time, n int) []byte {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range n {
		start := at.Add(time.Duration(i) * time.Minute).Unix()
		action := "ACCEPT"
		if i%7 == 3 {
			action = "REJECT"
		}
		fmt.Fprintf(&b, "2 %s %s 172.31.%d.%d 203.0.113.%d %d %d 6 %d %d %d %d %s OK\n",
			account, eni, i%16, 10+i%200, 1+i%250, 32768+i*13%28000, []int{22, 443, 3389, 80}[i%4], 1+i%40, 60+i*97%90000, start, start+60, action)
	}
	return gz(t, b.String())
}

// seedObjects lists the bucket under prefix: each layout (default daily,
// Hive hourly) on the day before the window, its two days, the grace day
// and the day after, a Parquet file, and noise the walk must not list or
// take (other accounts, regions, services, and non-flow-log files).
func seedObjects(t testing.TB, prefix string) []seeded {
	since, _ := testWindow()
	root := "AWSLogs/"
	if prefix != "" {
		root = prefix + "/AWSLogs/"
	}
	var out []seeded
	for d := -1; d <= 3; d++ {
		day := since.AddDate(0, 0, d)
		want := d >= 0 && d <= 2
		for h, hour := range []int{0, 13} {
			at := day.Add(time.Duration(hour) * time.Hour)
			stampMin := at.Add(5 * time.Minute).Format("20060102T1504Z")
			plain := fmt.Sprintf("%s%s/vpcflowlogs/us-east-1/%s/%s_vpcflowlogs_us-east-1_fl-0aa11bb22cc33dd44_%s_%08x.log.gz",
				root, account, day.Format("2006/01/02"), account, stampMin, d*10+h+100)
			hive := fmt.Sprintf("%saws-account-id=%s/aws-service=vpcflowlogs/aws-region=us-east-1/year=%s/month=%s/day=%s/hour=%02d/%s_vpcflowlogs_us-east-1_fl-0ee55ff66aa77bb88_%s_%08x.log.gz",
				root, account, day.Format("2006"), day.Format("01"), day.Format("02"), hour, account, stampMin, d*10+h+200)
			out = append(out,
				seeded{key: plain, day: day, want: want, body: flowFile(t, "eni-0a1b2c3d4e5f60718", at, 20+h)},
				seeded{key: hive, day: day, want: want, body: flowFile(t, "eni-0f9e8d7c6b5a40312", at, 30+h)})
		}
		if d == 1 {
			out = append(out, seeded{key: fmt.Sprintf("%s%s/vpcflowlogs/us-east-1/%s/%s_vpcflowlogs_us-east-1_fl-0cc99dd00ee11ff22_%s_0badf00d.log.parquet",
				root, account, day.Format("2006/01/02"), account, day.Format("20060102T1504Z")), day: day, want: true,
				body: []byte("PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00harrier-test-parquet-columns\x1c\x00\x00\x00PAR1")})
		}
	}
	mid := since.Format("2006/01/02")
	for _, k := range []string{
		root + "210987654321/vpcflowlogs/us-east-1/" + mid + "/210987654321_vpcflowlogs_us-east-1_fl-1_x.log.gz",
		root + account + "/vpcflowlogs/eu-west-1/" + mid + "/" + account + "_vpcflowlogs_eu-west-1_fl-2_x.log.gz",
		root + account + "/elasticloadbalancing/us-east-1/" + mid + "/" + account + "_elasticloadbalancing_x.log.gz",
		root + account + "/vpcflowlogs/us-east-1/" + mid + "/notes.txt",
		root + account + "/vpcflowlogs/us-east-1/" + since.AddDate(-1, 0, 0).Format("2006/01/02") + "/" + account + "_vpcflowlogs_us-east-1_fl-3_old.log.gz",
	} {
		out = append(out, seeded{key: k, body: gz(t, "noise")})
	}
	return out
}

// seedS3 creates the bucket and puts the objects.
func seedS3(t testing.TB, api *s3.Client, objs []seeded) {
	t.Helper()
	ctx := context.Background()
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), Body: bytes.NewReader(o.body),
			Metadata: map[string]string{"delivered-by": "delivery.logs.amazonaws.com"}})
		if err != nil {
			t.Fatalf("put %s: %v", o.key, err)
		}
	}
}

// seedEC2 creates, in us-east-1, two VPCs and a subnet with flow logs to
// S3, CloudWatch Logs and Firehose (the log group with events in and out
// of the window), and in emptyIn a VPC without flow logs.
func seedEC2(t *testing.T, cfg aws.Config) (vpcs []string, subnet string) {
	t.Helper()
	ctx := context.Background()
	api := ec2.NewFromConfig(cfg)
	for range 2 {
		out, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
		if err != nil {
			t.Fatal(err)
		}
		vpcs = append(vpcs, aws.ToString(out.Vpc.VpcId))
	}
	sn, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcs[0]), CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	subnet = aws.ToString(sn.Subnet.SubnetId)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(flowGroup)}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(flowGroup), LogStreamName: aws.String("eni-0a1b2c3d4e5f60718-all")}); err != nil {
		t.Fatal(err)
	}
	since, until := testWindow()
	var evs []cwtypes.InputLogEvent
	for _, at := range []time.Time{since.Add(-time.Hour), since.Add(time.Hour), since.Add(30 * time.Hour), until.Add(time.Hour)} {
		evs = append(evs, cwtypes.InputLogEvent{Timestamp: aws.Int64(at.UnixMilli()),
			Message: aws.String(fmt.Sprintf("2 %s eni-0a1b2c3d4e5f60718 172.31.16.139 172.31.16.21 20641 22 6 20 4249 %d %d ACCEPT OK", account, at.Unix(), at.Unix()+60))})
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(flowGroup), LogStreamName: aws.String("eni-0a1b2c3d4e5f60718-all"), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*ec2.CreateFlowLogsInput{
		{ResourceType: types.FlowLogsResourceTypeVpc, ResourceIds: []string{vpcs[0]}, TrafficType: types.TrafficTypeAll,
			LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::" + bucket)},
		{ResourceType: types.FlowLogsResourceTypeSubnet, ResourceIds: []string{subnet}, TrafficType: types.TrafficTypeReject,
			LogDestinationType: types.LogDestinationTypeCloudWatchLogs, LogGroupName: aws.String(flowGroup), DeliverLogsPermissionArn: aws.String(deliverArn)},
		{ResourceType: types.FlowLogsResourceTypeVpc, ResourceIds: []string{vpcs[1]}, TrafficType: types.TrafficTypeAll,
			LogDestinationType: types.LogDestinationTypeKinesisDataFirehose, LogDestination: aws.String(firehose)},
	} {
		out, err := api.CreateFlowLogs(ctx, in)
		if err != nil || len(out.Unsuccessful) > 0 {
			t.Fatalf("create flow logs: %v %+v", err, out)
		}
	}
	if _, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}, func(o *ec2.Options) { o.Region = emptyIn }); err != nil {
		t.Fatal(err)
	}
	return vpcs, subnet
}

// recorder stands before moto: it records S3 listings and object reads,
// and refuses DescribeFlowLogs in deniedIn as EC2 does.
type recorder struct {
	mu    sync.Mutex
	lists []string // prefixes listed (with "|" and the delimiter)
	gets  []string
}

func (rec *recorder) answer(w http.ResponseWriter, r *http.Request, op string) bool {
	if op == "DescribeFlowLogs" && strings.Contains(r.Header.Get("Authorization"), "/"+deniedIn+"/ec2/") {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: arn:aws:iam::`+account+`:user/responder is not authorized to perform: ec2:DescribeFlowLogs because no identity-based policy allows the ec2:DescribeFlowLogs action</Message></Error></Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>`)
		return true
	}
	b, key, isObject := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method == http.MethodGet && b == bucket {
		rec.mu.Lock()
		if q := r.URL.Query(); !isObject && q.Get("list-type") == "2" {
			rec.lists = append(rec.lists, q.Get("prefix")+"|"+q.Get("delimiter"))
		} else if isObject {
			rec.gets = append(rec.gets, key)
		}
		rec.mu.Unlock()
	}
	return false
}

func (rec *recorder) take() (lists, gets []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	lists, gets = rec.lists, rec.gets
	rec.lists, rec.gets = nil, nil
	return lists, gets
}

// env is moto, seeded, behind a recorder, and clients through it.
type env struct {
	objs   []seeded
	vpcs   []string
	subnet string
	rec    *recorder
	cfg    aws.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := awstest.Moto(t)
	e := &env{rec: &recorder{}}
	direct := awstest.Config(srv.URL)
	e.objs = seedObjects(t, "")
	seedS3(t, s3.NewFromConfig(direct, awstest.PathStyle), e.objs)
	e.vpcs, e.subnet = seedEC2(t, direct)
	e.cfg = awstest.Config(awstest.Front(t, srv.URL, e.rec.answer).URL)
	e.rec.take()
	return e
}

// clients are the region's clients through the recorder.
func (e *env) clients(region string) Clients {
	s3c := s3.NewFromConfig(e.cfg, awstest.PathStyle)
	return Clients{
		EC2:  ec2.NewFromConfig(e.cfg, func(o *ec2.Options) { o.Region = region }),
		Logs: cloudwatchlogs.NewFromConfig(e.cfg, func(o *cloudwatchlogs.Options) { o.Region = region }),
		S3:   func(context.Context, string) (S3API, error) { return s3c, nil },
	}
}

var fixedNow = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }

func options(region string) Options {
	since, until := testWindow()
	return Options{Account: account, Region: region, Since: since, Until: until, Concurrency: 4, Now: fixedNow}
}

func openCase(t testing.TB) *casefile.Case {
	t.Helper()
	c, err := casefile.Open(filepath.Join(t.TempDir(), "case"), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
