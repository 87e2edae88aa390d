package respond

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Memory tools collect instance can run on an instance. The responder
// gives the tool's location (a URL the instance can fetch: an S3
// presigned GET, an internal mirror, the project's release): harrier
// does not choose binaries from the internet for a compromised host.
const (
	ToolAVML    = "avml"    // Linux, userland: no kernel module needed
	ToolLiME    = "lime"    // Linux, a kernel module built for the instance's exact kernel
	ToolWinPmem = "winpmem" // Windows
)

// MemoryDocument is the SSM document a tool runs under.
func MemoryDocument(tool string) string {
	if tool == ToolWinPmem {
		return "AWS-RunPowerShellScript"
	}
	return "AWS-RunShellScript"
}

// MemoryFile is the image's file name (and the S3 key's last part).
func MemoryFile(tool string) string {
	if tool == ToolWinPmem {
		return "mem.raw"
	}
	return "mem.lime"
}

// DefaultMemoryDir is where the Linux capture writes the tool and image
// by default: /tmp is a RAM-backed tmpfs on many distributions (Amazon
// Linux 2023 among them), where an image as large as RAM cannot fit.
const DefaultMemoryDir = "/var/tmp"

// MemoryScript is the script Run Command runs on the instance, one line a
// command, as the SSM document takes it. It refuses a work directory in
// memory (tmpfs, ramfs) or of a type it cannot tell (df --output, else
// stat -f), and one with less free space (df -P) than imageBytes, the
// image's expected size (0: not checked); it fetches the tool (checking its SHA-256 when the
// responder gave one) into a new private directory under workDir, writes
// the image there, prints the tool's SHA-256 ("harrier-tool-sha256: HEX",
// always: the binary that made the image is on record), the image's SHA-256 and size ("harrier-sha256: HEX",
// "harrier-bytes: N"), uploads it in parts of partBytes, one presigned
// UploadPart URL each (S3 multipart: a single PUT stops at 5 GB), printing
// "harrier-part: N ETAG" for each, and removes the directory whatever
// happens. The image is hashed on the instance before it leaves.
func MemoryScript(tool, toolURL, toolSHA256, workDir string, imageBytes, partBytes int64, partURLs []string) []string {
	if tool == ToolWinPmem {
		return winpmemScript(toolURL, toolSHA256, workDir, partBytes, partURLs)
	}
	if workDir == "" {
		workDir = DefaultMemoryDir
	}
	w := strings.TrimRight(workDir, "/")
	if w == "" {
		w = "/"
	}
	img := `"$d/` + MemoryFile(tool) + `"`
	lines := []string{
		"set -eu",
		"command -v curl >/dev/null || { echo 'harrier: curl is needed on the instance' >&2; exit 3; }",
		"umask 077",
		// the file system's type: df --output (GNU), else stat -f; a type
		// it cannot tell is refused, not taken for a disk
		"fs=$(df --output=fstype " + shQuote(w) + " 2>/dev/null | tail -n 1)",
		`[ -n "$fs" ] || fs=$(stat -f -c %T ` + shQuote(w) + ` 2>/dev/null || true)`,
		`case "$fs" in tmpfs|ramfs) echo "harrier: "` + shQuote(w) + `" is $fs, in memory: the image cannot go there; give --memory-dir on a disk" >&2; exit 5;;` +
			` ''|UNKNOWN*) echo "harrier: the file system type of "` + shQuote(w) + `" is unknown (neither df --output nor stat -f tell it): give --memory-dir on a disk" >&2; exit 5;; esac`,
	}
	if imageBytes > 0 {
		need := strconv.FormatInt(imageBytes, 10)
		lines = append(lines,
			"avail=$(df -P -k "+shQuote(w)+" 2>/dev/null | awk 'NR==2 {print $4}')",
			`case "$avail" in ''|*[!0-9]*) echo "harrier: the free space of "`+shQuote(w)+`" is unknown (df -P): give --memory-dir on a disk with room" >&2; exit 7;; esac`,
			`[ $(( avail * 1024 )) -ge `+need+` ] || { echo "harrier: "`+shQuote(w)+`" has $(( avail / 1024 )) MiB free; the image needs about `+strconv.FormatInt(imageBytes>>20, 10)+` MiB: give --memory-dir with room" >&2; exit 7; }`)
	}
	lines = append(lines,
		"d=$(mktemp -d "+shQuote(strings.TrimRight(w, "/")+"/harrier-mem.XXXXXX")+")",
		`trap 'rm -rf "$d"' EXIT`,
		// a failed part must not cost the whole upload: curl retries, every
		// error when it knows --retry-all-errors (7.71+), transient ones
		// (timeouts, 408, 429, 5xx) when it is older
		`retry="--retry 5 --retry-delay 2"`,
		`if curl --help all 2>/dev/null | grep -q -- --retry-all-errors; then retry="--retry 5 --retry-delay 2 --retry-all-errors"; fi`,
		`curl -fsS $retry -o "$d/tool" `+shQuote(toolURL),
		// the binary that makes the image, whatever the responder named
		`echo "harrier-tool-sha256: $(sha256sum "$d/tool" | cut -d' ' -f1)"`)
	if toolSHA256 != "" {
		lines = append(lines, `echo `+shQuote(toolSHA256)+`'  '"$d/tool" | sha256sum -c - >/dev/null || { echo 'harrier: the tool is not the one named by --memory-tool-sha256' >&2; exit 4; }`)
	}
	switch tool {
	case ToolLiME:
		lines = append(lines,
			`insmod "$d/tool" "path=$d/`+MemoryFile(tool)+` format=lime"`,
			`rmmod lime || echo 'harrier: the lime module could not be unloaded (rmmod lime)' >&2`)
	default:
		lines = append(lines, `chmod 700 "$d/tool"`, `"$d/tool" `+img)
	}
	mib := partBytes / (1 << 20)
	lines = append(lines,
		`echo "harrier-sha256: $(sha256sum `+img+` | cut -d' ' -f1)"`,
		`size=$(stat -c %s `+img+`)`,
		`echo "harrier-bytes: $size"`,
		"p="+strconv.FormatInt(partBytes, 10)+"  # bytes a part",
		`n=$(( (size + p - 1) / p ))`,
		`[ "$n" -le `+strconv.Itoa(len(partURLs))+` ] || { echo "harrier: the image ($size bytes) needs $n parts; `+strconv.Itoa(len(partURLs))+` were presigned: give --memory-size-gib" >&2; exit 6; }`,
		"set -- \\")
	for i, u := range partURLs {
		end := " \\"
		if i == len(partURLs)-1 {
			end = ""
		}
		lines = append(lines, "  "+shQuote(u)+end)
	}
	return append(lines,
		"i=0",
		`for u in "$@"; do`,
		`  [ "$i" -lt "$n" ] || break`,
		`  dd if=`+img+` of="$d/part" bs=1M skip=$(( i * `+strconv.FormatInt(mib, 10)+` )) count=`+strconv.FormatInt(mib, 10)+` status=none`,
		`  i=$(( i + 1 ))`,
		`  curl -fsS $retry -o /dev/null -D "$d/headers" -T "$d/part" "$u"`,
		`  echo "harrier-part: $i $(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$d/headers" | tr -d '\r"')"`,
		"done",
		`echo 'harrier-uploaded: ok'`)
}

func winpmemScript(toolURL, toolSHA256, workDir string, partBytes int64, partURLs []string) []string {
	dir := "$env:TEMP"
	if workDir != "" {
		dir = psQuote(workDir)
	}
	lines := []string{
		"$ErrorActionPreference = 'Stop'",
		"$ProgressPreference = 'SilentlyContinue'",
		"$d = Join-Path " + dir + " ('harrier-mem-' + [guid]::NewGuid().ToString('N'))",
		"New-Item -ItemType Directory -Path $d | Out-Null",
		"try {",
		"  Invoke-WebRequest -UseBasicParsing -Uri " + psQuote(toolURL) + ` -OutFile "$d\winpmem.exe"`,
		`  Write-Output ('harrier-tool-sha256: ' + (Get-FileHash -Algorithm SHA256 "$d\winpmem.exe").Hash.ToLower())`,
	}
	if toolSHA256 != "" {
		lines = append(lines, `  if ((Get-FileHash -Algorithm SHA256 "$d\winpmem.exe").Hash.ToLower() -ne `+psQuote(strings.ToLower(toolSHA256))+`) { throw 'harrier: the tool is not the one named by --memory-tool-sha256' }`)
	}
	lines = append(lines,
		`  & "$d\winpmem.exe" "$d\mem.raw" | Out-Null`,
		`  if ($LASTEXITCODE -ne 0) { throw "harrier: winpmem exited with $LASTEXITCODE" }`,
		`  Write-Output ('harrier-sha256: ' + (Get-FileHash -Algorithm SHA256 "$d\mem.raw").Hash.ToLower())`,
		`  $size = (Get-Item "$d\mem.raw").Length`,
		`  Write-Output ('harrier-bytes: ' + $size)`,
		"  $p = "+strconv.FormatInt(partBytes, 10)+"  # bytes a part",
		"  $urls = @(")
	for i, u := range partURLs {
		end := ","
		if i == len(partURLs)-1 {
			end = ""
		}
		lines = append(lines, "    "+psQuote(u)+end)
	}
	return append(lines,
		"  )",
		"  $n = [math]::Ceiling($size / $p)",
		`  if ($n -gt $urls.Count) { throw "harrier: the image ($size bytes) needs $n parts; $($urls.Count) were presigned: give --memory-size-gib" }`,
		`  $f = [IO.File]::OpenRead("$d\mem.raw")`,
		"  try {",
		"    for ($i = 0; $i -lt $n; $i++) {",
		"      $len = [math]::Min($p, $size - $i * $p); $buf = New-Object byte[] $len; $got = 0",
		"      while ($got -lt $len) { $r = $f.Read($buf, $got, $len - $got); if ($r -le 0) { throw 'harrier: short read' }; $got += $r }",
		"      for ($try = 1; ; $try++) {",
		"        try { $resp = Invoke-WebRequest -UseBasicParsing -Method Put -Body $buf -Uri $urls[$i]; break }",
		"        catch { if ($try -ge 6) { throw ('harrier: part ' + ($i + 1) + ' failed ' + $try + ' times') }; Start-Sleep -Seconds ([math]::Pow(2, $try - 1)) }",
		"      }",
		`      Write-Output ('harrier-part: ' + ($i + 1) + ' ' + ($resp.Headers['ETag'] -replace '"', ''))`,
		"    }",
		"  } finally { $f.Close() }",
		"  Write-Output 'harrier-uploaded: ok'",
		"} finally {",
		"  Remove-Item -Recurse -Force $d",
		"}")
}

// shQuote quotes s for a POSIX shell: inside single quotes nothing is
// special but the quote itself.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psQuote quotes s for PowerShell: a single quote is doubled.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// presignedSecret matches the parts of a presigned URL that grant access
// (the signature), or say whose credentials made it.
var presignedSecret = regexp.MustCompile(`(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s'"<>]*`)

// Redact removes presigned URLs' signatures, credentials and session
// tokens from text (a command's output, an error): nothing harrier
// prints, logs or records in the case may let someone write the image.
func Redact(s string) string {
	return presignedSecret.ReplaceAllString(s, "${1}REDACTED")
}

var (
	reportedTool  = regexp.MustCompile(`(?m)^harrier-tool-sha256: ([0-9a-f]{64})\s*$`)
	reportedSHA   = regexp.MustCompile(`(?m)^harrier-sha256: ([0-9a-f]{64})\s*$`)
	reportedBytes = regexp.MustCompile(`(?m)^harrier-bytes: ([0-9]+)\s*$`)
)

// parseToolSHA256 reads the SHA-256 of the tool binary the instance
// fetched (and ran) from the capture script's output; "" when the script
// did not get that far.
func parseToolSHA256(stdout string) string {
	if m := reportedTool.FindStringSubmatch(stdout); m != nil {
		return m[1]
	}
	return ""
}

// parseMemoryOutput reads the image's SHA-256 and size from the capture
// script's output; either is "" when the script did not get that far.
func parseMemoryOutput(stdout string) (sha, size string) {
	if m := reportedSHA.FindStringSubmatch(stdout); m != nil {
		sha = m[1]
	}
	if m := reportedBytes.FindStringSubmatch(stdout); m != nil {
		if _, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			size = m[1]
		}
	}
	return sha, size
}

// VolatilityCommands are the Volatility 3 command lines that start the
// analysis of a memory image taken by tool (harrier does not analyse
// memory itself), after the lines that fetch it and check its hash.
func VolatilityCommands(tool, bucket, key, sha256 string) []string {
	file := MemoryFile(tool)
	lines := []string{
		fmt.Sprintf("aws s3 cp s3://%s/%s ./%s", bucket, key, file),
		fmt.Sprintf("echo '%s  %s' | sha256sum -c -", sha256, file),
	}
	plugins := []string{"windows.info", "windows.pslist", "windows.pstree", "windows.cmdline", "windows.netscan", "windows.dlllist", "windows.malfind"}
	if tool != ToolWinPmem {
		lines = append(lines, "vol -f "+file+" banners.Banners   # the kernel: its symbol table (ISF) must match it exactly")
		plugins = []string{"linux.pslist", "linux.pstree", "linux.bash", "linux.lsof", "linux.sockstat", "linux.check_modules", "linux.malfind"}
	}
	for _, p := range plugins {
		lines = append(lines, "vol -f "+file+" "+p)
	}
	return lines
}

// VolatilityNote says what Volatility needs besides the image.
func VolatilityNote(tool string) string {
	if tool == ToolWinPmem {
		return "Volatility 3 fetches Windows symbol tables from Microsoft's symbol server on first use (or give -s DIR offline)"
	}
	return "Volatility 3 needs a Linux symbol table (ISF) for the instance's exact kernel: build it with dwarf2json from that kernel's debug vmlinux and put it under volatility3/symbols/linux/ (or give -s DIR)"
}

// sensitiveParams are the step parameters whose value may carry a secret
// of its own (a tool URL the responder presigned): their query values and
// any user information are dropped whole, not only the X-Amz-* ones.
var sensitiveParams = map[string]bool{"ToolURL": true}

// RedactParams is a step's parameters as they may be printed (the plan),
// rendered as JSON (--format json) or recorded (the audit log's request):
// every value through Redact, and a sensitive one's query values and user
// information replaced. The step itself keeps the real values: the call
// needs them.
func RedactParams(p map[string]string) map[string]string {
	if p == nil {
		return nil
	}
	out := make(map[string]string, len(p))
	for k, v := range p {
		if sensitiveParams[k] {
			v = redactURL(v)
		}
		out[k] = Redact(v)
	}
	return out
}

// RedactTool removes from text (a command's output, an error) what of the
// tool's URL may grant access: the literal URL (as given, and as the shell
// and PowerShell quotings of the script carry it) becomes its redacted
// form, and any of its query values (raw or decoded) or user information
// left elsewhere becomes REDACTED. Values shorter than 4 characters are
// left: they grant nothing and would mangle the text.
func RedactTool(s, toolURL string) string {
	if toolURL == "" || s == "" {
		return s
	}
	shown := redactURL(toolURL)
	for _, form := range []string{toolURL, strings.ReplaceAll(toolURL, "'", "''"), strings.ReplaceAll(toolURL, "'", `'\''`)} {
		s = strings.ReplaceAll(s, form, shown)
	}
	u, err := url.Parse(toolURL)
	if err != nil {
		return s
	}
	var secrets []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		_, v, _ := strings.Cut(kv, "=")
		secrets = append(secrets, v)
		if dv, err := url.QueryUnescape(v); err == nil {
			secrets = append(secrets, dv)
		}
	}
	if u.User != nil {
		secrets = append(secrets, u.User.Username())
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, v := range secrets {
		if len(v) >= 4 && v != "REDACTED" {
			s = strings.ReplaceAll(s, v, "REDACTED")
		}
	}
	return s
}

// redactURL keeps a URL's scheme, host and path (what the responder needs
// to recognise it) and replaces its user information and query values.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "REDACTED"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = url.QueryEscape(k) + "=REDACTED"
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	u.Fragment = ""
	return u.String()
}
