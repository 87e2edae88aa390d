package flowlogs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/acquire/cwlogs"
	"github.com/harrier-ir/harrier/internal/awstest"
)

// BenchmarkDownloadS3 measures the S3 path, listing and downloading a
// window's flow-log files from moto_server into a new case, at the default
// concurrency: 240 files of 2,000 records (about 40 kB gzipped) over two
// days, hourly, in the default layout.
//
//	go test -run '^$' -bench DownloadS3 -benchtime 5x ./internal/acquire/flowlogs/
func BenchmarkDownloadS3(b *testing.B) {
	srv := awstest.Moto(b)
	api := s3.NewFromConfig(awstest.Config(srv.URL), awstest.PathStyle)
	since, until := testWindow()
	var objs []seeded
	var total int64
	for d := range 2 {
		day := since.AddDate(0, 0, d)
		for h := range 24 {
			for f := range 5 {
				at := day.Add(time.Duration(h) * time.Hour)
				body := flowFile(b, fmt.Sprintf("eni-%017x", f), at, 2000)
				total += int64(len(body))
				objs = append(objs, seeded{key: fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/%s/%s_vpcflowlogs_us-east-1_fl-0aa11bb22cc33dd4%d_%s_%08x.log.gz",
					account, day.Format("2006/01/02"), account, f, at.Format("20060102T1504Z"), d*1000+h*10+f), body: body})
			}
		}
	}
	seedS3(b, api, objs)
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		c := openCase(b)
		r := &run{c: Clients{S3: func(context.Context, string) (S3API, error) { return api, nil }},
			opts: Options{Account: account, Region: awstest.Region, Since: since, Until: until, Now: time.Now}, sink: cwlogs.CaseSink(c)}
		b.StartTimer()
		if err := r.s3(context.Background(), &destination{kind: types.LogDestinationTypeS3, bucket: bucket}); err != nil {
			b.Fatal(err)
		}
		if r.res.Downloaded != len(objs) || len(r.res.Failed) != 0 {
			b.Fatalf("downloaded %d of %d, failed %v", r.res.Downloaded, len(objs), r.res.Failed)
		}
	}
	b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "files/s")
}
