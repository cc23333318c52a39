#!/usr/bin/env bash
# The PostgreSQL write path (issue 25), side by side in one run on one throw-away durable server (fsync on,
# synchronous_commit on, pg_stat_statements loaded):
#
#  1. profile: each build's API behind bench/pg_roundtrips.py (a counting proxy) at 16 connections: round trips, rows,
#     statements and their server time, WAL fsyncs per commit (pg_stat_statements, pg_stat_database, pg_stat_wal), and
#     what the backends wait on (pg_stat_activity sampled). The proxy costs CPU: no speed is read off this phase.
#  2. speed: SQLITE_SYNCHRONOUS=FULL, each build on PostgreSQL (one instance), and the current build as two instances
#     on one database, with the same wrk script at each connection count: requests/s, p50/p99, and CPU per message of
#     the API process(es) and of every PostgreSQL process (/proc/PID/stat before and after).
#  3. import: `import FILE` of the CLI on PostgreSQL, rows/s, each build.
#
# The API is pinned to CPU 0 and wrk to CPU 1; PostgreSQL is unpinned (it shares both). Writes bench/POSTGRES.md.
#
# Settings (environment): BENCH_BASELINE_API and BENCH_BASELINE_CLI (output folders of the build before the change, e.g.
# from `git archive` of it; without them only the current build runs), BENCH_DURATION (8s), BENCH_WARMUP (3s),
# BENCH_CONNECTIONS ("16 64"), BENCH_IMPORT_ROWS (20000), BENCH_OUT (bench/POSTGRES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${BENCH_DURATION:-8s}
warmup=${BENCH_WARMUP:-3s}
connections=${BENCH_CONNECTIONS:-"16 64"}
import_rows=${BENCH_IMPORT_ROWS:-20000}
out=${BENCH_OUT:-bench/POSTGRES.md}
server_cpu=0
client_cpu=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

fail() {
  echo "bench: $*" >&2
  exit 1
}

command -v wrk >/dev/null 2>&1 || fail "wrk is needed (apt-get install wrk)"
command -v psql >/dev/null 2>&1 || fail "psql is needed (the postgresql-client package)"

api_dir="$root/src/Feedback.Api/bin/Release/net10.0"
cli_dir="$root/src/Feedback.Cli/bin/Release/net10.0"
[ -f "$api_dir/Feedback.Api.dll" ] || fail "build first: dotnet build Feedback.slnx -c Release"
builds="new"
if [ -n "${BENCH_BASELINE_API:-}" ]; then
  builds="base new"
fi
dir_of() { if [ "$1" = base ]; then echo "$BENCH_BASELINE_API"; else echo "$api_dir"; fi; }
cli_of() { if [ "$1" = base ]; then echo "${BENCH_BASELINE_CLI:-}"; else echo "$cli_dir"; fi; }

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
pids=()
proxy_pid=""
cleanup() {
  for pid in "${pids[@]}" $proxy_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  FEEDBACK_TEST_SERVERS_DIR="$work/servers" scripts/test-servers.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

API_KEY="bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export API_KEY RATE_LIMIT_PER_MINUTE=0 CLASSIFIER=fast

echo "postgres: starting a throw-away durable server with pg_stat_statements" >&2
eval "$(FEEDBACK_TEST_SERVERS_DIR="$work/servers" scripts/test-servers.sh start --durable --stats)"
pg_port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$FEEDBACK_TEST_POSTGRES")
pg_dir=$(sed -n 's/^PG_DIR=//p' "$work/servers/state.env")
postmaster=$(head -n 1 "$pg_dir/data/postmaster.pid")
pg_sql() { psql -q -t -A -F'|' -h 127.0.0.1 -p "$pg_port" -U postgres -d "$1" -c "$2"; }
pg_sql postgres "CREATE EXTENSION pg_stat_statements"

clock_ticks=$(getconf CLK_TCK)
# pg_ticks: CPU time (ticks) of every PostgreSQL process so far: the postmaster's own and its reaped children's
# (fields 14-17), plus each live child's (14-15).
pg_ticks() {
  local total children
  total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$postmaster/stat")
  children=$(ps -o pid= --ppid "$postmaster" | xargs -r -I{} awk '{ s += $14 + $15 } END { print s + 0 }' /proc/{}/stat 2>/dev/null |
    awk '{ s += $1 } END { print s + 0 }')
  echo $((total + children))
}
api_ticks() {
  local pid sum=0
  for pid in "$@"; do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
  echo "$sum"
}

port=18300
# start_api BUILD DATABASE [PG_PORT] [VAR=VALUE...]: starts an API on CPU 0 against DATABASE (a SQLite DATA_DIR when
# DATABASE is "sqlite"), sets api_pid and api_port.
start_api() {
  local build=$1 database=$2 dir
  shift 2
  dir=$(dir_of "$build")
  port=$((port + 1))
  local env_db=("DATABASE_URL=postgres://postgres@127.0.0.1:${target_port:-$pg_port}/$database")
  [ "$database" = sqlite ] && env_db=("SQLITE_SYNCHRONOUS=FULL")
  (cd "$dir" && exec env "${env_db[@]}" "$@" DATA_DIR="$work/data-$port" PORT="$port" HOST=127.0.0.1 \
    taskset -c "$server_cpu" dotnet Feedback.Api.dll) >"$work/api-$port.log" 2>&1 &
  api_pid=$!
  api_port=$port
  pids+=("$api_pid")
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
    kill -0 "$api_pid" 2>/dev/null || { cat "$work/api-$port.log" >&2; fail "the API did not start"; }
    sleep 0.1
  done
  fail "the API did not answer within 20 s"
}
stop_api() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

run_wrk() {
  taskset -c "$client_cpu" wrk -t1 -c"$1" -d"$2" --timeout 5s -s bench/feedback.lua "http://127.0.0.1:$3/feedback" | grep '^BENCH '
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
failures=0
check() {
  if [ "$(field non2xx "$1")" != 0 ] || [ "$(field socket_errors "$1")" != 0 ]; then
    echo "bench: FAILED: $2: $(field non2xx "$1") non-2xx, $(field socket_errors "$1") socket errors" >&2
    failures=$((failures + 1))
  fi
}

# ---------------------------------------------------------------- 1. profile
profile_rows=()
statement_rows=()
wait_rows=()
for build in $builds; do
  db="profile_$build"
  pg_sql postgres "CREATE DATABASE $db"
  proxy_port=$((port + 50))
  python3 bench/pg_roundtrips.py "$proxy_port" "$pg_port" "$work/counts-$build" &
  proxy_pid=$!
  sleep 0.5
  target_port=$proxy_port start_api "$build" "$db"
  run_wrk 16 "$warmup" "$api_port" >/dev/null
  pg_sql postgres "SELECT pg_stat_statements_reset()" >/dev/null
  pg_sql "$db" "SELECT pg_stat_reset_shared('wal')" >/dev/null
  pg_sql "$db" "SELECT pg_stat_reset()" >/dev/null
  kill -USR1 "$proxy_pid"
  sleep 0.2
  rt_before=$(sed -n 's/round_trips=\([0-9]*\).*/\1/p' "$work/counts-$build")
  rows_before=$(pg_sql "$db" "SELECT count(*) FROM feedback")
  # What the API's connections are doing, sampled every 0.2 s while wrk runs.
  (
    end=$((SECONDS + ${duration%s}))
    while [ "$SECONDS" -lt "$end" ]; do
      pg_sql "$db" "SELECT state || ' / ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM pg_stat_activity
        WHERE datname = '$db' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" >>"$work/waits-$build" || true
      sleep 0.2
    done
  ) &
  sampler=$!
  line=$(run_wrk 16 "$duration" "$api_port")
  wait "$sampler"
  check "$line" "profile $build"
  kill -USR1 "$proxy_pid"
  sleep 0.2
  rt=$(( $(sed -n 's/round_trips=\([0-9]*\).*/\1/p' "$work/counts-$build") - rt_before ))
  rows=$(( $(pg_sql "$db" "SELECT count(*) FROM feedback") - rows_before ))
  commits=$(pg_sql "$db" "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
  wal=$(pg_sql "$db" "SELECT wal_records || '|' || wal_bytes || '|' || wal_write || '|' || wal_sync || '|' || round(wal_sync_time::numeric, 0) FROM pg_stat_wal")
  IFS='|' read -r wal_records wal_bytes wal_write wal_sync wal_sync_ms <<<"$wal"
  # Statements of the writer's inserts ran once per row, or once per commit when they carry many rows.
  total_exec=$(pg_sql postgres "SELECT round(sum(total_exec_time)::numeric, 1) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')")
  profile_rows+=("$build|$(field rps "$line")|$rows|$commits|$rt|$wal_sync|$wal_sync_ms|$wal_bytes|$total_exec")
  while IFS= read -r s; do statement_rows+=("$build|$s"); done < <(pg_sql postgres \
    "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3), rows,
            regexp_replace(left(query, 110), '\s+', ' ', 'g')
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')
     ORDER BY total_exec_time DESC LIMIT 8")
  samples=$(wc -l <"$work/waits-$build")
  while IFS= read -r s; do wait_rows+=("$build|$s|$samples"); done < <(sort "$work/waits-$build" | uniq -c | sort -rn | head -n 6 |
    awk '{ n = $1; $1 = ""; sub(/^ /, ""); print n "|" $0 }')
  stop_api "$api_pid"
  kill "$proxy_pid"
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=""
  printf '  profile %s: %s req/s through the proxy, %s rows, %s commits, %s round trips, %s WAL fsyncs\n' \
    "$build" "$(field rps "$line")" "$rows" "$commits" "$rt" "$wal_sync" >&2
done
unset target_port

# ---------------------------------------------------------------- 2. speed
speed_rows=()
# measure NAME C PIDS PORTS...: warm-up, then the measured run(s) (one wrk per port, connections split), CPU per message.
measure() {
  local name=$1 c=$2 pids_list=$3
  shift 3
  local ports=("$@") n=$# half line rps=0 p50=0 p99=0 requests=0 api_before pg_before api_after pg_after i
  half=$((c / n))
  # Waits name the wrk runs: a bare wait would also wait for the API servers, which run in the background too.
  local wrk_pids=()
  for p in "${ports[@]}"; do
    run_wrk "$half" "$warmup" "$p" >/dev/null &
    wrk_pids+=($!)
  done
  wait "${wrk_pids[@]}"
  wrk_pids=()
  # shellcheck disable=SC2086
  api_before=$(api_ticks $pids_list)
  pg_before=$(pg_ticks)
  for i in "${!ports[@]}"; do
    run_wrk "$half" "$duration" "${ports[$i]}" >"$work/wrk-$i" &
    wrk_pids+=($!)
  done
  wait "${wrk_pids[@]}"
  # shellcheck disable=SC2086
  api_after=$(api_ticks $pids_list)
  pg_after=$(pg_ticks)
  for i in "${!ports[@]}"; do
    line=$(cat "$work/wrk-$i")
    check "$line" "$name at $c"
    rps=$(awk -v a="$rps" -v b="$(field rps "$line")" 'BEGIN { print a + b }')
    requests=$((requests + $(field requests "$line")))
    p50=$(( $(field p50_us "$line") > p50 ? $(field p50_us "$line") : p50 ))
    p99=$(( $(field p99_us "$line") > p99 ? $(field p99_us "$line") : p99 ))
  done
  local api_us pg_us
  api_us=$(awk -v t="$((api_after - api_before))" -v hz="$clock_ticks" -v n="$requests" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
  pg_us=$(awk -v t="$((pg_after - pg_before))" -v hz="$clock_ticks" -v n="$requests" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
  [ "$name" = sqlite-FULL ] && pg_us="–"
  speed_rows+=("$name|$c|$rps|$p50|$p99|$api_us|$pg_us")
  printf '  %-12s %3s conns: %.0f req/s, p50 %s us, p99 %s us, API %s us/message, PostgreSQL %s us/message\n' \
    "$name" "$c" "$rps" "$p50" "$p99" "$api_us" "$pg_us" >&2
}

start_api new sqlite
for c in $connections; do measure sqlite-FULL "$c" "$api_pid" "$api_port"; done
stop_api "$api_pid"
for build in $builds; do
  pg_sql postgres "CREATE DATABASE speed_$build"
  start_api "$build" "speed_$build"
  for c in $connections; do measure "pg-1-$build" "$c" "$api_pid" "$api_port"; done
  stop_api "$api_pid"
done
pg_sql postgres "CREATE DATABASE speed_two"
start_api new speed_two
first_pid=$api_pid first_port=$api_port
start_api new speed_two
for c in $connections; do measure pg-2-new "$c" "$first_pid $api_pid" "$first_port" "$api_port"; done
stop_api "$api_pid"
stop_api "$first_pid"

# ---------------------------------------------------------------- 3. import
import_rows_out=()
csv="$work/import.csv"
# The shared data sets beside the repository, or where BENCH_DATA points.
python3 bench/make_import_data.py "${BENCH_DATA:-$root/../shared/data}" "$csv" "$import_rows"
# The same file into SQLite with the current CLI first: what the import costs where the store is not PostgreSQL.
start=$(date +%s.%N)
(cd "$cli_dir" && DATA_DIR="$work/cli-sqlite" dotnet Feedback.Cli.dll import "$csv" --id-column id >"$work/import-sqlite.log" 2>&1) ||
  { cat "$work/import-sqlite.log" >&2; failures=$((failures + 1)); }
seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
import_rows_out+=("sqlite (new)|$(sqlite3 "$work/cli-sqlite/feedback.db" 'SELECT count(*) FROM feedback' 2>/dev/null || echo "$import_rows")|$seconds")
for build in $builds; do
  cli=$(cli_of "$build")
  [ -n "$cli" ] && [ -f "$cli/Feedback.Cli.dll" ] || continue
  pg_sql postgres "CREATE DATABASE import_$build"
  start=$(date +%s.%N)
  (cd "$cli" && DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/import_$build" DATA_DIR="$work/cli-$build" \
    dotnet Feedback.Cli.dll import "$csv" --id-column id >"$work/import-$build.log" 2>&1) ||
    { cat "$work/import-$build.log" >&2; failures=$((failures + 1)); continue; }
  seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  stored=$(pg_sql "import_$build" "SELECT count(*) FROM feedback")
  import_rows_out+=("postgres ($build)|$stored|$seconds")
  printf '  import %s: %s rows in %s s\n' "$build" "$stored" "$seconds" >&2
done

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src bench 2>/dev/null || commit="$commit (with uncommitted changes)"
{
  echo "# PostgreSQL write path (issue 25)"
  echo
  echo "Written by \`bench/postgres.sh\`. PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -n 1) on loopback, fsync on,"
  echo "synchronous_commit on, default settings otherwise (shared_buffers 128 MB), unpinned; the API on CPU $server_cpu, wrk (1 thread)"
  echo "on CPU $client_cpu; $warmup warm-up, $duration measured. \"base\" is the build before the change, \"new\" this one, in the same run."
  echo
  echo "## 1. Where a message's time goes (16 connections, through the counting proxy)"
  echo
  echo "| build | req/s (proxied) | rows | commits | rows/commit | round trips/commit | WAL fsyncs/commit | fsync ms/commit | WAL bytes/row | statement ms/commit |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for row in "${profile_rows[@]}"; do
    IFS='|' read -r build rps rows commits rt wal_sync wal_sync_ms wal_bytes total_exec <<<"$row"
    awk -v b="$build" -v r="$rps" -v n="$rows" -v c="$commits" -v t="$rt" -v s="$wal_sync" -v sm="$wal_sync_ms" -v wb="$wal_bytes" -v x="$total_exec" \
      'BEGIN { printf "| %s | %.0f | %d | %d | %.1f | %.2f | %.2f | %.2f | %.0f | %.2f |\n", b, r, n, c, n / c, t / c, s / c, sm / c, wb / n, x / c }'
  done
  echo
  echo "Commits are the database's (pg_stat_database.xact_commit): the writer's, plus the background loops' few. Round"
  echo "trips are every client burst the proxy saw after a server answer, all connections of the API together."
  echo
  echo "Server time per statement (pg_stat_statements, the 8 costliest):"
  echo
  echo "| build | calls | total ms | mean ms | rows | statement |"
  echo "|---|---:|---:|---:|---:|---|"
  for row in "${statement_rows[@]}"; do
    IFS='|' read -r build calls total mean rows query <<<"$row"
    printf '| %s | %s | %s | %s | %s | `%s` |\n' "$build" "$calls" "$total" "$mean" "$rows" "${query//|/\\|}"
  done
  echo
  echo "What the API's backends were doing (pg_stat_activity sampled every 0.2 s; state / wait event):"
  echo
  echo "| build | backend samples | share | state / wait event |"
  echo "|---|---:|---:|---|"
  for row in "${wait_rows[@]}"; do
    IFS='|' read -r build n what samples <<<"$row"
    awk -v b="$build" -v n="$n" -v w="$what" -v s="$samples" 'BEGIN { printf "| %s | %d | %.0f %% | %s |\n", b, n, 100 * n / s, w }'
  done
  echo
  echo "## 2. Speed, side by side"
  echo
  echo "| server | connections | requests/s | p50 ms | p99 ms | API CPU µs/message | PostgreSQL CPU µs/message |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for row in "${speed_rows[@]}"; do
    IFS='|' read -r name c rps p50 p99 api_us pg_us <<<"$row"
    awk -v n="$name" -v c="$c" -v r="$rps" -v a="$p50" -v b="$p99" -v u="$api_us" -v p="$pg_us" \
      'BEGIN { printf "| %s | %s | %.0f | %.2f | %.2f | %s | %s |\n", n, c, r, a / 1000, b / 1000, u, p }'
  done
  echo
  echo "pg-2-new: two API instances on one database, both on CPU $server_cpu, each loaded by its own wrk with half the"
  echo "connections; requests/s summed, p50/p99 the worse of the two, API CPU summed over both."
  if [ ${#import_rows_out[@]} -gt 0 ]; then
    echo
    echo "## 3. Import into PostgreSQL (\`import FILE --id-column id\`, $import_rows rows, bench/make_import_data.py)"
    echo
    echo "| store (build) | rows stored | seconds (whole command) | rows/s |"
    echo "|---|---:|---:|---:|"
    for row in "${import_rows_out[@]}"; do
      IFS='|' read -r build stored seconds <<<"$row"
      awk -v b="$build" -v n="$stored" -v s="$seconds" 'BEGIN { printf "| %s | %d | %.2f | %.0f |\n", b, n, s, n / s }'
    done
  fi
  echo
  echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average $load_at_start at"
  echo "the start (other engineers' builds share the cores). Run $(date -u '+%Y-%m-%d %H:%M UTC') at commit $commit."
  [ "$failures" -eq 0 ] || echo "**FAILED: $failures run(s) had errors; see above.**"
} >"$out"
cat "$out"
[ "$failures" -eq 0 ] || fail "$failures run(s) failed"
