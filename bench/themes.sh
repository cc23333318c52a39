#!/usr/bin/env bash
# Issue #19's theme figures in one run (bench-themes, a hidden CLI command):
#   - the targets on the bench set (bench/themes/set.csv: 6 planted themes x 15 paraphrases, 300 unrelated messages),
#     encoded as the server stores them: each planted theme in one theme with >= 80 % of its paraphrases, planted
#     messages >= 70 % of that theme, <= 20 % outliers, the same themes from a shuffled input;
#   - the time to cluster BENCH_VECTORS (100,000) vectors on every core: BENCH_SEEDS (3,000) real messages of
#     training/data/product_feedback_v2.csv encoded, each vector one of them plus noise (cosine ~0.7 with it), so every
#     vector is distinct. Wall time and the process's CPU time.
# Prints the result lines; their figures go into bench/RESULTS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "Building the CLI (Release)..." >&2
dotnet build src/Feedback.Cli/Feedback.Cli.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)"
dotnet src/Feedback.Cli/bin/Release/net10.0/Feedback.Cli.dll bench-themes --vectors "${BENCH_VECTORS:-100000}" --seeds "${BENCH_SEEDS:-3000}" --verbose
