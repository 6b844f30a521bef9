#!/usr/bin/env bash
# What we run on the lent GPU machine for the foundation issue (see docs/benchmarks.md):
# unpack the bundle, env, ceilings (3 runs for spread), --help timing, the GPU suite, the C++ harness.
set -uo pipefail
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
date -u; nvidia-smi --query-gpu=name,driver_version,pcie.link.gen.max,pcie.link.width.max --format=csv
echo "ulimit -l: $(ulimit -l)"
echo "--- does a low memlock limit stop pinning? (torch, cudaHostAlloc)"
(ulimit -S -l 1024; python3 -c "import torch; x=torch.empty(512<<20,dtype=torch.uint8).pin_memory(); print('pinned 512 MiB under ulimit -l 1024:', x.is_pinned())" 2>&1 | tail -1)
ulimit -l unlimited 2>/dev/null || echo "could not raise memlock"
$K env | tee $OUT/env.txt
for i in 1 2 3; do /usr/bin/time -f "env --measure wall %e s" $K env --measure --json > $OUT/measure$i.json 2>>$OUT/walls.txt; done
cat $OUT/walls.txt
$K env --measure | tee $OUT/measure.txt
for i in 1 2 3 4 5; do /usr/bin/time -f "--help wall %e s" $K --help >/dev/null; done
$B/kvbench/bin/kvbench-test-gpu 2>&1 | tee $OUT/test-gpu.txt | grep -E "^# (tests|pass|fail|skipped)|^not ok"
make -s -C native harness && native/build/measure_harness | tee $OUT/harness.txt
