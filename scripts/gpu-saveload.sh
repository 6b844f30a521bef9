#!/usr/bin/env bash
# The save/load GPU session (issue 3): unpack the bundle, GPU suite, default runs
# (twice each, for spread), the copy-cache policy, other profiles.
set -uo pipefail
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$B/kvbench/bin/kvbench-test-gpu > $OUT/test-gpu.txt 2>&1; grep -E "^# (tests|pass|fail)|^not ok" $OUT/test-gpu.txt
for i in 1 2; do /usr/bin/time -f "save default wall %e s" $K save --json > $OUT/save$i.json; done
for i in 1 2; do /usr/bin/time -f "load default wall %e s" $K load --json > $OUT/load$i.json; done
for i in 1 2; do $K save --strategy staged --design async --copy-cache stream --json > $OUT/save-stream$i.json; done
$K save --profile llama-3.1-70b --strategy all --design async --json > $OUT/save-70b.json
$K load --profile deepseek-v3 --json > $OUT/load-dsv3.json
$K save | tail -32
