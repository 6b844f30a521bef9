#!/usr/bin/env bash
# The audit-streams GPU session (issue 4) plus the whole GPU suite: unpack the bundle,
# run kvbench-test-gpu, time a full audit of every fixture accessor, show --reproduce nan.
set -uo pipefail
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
date -u; nvidia-smi --query-gpu=name --format=csv,noheader; python3 -c 'import torch; print("torch", torch.__version__)'
$B/kvbench/bin/kvbench-test-gpu > $OUT/test-gpu.txt 2>&1; grep -E "^# (tests|pass|fail)|^not ok|^ok" $OUT/test-gpu.txt
export PYTHONPATH=$B/kvbench/test/fixtures
A=""; for m in leak_global_patch leak_lru_cache leak_device_dict ok_threadlocal_patch ok_passthrough ok_contextvar; do A="$A --accessor $m:current_stream"; done
/usr/bin/time -f "audit (torch + 1 accessor) wall %e s" $K audit-streams --accessor ok_passthrough:current_stream > $OUT/audit-one.txt; echo "exit $?"
/usr/bin/time -f "audit (3 ok accessors) wall %e s" $K audit-streams --accessor ok_threadlocal_patch:current_stream --accessor ok_passthrough:current_stream --accessor ok_contextvar:current_stream --json > $OUT/audit-ok.json; echo "exit $?"
for m in leak_global_patch leak_lru_cache leak_device_dict; do $K audit-streams --accessor $m:current_stream > $OUT/audit-$m.txt; echo "$m exit $?"; done
/usr/bin/time -f "audit --reproduce nan wall %e s" $K audit-streams --reproduce nan > $OUT/audit-nan.txt; echo "exit $?"
cat $OUT/audit-leak_global_patch.txt $OUT/audit-nan.txt
