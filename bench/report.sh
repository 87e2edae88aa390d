#!/usr/bin/env bash
# Report benchmark: simulates a CloudTrail data set (scale 25: about a
# million events), ingests, verifies and hunts it, then measures `harrier
# report` with its default seeds (the keys behind high and critical
# findings) and the size of the HTML it writes.
# Usage: bench/report.sh [SCALE] (default 25).
# Work files go to $BENCH_DIR (default bench/out-report), removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-25}
out=${BENCH_DIR:-bench/out-report}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/harrier" ./cmd/harrier

echo "== simulate --scale $scale"
"$out/harrier" simulate --out "$out/evidence" --scale "$scale" > "$out/simulate.txt"
head -1 "$out/simulate.txt"
keys=$(find "$out/evidence" -name 'public-keys*.json' | head -1)
echo "== ingest, verify, hunt (not measured)"
"$out/harrier" ingest --case "$out/case" "$out/evidence" > /dev/null
"$out/harrier" verify --case "$out/case" ${keys:+--public-keys "$keys"} > /dev/null || true
"$out/harrier" hunt --case "$out/case" > /dev/null
"$out/harrier" case info --case "$out/case" | grep '^Events'
measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$@"
}
echo "== report"
measure report "$out/harrier" report --case "$out/case" -o "$out/report.html"
measure report-by-principal "$out/harrier" report --case "$out/case" --volume-by principal -o "$out/report-principal.html"
ls -l "$out/report.html" "$out/report-principal.html" | awk '{print $5, $9}'
