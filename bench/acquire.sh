#!/usr/bin/env bash
# Acquisition benchmark: harrier acquire downloading N CloudTrail log files
# (default 20,000) from a local S3 (moto_server), with their trail.
# Reports files/s, MB/s, and how much of the wall time harrier spent on its
# own work (CPU) against waiting on the network and the server.
# Usage: bench/acquire.sh [FILES]. Needs a Python that imports moto
# (HARRIER_PYTHON, else python3). Work files go to $BENCH_DIR (default
# bench/out-acquire), removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-20000}
out=${BENCH_DIR:-bench/out-acquire}
py=${HARRIER_PYTHON:-python3}
port=${MOTO_PORT:-5077}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/harrier" ./cmd/harrier
"$py" -m moto.server -H 127.0.0.1 -p "$port" > "$out/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
echo "== seeding $files log files into s3://bench-trail"
"$py" - "$files" <<'PY'
import boto3, gzip, json, sys, datetime
n = int(sys.argv[1])
s3 = boto3.client("s3")
s3.create_bucket(Bucket="bench-trail")
start = datetime.datetime(2026, 3, 1)
for i in range(n):
    t = start + datetime.timedelta(minutes=5 * i)
    recs = [{"eventVersion": "1.08", "eventID": f"b-{i}-{j}", "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": "s3.amazonaws.com",
             "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/u"}} for j in range(10)]
    key = f"AWSLogs/123456789012/CloudTrail/us-east-1/{t:%Y/%m/%d}/123456789012_CloudTrail_us-east-1_{t:%Y%m%dT%H%MZ}_{i:06d}.json.gz"
    s3.put_object(Bucket="bench-trail", Key=key, Body=gzip.compress(json.dumps({"Records": recs}).encode()))
boto3.client("cloudtrail").create_trail(Name="bench", S3BucketName="bench-trail", IsMultiRegionTrail=True)
PY
until=$("$py" -c "import datetime,sys; print((datetime.datetime(2026,3,1)+datetime.timedelta(minutes=5*int(sys.argv[1])+1440)).strftime('%Y-%m-%d'))" "$files")
echo "== harrier acquire --no-ingest (2026-03-01 → $until)"
/usr/bin/time -f "acquire: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
  "$out/harrier" acquire --case "$out/case" --since 2026-03-01 --until "$until" --regions us-east-1 --sources cloudtrail --no-ingest > "$out/acquire.txt" 2>&1 || true
grep -E "objects in the window|acquire:" "$out/acquire.txt"
du -sb "$out/case/evidence/s3" | awk '{printf "stored: %.1f MB\n", $1/1e6}'
