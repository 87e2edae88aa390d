#!/usr/bin/env bash
# Verify benchmark: a case of about 100,000 CloudTrail log files (with their
# digests and signature sidecars) is verified with harrier verify, and compared
# with the time it takes just to read the same evidence files (cat to
# /dev/null, cold cache): verification should stream at about read speed.
# Usage: bench/verify.sh [DAYS] (default 80: about 100k log files).
# Work files go to $BENCH_DIR (default bench/out-verify), removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
days=${1:-80}
out=${BENCH_DIR:-bench/out-verify}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/harrier" ./cmd/harrier
echo "== simulate --days $days"
"$out/harrier" simulate --out "$out/evidence" --days "$days" --start 2026-01-01 > "$out/simulate.txt"
head -1 "$out/simulate.txt"
echo "== ingest"
"$out/harrier" ingest --case "$out/case" "$out/evidence" | sed -n '1,4p'
logs=$(find "$out/case/evidence" -path '*/CloudTrail/*' -name '*.json.gz' | wc -l)
all=$(find "$out/case/evidence" -type f | wc -l)
echo "log files: $logs; evidence files in all: $all, $(du -sh "$out/case/evidence" | cut -f1)"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
drop
echo "== read every evidence file once (cat > /dev/null)"
/usr/bin/time -f "read: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
  sh -c "find '$out/case/evidence' -type f -print0 | xargs -0 cat > /dev/null"
drop
echo "== harrier verify"
/usr/bin/time -f "verify: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
  "$out/harrier" verify --case "$out/case" | sed -n '1,5p' || true
