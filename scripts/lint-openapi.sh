#!/usr/bin/env bash
# Lints the committed OpenAPI document (docs/openapi.json) with Redocly's CLI and its recommended rules: errors fail,
# warnings are printed. The CLI is installed from npm once into .tools/redocly (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.77.0
dir=.tools/redocly
if [ ! -x "$dir/node_modules/.bin/redocly" ] || ! grep -q "\"version\": \"$version\"" "$dir/node_modules/@redocly/cli/package.json" 2>/dev/null; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed to install @redocly/cli (Debian: apt-get install npm)" >&2; exit 1; }
  mkdir -p "$dir"
  echo "Installing @redocly/cli $version into $dir ..." >&2
  npm install --prefix "$dir" --no-audit --no-fund --silent "@redocly/cli@$version" >&2
fi

"$dir/node_modules/.bin/redocly" lint docs/openapi.json --format=stylish
