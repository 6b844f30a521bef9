#!/usr/bin/env bash
# The one GPU check: run from the repository root on the GPU machine with the bundle carried
# (`npm run bundle`, then carry kvbench-*-linux-x64.tar.xz). Each step's envelope, table and exit
# code land in $OUT/check.tar; the GPU suite's TAP in $OUT/test-gpu.txt.
#   STEPS="env save load audit connector backend suite" (the default) picks and orders them:
#   env        `kvbench env --measure` (the copy ceilings), and with `--gpus all` (every GPU copying at once)
#   save       default `kvbench save` (llama-3.1-8b, strategy auto, designs alone/blocking/async), x RUNS
#   load       default `kvbench load`, x RUNS
#   profiles   default save and load of every other profile (PROFILES), once each
#   allreduce  default save, load and mix with `--all-reduce nccl` (the forward's NCCL all-reduce, checked)
#   gpus       default save, load and mix with `--gpus all` (every GPU a worker, all at once), and load with `--all-reduce nccl` across them
#   mix        `kvbench mix` (both directions in one step) of llama-3.1-8b and every other profile, once each
#   medians    `kvbench save --design async --strategy staged` of llama-3.1-8b and every other profile, three
#              times each (issue 18 judges slowdowns by the median of three runs)
#   loadmedians the same for `kvbench load --design async --strategy staged`
#   audit      `audit-streams --strict` on the machine's plain torch stack (must pass), with each
#              fixture accessor (leak_*: must fail), and --reproduce nan
#   connector  the async_pinned reference connector through `save --connector py:`, on one GPU and with `--gpus all`
#   backend    `backend bench` of the host store and of a file store (its directory must end empty)
#   trace      default save and load with --trace (the timeline files and their sizes)
#   crossover  sweep save --strategy all --connector off over block sizes (chunks 2 KiB-256 KiB): the crossover
#   harness    the C++ harness (make -C native harness): the CUDA core without Node
#   suite      the GPU test suite (kvbench-test-gpu)
#   suites     only the GPU suite's files SUITES names (e.g. SUITES="rendezvous all-reduce gpus"), their TAP in $OUT/test-gpu-NAME.txt
set -uo pipefail
R=/tmp/kvb-check
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
rm -rf "$R"; mkdir -p "$R"
date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
ulimit -l unlimited 2>/dev/null
# `step NAME ARGS...`: `kvbench ARGS -o $R/NAME.json`, the table in $R/NAME.txt, exit code and wall
# time in $R/steps.txt, and the table's headline lines shown.
step() {
  local name=$1; shift
  local t0=$(date +%s%N)
  timeout 300 $K "$@" -o "$R/$name.json" > "$R/$name.txt" 2>&1
  local rc=$?
  printf '%-28s rc=%s wall=%sms  %s\n' "$name" "$rc" "$(( ($(date +%s%N) - t0) / 1000000 ))" "$*" | tee -a "$R/steps.txt"
  show_step "$R/$name.txt"
}
RUNS=${RUNS:-2}
PROFILES=${PROFILES:-llama-3.2-1b qwen2.5-7b llama-3.1-70b deepseek-v3}
export PYTHONPATH=$B/kvbench/test/fixtures:$B/kvbench/test/fixtures/connectors:$B/kvbench/examples
show_step() { grep -E '^│ (async|blocking|host|file|user|total) |^PASS [0-9]|^gate|PARTIAL|^Error|^Link reference|^Against it|^Copy ceilings|^all-reduce' "$1" | cut -c1-200 | head -8; }
for s in ${STEPS:-env save load audit connector backend suite}; do
  case $s in
    env) step env-measure env --measure; step env-measure-gpus env --measure --gpus all ;;
    allreduce) for m in save load mix; do step allreduce-$m $m --all-reduce nccl; done ;;
    save) for i in $(seq 1 "$RUNS"); do step save-$i save; done ;;
    load) for i in $(seq 1 "$RUNS"); do step load-$i load; done ;;
    profiles) for p in $PROFILES; do step save-$p save --profile $p; step load-$p load --profile $p; done ;;
    gpus) for m in save load mix; do step gpus-$m $m --gpus all; done; step gpus-load-allreduce load --gpus all --all-reduce nccl ;;
    mix) for p in llama-3.1-8b $PROFILES; do step mix-$p mix --profile $p; done ;;
    medians) for p in llama-3.1-8b $PROFILES; do for i in 1 2 3; do step median-$p-$i save --profile $p --design async --strategy staged; done; done ;;
    loadmedians) for p in llama-3.1-8b $PROFILES; do for i in 1 2 3; do step load-median-$p-$i load --profile $p --design async --strategy staged; done; done ;;
    audit) step audit-strict audit-streams --strict  # the machine's plain torch stack: must pass
           for m in leak_global_patch leak_lru_cache leak_device_dict ok_threadlocal_patch ok_passthrough ok_contextvar; do
             step audit-$m audit-streams --strict --accessor $m:current_stream  # leak_*: must fail (exit 1)
           done
           step audit-reproduce-nan audit-streams --reproduce nan ;;
    connector) step connector-async save --connector py:connectors.async_pinned:AsyncPinnedConnector --compare-with none
               step connector-gpus save --connector py:connectors.async_pinned:AsyncPinnedConnector --compare-with none --gpus all ;;
    backend) step backend-host backend bench --backend host
             D=/var/tmp/kvbench-store; rm -rf $D; mkdir -p $D
             step backend-file backend bench --backend file:$D
             echo "file store directory afterwards: $(find $D -mindepth 1 | wc -l) entries" | tee -a "$R/steps.txt" ;;
    trace) for m in save load; do step trace-$m $m --trace "$R/trace-$m.trace.json"; ls -la "$R/trace-$m.trace.json" | tee -a "$R/steps.txt"; done ;;
    crossover) T0=$(date +%s); timeout 500 $K sweep save --strategy all --connector off --batch 8 --prompt-tokens 2048 \
                 --vary block-size=${BLOCK_SIZES:-1,2,4,8,16,32,64,128} --crossover "$R/crossover.crossover.json" -o "$R/crossover.json" > "$R/crossover.txt" 2>&1
               echo "crossover rc=$? wall=$(( $(date +%s) - T0 ))s" | tee -a "$R/steps.txt"; tail -14 "$R/crossover.txt" ;;
    harness) make -s -C native harness > "$R/harness.txt" 2>&1 && native/build/measure_harness >> "$R/harness.txt" 2>&1
             echo "harness rc=$?" | tee -a "$R/steps.txt"; tail -5 "$R/harness.txt" ;;
    suite) $B/kvbench/bin/kvbench-test-gpu > $OUT/test-gpu.txt 2>&1
           grep -E "^# (tests|pass|fail|skipped)|^not ok" $OUT/test-gpu.txt ;;
    suites) for n in ${SUITES:?SUITES names the test/gpu files to run}; do
              (cd $B/kvbench && KVBENCH_CMD=$K KVBENCH_REQUIRE_GPU=1 ./node/node --test --test-concurrency=1 test/gpu/$n.test.mjs) > $OUT/test-gpu-$n.txt 2>&1
              echo "suite $n rc=$?" | tee -a "$R/steps.txt"; grep -E "^# (tests|pass|fail|skipped)|^not ok" $OUT/test-gpu-$n.txt
            done ;;
  esac
done
python3 - "$R" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    if f.endswith('.trace.json') or f.endswith('.crossover.json'): continue
    j = json.load(open(f)); r = j.get('results') or {}
    print(f"{os.path.basename(f):28s} {j['kind']:10s} {j['status']:9s}", j.get('build', {}).get('gitSha', '') if isinstance(j.get('build'), dict) else '')
PY
tar -cf "$OUT/check.tar" -C $R .
