#!/usr/bin/env bash
# Measures the idle cost of a running DCT network (make demo): for every
# process in RUN_DIR/pids, the CPU it used over SECONDS (utime + stime from
# /proc/<pid>/stat) as a share of one core, and its resident memory (VmRSS).
#   scripts/idle-cost.sh RUN_DIR [SECONDS] [TARGET_TOTAL_PERCENT]
# With a target, the last line says whether the total meets it.
set -euo pipefail
run_dir=${1:?usage: $0 RUN_DIR [SECONDS] [TARGET_TOTAL_PERCENT]}
secs=${2:-60}
target=${3:-}
hz=$(getconf CLK_TCK)
declare -A pid0 cpu0
for f in "$run_dir"/pids/*.pid; do
  name=$(basename "$f" .pid)
  pid=$(head -n1 "$f")
  [ -r "/proc/$pid/stat" ] || continue
  pid0[$name]=$pid
  # fields after the command name: utime is the 14th, stime the 15th
  read -r -a st <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
  cpu0[$name]=$(( st[11] + st[12] ))
done
start=$(date +%s.%N)
sleep "$secs"
elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
total=0
total_rss=0
printf '| process | idle CPU (%% of one core) | RSS (MB) |\n| --- | --- | --- |\n'
for name in $(printf '%s\n' "${!pid0[@]}" | sort); do
  pid=${pid0[$name]}
  [ -r "/proc/$pid/stat" ] || { echo "| $name | exited | |"; continue; }
  read -r -a st <<<"$(sed 's/^.*) //' "/proc/$pid/stat")"
  ticks=$(( st[11] + st[12] - cpu0[$name] ))
  pct=$(echo "100 * $ticks / $hz / $elapsed" | bc -l)
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  total=$(echo "$total + $pct" | bc -l)
  total_rss=$(( total_rss + rss ))
  printf '| %s | %.2f | %.1f |\n' "$name" "$pct" "$(echo "$rss / 1024" | bc -l)"
done
printf '| total (%d s, load average %s) | %.2f | %.1f |\n' "$secs" "$(cut -d' ' -f1 /proc/loadavg)" "$total" "$(echo "$total_rss / 1024" | bc -l)"
if [ -n "$target" ]; then
  if (( $(echo "$total <= $target" | bc -l) )); then v=met; else v="NOT MET"; fi
  printf 'REPORT | idle CPU of the demo topology, total | ≤ %s %% of one core | %.2f %% | %s |\n' "$target" "$total" "$v"
fi
