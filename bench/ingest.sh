#!/usr/bin/env bash
# Ingest benchmark: simulates a CloudTrail S3-layout data set and, on the same
# files, measures events/s and peak RSS of
#   (a) harrier ingest, end to end (copy, hash, decode, load, deduplicate);
#   (b) DuckDB's own read_json loading the same columns into a table;
#   (c) the floor: gzip decompression plus JSON parsing alone in Go.
# Usage: bench/ingest.sh [SCALE] (default 50: about 2.1 million events).
# Work files go to $BENCH_DIR (default bench/out), removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-50}
out=${BENCH_DIR:-bench/out}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/harrier" ./cmd/harrier
go build -o "$out/readjson" ./bench/readjson
go build -o "$out/floor" ./bench/floor

echo "== simulate --scale $scale"
"$out/harrier" simulate --out "$out/evidence" --scale "$scale" > "$out/simulate.txt"
head -1 "$out/simulate.txt"
sync
events=$(find "$out/evidence" -name '*.json.gz' | wc -l)
echo "files: $events, $(du -sh "$out/evidence" | cut -f1) compressed"

measure() { # name, command...
  local name=$1; shift
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$@"
}
echo "== (c) floor: gzip + typed JSON parsing in Go"
measure floor "$out/floor" "$out/evidence"
echo "== (b) DuckDB read_json into a table (threads 2): memory_limit 1GB, then 4GB if that runs out"
measure read_json "$out/readjson" -memory 1GB "$out/evidence" "$out/readjson.duckdb" ||
  measure read_json "$out/readjson" -memory 4GB "$out/evidence" "$out/readjson.duckdb" || echo "read_json failed"
echo "== (a) harrier ingest, end to end"
measure ingest "$out/harrier" ingest --case "$out/case" "$out/evidence"
