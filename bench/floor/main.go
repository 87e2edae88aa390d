// Command floor measures the floor of CloudTrail ingestion in Go: gzip
// decompression plus JSON parsing into typed structs, in parallel across
// files, with nothing stored. bench/ingest.sh compares harrier ingest and
// DuckDB's read_json against it on the same files.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goccy/go-json"
	"github.com/klauspost/compress/gzip"
)

// record is a typed CloudTrail record: the fields a loader would keep, with
// nested members left as raw JSON.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
		InvokedBy   string `json:"invokedBy"`
	} `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           json.RawMessage `json:"resources"`
	EventType           string          `json:"eventType"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID"`
	EventCategory       string          `json:"eventCategory"`
}

func main() {
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "files decoded at once")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: floor [-workers N] DIR")
		os.Exit(2)
	}
	var files []string
	filepath.WalkDir(flag.Arg(0), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") && !strings.Contains(p, "CloudTrail-Digest") {
			files = append(files, p)
		}
		return nil
	})
	start := time.Now()
	var next, events, bytesIn atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var zr gzip.Reader
			var buf []byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				f, err := os.Open(files[i])
				if err != nil {
					panic(err)
				}
				if err := zr.Reset(f); err != nil {
					panic(err)
				}
				b := bytesBuffer(buf[:0])
				if _, err := io.Copy(&b, &zr); err != nil {
					panic(err)
				}
				buf = b
				f.Close()
				var doc struct {
					Records []record `json:"Records"`
				}
				if err := json.Unmarshal(buf, &doc); err != nil {
					panic(fmt.Sprintf("%s: %v", files[i], err))
				}
				events.Add(int64(len(doc.Records)))
				bytesIn.Add(int64(len(buf)))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("floor: %d files, %d events, %.0f MB uncompressed in %.2fs: %.0f events/s, %.0f MB/s\n",
		len(files), events.Load(), float64(bytesIn.Load())/1e6, el, float64(events.Load())/el, float64(bytesIn.Load())/1e6/el)
}

// bytesBuffer is an io.Writer that appends to a reusable slice.
type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}
