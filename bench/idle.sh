#!/bin/bash
# bench/idle.sh - what an idle repwatchd costs: peak RSS and CPU over a quiet minute.
#
#   bench/idle.sh [BUILD_DIR] [SECONDS]        (defaults: build, 60)
#
# Starts repwatchd with 20 file sources (each a small directory of exports, interval 6h) in a
# scratch directory, waits until every source had its first poll, then samples
# /proc/PID/stat (utime + stime) and the context switches over SECONDS of idling, and reads the
# peak resident set (VmHWM, which includes the first polls) from /proc/PID/status.
# Targets (issue 5): peak RSS < 20 MB, idle CPU < 0.5%. Exits 1 if a target is missed.
set -euo pipefail

build=${1:-build}
secs=${2:-60}
bin=$build/daemon/repwatchd
sources=20
rows=50
if [ ! -x "$bin" ]; then
  echo "idle.sh: $bin not found; build it first (cmake --build $build --target repwatchd)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/repwatch-idle.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 20 sources, each a directory with one small CSV export.
config=$work/repwatch.toml
{
  echo "state_dir = \"$work/state\""
  echo '[[locations]]'
  echo 'id = "main"'
  for s in $(seq 1 $sources); do
    dir=$work/import/src$s
    mkdir -p "$dir"
    {
      echo "external_id,author,rating,text,created_at"
      for r in $(seq 1 $rows); do
        echo "s$s-r$r,Patient $r,$(( (r % 5) + 1 )),\"Visit $r: the nurse was kind but the wait was long and billing was confusing.\",2025-01-$(printf %02d $(( (r % 28) + 1 )))T10:00:00Z"
      done
    } > "$dir/export.csv"
    echo '[[sources]]'
    echo "id = \"src$s\""
    echo 'type = "file"'
    echo 'location = "main"'
    echo 'interval = "6h"'
    echo "path = \"$dir\""
  done
} > "$config"
chmod 0640 "$config"

"$bin" --config "$config" --log-level info 2> "$work/log" &
pid=$!

# Wait for the first poll of every source (at most 60 s).
for _ in $(seq 1 600); do
  polled=$(grep -c "fetched," "$work/log" || true)
  [ "$polled" -ge "$sources" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "repwatchd exited:" >&2; cat "$work/log" >&2; exit 2; }
  sleep 0.1
done
if [ "$polled" -lt "$sources" ]; then
  echo "idle.sh: only $polled of $sources sources polled after 60 s" >&2
  cat "$work/log" >&2
  exit 2
fi
sleep 1  # let the first cycle's alert delivery and status update finish

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
switches() {
  awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ {n += $2} END {print n}' \
    "/proc/$pid/status"
}
hz=$(getconf CLK_TCK)
start_ticks=$(ticks)
start_switches=$(switches)
start_ns=$(date +%s%N)
sleep "$secs"
end_ticks=$(ticks)
end_switches=$(switches)
end_ns=$(date +%s%N)

elapsed=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
cpu=$(awk -v t=$((end_ticks - start_ticks)) -v hz="$hz" -v s="$elapsed" \
  'BEGIN {printf "%.3f", 100 * t / hz / s}')
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
wakeups=$((end_switches - start_switches))
reviews=$(grep -o "[0-9]* new" "$work/log" | awk '{n += $1} END {print n}')

echo "repwatchd idle with $sources file sources ($reviews reviews stored at start), ${elapsed}s:"
printf "  peak RSS (VmHWM)   %6.1f MB   (target < 20 MB)\n" "$(awk -v k="$hwm_kb" 'BEGIN {print k / 1024}')"
printf "  RSS now (VmRSS)    %6.1f MB\n" "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
printf "  CPU while idle     %6.3f %%   (target < 0.5%%; %d ticks of 1/%d s)\n" "$cpu" \
  $((end_ticks - start_ticks)) "$hz"
printf "  context switches   %6d      (%.2f per second)\n" "$wakeups" \
  "$(awk -v w="$wakeups" -v s="$elapsed" 'BEGIN {print w / s}')"
printf "  threads            %6d\n" "$threads"

kill -TERM "$pid"
stop_start=$(date +%s%N)
wait "$pid" && rc=0 || rc=$?
pid=
stop_ms=$(( ($(date +%s%N) - stop_start) / 1000000 ))
echo "  SIGTERM -> exit    ${stop_ms} ms (exit code $rc)"

ok=1
awk -v k="$hwm_kb" 'BEGIN {exit !(k < 20 * 1024)}' || { echo "FAIL: peak RSS over 20 MB"; ok=0; }
awk -v c="$cpu" 'BEGIN {exit !(c < 0.5)}' || { echo "FAIL: idle CPU over 0.5%"; ok=0; }
[ "$rc" -eq 0 ] || { echo "FAIL: exit code $rc after SIGTERM"; ok=0; }
[ $ok -eq 1 ] && echo "OK: within targets"
[ $ok -eq 1 ]
