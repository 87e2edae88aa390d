#!/usr/bin/env bash
# Hunt benchmark: simulates a CloudTrail data set, ingests it, then measures
# `harrier hunt` with the built-in pack plus SigmaHQ's AWS rules and the
# behavioural analytics, against the ingest of the same events.
# Usage: bench/hunt.sh [SCALE] (default 50: about 2.1 million events).
# Work files go to $BENCH_DIR (default bench/out-hunt), removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-50}
out=${BENCH_DIR:-bench/out-hunt}
sigmahq=${SIGMAHQ_RULES:-../shared/sigma-aws/rules-cloud-aws-cloudtrail}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/harrier" ./cmd/harrier

echo "== simulate --scale $scale"
"$out/harrier" simulate --out "$out/evidence" --scale "$scale" > "$out/simulate.txt"
head -1 "$out/simulate.txt"
measure() { # name, command...
  local name=$1; shift
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$@"
}
echo "== ingest"
measure ingest "$out/harrier" ingest --case "$out/case" "$out/evidence" | tail -4
echo "== hunt: built-in pack + SigmaHQ's AWS rules, no analytics"
measure hunt-rules "$out/harrier" hunt --case "$out/case" --rules "$sigmahq" --no-analytics --format json > "$out/hunt-rules.json"
echo "== hunt: built-in pack + SigmaHQ's AWS rules + analytics"
measure hunt-all "$out/harrier" hunt --case "$out/case" --rules "$sigmahq" --format json > "$out/hunt-all.json"
python3 - "$out/hunt-all.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"{s['findings']} findings from {s['rules']} rules over {s['events']:,} events; by severity {s['by_severity']}")
PY
