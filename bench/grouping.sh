#!/usr/bin/env bash
# Issue #19 item 5: alert grouping by words (the SimHash of ALERT_SIMILARITY_BITS) against grouping by meaning (the
# cosine of the encoder's embeddings), on the labelled pairs of bench/grouping/pairs.csv (see bench/grouping/README.md).
# Prints precision, recall and F1 of "same complaint" for each, at today's setting, at the best threshold, and with the
# threshold chosen on half of the pairs and scored on the other half; the figures go into bench/RESULTS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "Building the CLI (Release)..." >&2
dotnet build src/Feedback.Cli/Feedback.Cli.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
echo "Commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)"
dotnet src/Feedback.Cli/bin/Release/net10.0/Feedback.Cli.dll bench-grouping "$@"
