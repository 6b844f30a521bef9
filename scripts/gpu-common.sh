# Sourced by the GPU session scripts (gpu-ci.sh, gpu-connector.sh), from the repository root with the
# bundle carried: unpacks it into /tmp/kvb, and `step NAME ARGS...` runs `kvbench ARGS -o $R/NAME.json`
# with the table in $R/NAME.txt and the exit code and wall time in $R/steps.txt; a script's own
# `show_step FILE` (when defined) prints what it wants of the table.
OUT=${OUT:-/tmp/kvbench-out}; mkdir -p "$OUT"
B=/tmp/kvb; rm -rf $B; mkdir -p $B && tar -xJf kvbench-*-linux-x64.tar.xz -C $B
K=$B/kvbench/bin/kvbench
R=${R:?set R, the results folder}; rm -rf "$R"; mkdir -p "$R"
date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
ulimit -l unlimited 2>/dev/null
step() {
  local name=$1; shift
  local t0=$(date +%s%N)
  timeout 300 $K "$@" -o "$R/$name.json" > "$R/$name.txt" 2>&1
  local rc=$?
  printf '%-28s rc=%s wall=%sms  %s\n' "$name" "$rc" "$(( ($(date +%s%N) - t0) / 1000000 ))" "$*" | tee -a "$R/steps.txt"
  if declare -F show_step > /dev/null; then show_step "$R/$name.txt"; fi
}
