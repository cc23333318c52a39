#!/usr/bin/env bash
# Classifier v2 under load, side by side in one run: the bare encoder (batch 32, ~100-character messages, no
# service around it) against the full POST /feedback path on the deep classifier at 1, 16 and 64 connections
# (p99, the share answered provisionally by the lexical model, requests/s), the first 201 after start, resident
# memory with the encoder loaded, and an import's rate against the bare encoder's. Writes bench/RESULTS-deep.md.
#
# Settings (environment): BENCH_DURATION (15s), BENCH_CONNECTIONS ("1 16 64"), BENCH_IMPORT_ROWS (5000),
# BENCH_DEEP_RESULTS (bench/RESULTS-deep.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${BENCH_DURATION:-15s}
connections=${BENCH_CONNECTIONS:-"1 16 64"}
import_rows=${BENCH_IMPORT_ROWS:-5000}
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

echo "Import of $import_rows rows..." >&2
python3 - "$work/import.csv" "$import_rows" <<'PY'
import csv, random, sys
random.seed(7)
words = open("bench/feedback.lua", encoding="utf-8").read().split('local sentences = {')[1].split('}')[0]
sentences = [l.strip().strip(',').strip('"') for l in words.splitlines() if l.strip().startswith('"')]
with open(sys.argv[1], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "text"])
    for i in range(int(sys.argv[2])):
        w.writerow([f"r{i}", " ".join(random.choice(sentences) for _ in range(random.randint(1, 2)))])
PY
import_line=$(DATA_DIR="$work/import-data" dotnet "$cli" import "$work/import.csv" --id-column id | grep -o '([0-9,]* rows/s)' | tr -d '(),' | awk '{print $1}')

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
  echo "\`import\` of $import_rows rows with the deep classifier: $import_line rows/s, $(awk -v a="$import_line" -v b="$bare_rate" 'BEGIN{printf "%.0f", 100*a/b}') % of the bare encoder's rate."
} > "$results"
echo "wrote $results" >&2
cat "$results"
