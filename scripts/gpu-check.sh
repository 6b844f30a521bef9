#!/usr/bin/env bash
# The one GPU check: run from the repository root on the GPU machine with the bundle carried
# (`npm run bundle`, then carry kvbench-*-linux-x64.tar.xz). Each step's envelope, table and exit
# code land in $OUT/check.tar; the GPU suite's TAP in $OUT/test-gpu.txt.
#   STEPS="save load audit connector suite" (the default) picks and orders them:
#   save       default `kvbench save` (llama-3.1-8b, strategy auto, designs alone/blocking/async), x RUNS
#   load       default `kvbench load`, x RUNS
#   audit      `audit-streams --strict` on the machine's plain torch stack (must pass), and with a
#              leaking accessor (must fail)
#   connector  the async_pinned reference connector through `save --connector py:`
#   suite      the GPU test suite (kvbench-test-gpu)
set -uo pipefail
R=/tmp/kvb-check
source scripts/gpu-common.sh
RUNS=${RUNS:-2}
export PYTHONPATH=$B/kvbench/test/fixtures:$B/kvbench/test/fixtures/connectors:$B/kvbench/examples
show_step() { grep -E '^gate|PARTIAL|^(alone|blocking|async|auto)|pct|slowdown|strict|HAZARD|LEAK|error' "$1" | head -14; }
for s in ${STEPS:-save load audit connector suite}; do
  case $s in
    save) for i in $(seq 1 "$RUNS"); do step save-$i save; done ;;
    load) for i in $(seq 1 "$RUNS"); do step load-$i load; done ;;
    audit) step audit-strict audit-streams --strict
           step audit-strict-leak audit-streams --strict --accessor leak_global_patch:current_stream ;;
    connector) step connector-async save --connector py:connectors.async_pinned:AsyncPinnedConnector --compare-with none ;;
    suite) $B/kvbench/bin/kvbench-test-gpu > $OUT/test-gpu.txt 2>&1
           grep -E "^# (tests|pass|fail|skipped)|^not ok" $OUT/test-gpu.txt ;;
  esac
done
python3 - "$R" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    j = json.load(open(f)); r = j.get('results') or {}
    print(f"{os.path.basename(f):28s} {j['kind']:10s} {j['status']:9s}", j.get('build', {}).get('gitSha', '') if isinstance(j.get('build'), dict) else '')
PY
tar -cf "$OUT/check.tar" -C $R .
