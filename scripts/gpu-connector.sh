#!/usr/bin/env bash
# GPU session for the Python connector harness (issue 15): the fixtures and examples through
# `kvbench save|load --connector py:...`, each result kept, then the GPU suite. Results land in
# $OUT/connector.tar. Run from the repository root with the bundle carried.
set -uo pipefail
R=/tmp/kvb-connector
source scripts/gpu-common.sh
export PYTHONPATH=$B/kvbench/test/fixtures/connectors:$B/kvbench/test/fixtures
show_step() { head -"${LINES_SHOWN:-40}" "$1"; }
for s in ${STEPS:-smoke}; do
  case $s in
    smoke) step smoke save --connector py:slow_lookup:SlowLookup --decode-steps 20 --warmup 2 ;;
    save) KVBENCH_CONNECTOR_RAW=$R/save-raw.jsonl step save-slow-lookup save --connector py:slow_lookup:SlowLookup ;;
    load) KVBENCH_CONNECTOR_RAW=$R/load-raw.jsonl step load-slow-lookup load --connector py:slow_lookup:SlowLookup ;;
    save3) for i in 2 3; do step save-async-$i save --connector py:connectors.async_pinned:AsyncPinnedConnector --compare-with none; done ;;
    leaky) step leaky save --connector py:leaky:LeakyConnector --stream-accessor leaky:current_stream --compare-with none ;;
    corrupt) step corrupt load --connector py:corrupt_load:CorruptOnLoad --compare-with none ;;
    suite) $B/kvbench/bin/kvbench-test-gpu 2>&1 | tee $OUT/test-gpu.txt | grep -E "^# (tests|pass|fail|skipped)|^not ok" ;;
  esac
done
tar -cf "$OUT/connector.tar" -C $R .
