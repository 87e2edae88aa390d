package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/harrier-ir/harrier/internal/acquire/trails"
	"github.com/harrier-ir/harrier/internal/casefile"
	"github.com/harrier-ir/harrier/internal/respond"
	"github.com/harrier-ir/harrier/internal/respond/ebsimage"
)

// collectCommands are collect's subcommands: evidence taken from EC2
// resources (snapshot reads only; instance changes AWS only with --apply).
// Each brings its statements to collectPolicy.
func collectCommands() []command {
	return []command{
		{"snapshot", "hashed raw image of an EBS snapshot through the EBS direct APIs: no volume, no helper instance", runCollectSnapshot},
		{"instance", "memory (SSM), snapshots of every volume, shared or attached to a forensic instance: planned, --apply, audited", runCollectInstance},
	}
}

// snapshotPolicy is the least-privilege IAM policy collect snapshot needs:
// reading only.
const snapshotPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "HarrierSnapshotBlocks",
      "Effect": "Allow",
      "Action": ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"],
      "Resource": "arn:aws:ec2:*::snapshot/*"
    },
    {
      "Sid": "HarrierSnapshotDescribe",
      "Effect": "Allow",
      "Action": ["ec2:DescribeSnapshots"],
      "Resource": "*"
    },
    {
      "Sid": "HarrierSnapshotEncrypted",
      "Effect": "Allow",
      "Action": ["kms:Decrypt"],
      "Resource": "arn:aws:kms:*:*:key/SNAPSHOT-KEY-ID"
    }
  ]
}
`

// collectPolicy is the least-privilege IAM policy collect needs: each
// subcommand's statements (instance's from respond, where its ops are).
func collectPolicy() (string, error) {
	var all struct {
		Version   string
		Statement []json.RawMessage
	}
	for _, doc := range []string{snapshotPolicy, respond.CollectIAMPolicy} {
		var d struct{ Statement []json.RawMessage }
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return "", fmt.Errorf("collect's IAM policy: %w", err)
		}
		all.Statement = append(all.Statement, d.Statement...)
	}
	all.Version = "2012-10-17"
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

func runCollect(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && strings.TrimLeft(args[0], "-") == "print-iam-policy" {
		pol, err := collectPolicy()
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, pol)
		return nil
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stderr
		if len(args) > 0 {
			w = e.stdout
		}
		fmt.Fprintf(w, "Usage: harrier collect SUBCOMMAND [flags] [args]\n       harrier collect --print-iam-policy\n\nSubcommands:\n")
		for _, c := range collectCommands() {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
		if len(args) == 0 {
			return usageErr("collect needs a subcommand")
		}
		return nil
	}
	for _, c := range collectCommands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usageErr("collect %s: unknown subcommand (harrier collect -h lists them)", args[0])
}

func runCollectSnapshot(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "collect snapshot", "SNAPSHOT-ID --image DST [--region R] [--profile P | --role-arn ARN] [--concurrency N] [--case DIR] [--format text|json]")
	dst := fs.String("image", "", "the raw image to write (sparse); its log, record and resume state go beside it; required")
	region := fs.String("region", "", "the snapshot's region (default: the configured region)")
	var o acquireOptions
	fs.StringVar(&o.profile, "profile", "", "the AWS profile to use (default: the standard credential chain)")
	fs.StringVar(&o.roleARN, "role-arn", "", "assume this responder role first")
	concurrency := fs.Int("concurrency", ebsimage.DefaultConcurrency, "blocks fetched at once")
	caseFlag := fs.String("case", "", "also record the image's log and record (and so its hashes) in this case; the image stays where it is")
	format := fs.String("format", "text", "the acquisition record on stdout: text (the log) or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !strings.HasPrefix(pos[0], "snap-") {
		return usageErr("collect snapshot needs one snapshot id (snap-...)")
	}
	if *dst == "" {
		return usageErr("collect snapshot needs --image DST: where to write the image")
	}
	if *concurrency < 1 {
		return usageErr("--concurrency %d: at least 1", *concurrency)
	}
	if *format != "text" && *format != "json" {
		return usageErr("--format %s: text or json", *format)
	}
	var c *casefile.Case
	if *caseFlag != "" {
		if c, err = casefile.Open(*caseFlag, version(), true); err != nil {
			return err
		}
		defer c.Close()
	}
	cfg, err := awsConfig(ctx, o)
	if err != nil {
		return err
	}
	if *region != "" {
		cfg.Region = *region
	}
	snap := pos[0]
	opts := ebsimage.Options{Concurrency: *concurrency, Who: who("collect", append([]string{"snapshot"}, args...)), Region: cfg.Region}
	if opts.Snapshot, err = ebsimage.Describe(ctx, ec2.NewFromConfig(cfg), snap); err != nil {
		if ctx.Err() != nil {
			return err
		}
		opts.DescribeErr = err.Error()
		fmt.Fprintf(e.stderr, "harrier: %s: %s (recorded; imaging goes on)\n", deniedWord(trails.IsDenied(err)), safe(err.Error()))
	}
	bar := startBytes(e.stderr, "fetching blocks")
	opts.Progress = func(p ebsimage.Progress) {
		if p.Phase == "hash" {
			bar.note.Store("hashing the image")
			bar.set(p.Bytes, p.Volume)
			return
		}
		bar.set(p.Written*int64(p.BlockSize), p.Listed*int64(p.BlockSize))
	}
	rec, err := ebsimage.Acquire(ctx, ebs.NewFromConfig(cfg), snap, *dst, opts)
	bar.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, ebsimage.ErrChecksum) || rec.BlocksListed > 0 {
			fmt.Fprintf(e.stderr, "harrier: the image is incomplete; run the same command again to resume (%s holds what is done)\n", safe(ebsimage.StatePath(*dst)))
		}
		return err
	}
	if err := printRecord(e.stdout, *format, rec.Text(), rec); err != nil {
		return err
	}
	if c != nil {
		rel := "images/" + snap + "/" + filepath.Base(*dst)
		if err := addImageRecord(c, *dst, rel, "aws:ebs:GetSnapshotBlock:"+cfg.Region+":"+snap, rec.Sums, rec.Bytes); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "recorded in case %s: %s.log, %s.json\n", safe(c.Meta.ID), safe(rel), safe(rel))
	}
	return nil
}
