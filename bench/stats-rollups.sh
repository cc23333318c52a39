#!/usr/bin/env bash
# GET /stats (and ?q= for a missing word) side by side with another build on the same rows (issue 23): for each
# size in BENCH_SIZES (default "1000 1000000"), bench/make_import_data.py's rows, received over the last 30 days, are
# imported by each build's CLI into a file of its own (which fills the rollups as it inserts; the import times are
# printed side by side); the base build (BENCH_BASE, default main, built by bench/base-build.sh as side-by-side.sh builds
# it, or BENCH_BASE_DIR) is then started on its file and this checkout on its own, each pinned to CPU 0, and GET
# /stats?bucket=day and ?bucket=hour over the 30 days and GET /feedback?q=zzqxv are timed BENCH_REQUESTS times (20)
# each after 3 warm-up requests, one at a time from CPU 1. Prints the medians and the best time in ms, and checks that both builds give the same /stats answers (the LLM
# block aside). The target of #23 is this build's time at each size within 3x of its time at the first size.
# Needs the Release build of this checkout (dotnet build Feedback.slnx -c Release) and ../shared/data (or BENCH_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
sizes=${BENCH_SIZES:-"1000 1000000"}
requests=${BENCH_REQUESTS:-20}
data=${BENCH_DATA:-$root/../shared/data}
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
BENCH_BASE_PROJECTS="src/Feedback.Cli/Feedback.Cli.csproj" . bench/base-build.sh
declare -A dir_of=([base]="$base_dir/src/Feedback.Api/bin/Release/net10.0" [this]="$root/src/Feedback.Api/bin/Release/net10.0")
declare -A cli_of=([base]="$base_dir/src/Feedback.Cli/bin/Release/net10.0/Feedback.Cli.dll" [this]="$root/src/Feedback.Cli/bin/Release/net10.0/Feedback.Cli.dll")

API_KEY="bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export API_KEY RATE_LIMIT_PER_MINUTE=0 CLASSIFIER=fast
port=18280
to=$(date -u +%Y-%m-%dT%H:00:00Z)
from=$(date -u -d "$to - 30 days" +%Y-%m-%dT%H:00:00Z)
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for size in $sizes; do
  python3 bench/make_import_data.py "$data" "$work/rows.csv" "$size"
  # A received_at column spreading the rows evenly over the 30 days before the hour the range ends.
  python3 - "$work/rows.csv" "$work/timed.csv" "$size" "$to" <<'PY'
import csv, sys, datetime
src, dst, n, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), datetime.datetime.fromisoformat(sys.argv[4].replace("Z", "+00:00"))
span = datetime.timedelta(days=30).total_seconds()
with open(src, newline="", encoding="utf-8") as i, open(dst, "w", newline="", encoding="utf-8") as o:
    r, w = csv.reader(i), csv.writer(o)
    w.writerow(next(r) + ["received_at"])
    for k, row in enumerate(r):
        at = end - datetime.timedelta(seconds=span * (k + 0.5) / n)
        w.writerow(row + [at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")])
PY
  # Each build's CLI imports the rows into its own file (so the import's cost of each build's triggers is timed side
  # by side too), one after the other, pinned to CPU 0.
  for build in base this; do
    mkdir -p "$work/$build-$size"
    start=$(date +%s.%N)
    (cd "$work" && DATA_DIR="$work/$build-$size" taskset -c 0 dotnet "${cli_of[$build]}" import "$work/timed.csv" --id-column id --time-column received_at --classifier fast --json) >"$work/import.json"
    echo "size=$size build=$build import_s=$(echo "$(date +%s.%N) - $start" | bc) $(cat "$work/import.json")"
    sqlite3 "$work/$build-$size/feedback.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    echo "size=$size build=$build file_bytes=$(stat -c %s "$work/$build-$size/feedback.db") rollup_rows=$(sqlite3 "$work/$build-$size/feedback.db" 'SELECT count(*) FROM feedback_rollups')"
  done

  for build in base this; do
    port=$((port + 1))
    (cd "${dir_of[$build]}" && exec env DATA_DIR="$work/$build-$size" PORT="$port" HOST=127.0.0.1 taskset -c 0 dotnet Feedback.Api.dll) \
      >"$work/$build-$size.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
      curl -s -o /dev/null "http://127.0.0.1:$port/health/ready" && break
      sleep 0.1
    done
    for request in day hour q; do
      case $request in
        q) url="http://127.0.0.1:$port/feedback?q=zzqxv&limit=50" ;;
        *) url="http://127.0.0.1:$port/stats?bucket=$request&from=$from&to=$to" ;;
      esac
      for _ in 1 2 3; do curl -s -o "$work/$build-$size-$request.json" -H "X-API-Key: $API_KEY" "$url"; done
      times=$(for _ in $(seq 1 "$requests"); do
        taskset -c 1 curl -s -o /dev/null -w '%{time_total}\n' -H "X-API-Key: $API_KEY" "$url"
      done)
      printf 'size=%s build=%-4s request=%-4s median_ms=%s best_ms=%s answer=%s\n' "$size" "$build" "$request" \
        "$(awk '{ printf "%.2f\n", $1 * 1000 }' <<<"$times" | median)" "$(awk '{ printf "%.2f\n", $1 * 1000 }' <<<"$times" | sort -n | head -1)" \
        "$(python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["total"] if "total" in d else len(d["items"]))' "$work/$build-$size-$request.json")"
    done
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  done

  # The same answers from the rollups as from the rows (the LLM block aside, which neither build changed).
  for bucket in day hour; do
    python3 - "$work/base-$size-$bucket.json" "$work/this-$size-$bucket.json" "$bucket" <<'PY' || exit 1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("llm", None)
print(f"bucket={sys.argv[3]} same_answer={a == b}")
sys.exit(0 if a == b else 1)
PY
  done
  rm -rf "$work/this-$size" "$work/base-$size"
done
