#!/usr/bin/env bash
# Classifier v2 under load, side by side in one run: the bare encoder (batch 32, ~100-character messages, no
# service around it) against the full POST /feedback path on the deep classifier at 1, 16 and 64 connections
# (p99, the share answered provisionally by the lexical model, requests/s), the first 201 after start, resident
# memory with the encoder loaded, and an import of BENCH_IMPORT_ROWS rows against the bare encoder on the same texts,
# run just before and just after it. Writes bench/RESULTS-deep.md.
#
# Settings (environment): BENCH_DURATION (15s), BENCH_CONNECTIONS ("1 16 64"), BENCH_IMPORT_ROWS (100000; 5000 for
# a quick run), BENCH_DEEP_RESULTS (bench/RESULTS-deep.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${BENCH_DURATION:-15s}
connections=${BENCH_CONNECTIONS:-"1 16 64"}
import_rows=${BENCH_IMPORT_ROWS:-100000}
results=${BENCH_DEEP_RESULTS:-bench/RESULTS-deep.md}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found: installing it from Debian (apt-get install wrk)..." >&2
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

echo "Building the API and the CLI (Release)..." >&2
dotnet build src/Feedback.Api/Feedback.Api.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
dotnet build src/Feedback.Cli/Feedback.Cli.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
api_dir="$root/src/Feedback.Api/bin/Release/net10.0"
cli="$root/src/Feedback.Cli/bin/Release/net10.0/Feedback.Cli.dll"

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

key="bench-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export API_KEY=$key RATE_LIMIT_PER_MINUTE=0 CLASSIFIER=deep
port=18180
body='{"text":"The checkout page froze twice before my payment finally went through, please fix it."}'

echo "Bare encoder..." >&2
encoder_line=$(dotnet "$cli" bench-encoder --batch 32 | grep '^ENCODER')
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
bare_rate=$(field rate "$encoder_line")

echo "Server start to first 201..." >&2
start_ns=$(date +%s%N)
(cd "$api_dir" && exec env DATA_DIR="$work/data" PORT=$port HOST=127.0.0.1 dotnet Feedback.Api.dll) >"$work/server.log" 2>&1 &
server_pid=$!
first_status=""
for _ in $(seq 1 600); do
  answer=$(curl -s -X POST "http://127.0.0.1:$port/feedback" -H "X-API-Key: $key" -H 'Content-Type: application/json' -d "$body" -w '\n%{http_code}' 2>/dev/null || true)
  if [ "$(tail -n1 <<<"$answer")" = "201" ]; then
    first_status=$(head -n1 <<<"$answer" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    break
  fi
  sleep 0.02
done
first_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
[ -n "$first_status" ] || { cat "$work/server.log" >&2; echo "bench: the server never answered 201" >&2; exit 1; }
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$port/health" | grep -q '"encoder":"ready"' && break
  sleep 0.05
done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
rss_ready=$(awk '/^VmRSS/{print int($2/1024)}' "/proc/$server_pid/status")

rows=""
for c in $connections; do
  echo "POST /feedback at $c connections..." >&2
  threads=$(( c < 2 ? 1 : 2 ))
  out=$(BENCH_COUNT_METHOD=1 wrk -t"$threads" -c"$c" -d"$duration" --timeout 5s -s bench/feedback.lua "http://127.0.0.1:$port" 2>&1 | grep -E '^(BENCH|COUNTS|FAILED)')
  grep -q '^FAILED' <<<"$out" && { echo "$out" >&2; echo "bench: responses other than 2xx at $c connections" >&2; exit 1; }
  b=$(grep '^BENCH' <<<"$out"); k=$(grep '^COUNTS' <<<"$out")
  rps=$(field rps "$b"); p50=$(field p50_us "$b"); p99=$(field p99_us "$b"); created=$(field created "$k"); provisional=$(field provisional "$k"); requests=$(field requests "$b")
  rows+=$(awk -v c="$c" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v cr="$created" -v n="$requests" -v pr="$provisional" -v bare="$bare_rate" \
    'BEGIN{printf "| %d | %.1f | %.0f %% | %.1f | %.1f | %.1f %% | %.1f %% |\n", c, rps, 100*rps/bare, p50/1000, p99/1000, 100*cr/n, 100*pr/n}')$'\n'
done
rss_peak=$(awk '/^VmHWM/{print int($2/1024)}' "/proc/$server_pid/status")
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

echo "Import of $import_rows rows, between two runs of the bare encoder on its texts..." >&2
data_line=$(python3 bench/make_deep_import_data.py ../shared/data "$work/import.csv" "$import_rows")
import_encoder() { dotnet "$cli" bench-encoder --batch 32 --texts "$work/import.csv" | grep '^ENCODER'; }
encoder_before=$(import_encoder)
# The import as one process from start to exit; its peak resident memory from /usr/bin/time, else from /proc.
import_start=$(date +%s%N)
if [ -x /usr/bin/time ]; then
  DATA_DIR="$work/import-data" /usr/bin/time -f '%U %S %M' -o "$work/import.time" \
    dotnet "$cli" import "$work/import.csv" --id-column id >"$work/import.out"
  read -r import_user import_sys import_rss_kb <"$work/import.time"
else
  DATA_DIR="$work/import-data" dotnet "$cli" import "$work/import.csv" --id-column id >"$work/import.out" &
  import_pid=$!
  import_rss_kb=0
  while kill -0 "$import_pid" 2>/dev/null; do
    peak=$(awk '/^VmHWM/{print $2}' "/proc/$import_pid/status" 2>/dev/null || true)
    import_rss_kb=$(( ${peak:-0} > import_rss_kb ? ${peak:-0} : import_rss_kb ))
    sleep 0.5
  done
  wait "$import_pid"
  import_user=n/a import_sys=n/a
fi
import_s=$(awk -v ns="$(( $(date +%s%N) - import_start ))" 'BEGIN{printf "%.1f", ns/1e9}')
encoder_after=$(import_encoder)
import_added=$(sed -n 's/.* \([0-9,]*\) added.*/\1/p' "$work/import.out" | tr -d ,)
[ "$import_added" = "$import_rows" ] || { cat "$work/import.out" >&2; echo "bench: the import added ${import_added:-no} rows of $import_rows" >&2; exit 1; }
again_start=$(date +%s%N)
again_added=$(DATA_DIR="$work/import-data" dotnet "$cli" import "$work/import.csv" --id-column id | sed -n 's/.* \([0-9,]*\) added.*/\1/p' | tr -d ,)
again_s=$(awk -v ns="$(( $(date +%s%N) - again_start ))" 'BEGIN{printf "%.1f", ns/1e9}')
import_rate=$(awk -v n="$import_rows" -v s="$import_s" 'BEGIN{printf "%.1f", n/s}')
rate_before=$(field rate "$encoder_before"); rate_after=$(field rate "$encoder_after")
import_share=$(awk -v a="$import_rate" -v b="$rate_before" -v c="$rate_after" 'BEGIN{printf "%.2f", 2*a/(b+c)}')

{
  echo "# Classifier v2 under load"
  echo
  echo "Regenerate with \`bash bench/deep.sh\` (BENCH_DURATION=$duration per round). Machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d). Server and wrk share the cores (the encoder uses both); every figure below is from this one run."
  echo
  echo "## The bare encoder (baseline)"
  echo
  echo "all-MiniLM-L6-v2 through ONNX Runtime, $(field threads "$encoder_line") threads, batch $(field batch "$encoder_line"), $(field texts "$encoder_line") hand-written messages cut near 100 characters (mean $(field mean_chars "$encoder_line")): **$bare_rate messages/s**. One message alone: p50 $(field one_p50_ms "$encoder_line") ms, p99 $(field one_p99_ms "$encoder_line") ms."
  echo
  echo "## POST /feedback on the deep classifier (DEEP_DEADLINE_MS=300, SQLite FULL)"
  echo
  echo "| connections | requests/s | of the bare encoder's rate | p50 ms | p99 ms | 201 | answered provisionally (lexical, revised later) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$rows"
  echo
  echo "## Start and memory"
  echo
  echo "- first \`201\` after the process started: $first_ms ms (its status: $first_status); encoder ready (\`/health\`): $ready_ms ms"
  echo "- resident memory with the encoder loaded and warm: $rss_ready MB; peak over the load rounds: $rss_peak MB"
  echo
  echo "## Import"
  echo
  echo "\`import\` (\`--classifier deep\`, the default) of a CSV of $import_rows rows (\`bench/make_deep_import_data.py\`: sentences of the product, app and customer-service sets in ../shared/data joined and cut at a word near 100 characters; $(field distinct "$data_line") distinct texts, mean $(field mean_chars "$data_line") characters) into a new SQLite store, the whole process from start to exit, between two runs of the bare encoder (batch 32) on the first 2048 of the same texts:"
  echo
  echo "| | messages/s | |"
  echo "|---|---:|---|"
  echo "| bare encoder, before the import | $rate_before | mean $(field mean_chars "$encoder_before") characters, $(field threads "$encoder_before") threads |"
  echo "| import, whole command | $import_rate | $import_s s, CPU $import_user s user + $import_sys s system, peak RSS $(( import_rss_kb / 1024 )) MB |"
  echo "| bare encoder, after the import | $rate_after | |"
  echo
  echo "**Import at $(awk -v r="$import_share" 'BEGIN{printf "%.0f", 100*r}') % of the bare encoder's rate** (the mean of the two runs beside it; target ≥ 80 %: $(awk -v r="$import_share" 'BEGIN{print (r >= 0.8 ? "met" : "missed")}')). The same import again added ${again_added:-?} rows in $again_s s."
} > "$results"
echo "wrote $results" >&2
cat "$results"
