#!/usr/bin/env bash
# The save/load GPU session (issue 3): unpack the bundle, GPU suite, default runs
# (twice, for spread), every strategy side by side, a copy-CTA sweep of the staged path.
set -uo pipefail
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
$B/kvbench/bin/kvbench-test-gpu 2>&1 > $OUT/test-gpu.txt; grep -E "^# (tests|pass|fail)|^not ok" $OUT/test-gpu.txt
for i in 1 2; do /usr/bin/time -f "save default wall %e s" $K save --json > $OUT/save$i.json; done
/usr/bin/time -f "load default wall %e s" $K load --json > $OUT/load1.json
$K save --strategy all --json > $OUT/save-all.json
for c in 4 8 32; do $K save --strategy staged --design async --copy-ctas $c --json > $OUT/save-ctas$c.json; done
$K save | tail -25
