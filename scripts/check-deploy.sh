#!/usr/bin/env bash
# Checks what deploy/ ships: the Prometheus config and alert rules (promtool check), the rules' unit tests
# (promtool test rules), the Grafana dashboard's JSON, and every PromQL query in the dashboard.
# Needs promtool (Debian/Ubuntu: apt-get install prometheus) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool is not installed (apt-get install prometheus)." >&2
  exit 1
fi

promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml

dashboard=deploy/grafana/feedback-dashboard.json
python3 -m json.tool "$dashboard" >/dev/null
echo "$dashboard: valid JSON"

# Each dashboard query, with Grafana's variables replaced, as a recording rule: promtool parses them all.
queries=$(mktemp --suffix=.yml)
trap 'rm -f "$queries"' EXIT
python3 - "$dashboard" >"$queries" <<'PY'
import json, sys
panels = json.load(open(sys.argv[1], encoding="utf-8"))["panels"]
exprs = [t["expr"] for p in panels for t in p.get("targets", []) if "expr" in t]
if not exprs:
    sys.exit("the dashboard has no queries")
print("groups:\n  - name: dashboard\n    rules:")
for i, expr in enumerate(exprs):
    expr = expr.replace("$__rate_interval", "1m").replace("$job", "feedback")
    print(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(expr)}")
PY
echo "$dashboard queries:"
promtool check rules "$queries"
