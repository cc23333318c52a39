#!/usr/bin/env bash
# The scale bench (issue 23 item 5): one build measured at several store sizes, so a read that grows with the table shows
# as a ratio against the smallest size. Not in CI.
#
#   bash bench/scale.sh [SIZE...]          default: 1000 100000 1000000 10000000 (stored messages, SQLite)
#
# For each size: bench/make_import_data.py's rows spread evenly over the 30 days before the current hour are imported
# into a new store by the build's CLI (`import --classifier fast`, as the issue's table was measured), timed; the
# store's size per million messages; then the build's API on that store (pinned to CPU 0; curl, wrk, the poster and
# the browser on CPU 1):
#  - reads, each BENCH_WARMUPS (3) times, then BENCH_REQUESTS (20) times one at a time, median and best ms:
#    GET /feedback?sentiment=negative&limit=50 on its 20th page (the cursor of page 19's answer; fewer pages when the
#    store has fewer), GET /alerts?state=open, GET /feedback?q=refund (a common word), ?q=zzqxv (a missing word),
#    GET /stats?bucket=day and ?bucket=hour over the 30 days;
#  - dashboard tab CPU: bench/Feedback.Bench.Tab opens one signed-in dashboard tab in Debian's Chromium (headless, the
#    browser tests' flags); once live and BENCH_TAB_SETTLE (10) s later, the server's and Chromium's CPU are measured for
#    BENCH_TAB_SECONDS (60) s with nothing arriving; then bench/paced_post.py POSTs BENCH_TAB_RATE (20) messages a second
#    and, after the settle time, the same is measured again; then the tab is closed and the server's CPU measured with
#    the messages still arriving; reported as % of one core (BENCH_TAB_SECONDS=0 skips). With
#    BENCH_TAB_DETACHED=1 Playwright only signs in and then lets go of Chromium, as a person's browser has no driver;
#  - POST /feedback at 16 connections with wrk and bench/feedback.lua (as bench/run.sh), BENCH_POST_WARMUP (3s) then
#    BENCH_POST_ROUNDS (3) rounds of BENCH_POST_DURATION (8s): requests/s, p99 and server CPU per request, medians.
# The store is deleted after each size. The sizes in BENCH_POSTGRES_SIZES ("1000 1000000"; empty: none) are measured
# the same way on PostgreSQL: a throw-away durable server from scripts/test-servers.sh (fsync on, unpinned), one
# database per size, dropped afterwards. At the end: tables of every figure, each read at every size as a multiple of
# its time at the smallest size of its store (best times: on a shared machine the medians carry the other jobs'
# noise), and the issue's targets met or missed.
#
# The build measured: BENCH_API_DIR and BENCH_CLI_DIR (output folders, default this checkout's Release build; any other
# build's folders, e.g. one made from `git archive` of another commit, work the same). The tab driver comes from this
# checkout (BENCH_TAB_DIR). Other settings: BENCH_DATA (../shared/data), BENCH_PORT (18380), BENCH_OUT (also write the
# summary to this file). Needs wrk, taskset, sqlite3, python3; psql for PostgreSQL; /usr/bin/chromium for the tab.
# Disk: ~1.5 GB of CSV and several GB of store per 10 million messages (check df); run it under `nice -n 10` on a shared
# machine. Time: about 5 minutes for 1,000,000 messages on SQLite plus the tab's 2.5 minutes per size; 10 million
# take ~30 minutes to import alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sizes=${*:-"1000 100000 1000000 10000000"}
pg_sizes=${BENCH_POSTGRES_SIZES-"1000 1000000"}
api_dir=${BENCH_API_DIR:-$root/src/Feedback.Api/bin/Release/net10.0}
cli_dir=${BENCH_CLI_DIR:-$root/src/Feedback.Cli/bin/Release/net10.0}
tab_dir=${BENCH_TAB_DIR:-$root/bench/Feedback.Bench.Tab/bin/Release/net10.0}
data=${BENCH_DATA:-$root/../shared/data}
requests=${BENCH_REQUESTS:-20}
warmups=${BENCH_WARMUPS:-3}
post_rounds=${BENCH_POST_ROUNDS:-3}
post_warmup=${BENCH_POST_WARMUP:-3s}
post_duration=${BENCH_POST_DURATION:-8s}
tab_seconds=${BENCH_TAB_SECONDS:-60}
tab_rate=${BENCH_TAB_RATE:-20}
tab_settle=${BENCH_TAB_SETTLE:-10}
tab_detached=${BENCH_TAB_DETACHED:-0}
detach_flag=""
[ "$tab_detached" = 0 ] || detach_flag=--detached
port=${BENCH_PORT:-18380}
out=${BENCH_OUT:-}
chromium=/usr/bin/chromium
server_cpu=0
client_cpu=1

fail() {
  echo "scale: $*" >&2
  exit 1
}

[ -f "$api_dir/Feedback.Api.dll" ] || fail "no API build in $api_dir (dotnet build Feedback.slnx -c Release, or set BENCH_API_DIR)"
[ -f "$cli_dir/Feedback.Cli.dll" ] || fail "no CLI build in $cli_dir (set BENCH_CLI_DIR)"
[ -d "$data" ] || fail "no data sets in $data (set BENCH_DATA)"
for tool in wrk taskset sqlite3 python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "needs $tool"
done
[ -z "$pg_sizes" ] || command -v psql >/dev/null 2>&1 || fail "needs psql for BENCH_POSTGRES_SIZES (or set it empty)"
with_tab=1
if [ "$tab_seconds" = 0 ]; then
  with_tab=0
elif [ ! -x "$chromium" ] || [ ! -f "$tab_dir/Feedback.Bench.Tab.dll" ]; then
  echo "scale: no $chromium or no tab driver in $tab_dir: the dashboard tab is left out" >&2
  with_tab=0
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=$(mktemp -d)
server_pid=""
poster_pid=""
tab_pid=""
pg_started=""
cleanup() {
  exec 7>&- 2>/dev/null || true
  for pid in $tab_pid $poster_pid $server_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$pg_started" ]; then
    FEEDBACK_TEST_SERVERS_DIR="$work/servers" scripts/test-servers.sh stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

API_KEY="bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export API_KEY RATE_LIMIT_PER_MINUTE=0 CLASSIFIER=fast
clock_ticks=$(getconf CLK_TCK)
to=$(date -u +%Y-%m-%dT%H:00:00Z)
from=$(date -u -d "$to - 30 days" +%Y-%m-%dT%H:00:00Z)
results="$work/results.txt"
: >"$results"
started_at=$(date -u +"%Y-%m-%d %H:%M UTC")
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

# record STORE SIZE NAME VALUE: one figure for the summary (and on standard output as it comes).
record() {
  echo "$1 $2 $3 ${4:--}" >>"$results"
  echo "scale: $1 $2 $3=$4" >&2
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s|.* $1=\([^ ]*\).*|\1|p" <<<" $2"; }
ticks_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# tree_ticks ROOT: "pid:ticks:kind" for every process under ROOT (ROOT left out), kind c for Chromium's processes and d
# for the rest (the .NET driver's Node process).
tree_ticks() {
  python3 - "$1" <<'PY'
import os, sys
root, parent, stat = sys.argv[1], {}, {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        continue
    name = text[text.index("(") + 1:text.rindex(")")]
    rest = text[text.rindex(")") + 2:].split()
    parent[pid] = rest[1]
    stat[pid] = (int(rest[11]) + int(rest[12]), "c" if name.startswith("chrom") else "d")
for pid, (ticks, kind) in stat.items():
    p = parent.get(pid)
    while p is not None and p != root:
        p = parent.get(p)
    if p == root:
        print(f"{pid}:{ticks}:{kind}")
PY
}

# tree_delta BEFORE AFTER KIND: CPU ticks of KIND between two tree_ticks snapshots (a process started in between
# counts from zero; one that ended in between is lost, which a steady tab does not do).
tree_delta() {
  awk -F: -v kind="$3" 'NR == FNR { before[$1] = $2; next } $3 == kind { sum += $2 - before[$1] } END { print sum + 0 }' "$1" "$2"
}

# percent_core TICKS SECONDS
percent_core() { awk -v t="$1" -v hz="$clock_ticks" -v s="$2" 'BEGIN { printf "%.2f", t / hz / s * 100 }'; }

# make_rows SIZE: the import file, with received_at spread evenly over the 30 days before $to.
make_rows() {
  python3 bench/make_import_data.py "$data" /dev/stdout "$1" | python3 -c '
import csv, sys, datetime
n, end = int(sys.argv[1]), datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
span = datetime.timedelta(days=30).total_seconds()
r, w = csv.reader(sys.stdin), csv.writer(sys.stdout)
w.writerow(next(r) + ["received_at"])
for k, row in enumerate(r):
    at = end - datetime.timedelta(seconds=span * (k + 0.5) / n)
    w.writerow(row + [at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")])
' "$1" "$to" >"$work/rows-$1.csv"
}

start_server() {
  port=$((port + 1))
  (cd "$api_dir" && exec env "$@" PORT="$port" HOST=127.0.0.1 taskset -c "$server_cpu" dotnet Feedback.Api.dll) >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 3000); do
    curl -s -o /dev/null -f "http://127.0.0.1:$port/health/ready" && return 0
    kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$work/server.log" >&2; fail "the server did not start"; }
    sleep 0.1
  done
  tail -n 30 "$work/server.log" >&2
  fail "the server was not ready within 300 s"
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

get() { taskset -c "$client_cpu" curl -s -H "X-API-Key: $API_KEY" "$@"; }

# time_read STORE SIZE NAME PATH: warm-ups, then the timed requests; every answer must be a 200.
time_read() {
  local store=$1 size=$2 name=$3 url="http://127.0.0.1:$port$4" status times=""
  for _ in $(seq 1 "$warmups"); do
    status=$(get -o "$work/answer.json" -w '%{http_code}' "$url")
    [ "$status" = 200 ] || { cat "$work/answer.json" >&2; fail "$name answered $status ($4)"; }
  done
  for _ in $(seq 1 "$requests"); do
    line=$(get -o /dev/null -w '%{http_code} %{time_total}' "$url")
    [ "${line% *}" = 200 ] || fail "$name answered ${line% *}"
    times+="$(awk '{ printf "%.3f", $2 * 1000 }' <<<"$line")"$'\n'
  done
  record "$store" "$size" "$name.median_ms" "$(grep . <<<"$times" | median)"
  record "$store" "$size" "$name.best_ms" "$(grep . <<<"$times" | sort -n | head -n 1)"
}

# reads STORE SIZE: the requests of the issue's table.
reads() {
  local store=$1 size=$2 path="/feedback?sentiment=negative&limit=50" cursor="" page=1
  # The 20th page: follow next_cursor from the first (fewer pages when the store has fewer matches).
  while [ "$page" -lt 20 ]; do
    get -o "$work/page.json" "http://127.0.0.1:$port$path${cursor:+&cursor=$cursor}"
    next=$(python3 -c 'import json, sys, urllib.parse; c = json.load(open(sys.argv[1])).get("next_cursor"); print(urllib.parse.quote(c, safe="") if c else "")' "$work/page.json")
    [ -n "$next" ] || break
    cursor=$next
    page=$((page + 1))
  done
  record "$store" "$size" list_page "$page"
  time_read "$store" "$size" list "$path${cursor:+&cursor=$cursor}"
  time_read "$store" "$size" alerts "/alerts?state=open"
  time_read "$store" "$size" q_refund "/feedback?q=refund&limit=50"
  record "$store" "$size" q_refund_items "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$work/answer.json")"
  time_read "$store" "$size" q_missing "/feedback?q=zzqxv&limit=50"
  time_read "$store" "$size" stats_day "/stats?bucket=day&from=$from&to=$to"
  record "$store" "$size" stats_total "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"])' "$work/answer.json")"
  time_read "$store" "$size" stats_hour "/stats?bucket=hour&from=$from&to=$to"
}

# tab_window STORE SIZE PREFIX: the server's and the tab's processes' CPU over BENCH_TAB_SECONDS, and what the page
# fetched meanwhile.
tab_window() {
  local store=$1 size=$2 prefix=$3 before after line log_from
  echo reset >&7
  log_from=$(($(wc -l <"$work/server.log") + 1))
  tree_ticks "$tab_pid" >"$work/tree-before"
  before=$(ticks_of "$server_pid")
  sleep "$tab_seconds"
  after=$(ticks_of "$server_pid")
  tree_ticks "$tab_pid" >"$work/tree-after"
  : >"$work/tab.out"
  echo report >&7
  for _ in $(seq 1 300); do
    grep -q '^REQUESTS' "$work/tab.out" && break
    sleep 0.1
  done
  line=$(grep '^REQUESTS' "$work/tab.out" | tail -n 1)
  record "$store" "$size" "${prefix}_server_pct" "$(percent_core $((after - before)) "$tab_seconds")"
  record "$store" "$size" "${prefix}_chromium_pct" "$(percent_core "$(tree_delta "$work/tree-before" "$work/tree-after" c)" "$tab_seconds")"
  record "$store" "$size" "${prefix}_driver_pct" "$(percent_core "$(tree_delta "$work/tree-before" "$work/tree-after" d)" "$tab_seconds")"
  # What the page fetched, from the server's request log (the poster only POSTs); the driver counts too when attached.
  record "$store" "$size" "${prefix}_requests" "$(tail -n +"$log_from" "$work/server.log" | grep -c '^ *GET .* answered' || true)"
  record "$store" "$size" "${prefix}_stats_requests" "$(tail -n +"$log_from" "$work/server.log" | grep -c '^ *GET /stats' || true)"
  [ "$tab_detached" = 1 ] || [ "$(field live "$line")" = on ] || fail "the dashboard tab was not live at the end of $prefix: $line"
}

# tab STORE SIZE: one signed-in dashboard tab with nothing arriving, then with messages arriving; then the server with
# the same messages arriving and no tab. (Nothing arriving comes first: under the load the alert dispatcher builds a
# backlog of deliveries, sent one a second, and each is a commit the tab is told of, long after the poster stopped.)
tab() {
  local store=$1 size=$2 before after
  rm -f "$work/tab.in" "$work/tab.out" && mkfifo "$work/tab.in"
  (exec taskset -c "$client_cpu" dotnet "$tab_dir/Feedback.Bench.Tab.dll" "http://127.0.0.1:$port" "$API_KEY" "$chromium" $detach_flag \
    <"$work/tab.in" >>"$work/tab.out" 2>"$work/tab.err") &
  tab_pid=$!
  exec 7>"$work/tab.in"
  for _ in $(seq 1 1800); do
    grep -q '^READY' "$work/tab.out" && break
    kill -0 "$tab_pid" 2>/dev/null || { cat "$work/tab.err" >&2; fail "the dashboard tab did not open"; }
    sleep 0.1
  done
  grep -q '^READY' "$work/tab.out" || { cat "$work/tab.err" >&2; fail "the dashboard tab was not live within 180 s"; }
  sleep "$tab_settle"
  tab_window "$store" "$size" idle

  # Without the driver's input (fd 7): a copy held open here would keep the driver from seeing its end.
  taskset -c "$client_cpu" python3 bench/paced_post.py "http://127.0.0.1:$port" "$tab_rate" "$work/rows-$size.csv" >"$work/poster.out" 2>&1 7>&- &
  poster_pid=$!
  sleep "$tab_settle"
  tab_window "$store" "$size" tab

  exec 7>&-
  for _ in $(seq 1 300); do
    kill -0 "$tab_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$tab_pid" 2>/dev/null || true
  wait "$tab_pid" 2>/dev/null || true
  tab_pid=""

  sleep "$tab_settle"
  before=$(ticks_of "$server_pid")
  sleep "$tab_seconds"
  after=$(ticks_of "$server_pid")
  record "$store" "$size" tab_server_without_pct "$(percent_core $((after - before)) "$tab_seconds")"
  kill -TERM "$poster_pid"
  wait "$poster_pid" 2>/dev/null || true
  poster_pid=""
  local posted
  posted=$(grep '^POSTED' "$work/poster.out" || true)
  record "$store" "$size" tab_posted_per_s "$(awk -v n="$(field created "$posted")" -v s="$(field seconds "$posted")" 'BEGIN { printf "%.1f", n / s }')"
  [ "$(field failed "$posted")" = 0 ] || fail "the paced poster had failures: $posted"
}

# posts STORE SIZE: POST /feedback at 16 connections, as bench/run.sh does it.
posts() {
  local store=$1 size=$2 round line before ticks rps="" p99="" cpu=""
  run_wrk() { taskset -c "$client_cpu" wrk -t1 -c16 -d"$1" --timeout 5s -s bench/feedback.lua "http://127.0.0.1:$port/feedback" | grep '^BENCH '; }
  run_wrk "$post_warmup" >/dev/null
  for round in $(seq 1 "$post_rounds"); do
    before=$(ticks_of "$server_pid")
    line=$(run_wrk "$post_duration")
    ticks=$(($(ticks_of "$server_pid") - before))
    [ "$(field non2xx "$line")" = 0 ] && [ "$(field socket_errors "$line")" = 0 ] || fail "POST round $round: $line"
    rps+="$(field rps "$line") "
    p99+="$(field p99_us "$line") "
    cpu+="$(awk -v t="$ticks" -v hz="$clock_ticks" -v n="$(field requests "$line")" 'BEGIN { printf "%.0f", t * 1000000 / hz / n }') "
  done
  record "$store" "$size" post_rps "$(tr ' ' '\n' <<<"$rps" | grep . | median)"
  record "$store" "$size" post_p99_ms "$(tr ' ' '\n' <<<"$p99" | grep . | median | awk '{ printf "%.1f", $1 / 1000 }')"
  record "$store" "$size" post_cpu_us "$(tr ' ' '\n' <<<"$cpu" | grep . | median)"
}

# measure STORE SIZE: import, size on disk, reads, the tab, POSTs; the store is deleted afterwards.
measure() {
  local store=$1 size=$2 started seconds
  local -a env_of=(DATA_DIR="$work/store")
  rm -rf "$work/store" && mkdir -p "$work/store"
  if [ "$store" = postgres ]; then
    pg_sql "DROP DATABASE IF EXISTS scale_$size" && pg_sql "CREATE DATABASE scale_$size"
    env_of+=(DATABASE_URL="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=scale_$size")
  fi
  record "$store" "$size" load "$(cut -d' ' -f1 /proc/loadavg)"
  echo "scale: $store $size: importing" >&2
  started=$(date +%s.%N)
  (cd "$work" && env "${env_of[@]}" dotnet "$cli_dir/Feedback.Cli.dll" import "$work/rows-$size.csv" \
    --id-column id --time-column received_at --classifier fast --json) >"$work/import.json"
  seconds=$(echo "$(date +%s.%N) - $started" | bc)
  local stored
  stored=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d.get("stored", d.get("imported", "")))' "$work/import.json")
  echo "scale: import summary $(cat "$work/import.json")" >&2
  record "$store" "$size" import_s "$(printf '%.1f' "$seconds")"
  record "$store" "$size" import_rows_per_s "$(awk -v n="$size" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')"
  local bytes
  if [ "$store" = postgres ]; then
    pg_sql "CHECKPOINT" >/dev/null
    bytes=$(pg_sql "SELECT pg_database_size('scale_$size')")
  else
    sqlite3 "$work/store/feedback.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    bytes=$(stat -c %s "$work/store/feedback.db")
  fi
  record "$store" "$size" store_bytes "$bytes"
  record "$store" "$size" mb_per_million "$(awk -v b="$bytes" -v n="$size" 'BEGIN { printf "%.0f", b / n * 1000000 / 1048576 }')"
  [ -z "$stored" ] || record "$store" "$size" imported "$stored"

  start_server "${env_of[@]}"
  reads "$store" "$size"
  [ "$with_tab" = 0 ] || tab "$store" "$size"
  posts "$store" "$size"
  stop_server
  if [ "$store" = postgres ]; then
    pg_sql "DROP DATABASE scale_$size" >/dev/null
  fi
  rm -rf "$work/store"
}

if [ -n "$pg_sizes" ]; then
  echo "scale: starting a throw-away durable PostgreSQL (scripts/test-servers.sh)" >&2
  eval "$(FEEDBACK_TEST_SERVERS_DIR="$work/servers" scripts/test-servers.sh start --durable)"
  pg_started=1
  pg_port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$FEEDBACK_TEST_POSTGRES")
  pg_sql() { psql -q -t -A -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "$1"; }
fi

# Each size once, SQLite then PostgreSQL when asked for, smallest first; one import file per size.
all_sizes=$(printf '%s\n' $sizes $pg_sizes | sort -n -u)
for size in $all_sizes; do
  echo "scale: $size messages: writing the import file" >&2
  make_rows "$size"
  if printf '%s\n' $sizes | grep -qx "$size"; then
    measure sqlite "$size"
  fi
  if printf '%s\n' $pg_sizes | grep -qx "$size"; then
    measure postgres "$size"
  fi
  rm -f "$work/rows-$size.csv"
done

summary=$(python3 - "$results" "$started_at" "$load_at_start" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$api_dir" "$tab_seconds" "$tab_rate" <<'PY'
import collections, sys
path, started, load_start, load_end, cpus, build, tab_seconds, tab_rate = sys.argv[1:9]
figures = collections.defaultdict(dict)
for line in open(path):
    store, size, name, value = line.split()
    figures[(store, int(size))][name] = value
stores = [s for s in ("sqlite", "postgres") if any(k[0] == s for k in figures)]
reads = [("list", "`/feedback?sentiment=negative&limit=50`, deep page"), ("alerts", "`/alerts?state=open`"),
         ("q_refund", "`/feedback?q=refund`"), ("q_missing", "`/feedback?q=zzqxv`"),
         ("stats_day", "`/stats?bucket=day` (30 days)"), ("stats_hour", "`/stats?bucket=hour` (30 days)")]
def f(value, digits=1):
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return "–"
def ratio(a, b):
    try:
        return float(a) / float(b)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
print(f"Scale bench (`bench/scale.sh`), {started}; build {build}; {cpus}; load average {load_start} at the start, {load_end} at the end.")
print(f"Reads: median / best of the timed requests, ms. Dashboard tab: {tab_rate} messages/s POSTed, {tab_seconds} s without and {tab_seconds} s with one tab, % of one core.")
targets = []
for store in stores:
    sizes = sorted(s for (st, s) in figures if st == store)
    base = figures[(store, sizes[0])]
    print()
    print(f"### {store}")
    print()
    print("| | " + " | ".join(f"{s:,}" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    row = lambda label, cells: print(f"| {label} | " + " | ".join(cells) + " |")
    g = lambda s, n: figures[(store, s)].get(n)
    row("load average at the start of the size", [f(g(s, "load"), 2) for s in sizes])
    row("import, s", [f(g(s, "import_s")) for s in sizes])
    row("import, rows/s", [f(g(s, "import_rows_per_s"), 0) for s in sizes])
    row("store, MB", [f(float(g(s, "store_bytes")) / 1048576) if g(s, "store_bytes") else "–" for s in sizes])
    row("store, MB per million messages", [f(g(s, "mb_per_million"), 0) for s in sizes])
    for key, label in reads:
        cells = []
        for s in sizes:
            cell = f"{f(g(s, key + '.median_ms'))} / {f(g(s, key + '.best_ms'))}"
            if key == "list":
                cell += f" (page {g(s, 'list_page')})"
            cells.append(cell)
        row(label, cells)
    for key, label in reads:
        row(f"{label}: best as a multiple of {sizes[0]:,}", [f(ratio(g(s, key + ".best_ms"), base.get(key + ".best_ms")), 2) + "x" for s in sizes])
    row("POST /feedback, 16 connections: requests/s", [f(g(s, "post_rps"), 0) for s in sizes])
    row("POST: p99 ms", [f(g(s, "post_p99_ms")) for s in sizes])
    row("POST: server CPU µs/request", [f(g(s, "post_cpu_us"), 0) for s in sizes])
    row(f"POST requests/s as a share of {sizes[0]:,}", [f(100 * (ratio(g(s, "post_rps"), base.get("post_rps")) or 0), 0) + " %" for s in sizes])
    if any(g(s, "tab_chromium_pct") for s in sizes):
        row("messages POSTed per s during the tab phase", [f(g(s, "tab_posted_per_s")) for s in sizes])
        row("server CPU without a tab, %", [f(g(s, "tab_server_without_pct"), 2) for s in sizes])
        row("server CPU with one tab, %", [f(g(s, "tab_server_pct"), 2) for s in sizes])
        row("Chromium's processes, %", [f(g(s, "tab_chromium_pct"), 2) for s in sizes])
        row("the tab's cost (server difference + Chromium), %", [
            f(float(g(s, "tab_server_pct")) - float(g(s, "tab_server_without_pct")) + float(g(s, "tab_chromium_pct")), 2)
            if g(s, "tab_chromium_pct") else "–" for s in sizes])
        row("Playwright's driver (not counted), %", [f(g(s, "tab_driver_pct"), 2) for s in sizes])
        row("the tab's requests (of them /stats)", [f"{g(s, 'tab_requests')} ({g(s, 'tab_stats_requests')})" for s in sizes])
        row("nothing arriving, the tab open: server %", [f(g(s, "idle_server_pct"), 2) for s in sizes])
        row("nothing arriving, the tab open: Chromium %", [f(g(s, "idle_chromium_pct"), 2) for s in sizes])
        row("nothing arriving: the tab's requests", [g(s, "idle_requests") or "–" for s in sizes])
    for s in sizes:
        if s >= 1_000_000:
            for key in ("stats_day", "stats_hour", "q_missing"):
                r = ratio(g(s, key + ".best_ms"), base.get(key + ".best_ms"))
                if r is not None:
                    targets.append(f"- {store} {s:,}: {key} best {f(g(s, key + '.best_ms'))} ms = {r:.2f}x its {sizes[0]:,} time: "
                                   + ("met" if r <= 3 else "**missed**") + " (≤ 3x)")
            if g(s, "tab_chromium_pct") and s == 1_000_000:
                server = float(g(s, "tab_server_pct")) - float(g(s, "tab_server_without_pct"))
                cost = server + float(g(s, "tab_chromium_pct"))
                targets.append(f"- {store} {s:,}: one dashboard tab with {tab_rate} messages/s costs the server {server:.2f} % of a core: "
                               + ("met" if server <= 5 else "**missed**") + f" (≤ 5 %); server and Chromium together {cost:.2f} %: "
                               + ("met" if cost <= 5 else "**missed**"))
    if sizes[-1] >= 10_000_000:
        r = ratio(g(sizes[-1], "post_rps"), base.get("post_rps"))
        if r is not None:
            targets.append(f"- {store} {sizes[-1]:,}: POST {f(g(sizes[-1], 'post_rps'), 0)} req/s = {100 * r:.0f} % of {sizes[0]:,}'s: "
                           + ("met" if r >= 0.9 else "**missed**") + " (within 10 %)")
print()
print("Targets (issue 23):")
print("\n".join(targets) if targets else "- none measured at these sizes")
PY
)
echo "$summary"
[ -z "$out" ] || echo "$summary" >"$out"
