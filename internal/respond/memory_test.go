package respond

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMemoryScript(t *testing.T) {
	put := "https://b.s3.amazonaws.com/k?partNumber=1&X-Amz-Signature=abc&x='y"
	urls := []string{put, "https://b.s3.amazonaws.com/k?partNumber=2"}
	tests := []struct {
		name, tool, sha, dir string
		want, not            []string
	}{
		{"avml", ToolAVML, "", "", []string{"set -eu", "df --output=fstype '/var/tmp'", "tmpfs|ramfs)", "mktemp -d '/var/tmp/harrier-mem.XXXXXX'",
			`"$d/tool" "$d/mem.lime"`, `trap 'rm -rf "$d"' EXIT`, "harrier-sha256:", "p=536870912", "[ \"$n\" -le 2 ]",
			"set -- \\\n  'https://b.s3.amazonaws.com/k?partNumber=1&X-Amz-Signature=abc&x='\\''y' \\\n  'https://b.s3.amazonaws.com/k?partNumber=2'\ni=0",
			`bs=1M skip=$(( i * 512 )) count=512`, `-T "$d/part" "$u"`, "harrier-part: $i", `curl -fsS $retry`, "--retry 5 --retry-delay 2 --retry-all-errors", `harrier-tool-sha256: $(sha256sum "$d/tool"`}, []string{"insmod", "sha256sum -c", " '/tmp"}},
		{"lime with hash", ToolLiME, "ab12", "/mnt/scratch/", []string{"insmod \"$d/tool\" \"path=$d/mem.lime format=lime\"", "rmmod lime", "'/mnt/scratch/harrier-mem.XXXXXX'", "echo 'ab12'"}, []string{"chmod 700"}},
		{"winpmem", ToolWinPmem, "AB12", "", []string{"$env:TEMP", `"$d\winpmem.exe" "$d\mem.raw"`, "-ne 'ab12'", "Get-FileHash -Algorithm SHA256", "finally",
			"x=''y',", "$p = 536870912", "$urls[$i]", "harrier-part: ", "if ($try -ge 6)", "Start-Sleep", `'harrier-tool-sha256: ' + (Get-FileHash -Algorithm SHA256 "$d\winpmem.exe")`}, []string{"set -eu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := strings.Join(MemoryScript(tc.tool, "https://tools.example/t", tc.sha, tc.dir, 0, 512<<20, urls), "\n")
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("script lacks %q:\n%s", w, s)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(s, n) {
					t.Errorf("script has %q:\n%s", n, s)
				}
			}
		})
	}
	if MemoryDocument(ToolWinPmem) != "AWS-RunPowerShellScript" || MemoryDocument(ToolAVML) != "AWS-RunShellScript" {
		t.Error("documents")
	}
}

func TestParsePartsOutput(t *testing.T) {
	got := parsePartsOutput("harrier-bytes: 9\nharrier-part: 1 0a1b\nharrier-part: 2 \"ff00-2\"\nharrier-part: 3 \nnoise\n")
	if len(got) != 2 || got[1] != "0a1b" || got[2] != `"ff00-2"` {
		t.Errorf("parts %v", got)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"presigned URL", "PUT https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260314&X-Amz-Security-Token=FwoG&X-Amz-Signature=0a1b2c end",
			"PUT https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED end"},
		{"quoted, lower case", "curl 'https://x/k?x-amz-signature=ff'", "curl 'https://x/k?x-amz-signature=REDACTED'"},
		{"nothing to hide", "harrier-sha256: 00", "harrier-sha256: 00"},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("%s: %q", tc.name, got)
		}
	}
}

func TestParseMemoryOutput(t *testing.T) {
	sha := strings.Repeat("a1", 32)
	tests := []struct{ name, out, sha, size string }{
		{"complete", "x\nharrier-sha256: " + sha + "\nharrier-bytes: 4096\n", sha, "4096"},
		{"stopped before the hash", "curl: (22) 404\n", "", ""},
		{"not a hash", "harrier-sha256: xyz\nharrier-bytes: -1\n", "", ""},
	}
	for _, tc := range tests {
		sha, size := parseMemoryOutput(tc.out)
		if sha != tc.sha || size != tc.size {
			t.Errorf("%s: %q %q", tc.name, sha, size)
		}
	}
	if v := VolatilityCommands(ToolAVML, "b", "k/mem.lime", sha); !strings.Contains(strings.Join(v, "\n"), "vol -f mem.lime linux.pslist") {
		t.Errorf("volatility %v", v)
	}
	if v := VolatilityCommands(ToolWinPmem, "b", "k/mem.raw", sha); !strings.Contains(strings.Join(v, "\n"), "vol -f mem.raw windows.pslist") {
		t.Errorf("volatility %v", v)
	}
}

func TestCollectPolicyIsJSON(t *testing.T) {
	var v struct{ Statement []struct{ Action []string } }
	if err := json.Unmarshal([]byte(CollectIAMPolicy), &v); err != nil || len(v.Statement) == 0 {
		t.Fatalf("%v", err)
	}
	for _, s := range v.Statement {
		for _, a := range s.Action {
			if strings.Contains(a, "DeleteSnapshot") {
				t.Errorf("collect may delete snapshots: %s", a)
			}
		}
	}
}

func TestRedactParams(t *testing.T) {
	tests := []struct{ name, key, in, want string }{
		{"presigned tool URL", "ToolURL", "https://b.s3.amazonaws.com/avml?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&X-Amz-Security-Token=tok",
			"https://b.s3.amazonaws.com/avml?X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED"},
		{"user information and any query", "ToolURL", "https://me:pw@mirror.example/avml?token=s3cret#frag", "https://REDACTED@mirror.example/avml?token=REDACTED"},
		{"plain tool URL kept", "ToolURL", "https://mirror.example/avml", "https://mirror.example/avml"},
		{"X-Amz secrets in any parameter", "Other", "see ?X-Amz-Signature=abc&x=1", "see ?X-Amz-Signature=REDACTED&x=1"},
		{"other parameters kept", "Bucket", "evidence", "evidence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]string{tc.key: tc.in}
			if got := RedactParams(in)[tc.key]; got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if in[tc.key] != tc.in {
				t.Error("the step's own parameters were changed")
			}
		})
	}
}

func TestMemoryParts(t *testing.T) {
	tests := []struct {
		name            string
		memMiB, partMiB int64
		partMiBWant     int64
		parts           int
		bad             bool
	}{
		{"m5.large, 8 GiB: 512 MiB parts", 8192, 0, 512, 18, false},
		{"t3.micro, 1 GiB", 1024, 0, 512, 3, false},
		{"r5.2xlarge, 64 GiB: parts grow to keep the command small", 65536, 0, 1080, 64, false},
		{"r5.24xlarge, 768 GiB: 5 GiB parts at most", 786432, 0, 5120, 162, false},
		{"given part size", 8192, 64, 64, 139, false},
		{"more than 10,000 parts", 100000, 5, 0, 0, true},
		{"part too small for S3", 8192, 4, 0, 0, true},
		{"unknown memory", 0, 0, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pb, n, err := memoryParts(tc.memMiB, tc.partMiB)
			if tc.bad {
				if !errors.Is(err, ErrBadOption) {
					t.Errorf("got %d × %d MiB (%v), want ErrBadOption", n, pb>>20, err)
				}
				return
			}
			if err != nil || pb>>20 != tc.partMiBWant || n != tc.parts {
				t.Errorf("got %d × %d MiB (%v), want %d × %d MiB", n, pb>>20, err, tc.parts, tc.partMiBWant)
			}
			if int64(n)*pb < tc.memMiB<<20 {
				t.Errorf("%d parts of %d MiB do not cover %d MiB", n, pb>>20, tc.memMiB)
			}
		})
	}
}

func TestRedactTool(t *testing.T) {
	tool := "https://ops:pa55word@mirror.example/avml?token=s3cr3t%2Bvalue&sig=abcdef&v=1"
	tests := []struct{ name, in, want string }{
		{"the literal URL", "fetch " + tool + " failed", "fetch https://REDACTED@mirror.example/avml?sig=REDACTED&token=REDACTED&v=REDACTED failed"},
		{"PowerShell's quoting", "-Uri '" + tool + "'", "-Uri 'https://REDACTED@mirror.example/avml?sig=REDACTED&token=REDACTED&v=REDACTED'"},
		{"a value alone, raw and decoded", "token s3cr3t%2Bvalue or s3cr3t+value; pass pa55word", "token REDACTED or REDACTED; pass REDACTED"},
		{"short values left", "v=1 ok", "v=1 ok"},
		{"nothing of it", "curl: (22) 404", "curl: (22) 404"},
	}
	for _, tc := range tests {
		if got := RedactTool(tc.in, tool); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.name, got, tc.want)
		}
	}
	if got := RedactTool("x", ""); got != "x" {
		t.Errorf("no tool URL: %q", got)
	}
}
