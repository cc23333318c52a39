#!/usr/bin/env bash
# Side-by-side POST /feedback: this checkout against another commit (BENCH_BASE, default main), built in Release from
# `git archive` in a temporary folder, in alternating rounds on the same machine at the same time: round after round,
# a fresh server of each build (base first, then this one), each pinned to CPU 0 with wrk on CPU 1, warmed up, then
# measured at BENCH_CONNECTIONS (64) for BENCH_DURATION (10s). Prints one line per run and the medians per build:
# requests/s, p99, the server's CPU time per request (user + system, /proc/PID/stat), which a busy machine moves
# much less than requests/s, and its resident memory (/proc/PID/status) once started and at its peak under the load. Settings: BENCH_BASE, BENCH_ROUNDS (5), BENCH_WARMUP (10s), BENCH_DURATION, BENCH_CONNECTIONS,
# BENCH_BASE_DIR (a checkout of the base to build and use instead of a fresh `git archive`), BENCH_PORT (18180: the
# first server listens one above it, each next one above the last; another range when another bench runs at the same time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base=${BENCH_BASE:-main}
rounds=${BENCH_ROUNDS:-5}
warmup=${BENCH_WARMUP:-10s}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
command -v wrk >/dev/null 2>&1 || { echo "side-by-side: needs wrk (apt-get install wrk)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/base-build.sh
. bench/base-build.sh
echo "Building this checkout (Release)..." >&2
dotnet build src/Feedback.Api/Feedback.Api.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
declare -A dir_of=([base]="$base_dir/src/Feedback.Api/bin/Release/net10.0" [this]="$root/src/Feedback.Api/bin/Release/net10.0")

API_KEY="bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export API_KEY RATE_LIMIT_PER_MINUTE=0 CLASSIFIER=${BENCH_CLASSIFIER:-fast}
port=${BENCH_PORT:-18180}
clock_ticks=$(getconf CLK_TCK)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
run_wrk() { taskset -c 1 wrk -t1 -c"$connections" -d"$1" --timeout 5s -s bench/feedback.lua "http://127.0.0.1:$port/feedback" | grep '^BENCH '; }

declare -A rps cpu p99 start_rss peak_rss
for round in $(seq 1 "$rounds"); do
  for build in base this; do
    port=$((port + 1))
    (cd "${dir_of[$build]}" && exec env DATA_DIR="$work/data-$build-$round" PORT="$port" HOST=127.0.0.1 taskset -c 0 dotnet Feedback.Api.dll) \
      >"$work/$build-$round.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
      curl -s -o /dev/null "http://127.0.0.1:$port/" && break
      sleep 0.1
    done
    start_rss[$build,$round]=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
    run_wrk "$warmup" >/dev/null
    before=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    line=$(run_wrk "$duration")
    ticks=$(($(awk '{ print $14 + $15 }' "/proc/$server_pid/stat") - before))
    peak_rss[$build,$round]=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    [ "$(field non2xx "$line")" = 0 ] && [ "$(field socket_errors "$line")" = 0 ] || { echo "side-by-side: FAILED: $line" >&2; exit 1; }
    rps[$build,$round]=$(field rps "$line")
    p99[$build,$round]=$(field p99_us "$line")
    cpu[$build,$round]=$(awk -v t="$ticks" -v hz="$clock_ticks" -v n="$(field requests "$line")" 'BEGIN { printf "%.0f", t * 1000000 / hz / n }')
    printf 'round %s %-4s rps=%s p99_us=%s cpu_us_per_request=%s start_rss_mb=%s peak_rss_mb=%s\n' "$round" "$build" "${rps[$build,$round]}" \
      "${p99[$build,$round]}" "${cpu[$build,$round]}" "${start_rss[$build,$round]}" "${peak_rss[$build,$round]}"
  done
done

median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for build in base this; do
  r="" c="" p="" s="" h=""
  for round in $(seq 1 "$rounds"); do
    r+="${rps[$build,$round]} "; c+="${cpu[$build,$round]} "; p+="${p99[$build,$round]} "; s+="${start_rss[$build,$round]} "; h+="${peak_rss[$build,$round]} "
  done
  printf 'median %-4s (%s) rps=%s p99_us=%s cpu_us_per_request=%s start_rss_mb=%s peak_rss_mb=%s\n' "$build" \
    "$([ "$build" = base ] && echo "${BENCH_BASE_DIR:-$base}" || git rev-parse --short HEAD)" \
    "$(echo $r | median)" "$(echo $p | median)" "$(echo $c | median)" "$(echo $s | median)" "$(echo $h | median)"
done
