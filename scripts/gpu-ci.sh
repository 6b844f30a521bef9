#!/usr/bin/env bash
# GPU session for results into CI (issue 14): real results written with --output while the
# table goes to stdout, gates in the run (one passing, one failing on purpose), repeat saves for
# the compare fixtures, then the GPU suite. Everything lands in $OUT/results.tar.
# Run from the repository root with the bundle carried.
set -uo pipefail
R=/tmp/kvb-results
source scripts/gpu-common.sh
show_step() { grep -E '^gate|^note: verification|PARTIAL' "$1" | head -12; }
step save-llama-3.1-8b save --min-pct-of-ceiling 90 --max-slowdown 5 --max-blocked-p99-us 50
step save-llama-3.1-8b-repeat2 save --design async
step save-llama-3.1-8b-repeat3 save --design async
step save-llama-3.1-8b-repeat4 save --design async
step save-gate-fails save --design async --max-slowdown 0.05
step load-llama-3.1-8b load --min-pct-of-ceiling 85 --max-slowdown 15
step env-measure env --measure
step audit-streams audit-streams
step audit-reproduce-nan audit-streams --reproduce nan
step backend-bench-host backend bench --backend host --min-put-gbps 1 --min-get-gbps 1
mkdir -p /var/tmp/kvbench-store
step backend-bench-file backend bench --backend file:/var/tmp/kvbench-store --max-p99-us 100000
ls -la /var/tmp/kvbench-store
python3 - "$R" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(sys.argv[1] + '/*.json')):
    j = json.load(open(f))
    r = j.get('results') or {}
    g = r.get('gates') if isinstance(r, dict) else None
    failed = [x['metric'] for x in (g or []) if not x['passed']]
    print(f"{os.path.basename(f):36s} {j['kind']:14s} {j['status']:9s} gates={len(g or [])} failed={failed[:3]}")
PY
tar -cf "$OUT/results.tar" -C $R .
$B/kvbench/bin/kvbench-test-gpu 2>&1 | tee $OUT/test-gpu.txt | grep -E "^# (tests|pass|fail|skipped)|^not ok"
