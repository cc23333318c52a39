#!/usr/bin/env bash
# Checks what deploy/ ships: the Prometheus config and alert rules (promtool check), the rules' unit tests
# (promtool test rules), the Grafana dashboard's JSON, every PromQL query in the dashboard, and deploy/compose.yaml
# (parsed, its services and their wiring; Docker itself does not run here).
# Needs promtool (Debian/Ubuntu: apt-get install prometheus), python3 and python3-yaml.
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

# compose.yaml: valid YAML, the API twice behind nginx with PostgreSQL and Redis, every API instance in nginx's
# upstream and in Prometheus's targets, health checks where compose waits on them, the settings file passed to the
# instances, Redis behind a password, and nginx's public port without /metrics and with server-sent events unbuffered.
python3 - deploy/compose.yaml deploy/nginx/nginx.conf deploy/prometheus/prometheus.yml <<'PY'
import re, sys
import yaml
compose = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
nginx = open(sys.argv[2], encoding="utf-8").read()
prometheus = yaml.safe_load(open(sys.argv[3], encoding="utf-8"))
services = compose["services"]
apis = sorted(name for name in services if name.startswith("api-"))
problems = []
if len(apis) < 2:
    problems.append(f"want at least two API instances, found {apis}")
for name in ("postgres", "redis", "nginx"):
    if name not in services:
        problems.append(f"no {name} service")
for name in apis:
    env = services[name].get("environment", {})
    if not str(env.get("DATABASE_URL", "")).startswith("postgres://"):
        problems.append(f"{name}: DATABASE_URL is not a postgres:// URL")
    if not str(env.get("REDIS_URL", "")).startswith("redis://"):
        problems.append(f"{name}: REDIS_URL is not a redis:// URL")
    if f"server {name}:8000" not in nginx:
        problems.append(f"{name} is not in nginx's upstream")
    if not services[name].get("env_file"):
        problems.append(f"{name}: no env_file, so the LLM and alert settings never reach it")
    if not re.match(r"redis://:\$\{REDIS_PASSWORD[^}]*\}@", str(env.get("REDIS_URL", ""))):
        problems.append(f"{name}: REDIS_URL does not carry REDIS_PASSWORD")
targets = {t for job in prometheus.get("scrape_configs", []) for sc in job.get("static_configs", []) for t in sc.get("targets", [])}
for name in apis:
    if f"{name}:8000" not in targets:
        problems.append(f"Prometheus does not scrape {name}:8000")
for target in sorted(targets - {f"{name}:8000" for name in apis}):
    problems.append(f"Prometheus scrapes {target}, which is no API service of compose.yaml")
if "--requirepass" not in " ".join(map(str, services.get("redis", {}).get("command", []))):
    problems.append("redis runs without --requirepass")
if not re.search(r"location\s+~\*\s+\^/metrics\(/\|\$\)\s*\{\s*(return 404|deny all);", nginx):
    problems.append("nginx.conf publishes /metrics on its public port")
events = re.search(r"location\s+=\s+/dashboard/events\s*\{([^}]*)\}", nginx)
if not events or "proxy_buffering off" not in events.group(1) or "proxy_read_timeout" not in events.group(1):
    problems.append("nginx.conf has no /dashboard/events location with proxy_buffering off and a long read timeout")
for name, service in services.items():
    for dependency, condition in (service.get("depends_on") or {}).items():
        if condition.get("condition") == "service_healthy" and "healthcheck" not in services[dependency] and not dependency.startswith("api-"):
            problems.append(f"{name} waits for {dependency} to be healthy, which has no health check")
for mount in services["nginx"].get("volumes", []):
    if "nginx.conf" in mount and not mount.startswith("./nginx/nginx.conf:"):
        problems.append("nginx mounts a config other than deploy/nginx/nginx.conf")
if not re.search(r"upstream\s+\w+\s*\{", nginx):
    problems.append("nginx.conf has no upstream")
# Every third-party image pinned by digest (the tag stays for the reader; Docker pulls the digest). The API's own
# image is built here, and the Dockerfile's base images are checked the same way.
digest = re.compile(r"^[^@\s]+:[^@\s]+@sha256:[0-9a-f]{64}$")
for name, service in services.items():
    image = service.get("image")
    if image and not service.get("build") and not str(image).startswith("feedback-api") and not digest.match(str(image)):
        problems.append(f"{name}: image {image} is not pinned by digest (name:tag@sha256:...)")
for line in open("Dockerfile", encoding="utf-8"):
    if line.startswith("FROM ") and not digest.match(line.split()[1]):
        problems.append(f"Dockerfile: {line.split()[1]} is not pinned by digest")
if problems:
    sys.exit("deploy/compose.yaml: " + "; ".join(problems))
print(f"deploy/compose.yaml: {', '.join(apis)} behind nginx with postgres and redis")
PY
