// Package ebstest serves the EBS direct APIs to tests: moto for the
// snapshots, a front that answers ListSnapshotBlocks as AWS does where
// moto 5.2.1 does not, and hooks to break answers on purpose.
package ebstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ebs"
	"github.com/aws/aws-sdk-go-v2/service/ebs/types"

	"github.com/harrier-ir/harrier/internal/awstest"
)

// Front: moto 5.2.1 stores snapshots written with
// StartSnapshot, PutSnapshotBlock and CompleteSnapshot, and answers
// GetSnapshotBlock as AWS does (the data, x-amz-Checksum,
// x-amz-Checksum-Algorithm, x-amz-Data-Length). Its ListSnapshotBlocks does
// not: BlockIndex comes as a JSON string where AWS sends an integer (the SDK
// refuses it), and it ignores MaxResults, NextToken and StartingBlockIndex
// and sends no ExpiryTime. Front answers ListSnapshotBlocks as the API
// reference documents it, from moto's blocks, and forwards the rest; hooks
// let a test break a GetSnapshotBlock or ListSnapshotBlocks answer.
type Front struct {
	URL  string // point the SDK here
	moto *awstest.Server

	mu    sync.Mutex
	lists int // ListSnapshotBlocks answered
	gets  map[int32]int
	// GetHook, when set, may answer a GetSnapshotBlock itself (true): call
	// is how many times the block was asked for, this one included.
	GetHook func(w http.ResponseWriter, r *http.Request, idx int32, call int) bool
	// ListHook, when set, may answer a ListSnapshotBlocks itself.
	ListHook func(w http.ResponseWriter, r *http.Request, call int) bool
}

// New starts a Front before moto.
func New(t *testing.T, moto *awstest.Server) *Front {
	f := &Front{moto: moto, gets: map[int32]int{}}
	srv := awstest.Front(t, moto.URL, func(w http.ResponseWriter, r *http.Request, _ string) bool {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/snapshots/") {
			return false
		}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/snapshots/"), "/")
		switch {
		case len(parts) == 2 && parts[1] == "blocks":
			f.mu.Lock()
			f.lists++
			call := f.lists
			f.mu.Unlock()
			if f.ListHook != nil && f.ListHook(w, r, call) {
				return true
			}
			f.listBlocks(t, w, r)
			return true
		case len(parts) == 3 && parts[1] == "blocks":
			idx, _ := strconv.Atoi(parts[2])
			f.mu.Lock()
			f.gets[int32(idx)]++
			call := f.gets[int32(idx)]
			f.mu.Unlock()
			return f.GetHook != nil && f.GetHook(w, r, int32(idx), call)
		}
		return false
	})
	f.URL = srv.URL
	return f
}

// Calls says how often each block was asked for, and starts counting anew.
func (f *Front) Calls() map[int32]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gets
	f.gets = map[int32]int{}
	return g
}

// Lists says how many ListSnapshotBlocks requests were answered.
func (f *Front) Lists() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

// Client is an EBS client of the front.
func (f *Front) Client() *ebs.Client {
	return ebs.NewFromConfig(awstest.Config(f.URL))
}

// fromMoto asks moto itself the same request.
func (f *Front) fromMoto(t *testing.T, r *http.Request) (*http.Response, []byte) {
	req, _ := http.NewRequest(r.Method, f.moto.URL+r.URL.RequestURI(), nil)
	req.Header = r.Header.Clone()
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		t.Errorf("moto: %v", err)
		return nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// listBlocks answers ListSnapshotBlocks as AWS does: integer block indexes
// in ascending order, from StartingBlockIndex, pages of MaxResults (100 at
// least) with an opaque NextToken, and the tokens' ExpiryTime.
func (f *Front) listBlocks(t *testing.T, w http.ResponseWriter, r *http.Request) {
	resp, body := f.fromMoto(t, r)
	if resp == nil || resp.StatusCode != http.StatusOK {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var m struct {
		Blocks []struct {
			BlockIndex json.Number
			BlockToken string
		}
		VolumeSize int64
		BlockSize  int32
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("moto's ListSnapshotBlocks: %v", err)
		return
	}
	type block struct {
		BlockIndex int32
		BlockToken string
	}
	var blocks []block
	for _, b := range m.Blocks {
		i, _ := b.BlockIndex.Int64()
		blocks = append(blocks, block{int32(i), b.BlockToken})
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].BlockIndex < blocks[j].BlockIndex })
	q := r.URL.Query()
	from, _ := strconv.Atoi(q.Get("startingBlockIndex"))
	if tok := q.Get("pageToken"); tok != "" {
		b, _ := base64.StdEncoding.DecodeString(tok)
		from, _ = strconv.Atoi(string(b))
	}
	max, _ := strconv.Atoi(q.Get("maxResults"))
	if max < 100 {
		max = 100
	}
	out := map[string]any{"VolumeSize": m.VolumeSize, "BlockSize": m.BlockSize, "ExpiryTime": float64(time.Now().Add(7 * 24 * time.Hour).Unix())}
	page := []block{}
	for _, b := range blocks {
		if int(b.BlockIndex) < from {
			continue
		}
		if len(page) == max {
			out["NextToken"] = base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(int(b.BlockIndex))))
			break
		}
		page = append(page, b)
	}
	out["Blocks"] = page
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// ValidationError answers as AWS refuses a request (restJson1).
func ValidationError(w http.ResponseWriter, reason types.ValidationExceptionReason) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", "ValidationException")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"Message":"The token has expired.","Reason":%q}`, reason)
}

// Corrupt answers a GetSnapshotBlock with moto's data, one byte changed,
// and moto's (now wrong) checksum.
func (f *Front) Corrupt(t *testing.T, w http.ResponseWriter, r *http.Request) {
	resp, body := f.fromMoto(t, r)
	if resp == nil {
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	body = bytes.Clone(body)
	body[len(body)/2] ^= 0xff
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// PutSnapshot writes blocks into a new snapshot of a 1 GiB volume through
// the EBS direct APIs, each with its checksum, and completes it.
func PutSnapshot(t *testing.T, c *ebs.Client, blocks map[int32][]byte) string {
	t.Helper()
	ctx := context.Background()
	s, err := c.StartSnapshot(ctx, &ebs.StartSnapshotInput{VolumeSize: aws.Int64(1), Description: aws.String("harrier test")})
	if err != nil {
		t.Fatalf("StartSnapshot: %v", err)
	}
	for idx, data := range blocks {
		_, err := c.PutSnapshotBlock(ctx, &ebs.PutSnapshotBlockInput{SnapshotId: s.SnapshotId, BlockIndex: aws.Int32(idx), BlockData: bytes.NewReader(data),
			DataLength: aws.Int32(int32(len(data))), Checksum: aws.String(Sum(data)), ChecksumAlgorithm: types.ChecksumAlgorithmChecksumAlgorithmSha256})
		if err != nil {
			t.Fatalf("PutSnapshotBlock %d: %v", idx, err)
		}
	}
	if _, err := c.CompleteSnapshot(ctx, &ebs.CompleteSnapshotInput{SnapshotId: s.SnapshotId, ChangedBlocksCount: aws.Int32(int32(len(blocks)))}); err != nil {
		t.Fatalf("CompleteSnapshot: %v", err)
	}
	return aws.ToString(s.SnapshotId)
}

// Sum is the base64 SHA-256 of a block, as x-amz-Checksum carries it.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return base64.StdEncoding.EncodeToString(s[:])
}
