package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/respond"
)

// forensicClients are collect instance's clients for cfg's region (undo
// needs them too, for collect's actions), waits reported on w when not
// nil.
func forensicClients(cfg aws.Config, w io.Writer, commandTimeout time.Duration) *respond.ForensicClients {
	s := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = pathStyle(cfg) })
	f := &respond.ForensicClients{EC2: ec2.NewFromConfig(cfg), KMS: kms.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg), S3: s, Presign: s3.NewPresignClient(s),
		CommandTimeout: commandTimeout}
	if w != nil {
		f.Progress = func(msg string) { fmt.Fprintf(w, "harrier: waiting: %s\n", safe(respond.Redact(msg))) }
	}
	return f
}

func runCollectInstance(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "collect instance", "i-... --case DIR [--apply] [--memory --memory-bucket B --memory-tool-url URL] [--forensic-account ID [--kms-key KEY]] [--forensic-instance i-... [--forensic-az AZ]]")
	var f respondFlags
	f.register(fs, "the case folder (its id tags the snapshots; actions.jsonl records what is done); or HARRIER_CASE", "make the calls (without it, only the plan is printed)", "the instance's region (default the configuration's)")
	var o respond.CollectOptions
	fs.BoolVar(&o.Memory, "memory", false, "capture memory first, through SSM Run Command (changes the instance: the plan says how)")
	fs.StringVar(&o.MemoryTool, "memory-tool", "", "avml (Linux, the default), lime (Linux, a module built for its kernel) or winpmem (Windows, the default there)")
	fs.StringVar(&o.MemoryToolURL, "memory-tool-url", "", "where the instance fetches the tool or LiME module (a URL it can reach)")
	fs.StringVar(&o.MemoryToolSHA256, "memory-tool-sha256", "", "the tool's SHA-256: the script refuses another")
	fs.StringVar(&o.MemoryBucket, "memory-bucket", "", "the S3 bucket the image is uploaded to (presigned PUT)")
	fs.StringVar(&o.MemoryPrefix, "memory-prefix", "harrier", "the key prefix: PREFIX/CASE/INSTANCE/RUN/mem.lime")
	fs.StringVar(&o.MemoryWorkDir, "memory-dir", "", "where on the instance the tool and image are written: a disk, not tmpfs (default /var/tmp, %TEMP% on Windows)")
	fs.Int64Var(&o.MemorySizeGiB, "memory-size-gib", 0, "the instance's memory in GiB, which sizes the upload (default: its instance type's, from ec2:DescribeInstanceTypes)")
	fs.Int64Var(&o.MemoryPartMiB, "memory-part-mib", 0, "the upload's part size in MiB, 5 to 5120 (default 512, larger for large instances)")
	memTimeout := fs.Duration("memory-timeout", respond.DefaultCommandTimeout, "how long to wait for the capture; the upload URLs live as long (at most 2h), and the upload is aborted after it")
	fs.StringVar(&o.ForensicAccount, "forensic-account", "", "share the snapshots with this account (createVolumePermission)")
	fs.StringVar(&o.KMSKey, "kms-key", "", "a customer-managed key to copy aws/ebs-encrypted snapshots under, to share them")
	fs.StringVar(&o.ForensicInstance, "forensic-instance", "", "make volumes from the snapshots and attach them to this instance (same account)")
	fs.StringVar(&o.ForensicAZ, "forensic-az", "", "the forensic instance's availability zone (checked; default its own)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkFormat(f.format, "text", "json"); err != nil {
		return err
	}
	if err := needAccount(f); err != nil {
		return err
	}
	if len(pos) != 1 || !strings.HasPrefix(pos[0], "i-") {
		return usageErr("collect instance needs one instance id (i-...)")
	}
	if !o.Memory && (o.MemoryBucket != "" || o.MemoryToolURL != "" || o.MemoryTool != "" || o.MemorySizeGiB != 0 || o.MemoryPartMiB != 0) {
		return usageErr("--memory-bucket, --memory-tool, --memory-tool-url, --memory-size-gib and --memory-part-mib are for --memory")
	}
	if o.Memory && (o.MemoryBucket == "" || o.MemoryToolURL == "") {
		return usageErr("--memory needs --memory-bucket (where the image goes) and --memory-tool-url (where the instance fetches the tool)")
	}
	if o.KMSKey != "" && o.ForensicAccount == "" || o.ForensicAZ != "" && o.ForensicInstance == "" {
		return usageErr("--kms-key is for --forensic-account, --forensic-az for --forensic-instance")
	}
	if o.MemorySizeGiB < 0 || o.MemoryPartMiB < 0 {
		return usageErr("--memory-size-gib and --memory-part-mib: more than 0")
	}
	if *memTimeout <= 0 {
		return usageErr("--memory-timeout %s: more than 0", *memTimeout)
	}
	id := pos[0]
	dir, err := e.caseDir(f.caseDir)
	if err != nil {
		return err
	}
	c, err := casefile.Open(dir, version(), true)
	if err != nil {
		return err
	}
	defer c.Close()
	f.target.session = "harrier-collect"
	cfg, clients, err := f.target.respondSetup(ctx)
	if err != nil {
		return err
	}
	clients.Forensic = forensicClients(cfg, e.stderr, *memTimeout)
	p, err := respond.Begin(ctx, clients, c.Meta.ID, "instance "+id, c.Now().UTC().Truncate(time.Second))
	if err != nil {
		return err
	}
	if f.account != "" && f.account != p.Account {
		return fmt.Errorf("%w: --account %s, the credentials are for %s (%s); nothing was done", respond.ErrWrongAccount, f.account, p.Account, safe(p.Caller))
	}
	col, err := respond.PlanCollect(ctx, clients, p, id, o)
	if err != nil {
		return err
	}
	if f.format == "json" {
		b, err := p.JSON()
		if err != nil {
			return err
		}
		e.stdout.Write(b)
	} else {
		writePlan(e.stdout, p)
	}
	if !f.apply {
		fmt.Fprintln(e.stderr, "harrier: nothing was changed: this is the plan; run again with --apply to make these calls")
		return nil
	}
	var acts []respond.Action
	res, applyErr := respond.Apply(ctx, clients, p, respond.ApplyOptions{Operator: c.Op, Now: c.Now, Kind: "collect",
		Record: func(a respond.Action) error {
			acts = append(acts, a)
			return c.AppendAction(a)
		}})
	writeOutcomes(e.stderr, c, res)
	recordActionsHead(e, c, p.ID, res)
	if len(res.Applied()) == 0 && applyErr != nil {
		return applyErr
	}
	col.Finish(ctx, clients, acts)
	rel, err := recordCollection(c, col)
	if err != nil {
		return fmt.Errorf("record the collection in the case (the actions are in %s): %w", casefile.ActionsFile, err)
	}
	if f.format == "text" {
		writeCollection(e.stdout, col)
	}
	fmt.Fprintf(e.stderr, "recorded in case %s: %s\n", safe(c.Meta.ID), safe(rel))
	return applyErr
}

// recordCollection keeps the collection record (snapshot ids, the volumes'
// metadata, the memory capture's hash and redacted output) in the case,
// hashed, under forensics/INSTANCE/RUN/.
func recordCollection(c *casefile.Case, col *respond.Collection) (string, error) {
	b, err := json.MarshalIndent(col, "", "  ")
	if err != nil {
		return "", err
	}
	b = []byte(respond.Redact(string(b)) + "\n")
	rel := "forensics/" + col.Instance + "/" + col.Run + "/collection.json"
	origin := "aws:ec2:" + col.Account + ":" + col.Region + ":" + col.Instance
	e, err := c.AddAcquired(rel, origin, "application/json", b, map[string]string{"run": col.Run, "instance": col.Instance, "account": col.Account, "region": col.Region})
	if err != nil {
		return "", err
	}
	return e.Path, nil
}

// writeCollection prints what was taken: the snapshots, the memory image
// with its hash and the Volatility command lines, and what went wrong.
func writeCollection(w io.Writer, col *respond.Collection) {
	fmt.Fprintf(w, "\n== Collected from %s (run %s)\n", safe(col.Instance), safe(col.Run))
	for _, v := range col.Volumes {
		line := fmt.Sprintf("%s %s (%d GiB) → snapshot %s %s", safe(v.Device), safe(v.VolumeID), v.SizeGiB, orDash(v.SnapshotID), safe(v.SnapshotState))
		if v.CopyID != "" {
			line += ", copy " + safe(v.CopyID)
		}
		if v.SharedWith != "" {
			line += ", shared with " + safe(v.SharedWith)
		}
		if v.ForensicVolumeID != "" {
			line += fmt.Sprintf(", volume %s on %s at %s", safe(v.ForensicVolumeID), safe(col.ForensicInstance), safe(v.ForensicDevice))
		}
		fmt.Fprintln(w, line)
	}
	if m := col.Memory; m != nil {
		switch {
		case m.Skipped != "":
			fmt.Fprintf(w, "memory: not captured: %s\n", safe(m.Skipped))
		case m.Failed != "":
			fmt.Fprintf(w, "memory: FAILED (SSM command %s, tool sha256 %s, the snapshots were taken regardless): %s\n", orDash(m.CommandID), orDash(m.ToolSHA256), safe(m.Failed))
		case m.SHA256 != "":
			fmt.Fprintf(w, "memory: s3://%s/%s, %s bytes, sha256 %s (computed on the instance), S3 ETag %s, version %s, SSM command %s, tool sha256 %s\n",
				safe(m.Bucket), safe(m.Key), safe(m.ObjectBytes), m.SHA256, orDash(m.ETag), orDash(m.VersionID), safe(m.CommandID), orDash(m.ToolSHA256))
			fmt.Fprintf(w, "\nto analyse it (%s):\n", respond.VolatilityNote(m.Tool))
			for _, l := range m.Volatility {
				fmt.Fprintf(w, "  %s\n", safe(l))
			}
		default:
			fmt.Fprintf(w, "memory: not captured (SSM command %s: %s)\n", orDash(m.CommandID), orDash(m.Status))
		}
	}
	for _, pr := range col.Problems {
		fmt.Fprintf(w, "problem: %s\n", safe(pr))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return safe(s)
}
