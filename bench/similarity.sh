#!/usr/bin/env bash
# Issue #19's similarity figures, side by side in one run (bench-similarity, a hidden CLI command):
#   - recall@10 of the stored int8+scale vectors and of float16 against the encoder's floats, on real messages;
#   - WRITE_PATH: one index update as the writer does it (decode + VectorIndex.Set) against one message's encoding (CPU);
#   - one similarity query over BENCH_VECTORS (100,000) vectors, VectorIndex (TensorPrimitives) against a plain scalar
#     loop over the same floats, and the index's memory for them;
#   - with BENCH_POST=1: POST /feedback with the index kept current against without, through bench/side-by-side.sh,
#     BENCH_BASE (default e764c19: embeddings stored with each message, no index yet) against this checkout, on the
#     deep classifier (without it no message has a vector and the index does nothing).
# Prints the result lines; their figures go into bench/RESULTS.md by hand.
# Settings (environment): BENCH_SAMPLE (1500), BENCH_VECTORS (100000), BENCH_POST (0), BENCH_BASE, BENCH_ROUNDS.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "Building the CLI (Release)..." >&2
dotnet build src/Feedback.Cli/Feedback.Cli.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
cli="src/Feedback.Cli/bin/Release/net10.0/Feedback.Cli.dll"

echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)"
dotnet "$cli" bench-similarity --sample "${BENCH_SAMPLE:-1500}" --vectors "${BENCH_VECTORS:-100000}"

if [ "${BENCH_POST:-0}" = 1 ]; then
  echo "POST /feedback, index kept current (this checkout) against none (${BENCH_BASE:-e764c19}), deep classifier..." >&2
  BENCH_BASE=${BENCH_BASE:-e764c19} BENCH_CLASSIFIER=deep bash bench/side-by-side.sh
fi
