package detect

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestDialects pins the SQL each dialect produces for rules that use every
// kind of predicate, so a change to the compiler shows as a reviewed diff.
// The DuckDB SQL is executed by the other tests; Trino's is not run here
// (no Athena in tests) and is kept to the functions Athena engine v3 has.
func TestDialects(t *testing.T) {
	bodies := []string{
		"    sel:\n        eventSource: iam.amazonaws.com\n        eventName|startswith: [Create, Put]\n        userIdentity.type|neq: AWSService\n    condition: sel",
		"    sel:\n        requestParameters.policyDocument|contains|all: ['\"Effect\":\"Allow\"', \"it's\"]\n        resources.ARN|endswith: ':::data'\n    condition: sel",
		"    sel:\n        sourceIPAddress|cidr: [10.0.0.0/8, 2001:db8::/33]\n        additionalEventData.bytesTransferredOut|gte: 1048576\n    condition: sel",
		"    sel:\n        userAgent|re|i: 'kali|parrot'\n        errorCode: null\n        requestParameters.userName|fieldref|neq: userIdentity.userName\n    condition: sel",
		"    a:\n        eventTime|hour|gte: 22\n    b:\n        responseElements|exists: false\n    kw:\n        - '*evil\\*'\n    condition: (a or b) and not kw",
	}
	var b strings.Builder
	for _, d := range []Dialect{DuckDB{}, Trino{}} {
		for _, body := range bodies {
			r := parseDetection(t, body+"\n")
			q, err := Compile(d, r.Detection.Condition)
			if err != nil {
				t.Fatalf("%s: %v", d.Name(), err)
			}
			b.WriteString("-- " + d.Name() + ": " + strings.ReplaceAll(strings.TrimSpace(body), "\n", " ") + "\n" + q + "\n\n")
		}
	}
	path := filepath.Join("testdata", "dialects.golden.sql")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Errorf("compiled SQL differs from %s (run with -update after a deliberate change)", path)
	}
}
