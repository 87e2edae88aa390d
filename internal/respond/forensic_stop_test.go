package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/harrier-ir/harrier/internal/awstest"
	"github.com/harrier-ir/harrier/internal/casefile"
)

// TestCollectFailures: an instance without an SSM agent is explained and
// its memory skipped at once, the disks still taken; a capture that never
// ends is given up at its bound (the injected clock: no real wait) and
// stops the plan, saying where the image would go; a refused share stops
// after the snapshots, recorded as failed; an aws/ebs volume to share with
// no customer-managed key named is refused before anything is done.
func TestCollectFailures(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	si := &ssmInstance{}
	refuse := false
	answer := si.answer(t)
	front := awstest.Front(t, moto.URL, func(w http.ResponseWriter, r *http.Request, op string) bool {
		if op == "ModifySnapshotAttribute" && refuse {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code>` +
				`<Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>5d1c</RequestID></Response>`))
			return true
		}
		return answer(w, r, op)
	})
	clock := &fakeClock{now: t0}
	c := forensicClientsFor(front.URL, clock)
	instance, _, cmk, _ := seedForensics(t, c)
	plan := func(o CollectOptions) (*Plan, *Collection, error) {
		p, err := Begin(ctx, c, "case-1", "instance "+instance, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		col, err := PlanCollect(ctx, c, p, instance, o)
		return p, col, err
	}
	mem := CollectOptions{Memory: true, MemoryToolURL: "https://tools.example/avml", MemoryBucket: "evidence"}
	opts := func(log *memLog) ApplyOptions {
		return ApplyOptions{Operator: casefile.Operator{User: "responder"}, Now: clock.Now, Record: log.record, Kind: "collect"}
	}

	t.Run("no SSM agent", func(t *testing.T) {
		si.ping = ""
		p, col, err := plan(mem)
		if err != nil {
			t.Fatal(err)
		}
		if memoryStep(p).Skip == "" || !strings.Contains(memoryStep(p).Skip, "not an SSM managed instance") || !strings.Contains(memoryStep(p).Skip, "AmazonSSMManagedInstanceCore") ||
			col.Memory.Skipped == "" {
			t.Fatalf("memory step %+v", memoryStep(p))
		}
		log := &memLog{}
		sleeps := clock.sleeps
		res, err := Apply(ctx, c, p, opts(log))
		// the root volume kept past termination, and both snapshots
		if err != nil || res.Outcomes[memoryAt(res)].Status != "skipped" || len(res.Applied()) != 3 || len(si.sent) != 0 || clock.sleeps != sleeps {
			t.Errorf("apply: %v %+v, %d commands, %d sleeps", err, res.Outcomes, len(si.sent), clock.sleeps-sleeps)
		}
	})
	t.Run("agent offline", func(t *testing.T) {
		si.ping = "ConnectionLost"
		p, _, err := plan(mem)
		if err != nil || !strings.Contains(memoryStep(p).Skip, "ConnectionLost") {
			t.Fatalf("%v %+v", err, memoryStep(p))
		}
	})
	t.Run("capture never ends", func(t *testing.T) {
		si.ping, si.status = "Online", "InProgress"
		clock.Sleep(ctx, time.Minute) // another run than the subtests before: its own snapshots
		p, col, err := plan(mem)
		if err != nil {
			t.Fatal(err)
		}
		log := &memLog{}
		start := clock.Now()
		res, err := Apply(ctx, c, p, opts(log))
		if !errors.Is(err, ErrIncomplete) || errors.Is(err, ErrStopped) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "may still be running") {
			t.Fatalf("err = %v", err)
		}
		if waited := clock.Now().Sub(start); waited < time.Hour || waited > time.Hour+time.Minute {
			t.Errorf("waited %s on the injected clock, want the 1h bound", waited)
		}
		// the capture is best effort: its failure is recorded, the snapshots still taken
		if res.Outcomes[memoryAt(res)].Status != "failed" || res.Outcomes[memoryAt(res)+1].Status != "applied" || len(res.Applied()) != 2 {
			t.Errorf("outcomes %+v", res.Outcomes)
		}
		if n := len(snapshotsOf(t, c, tagFilter(TagRun, p.ID))); n != 2 {
			t.Errorf("%d snapshots after the failed capture, want 2", n)
		}
		acts := log.actions(t)
		if len(acts) != 3 || acts[0].Status != "failed" || acts[0].Outputs["CommandId"] == "" || acts[0].Outputs["Status"] != "InProgress" {
			t.Errorf("audit %+v", acts)
		}
		col.Finish(ctx, c, acts)
		if col.Memory.Failed == "" || !strings.Contains(strings.Join(col.Problems, "\n"), "memory capture failed") {
			t.Errorf("record: memory %+v, problems %v", col.Memory, col.Problems)
		}
		for _, r := range log.recs {
			if bytes.Contains(r, []byte("X-Amz-Signature")) && !bytes.Contains(r, []byte("X-Amz-Signature=REDACTED")) {
				t.Errorf("signature in the audit log: %s", r)
			}
		}
	})
	t.Run("capture fails on the instance", func(t *testing.T) {
		tool := fakeTool(t, bytes.Repeat([]byte("m"), 1024))
		tests := []struct {
			name, toolURL, workDir, stderr string
		}{
			{"tool not found (404)", tool + "/missing?token=s3cr3t-t0ken", t.TempDir(), "404"},
			{"work directory in memory (tmpfs)", tool + "/avml", "/dev/shm", "in memory: the image cannot go there"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				si.ping, si.status = "Online", "Success"
				defer func() { si.status = "" }()
				clock.Sleep(ctx, time.Minute)
				p, col, err := plan(CollectOptions{Memory: true, MemoryToolURL: tc.toolURL, MemoryBucket: "evidence", MemoryWorkDir: tc.workDir, MemorySizeGiB: 1})
				if err != nil {
					t.Fatal(err)
				}
				log := &memLog{}
				res, err := Apply(ctx, c, p, opts(log))
				applyErr := err
				if !errors.Is(err, ErrIncomplete) || !strings.Contains(si.ranErr, tc.stderr) {
					t.Fatalf("err = %v; the script said %q", err, si.ranErr)
				}
				if res.Outcomes[memoryAt(res)].Status != "failed" || len(res.Applied()) != 2 || len(snapshotsOf(t, c, tagFilter(TagRun, p.ID))) != 2 {
					t.Errorf("outcomes %+v", res.Outcomes)
				}
				acts := log.actions(t)
				if acts[0].Outputs["Aborted"] != "true" || acts[0].Outputs["UploadId"] == "" {
					t.Errorf("the upload was not aborted: %v", acts[0].Outputs)
				}
				ups, err := c.Forensic.S3.(*s3.Client).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("evidence")})
				if err != nil || len(ups.Uploads) != 0 {
					t.Errorf("uploads left: %v %+v", err, ups)
				}
				col.Finish(ctx, c, acts)
				if col.Memory.Failed == "" {
					t.Errorf("record: %+v", col.Memory)
				}
				// the stderr quoted the literal tool URL: its query values
				// reach neither the audit log, nor the record, nor the error
				rec, _ := json.Marshal(col)
				audit, _ := json.Marshal(log.recs)
				for where, text := range map[string]string{"audit log": string(audit), "record": string(rec), "error": applyErr.Error()} {
					if strings.Contains(text, "s3cr3t-t0ken") {
						t.Errorf("the tool URL's token is in the %s: %s", where, text)
					}
				}
			})
		}
	})
	t.Run("share refused mid-plan", func(t *testing.T) {
		refuse = true
		defer func() { refuse = false }()
		clock.Sleep(ctx, time.Minute) // a run of its own
		p, _, err := plan(CollectOptions{ForensicAccount: forensicAccount, KMSKey: cmk})
		if err != nil {
			t.Fatal(err)
		}
		log := &memLog{}
		res, err := Apply(ctx, c, p, opts(log))
		if !errors.Is(err, ErrStopped) || !isCode(err, "UnauthorizedOperation") {
			t.Fatalf("err = %v", err)
		}
		var got []string
		for _, o := range res.Outcomes {
			got = append(got, o.Step.API+"="+o.Status)
		}
		if g := strings.Join(got, " "); g != "CreateSnapshot=applied CreateSnapshot=applied ModifySnapshotAttribute=failed CopySnapshot=not done ModifySnapshotAttribute=not done" {
			t.Errorf("outcomes %s", g)
		}
		if n := len(snapshotsOf(t, c, tagFilter(TagRun, p.ID))); n != 2 {
			t.Errorf("%d snapshots taken before the refusal, want 2", n)
		}
		acts := log.actions(t)
		if len(acts) != 3 || acts[2].Status != "failed" || acts[2].Undo != nil {
			b, _ := json.Marshal(acts)
			t.Errorf("audit %s", b)
		}
	})
	t.Run("aws/ebs without a key to copy under", func(t *testing.T) {
		p, _, err := plan(CollectOptions{ForensicAccount: forensicAccount})
		if !errors.Is(err, ErrManagedKey) || !strings.Contains(err.Error(), "--kms-key") {
			t.Errorf("err = %v", err)
		}
		_ = p
	})
	t.Run("bad options", func(t *testing.T) {
		for name, o := range map[string]CollectOptions{
			"own account":      {ForensicAccount: "123456789012"},
			"not an account":   {ForensicAccount: "12345"},
			"no bucket":        {Memory: true, MemoryToolURL: "https://x"},
			"same instance":    {ForensicInstance: instance},
			"windows tool":     {Memory: true, MemoryBucket: "evidence", MemoryToolURL: "https://x", MemoryTool: ToolWinPmem},
			"no tool url":      {Memory: true, MemoryBucket: "evidence"},
			"unknown forensic": {ForensicInstance: "i-0000000000000000f"},
		} {
			si.ping = "Online"
			if _, _, err := plan(o); err == nil {
				t.Errorf("%s: planned", name)
			}
		}
	})
}

// memoryAt is the index of the memory capture's outcome: the volumes'
// DeleteOnTermination steps come before it.
func memoryAt(res Result) int {
	for i, o := range res.Outcomes {
		if o.Step.Op == "ssm:SendCommand" {
			return i
		}
	}
	return len(res.Outcomes) // none: an index out of range fails the test
}
