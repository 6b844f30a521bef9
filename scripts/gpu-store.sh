#!/usr/bin/env bash
# GPU session for the store backends (issue 5) and the save-side experiments (issue 3).
#   part suite:  GPU suite (store tests against a real redis-server included) and the
#                issue-3 sweep: async save beside the forward with staged (default ring, an
#                L2-persisting one) and batch, two runs each; async load twice
#   part store:  default save/load end to end through host, file and redis stores
#   part final:  the GPU suite on the last build, file and host end to end, the two staging setups once
#   part targets: the GPU suite, then issue 3's targets: default save and load twice each (wall
#                timed), async save beside the forward with the L2-persisting ring (4 and 8 CTAs)
#                and with batch, async load with the persisting ring
#   part defaults: the GPU suite, then default save and load twice each (wall timed)
#   part ring:   the GPU suite, then save and load with rings of 3 and 5 slots (25 and 41 MiB)
#   part share:  the GPU suite, default save and load, the host noise probe alone, and the staged
#                ring with a batch share beside the forward (needs native/build/host_stall_probe carried)
#   part noise:  the GPU suite, the host noise probe alone, default save twice, the ring with a
#                batch share of 50 twice: blocked-per-step p99 beside the host's slow spells
#   part reference: the GPU suite, default save and load, then the ring and batch shares beside the
#                forward, each with its run's link reference (a contiguous copy stream beside it)
#   part l2:     the staged ring's gather CTAs and L2 window swept beside the forward (async save,
#                link reference in each run): which costs the forward less at full rate
#   part ctas:   the GPU suite, default save (wall timed), the one-CTA-per-chunk gather and scatter
#                beside the forward (HBM ring and 16 MiB persisting ring; loads also with 16 CTAs),
#                default load (wall timed)
#   part sixth:  the GPU suite, default save and load twice each (wall timed), then async staged
#                saves with the new defaults and with the HBM ring of 64 MiB, same machine
#   part sixth-h100: part sixth's runs without the suite (another card, the same build)
#   part profiles: async staged saves of llama-3.1-70b (4 KiB chunks) and deepseek-v3 (MLA, block-contiguous)
#                with the staged defaults and with the earlier ones (16 CTAs, 64 MiB HBM ring, cache reads kept)
#   part baseline-l2: (with suite=1: the GPU suite first) default save twice and load once (wall
#                timed), async staged saves with the defaults and with the 64 MiB HBM ring: the
#                L2 set-aside held only while the ring runs, the baselines with the whole L2
#   part ab:     the GPU suite, then async saves alternating between an earlier build
#                (old-kvbench.tar.xz, carried) and this one, on the same machine
#   part tasks:  the GPU suite, then async staged saves and loads alternating between an earlier build
#                (.device-carry/old-kvbench.tar.xz: a bundle without its node/, which this one lends)
#                and this one, three pairs each, then default save and load (wall timed); env
#                suite=0 skips the suite, pairs=N, modes="save", defaults="" narrow it
# Run from the repository root with the bundle and .device-carry/redis carried.
set -uo pipefail
part=${1:-suite}
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
ulimit -l unlimited 2>/dev/null
# A real redis-server: Debian 12's build, carried with the libraries Ubuntu lacks.
R=$PWD/.device-carry/redis; PW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'); PORT=6399
LD_LIBRARY_PATH=$R/lib $R/redis-server --port $PORT --bind 127.0.0.1 --requirepass "$PW" --save '' --appendonly no \
  --daemonize yes --pidfile /tmp/kvb-redis.pid --logfile "$OUT/redis.log" || echo "redis-server did not start"
sleep 0.5
export KVBENCH_REDIS_URL="redis://:$PW@127.0.0.1:$PORT"
trap 'kill $(cat /tmp/kvb-redis.pid 2>/dev/null) 2>/dev/null' EXIT
STORE=/var/tmp/kvbench-store; mkdir -p $STORE
df -h $STORE | tail -1; findmnt -T $STORE -o FSTYPE,SOURCE,OPTIONS | tail -1; nproc; free -g | head -2

summary() {  # one line per design of a save/load JSON
  python3 - "$@" <<'PY'
import json, sys
for f in sys.argv[1:]:
    try: j = json.load(open(f))
    except Exception as e: print(f, 'unreadable', e); continue
    r = j.get('results') or {}
    print(f"== {f}: status {j.get('status')} exit-notes {[n for n in j.get('notes', []) if 'FAIL' in n or 'full rate' in n or 'O_DIRECT' in n or 'L2' in n]}")
    c = r.get('ceilings') or {}
    if c: print(f"   ceilings H2D {c['h2dGBps']:.1f} D2H {c['d2hGBps']:.1f} GB/s, forward {r['forward'].get('hbmGBps', 0):.0f} GB/s HBM")
    b = r.get('backend')
    if b and b.get('alone'):
        a = b['alone']; print(f"   store {b['store']}: alone put {a['putGBps']:.2f} get {a['getGBps']:.2f} GB/s verified {a['verified']}")
    for s in r.get('strategies', []):
        m = lambda d: f"/{d['medianPctOfCeiling']:.1f}" if d.get('medianPctOfCeiling') is not None else ''
        print(f"   {s['strategy']}: save {s['save']['gbps']:.1f} ({s['save']['pctOfCeiling']:.1f}{m(s['save'])}%) load {s['load']['gbps']:.1f} ({s['load']['pctOfCeiling']:.1f}{m(s['load'])}%)")
    for d in r.get('designs', []):
        t = d.get('transfer') or {}
        bp = d.get('blockedPerStepUs') or {}
        st = d.get('store')
        line = f"   {d['design']}/{d['strategy']}: step {d['stepGpuMs']['p50']:.2f} ms slow {d['slowdownPct'] if d['slowdownPct'] is None else round(d['slowdownPct'],2)}% wall {d['wallSlowdownPct'] if d['wallSlowdownPct'] is None else round(d['wallSlowdownPct'],2)}%"
        if t: line += f" | {t['gbps']:.1f} GB/s {t['pctOfCeiling']:.1f}% skipped {t['jobsSkipped']} | blocked p50 {bp.get('p50',0):.1f} p99 {bp.get('p99',0):.1f} us | verified {d['verified']}"
        if st: line += f" | store {st['gbps']:.2f} GB/s q {st['queueDepth']} drop {st['puts']['droppedQueueFull']} busy {st['puts']['savesSkippedStoreBusy']} failed {st['puts']['failed']+st['gets']['failed']} reqfail {st['requestsFailed']} rec-verified {st['verified']}"
        print(line)
        if d['design'] == 'async':
            print('      hooks p50/p99/max ' + ', '.join(f"{k} {h['us']['p50']:.2f}/{h['us']['p99']:.2f}/{h['us']['max']:.1f}" for k, h in d['hooks'].items()) + f" | blocked max {bp.get('max',0):.1f}")
    ref = r.get('reference')
    if ref: print(f"   reference ({ref['steps']} steps, {ref['chunkBytes'] >> 20} MiB copies): {ref['gbps']:.1f} GB/s {ref['pctOfCeiling']:.1f}% slow {ref['slowdownPct'] if ref['slowdownPct'] is None else round(ref['slowdownPct'], 2)}% NaN {ref['nonFiniteOutputs']}")
PY
}
host_noise() {  # results.hostNoise of save/load JSONs, one line each
  python3 -c "import json,sys; [print(f, {k: (round(v,2) if isinstance(v,float) else v) for k,v in (json.load(open(f))['results'].get('hostNoise') or {}).items()}) for f in sys.argv[1:]]" "$@"
}
suite() { $B/kvbench/bin/kvbench-test-gpu > $OUT/test-gpu.txt 2>&1; }
suite_result() { grep -E "^# (tests|pass|fail|skipped)|^not ok" $OUT/test-gpu.txt; }
# The run's JSONs and logs in one archive: what comes back from the device is a few files.
archive() { (cd $OUT && tar -czf results.tgz *.json "$@" && rm -f *.json); }

if [ "$part" = suite ]; then
  suite; suite_result
  i=0
  for cfg in "--strategy staged" "--strategy batch" "--strategy staged --staging-mib 16 --staging-l2 persist --copy-cache stream --copy-ctas 4" \
             "--strategy staged --staging-mib 24 --staging-l2 persist --copy-cache stream"; do
    i=$((i+1))
    for k in 1 2; do $K save --design async $cfg --json > "$OUT/exp$i-$k.json"; done
    echo "## save $cfg"; summary $OUT/exp$i-1.json $OUT/exp$i-2.json | grep -E "async|==|staged:|batch:|hooks|ceil"
  done
  for k in 1 2; do $K load --design async --strategy staged --json > $OUT/load-$k.json; done
  echo "## load staged"; summary $OUT/load-*.json | grep -E "async|==|staged:|hooks|ceil"
fi

if [ "$part" = final ]; then
  suite; suite_result
  for b in host "file:$STORE"; do
    n=$(echo "$b" | cut -d: -f1)
    for m in save load; do /usr/bin/time -f "$m $n wall %e s" $K $m --backend "$b" --json > $OUT/final-$m-$n.json; done
  done
  $K save --strategy staged --design async --json > $OUT/final-exp64.json
  $K save --strategy staged --design async --staging-mib 8 --staging-l2 persist --copy-cache stream --json > $OUT/final-exp8.json
  summary $OUT/final-*.json
  ls -A $STORE
fi

if [ "$part" = store ]; then
  for b in host "file:$STORE" "$KVBENCH_REDIS_URL"; do
    n=$(echo "$b" | cut -d: -f1)
    for m in save load; do
      /usr/bin/time -f "$m $n wall %e s" $K $m --strategy staged --backend "$b" --pipeline 8 --json > $OUT/$m-$n.json
    done
  done
  summary $OUT/save-*.json $OUT/load-*.json
  $K backend bench --backend "file:$STORE" --json > $OUT/bb-file.json; $K backend bench --backend "file:$STORE"
  $K backend bench --backend "$KVBENCH_REDIS_URL" --pipeline 8 | tail -6
  ls -A $STORE
fi

if [ "$part" = targets ] || [ "$part" = defaults ]; then
  suite
  L2="--staging-mib 16 --staging-l2 persist --copy-cache stream"
  for k in 1 2; do
    for m in save load; do /usr/bin/time -a -o $OUT/walls.txt -f "default $m $k wall %e s" $K $m --json > $OUT/default-$m-$k.json; done
  done
  summary $OUT/default-*.json | grep -vE "^      hooks"
fi
if [ "$part" = targets ]; then
  for k in 1 2; do $K save --design async --strategy staged $L2 --copy-ctas 4 --json > $OUT/l2c4-$k.json; done
  $K save --design async --strategy staged $L2 --json > $OUT/l2c16-1.json
  for k in 1 2; do $K save --design async --strategy batch --json > $OUT/batch-$k.json; done
  $K load --design async --strategy staged $L2 --copy-ctas 4 --json > $OUT/l2c4-load.json
  summary $OUT/l2c*.json $OUT/batch-*.json
fi
if [ "$part" = targets ] || [ "$part" = defaults ]; then
  suite_result; cat $OUT/walls.txt
  archive test-gpu.txt walls.txt
fi

if [ "$part" = ring ]; then
  suite
  SMALL="--profile llama-3.2-1b --batch 4 --prompt-tokens 1024 --decode-steps 12 --strategy staged"
  for mib in 25 41; do
    for m in save load; do
      $K $m $SMALL --staging-mib $mib --json > $OUT/ring-$m-$mib.json; echo "$m --staging-mib $mib: exit $?"
    done
    $K save $SMALL --staging-mib $mib --staging-l2 persist --json > $OUT/ring-l2-$mib.json; echo "save --staging-mib $mib persist: exit $?"
  done
  summary $OUT/ring-*.json | grep -E "==|staged|verified"
  suite_result
  archive test-gpu.txt
fi

if [ "$part" = share ]; then
  # The GPU suite, default save and load (wall timed), the host noise alone, then the staged
  # ring with a batch share (--batch-share) beside the forward against the ring alone.
  suite
  for m in save load; do /usr/bin/time -a -o $OUT/walls.txt -f "default $m wall %e s" $K $m --json > $OUT/default-$m.json; done
  [ -x native/build/host_stall_probe ] && native/build/host_stall_probe 3 2
  A="--strategy staged --design async"
  L2="--staging-mib 16 --staging-l2 persist --copy-cache stream --copy-ctas 4"
  i=0
  for cfg in "save $A" "save $A --batch-share 50" "save $A --batch-share 50" "save $A --batch-share 30" "save $A --batch-share 70" \
             "save $A --batch-share 50 $L2" "load $A" "load $A --batch-share 50"; do
    i=$((i+1)); $K $cfg --json > $OUT/share$i.json; echo "## $cfg"; summary $OUT/share$i.json | grep -E "async|staged:"
  done
  summary $OUT/default-*.json | grep -vE "^      hooks"
  host_noise $OUT/default-*.json
  suite_result; cat $OUT/walls.txt
  archive test-gpu.txt walls.txt
fi

if [ "$part" = noise ]; then
  suite
  native/build/host_stall_probe 5 4
  for k in 1 2; do /usr/bin/time -a -o $OUT/walls.txt -f "default save $k wall %e s" $K save --json > $OUT/noise-default-$k.json; done
  for k in 1 2; do $K save --strategy staged --design async --batch-share 50 --json > $OUT/noise-share-$k.json; done
  summary $OUT/noise-*.json | grep -E "==|async|staged:"
  host_noise $OUT/noise-*.json
  suite_result; cat $OUT/walls.txt
  archive test-gpu.txt walls.txt
fi

if [ "$part" = reference ]; then
  # The GPU suite, default save and load (wall timed, link reference included), then the ring
  # and batch shares beside the forward, each against its run's link reference. Every JSON goes
  # into results.tar as soon as it is written: what a timeout cuts short still comes back.
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  s0=$(date +%s); suite; suite_result; echo "suite $(( $(date +%s) - s0 )) s"
  /usr/bin/time -a -o $OUT/walls.txt -f "default save wall %e s" $K save --json > $OUT/default-save.json
  summary $OUT/default-save.json | grep -vE "^      hooks"; keep default-save.json; cat $OUT/walls.txt
  A="--strategy staged --design async"
  i=0
  for cfg in "save $A" "save $A --batch-share 50" "save $A" "save $A --reference-steps 200"; do
    i=$((i+1)); $K $cfg --json > $OUT/ref$i.json; echo "## $cfg"; summary $OUT/ref$i.json | grep -E "async|staged:|reference"; keep ref$i.json
  done
  /usr/bin/time -a -o $OUT/walls.txt -f "default load wall %e s" $K load --json > $OUT/default-load.json
  summary $OUT/default-load.json | grep -vE "^      hooks"; host_noise $OUT/default-load.json; keep default-load.json
  cat $OUT/walls.txt
fi

if [ "$part" = l2 ]; then
  # Every JSON goes into results.tar as soon as it is written: what a timeout cuts short still comes back.
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  A="--strategy staged --design async"
  P16="--staging-mib 16 --staging-l2 persist --copy-cache stream"
  i=0
  for cfg in "$A" "$A --copy-ctas 256" "$A $P16" "$A $P16 --copy-ctas 256" "$A --copy-ctas 64" "$A $P16 --copy-ctas 4" \
             "$A" "$A --copy-ctas 256" "$A $P16" "$A $P16 --copy-ctas 256" "$A $P16 --copy-ctas 8" "$A --staging-mib 16 --staging-l2 persist"; do
    i=$((i+1)); s0=$(date +%s); $K save $cfg --json > $OUT/l2-$i.json
    echo "## $i: save $cfg ($(( $(date +%s) - s0 )) s)"; summary $OUT/l2-$i.json | grep -E "==|async|staged:|reference"; keep l2-$i.json
  done
fi

if [ "$part" = ctas ]; then
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  s0=$(date +%s); suite; suite_result; echo "suite $(( $(date +%s) - s0 )) s"; cp $OUT/test-gpu.txt $OUT/test-gpu.keep
  /usr/bin/time -a -o $OUT/walls.txt -f "default save wall %e s" $K save --json > $OUT/default-save.json
  summary $OUT/default-save.json | grep -vE "^      hooks"; keep default-save.json; cat $OUT/walls.txt
  A="--strategy staged --design async"
  P16="--staging-mib 16 --staging-l2 persist --copy-cache stream"
  i=0
  for cfg in "save $A" "save $A $P16" "load $A" "load $A --copy-ctas 16" "save $A" "save $A $P16" "load $A" "load $A $P16"; do
    i=$((i+1)); $K $cfg --json > $OUT/ctas-$i.json
    echo "## $i: $cfg"; summary $OUT/ctas-$i.json | grep -E "async|staged:|reference"; keep ctas-$i.json
  done
  /usr/bin/time -a -o $OUT/walls.txt -f "default load wall %e s" $K load --json > $OUT/default-load.json
  summary $OUT/default-load.json | grep -vE "^      hooks"; keep default-load.json
  cat $OUT/walls.txt
fi

if [ "$part" = sixth ] || [ "$part" = sixth-h100 ]; then
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  if [ "$part" = sixth ]; then s0=$(date +%s); suite; suite_result; echo "suite $(( $(date +%s) - s0 )) s"; cp $OUT/test-gpu.txt $OUT/test-gpu.keep; fi
  for k in 1 2; do
    for m in save load; do
      /usr/bin/time -a -o $OUT/walls.txt -f "default $m $k wall %e s" $K $m --json > $OUT/default-$m-$k.json
      summary $OUT/default-$m-$k.json | grep -vE "^      hooks"; keep default-$m-$k.json
    done
  done
  A="--strategy staged --design async"
  i=0
  for cfg in "save $A" "save $A --staging-l2 normal --staging-mib 64" "save $A" "save $A --staging-l2 normal --staging-mib 64"; do
    i=$((i+1)); $K $cfg --json > $OUT/sixth-$i.json
    echo "## $i: $cfg"; summary $OUT/sixth-$i.json | grep -E "==|async|staged:|reference"; keep sixth-$i.json
  done
  cat $OUT/walls.txt
fi

if [ "$part" = profiles ]; then
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  OLD="--copy-ctas 16 --staging-l2 normal --staging-mib 64 --copy-cache default"
  i=0
  for cfg in "--profile llama-3.1-70b" "--profile llama-3.1-70b $OLD" "--profile deepseek-v3" "--profile deepseek-v3 $OLD" \
             "--profile llama-3.1-70b" "--profile llama-3.1-70b $OLD" "--profile deepseek-v3" "--profile deepseek-v3 $OLD"; do
    i=$((i+1)); $K save --strategy staged --design async $cfg --json > $OUT/prof-$i.json
    echo "## $i: $cfg"; summary $OUT/prof-$i.json | grep -E "==|async|staged:|reference"; keep prof-$i.json
  done
fi

if [ "$part" = baseline-l2 ]; then
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  if [ "${suite:-0}" = 1 ]; then s0=$(date +%s); suite; suite_result; echo "suite $(( $(date +%s) - s0 )) s"; cp $OUT/test-gpu.txt $OUT/test-gpu.keep; fi
  A="--strategy staged --design async"
  i=0
  for cfg in "save" "save $A" "save $A --staging-l2 normal --staging-mib 64" "save" "save $A" "load"; do
    i=$((i+1)); /usr/bin/time -a -o $OUT/walls.txt -f "$i $cfg wall %e s" $K $cfg --json > $OUT/bl-$i.json
    echo "## $i: $cfg"; summary $OUT/bl-$i.json | grep -vE "^      hooks|per-chunk|mapped"; keep bl-$i.json
  done
  cat $OUT/walls.txt
fi

if [ "$part" = ab ]; then
  suite
  O=/tmp/kvb-old; rm -rf $O; mkdir -p $O && tar -xJf old-kvbench.tar.xz -C $O
  for k in 1 2 3 4; do
    $O/kvbench/bin/kvbench save --strategy staged --design async --json > $OUT/ab-old-$k.json
    $K save --strategy staged --design async --json > $OUT/ab-new-$k.json
  done
  for f in $OUT/ab-*.json; do
    python3 - "$f" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); d = [x for x in j['results']['designs'] if x['design'] == 'async'][0]
h = {k: round(v['us']['p50'], 2) for k, v in d['hooks'].items()}
b = d['blockedPerStepUs']; n = j['results'].get('hostNoise') or {}
print(sys.argv[1].split('/')[-1], j['tool']['gitSha'][:7], 'blocked p50 %.1f p90 %.1f p99 %.1f' % (b['p50'], b['p90'], b['p99']), 'slow %.2f%%' % d['slowdownPct'], 'moved %.1f%%' % d['transfer']['pctOfCeiling'], 'verified', d['verified'], h, 'noise slow%', n.get('slowRepsPct'))
PY
  done
  suite_result
  archive test-gpu.txt
fi

if [ "$part" = tasks ]; then
  keep() { tar -rf $OUT/results.tar -C $OUT "$@" && (cd $OUT && rm -f "$@"); }
  if [ "${suite:-1}" = 1 ]; then s0=$(date +%s); suite; suite_result; echo "suite $(( $(date +%s) - s0 )) s"; cp $OUT/test-gpu.txt $OUT/test-gpu.keep; fi
  echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
  O=/tmp/kvb-old; rm -rf $O; mkdir -p $O && tar -xJf .device-carry/old-kvbench.tar.xz -C $O && ln -s $B/kvbench/node $O/kvbench/node
  abline() {
    python3 - "$@" <<'PY'
import json, sys
for f in sys.argv[1:]:
    j = json.load(open(f)); d = [x for x in j['results']['designs'] if x['design'] == 'async'][0]
    h = ', '.join(f"{k} {v['us']['p50']:.2f}/{v['us']['p99']:.2f}" for k, v in d['hooks'].items())
    b = d['blockedPerStepUs']; ref = j['results'].get('reference') or {}
    print(f.split('/')[-1], j['tool']['gitSha'][:7], 'blocked p50 %.1f p90 %.1f p99 %.1f max %.1f' % (b['p50'], b['p90'], b['p99'], b['max']),
          '| slow %.2f%% moved %.1f%% verified %s | ref %.1f%% at %.2f%% |' % (d['slowdownPct'], d['transfer']['pctOfCeiling'], d['verified'], ref.get('pctOfCeiling', 0), ref.get('slowdownPct') or 0), h)
PY
  }
  A="--strategy staged --design async"
  for k in $(seq 1 ${pairs:-3}); do
    for m in ${modes:-save load}; do
      $O/kvbench/bin/kvbench $m $A --json > $OUT/ab-$m-old-$k.json; abline $OUT/ab-$m-old-$k.json; keep ab-$m-old-$k.json
      $K $m $A --json > $OUT/ab-$m-new-$k.json; abline $OUT/ab-$m-new-$k.json; keep ab-$m-new-$k.json
    done
  done
  for m in ${defaults-save load}; do
    /usr/bin/time -a -o $OUT/walls.txt -f "default $m wall %e s" $K $m --json > $OUT/default-$m.json
    summary $OUT/default-$m.json | grep -vE "per-chunk|mapped"; keep default-$m.json
  done
  cat $OUT/walls.txt
fi
