package respond

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// redactedError is an error whose text went through Redact (AWS may echo
// a request's parameters, the presigned URL among them) and RedactTool
// (the command's stderr may quote the tool's URL); errors.Is and As still
// see the cause.
type redactedError struct {
	err     error
	toolURL string
}

func (e redactedError) Error() string { return RedactTool(Redact(e.err.Error()), e.toolURL) }
func (e redactedError) Unwrap() error { return e.err }

func redactErr(err error, toolURL string) error {
	if err == nil {
		return nil
	}
	return redactedError{err, toolURL}
}

// outputLimit bounds the command output kept in the audit log and case:
// GetCommandInvocation returns at most 24,000 characters anyway.
const outputLimit = 24000

// registerMemory registers ssm:SendCommand, the memory capture: it
// starts an S3 multipart upload and presigns its parts at apply time (the
// URLs are never in the plan, the request recorded or any output), sends
// the script, polls the invocation within CommandTimeout, completes the
// upload from S3's list of parts, and checks the object's size in S3.
// Its state is the S3 object: absent before, so an image already there is
// never overwritten.
func registerMemory() {
	Register(Op{Service: "ssm", API: "SendCommand", Read: readMemoryObject,
		Call: func(ctx context.Context, c *Clients, p map[string]string) (any, map[string]string, error) {
			out, err := captureMemory(ctx, c, p)
			// PowerShell prints the failing line, the literal tool URL in
			// it; curl or the tool may echo it too: nothing recorded or
			// printed keeps its query values or user information
			for k, v := range out {
				out[k] = RedactTool(v, p["ToolURL"])
			}
			return out, out, redactErr(err, p["ToolURL"])
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
// outputs (recorded, redacted), whatever happened. The image goes up by S3
// multipart: harrier starts the upload, presigns one UploadPart URL a
// planned part, and after the script has sent the parts checks them
// against S3's own list (ListParts) and completes the upload; on any
// failure the upload is aborted, so no half image is left billed and
// unlisted.
func captureMemory(ctx context.Context, c *Clients, p map[string]string) (map[string]string, error) {
	f := c.Forensic
	if f == nil || f.SSM == nil || f.Presign == nil || f.S3 == nil {
		return nil, fmt.Errorf("ssm, s3: %w", ErrNoClient)
	}
	partBytes, err1 := strconv.ParseInt(p["PartBytes"], 10, 64)
	parts, err2 := strconv.Atoi(p["Parts"])
	if err1 != nil || err2 != nil || partBytes <= 0 || parts <= 0 {
		return nil, fmt.Errorf("the capture step has no part plan (PartBytes %q, Parts %q): plan again", p["PartBytes"], p["Parts"])
	}
	bucket, key := aws.String(p["Bucket"]), aws.String(p["Key"])
	timeout := orDefault(f.CommandTimeout, DefaultCommandTimeout)
	expires := min(timeout, PresignMax)
	up, err := f.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		return nil, fmt.Errorf("start the upload to s3://%s/%s (s3:CreateMultipartUpload): %w", p["Bucket"], p["Key"], err)
	}
	uploadID := aws.ToString(up.UploadId)
	out := map[string]string{"Document": MemoryDocument(p["Tool"]), "Bucket": p["Bucket"], "Key": p["Key"], "PresignedFor": expires.String(),
		"UploadId": uploadID, "PartsPresigned": p["Parts"], "PartBytes": p["PartBytes"]}
	if err := sendCapture(ctx, c, p, uploadID, partBytes, parts, expires, timeout, out); err != nil {
		// the parts sent are no image: take them away, whatever ctx says
		if _, aerr := f.S3.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: up.UploadId}); aerr != nil {
			out["AbortError"] = Redact(aerr.Error())
			return out, fmt.Errorf("%w; and the upload %s could not be aborted (s3:AbortMultipartUpload: %v): abort it by hand", err, uploadID, aerr)
		}
		out["Aborted"] = "true"
		return out, err
	}
	obj, err := readMemoryObject(ctx, c, p)
	if err != nil {
		return out, err
	}
	out["ObjectBytes"] = obj["bytes"]
	if obj["bytes"] != out["Bytes"] {
		return out, fmt.Errorf("s3://%s/%s holds %s bytes, the instance wrote %s: the upload is incomplete", p["Bucket"], p["Key"], obj["bytes"], out["Bytes"])
	}
	return out, nil
}

// sendCapture presigns the parts, runs the script, waits for it within
// timeout and completes the upload from S3's list of the parts.
func sendCapture(ctx context.Context, c *Clients, p map[string]string, uploadID string, partBytes int64, parts int, expires, timeout time.Duration, out map[string]string) error {
	f := c.Forensic
	urls := make([]string, parts)
	for i := range urls {
		req, err := f.Presign.PresignUploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(p["Bucket"]), Key: aws.String(p["Key"]),
			UploadId: aws.String(uploadID), PartNumber: aws.Int32(int32(i + 1))}, s3.WithPresignExpires(expires))
		if err != nil {
			return fmt.Errorf("presign part %d of the upload to s3://%s/%s: %w", i+1, p["Bucket"], p["Key"], err)
		}
		urls[i] = req.URL
	}
	imageBytes, _ := strconv.ParseInt(p["ImageBytes"], 10, 64) // absent from older plans: 0, not checked
	script := MemoryScript(p["Tool"], p["ToolURL"], p["ToolSHA256"], p["WorkDir"], imageBytes, partBytes, urls)
	secs := strconv.Itoa(int(timeout / time.Second))
	sent, err := f.SSM.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String(out["Document"]), InstanceIds: []string{p["InstanceId"]},
		Comment:        aws.String(clipText("harrier "+p["Run"]+" memory capture, case "+p["Case"], 100)),
		TimeoutSeconds: aws.Int32(600), // to be delivered: the agent was online when planned
		Parameters:     map[string][]string{"commands": script, "executionTimeout": {secs}}})
	if err != nil {
		return fmt.Errorf("send the capture command: %w", err)
	}
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
	var reported map[int32]string
	if inv != nil {
		stdout := aws.ToString(inv.StandardOutputContent)
		out["Status"], out["StatusDetails"] = string(inv.Status), aws.ToString(inv.StatusDetails)
		out["ResponseCode"] = strconv.Itoa(int(inv.ResponseCode))
		out["Stdout"] = clipText(Redact(stdout), outputLimit)
		out["Stderr"] = clipText(Redact(aws.ToString(inv.StandardErrorContent)), outputLimit)
		out["SHA256"], out["Bytes"] = parseMemoryOutput(stdout)
		out["ToolSHA256"] = parseToolSHA256(stdout)
		reported = parsePartsOutput(stdout)
	}
	if errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w; the command may still be running (its upload is aborted, so it cannot finish): aws ssm get-command-invocation --command-id %s --instance-id %s",
			err, id, p["InstanceId"])
	}
	if err != nil {
		return err
	}
	if inv.Status != ssmtypes.CommandInvocationStatusSuccess {
		return fmt.Errorf("the memory capture command %s ended %s (exit %d): %s", id, inv.Status, inv.ResponseCode, clipText(out["Stderr"], 500))
	}
	if out["SHA256"] == "" || out["Bytes"] == "" {
		return fmt.Errorf("the memory capture command %s succeeded but did not report the image's sha256 and size", id)
	}
	return completeUpload(ctx, c, p, uploadID, partBytes, reported, out)
}

// completeUpload checks S3's list of the parts against the image's size
// and what the script said it sent, and completes the upload with S3's
// ETags.
func completeUpload(ctx context.Context, c *Clients, p map[string]string, uploadID string, partBytes int64, reported map[int32]string, out map[string]string) error {
	f := c.Forensic
	size, _ := strconv.ParseInt(out["Bytes"], 10, 64)
	want := int32((size + partBytes - 1) / partBytes)
	var done []s3types.CompletedPart
	var total int64
	in := &s3.ListPartsInput{Bucket: aws.String(p["Bucket"]), Key: aws.String(p["Key"]), UploadId: aws.String(uploadID)}
	for {
		page, err := f.S3.ListParts(ctx, in)
		if err != nil {
			return fmt.Errorf("list the uploaded parts (s3:ListParts %s): %w", uploadID, err)
		}
		for _, pt := range page.Parts {
			n, etag := aws.ToInt32(pt.PartNumber), aws.ToString(pt.ETag)
			if r, ok := reported[n]; ok && strings.Trim(r, `"`) != strings.Trim(etag, `"`) {
				return fmt.Errorf("part %d: S3 holds ETag %s, the instance reported %s", n, etag, r)
			}
			done = append(done, s3types.CompletedPart{PartNumber: pt.PartNumber, ETag: pt.ETag})
			total += aws.ToInt64(pt.Size)
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.PartNumberMarker = page.NextPartNumberMarker
	}
	out["PartsUploaded"] = strconv.Itoa(len(done))
	if int32(len(done)) != want || total != size {
		return fmt.Errorf("S3 holds %d parts, %d bytes, of upload %s; the image is %d bytes in %d parts", len(done), total, uploadID, size, want)
	}
	sort.Slice(done, func(i, j int) bool { return aws.ToInt32(done[i].PartNumber) < aws.ToInt32(done[j].PartNumber) })
	got, err := f.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(p["Bucket"]), Key: aws.String(p["Key"]), UploadId: aws.String(uploadID),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		return fmt.Errorf("complete the upload (s3:CompleteMultipartUpload %s): %w", uploadID, err)
	}
	out["ETag"], out["VersionId"] = strings.Trim(aws.ToString(got.ETag), `"`), aws.ToString(got.VersionId)
	return nil
}

var reportedPart = regexp.MustCompile(`(?m)^harrier-part: ([0-9]+) ("?[0-9A-Za-z-]*"?)\s*$`)

// parsePartsOutput reads the parts the script says it sent, with the ETag
// S3 answered each ("" when curl printed none).
func parsePartsOutput(stdout string) map[int32]string {
	parts := map[int32]string{}
	for _, m := range reportedPart.FindAllStringSubmatch(stdout, -1) {
		if n, err := strconv.ParseInt(m[1], 10, 32); err == nil && m[2] != "" {
			parts[int32(n)] = m[2]
		}
	}
	return parts
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
