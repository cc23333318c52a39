#!/usr/bin/env bash
# The one entry point: ./run.sh [analyse|server|test|eval|train|bench|help]
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
config=${FEEDBACK_BUILD_CONFIGURATION:-Release}
out="$root/.build/$config"

usage() {
  cat <<'TEXT'
Feedback: customer-feedback analysis (sentiment, topic, confidence, alerts).

Usage: ./run.sh [command] [arguments]

  (no command)      the interactive analyser: type a message, see how it is classified and why
  analyze TEXT      classify one message and print the result
  server            the HTTP API on port 8000 (PORT overrides) with a SQLite file under DATA_DIR
  test              build and run the whole test suite, with throw-away PostgreSQL and Redis servers
                    (scripts/test-servers.sh; FEEDBACK_SKIP_SERVERS=1 skips the tests that need them)
  eval FILE.csv     accuracy report of the local classifier on a labelled CSV
                    (--json, --classifier trained|deep|vader, --split all|heldout|train,
                    --provider ai --prompt v2: the configured LLM with one prompt version)
  eval --corrections
                    the stored answers against the labels people set (PUT /feedback/{id}/label): sentiment
                    accuracy, topic macro-F1, alert agreement and the labelled count (--json)
  eval-all          both classifiers on every shared set's held-out split (--data DIR, --out bench/ACCURACY.md)
  train             rebuild the trained model bit for bit from the shared data (--data DIR, default ../shared/data;
                    --with-corrections: the deep heads also learn from the store's labelled messages)
  import FILE       classify a CSV/JSONL file into the store (--text-column, --id-column, ...; idempotent)
  export            stored messages as CSV or JSONL (--format csv|jsonl, --since DATE, --out FILE)
  reclassify        classify stored messages again as revisions that keep history
                    (--since DATE|30m|7d, --until, --method ml|ai, --dry-run)
  reindex           store a sentence vector for every message without one (resumable; --chunk N), for
                    GET /feedback/{id}/similar and similar_to
  themes            what customers are talking about: the themes of a window's stored messages, with growth
                    (--since 7d, --until, --min-size N, --json)
  stats             counts by sentiment, topic and method, and open alerts, from the store
  forget ID         erase one customer's messages, revisions, labels and alert excerpts
  rollups rebuild   count the hourly rollups GET /stats reads again from the stored messages
  key add NAME      a named API key with scopes (--scopes ingest,read,admin), printed once; key revoke NAME
  bench             load benchmark (wrk) against a bare echo server, written to bench/RESULTS.md
  help              this text

Settings come from the environment and from .env (the environment wins); see .env.example.
TEXT
}

require_sdk() {
  if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
    cat >&2 <<'TEXT'
The .NET 10 SDK is needed and was not found.
Install it from https://dotnet.microsoft.com/download/dotnet/10.0 (or your distribution's
dotnet-sdk-10.0 package), make sure `dotnet --list-sdks` shows a 10.x version, and run this again.
TEXT
    exit 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# Creates .env on first run with a freshly generated API key, printed once.
ensure_env() {
  [ -f .env ] && return 0
  local key
  key="fb_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  sed "s/^API_KEY=.*/API_KEY=$key/" .env.example > .env
  chmod 600 .env
  printf 'Created .env with a new API key (shown only this once; it stays in .env):\n\n  %s\n\n' "$key"
}

# Builds once; later calls start from the built output unless a source file changed since.
ensure_built() {
  local stamp="$out/.stamp"
  if [ -f "$stamp" ] && [ -z "$(find src Directory.Build.props Directory.Packages.props global.json \( -name bin -o -name obj \) -prune -o -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  echo "Building ($config, once; later runs start from the build)..." >&2
  mkdir -p "$out"
  local log="$out/build.log"
  if ! { dotnet build src/Feedback.Api/Feedback.Api.csproj -c "$config" -o "$out/api" --nologo &&
         dotnet build src/Feedback.Cli/Feedback.Cli.csproj -c "$config" -o "$out/cli" --nologo; } >"$log" 2>&1; then
    grep -E 'error|Error' "$log" >&2 || cat "$log" >&2
    echo "Build failed; the full log is in $log" >&2
    exit 1
  fi
  touch "$stamp"
}

cli() {
  require_sdk
  ensure_env
  ensure_built
  exec dotnet "$out/cli/Feedback.Cli.dll" "$@"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  "" | analyse | interactive) cli "$@" ;;
  analyze | eval | eval-all | train | import | export | reclassify | reindex | themes | stats | forget | rollups | key) cli "$command" "$@" ;;
  server | serve)
    require_sdk
    ensure_env
    ensure_built
    exec dotnet "$out/api/Feedback.Api.dll" "$@"
    ;;
  test)
    require_sdk
    # The tests compile a client Kiota generates from docs/openapi.json; Kiota is a local tool (dotnet-tools.json).
    dotnet tool restore >/dev/null
    dotnet build Feedback.slnx -c "$config" --nologo -v quiet -clp:ErrorsOnly
    # The PostgreSQL and Redis tests run on throw-away servers started here and stopped on any exit, unless some are
    # given already (FEEDBACK_TEST_POSTGRES and FEEDBACK_TEST_REDIS) or FEEDBACK_SKIP_SERVERS=1 skips those tests on purpose.
    if [ "${FEEDBACK_SKIP_SERVERS:-}" != "1" ] && { [ -z "${FEEDBACK_TEST_POSTGRES:-}" ] || [ -z "${FEEDBACK_TEST_REDIS:-}" ]; }; then
      if servers=$(scripts/test-servers.sh env 2>/dev/null); then
        # Started by hand before: used, and left running.
        eval "$servers"
      else
        trap 'scripts/test-servers.sh stop' EXIT
        servers=$(scripts/test-servers.sh start)
        eval "$servers"
      fi
    fi
    log=$(mktemp)
    status=0
    dotnet test --solution Feedback.slnx -c "$config" --no-build "$@" 2>&1 | tee "$log" || status=$?
    # One closing line over all test projects, in the plain form CI tools read.
    passed=$(awk '/^  succeeded: /{s+=$2} END{print s+0}' "$log")
    failed=$(awk '/^  failed: /{s+=$2} END{print s+0}' "$log")
    skipped=$(awk '/^  skipped: /{s+=$2} END{print s+0}' "$log")
    if [ "$failed" -gt 0 ]; then
      # Repeated at the end, where a truncated CI log still shows them: each failed test and its first lines.
      echo "Failed tests:"
      awk '/^failed /{n=10} n>0{print "  " $0; n--}' "$log"
    fi
    rm -f "$log"
    echo "Tests: $passed passed, $failed failed, $skipped skipped"
    if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
      echo "No test ran." >&2
      status=1
    fi
    exit "$status"
    ;;
  bench)
    require_sdk
    exec bash bench/run.sh "$@"
    ;;
  help | -h | --help) usage ;;
  *)
    echo "Unknown command: $command" >&2
    usage >&2
    exit 2
    ;;
esac
