package respond

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// redactedError is an error whose text went through Redact (AWS may echo
// a request's parameters, the presigned URL among them); errors.Is and As
// still see the cause.
type redactedError struct{ err error }

func (e redactedError) Error() string { return Redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

func redactErr(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{err}
}

// outputLimit bounds the command output kept in the audit log and case:
// GetCommandInvocation returns at most 24,000 characters anyway.
const outputLimit = 24000

// registerMemory registers ssm:SendCommand, the memory capture: it
// presigns the upload at apply time (the URL is never in the plan, the
// request recorded or any output), sends the script, polls the
// invocation within CommandTimeout, and checks the object's size in S3.
// Its state is the S3 object: absent before, so an image already there is
// never overwritten.
func registerMemory() {
	Register(Op{Service: "ssm", API: "SendCommand", Read: readMemoryObject,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			out, err := captureMemory(ctx, c, p)
			return out, out, redactErr(err)
		},
		Reverse: func(p map[string]string, _ State, _ map[string]string) (Step, bool, string) {
			return Step{}, false, fmt.Sprintf("a memory capture cannot be undone; the image stays in s3://%s/%s as evidence (the script removed its tool and local copy from the instance)", p["Bucket"], p["Key"])
		}})
}

// readMemoryObject: {"object": "present", "bytes": N} when the image's S3
// key exists, empty when not.
func readMemoryObject(ctx context.Context, c *Clients, p map[string]string) (State, error) {
	if c.Forensic == nil || c.Forensic.S3 == nil {
		return nil, fmt.Errorf("s3: %w", ErrNoClient)
	}
	out, err := c.Forensic.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p["Bucket"]), Key: aws.String(p["Key"])})
	if isCode(err, "NotFound", "NoSuchKey", "404") {
		return State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s (s3:HeadObject): %w", p["Bucket"], p["Key"], err)
	}
	return State{"object": "present", "bytes": strconv.FormatInt(aws.ToInt64(out.ContentLength), 10)}, nil
}

// terminal are the invocation statuses after which nothing more happens.
var terminal = map[ssmtypes.CommandInvocationStatus]bool{
	ssmtypes.CommandInvocationStatusSuccess: true, ssmtypes.CommandInvocationStatusFailed: true,
	ssmtypes.CommandInvocationStatusCancelled: true, ssmtypes.CommandInvocationStatusTimedOut: true,
}

// captureMemory runs the capture and returns what is known of it as named
// outputs (recorded, redacted), whatever happened.
func captureMemory(ctx context.Context, c *Clients, p map[string]string) (map[string]string, error) {
	f := c.Forensic
	if f == nil || f.SSM == nil || f.Presign == nil || f.S3 == nil {
		return nil, fmt.Errorf("ssm, s3: %w", ErrNoClient)
	}
	timeout := orDefault(f.CommandTimeout, DefaultCommandTimeout)
	expires := min(timeout, PresignMax)
	put, err := f.Presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p["Bucket"]), Key: aws.String(p["Key"])}, s3.WithPresignExpires(expires))
	if err != nil {
		return nil, fmt.Errorf("presign the upload to s3://%s/%s: %w", p["Bucket"], p["Key"], err)
	}
	script := MemoryScript(p["Tool"], p["ToolURL"], p["ToolSHA256"], p["WorkDir"], put.URL)
	doc := MemoryDocument(p["Tool"])
	secs := strconv.Itoa(int(timeout / time.Second))
	sent, err := f.SSM.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String(doc), InstanceIds: []string{p["InstanceId"]},
		Comment:        aws.String(clipText("harrier "+p["Run"]+" memory capture, case "+p["Case"], 100)),
		TimeoutSeconds: aws.Int32(600), // to be delivered: the agent was online when planned
		Parameters:     map[string][]string{"commands": script, "executionTimeout": {secs}}})
	if err != nil {
		return nil, fmt.Errorf("send the capture command: %w", err)
	}
	out := map[string]string{"Document": doc, "Bucket": p["Bucket"], "Key": p["Key"], "PresignedFor": expires.String()}
	if sent.Command != nil {
		out["CommandId"] = aws.ToString(sent.Command.CommandId)
	}
	id := out["CommandId"]
	var inv *ssm.GetCommandInvocationOutput
	err = f.waitFor(ctx, "memory capture "+id+" on "+p["InstanceId"], timeout, func() (bool, string, error) {
		got, err := f.SSM.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(id), InstanceId: aws.String(p["InstanceId"])})
		if isCode(err, "InvocationDoesNotExist") {
			return false, "not yet delivered", nil
		}
		if err != nil {
			return false, "", fmt.Errorf("ssm:GetCommandInvocation %s: %w", id, err)
		}
		inv = got
		return terminal[got.Status], string(got.Status), nil
	})
	if inv != nil {
		out["Status"], out["StatusDetails"] = string(inv.Status), aws.ToString(inv.StatusDetails)
		out["ResponseCode"] = strconv.Itoa(int(inv.ResponseCode))
		out["Stdout"] = clipText(Redact(aws.ToString(inv.StandardOutputContent)), outputLimit)
		out["Stderr"] = clipText(Redact(aws.ToString(inv.StandardErrorContent)), outputLimit)
		out["SHA256"], out["Bytes"] = parseMemoryOutput(aws.ToString(inv.StandardOutputContent))
	}
	if errors.Is(err, ErrTimeout) {
		return out, fmt.Errorf("%w; the command may still be running: aws ssm get-command-invocation --command-id %s --instance-id %s; the image, if it comes, goes to s3://%s/%s",
			err, id, p["InstanceId"], p["Bucket"], p["Key"])
	}
	if err != nil {
		return out, err
	}
	if inv.Status != ssmtypes.CommandInvocationStatusSuccess {
		return out, fmt.Errorf("the memory capture command %s ended %s (exit %d): %s", id, inv.Status, inv.ResponseCode, clipText(out["Stderr"], 500))
	}
	if out["SHA256"] == "" || out["Bytes"] == "" {
		return out, fmt.Errorf("the memory capture command %s succeeded but did not report the image's sha256 and size", id)
	}
	obj, err := readMemoryObject(ctx, c, p)
	if err != nil {
		return out, err
	}
	if len(obj) == 0 {
		return out, fmt.Errorf("the memory capture command %s succeeded but s3://%s/%s is not there", id, p["Bucket"], p["Key"])
	}
	out["ObjectBytes"] = obj["bytes"]
	if obj["bytes"] != out["Bytes"] {
		return out, fmt.Errorf("s3://%s/%s holds %s bytes, the instance wrote %s: the upload is incomplete", p["Bucket"], p["Key"], obj["bytes"], out["Bytes"])
	}
	return out, nil
}

// clipText cuts s to n bytes (on a rune boundary), saying so.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…[clipped]"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
