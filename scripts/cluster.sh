#!/usr/bin/env bash
# The documented production set-up (deploy/compose.yaml) on this machine without Docker, all on loopback: two API
# instances behind nginx with deploy/nginx/nginx.conf, sharing PostgreSQL and Redis. For rehearsing failures (kill -9 an
# instance) and for ClusterTests.
#
#   scripts/cluster.sh start   install nginx when missing, start everything, print the settings as export lines
#   scripts/cluster.sh env     print the settings of the running cluster again
#   scripts/cluster.sh stop    stop what start started and remove its directories
#
# Printed: FEEDBACK_CLUSTER_URL (nginx, the only public address), FEEDBACK_CLUSTER_API_1 and _2 (each instance, as
# Prometheus scrapes them), FEEDBACK_CLUSTER_PID_1 and _2, FEEDBACK_CLUSTER_API_KEY and FEEDBACK_CLUSTER_DATABASE_URL
# (Npgsql). Use: eval "$(scripts/cluster.sh start)".
#
# PostgreSQL and Redis: the servers FEEDBACK_TEST_POSTGRES and FEEDBACK_TEST_REDIS name (a database and a key prefix of
# the cluster's own on them), or else throw-away ones from scripts/test-servers.sh that stop stops. The instances get
# every variable of the caller's environment (RATE_LIMIT_PER_MINUTE, SLACK_WEBHOOK_URL, ...; API_KEY is generated when
# unset) and run FEEDBACK_API_DLL, by default .build/Release/api/Feedback.Api.dll (built when missing, as ./run.sh does).
# nginx.conf is rendered, never copied: only the upstream addresses, the listen address and the process's own paths change.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state_dir=${FEEDBACK_CLUSTER_DIR:-$root/.build/cluster}
state="$state_dir/state.env"

log() { echo "cluster: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root to run: $*"
    return 1
  fi
}

nginx_bin() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

install_nginx() {
  [ -n "$(nginx_bin)" ] && return 0
  log "installing nginx from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends nginx >&2
  # The package starts a system nginx on port 80; this script never needs it.
  as_root systemctl disable --now nginx >/dev/null 2>&1 || true
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as an unprivileged user when we are root: nginx here needs no privilege (a high loopback port).
unprivileged() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

wait_for() {
  local what=$1 url=$2 pid=${3:-}
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log "$what exited while starting"
      return 1
    fi
    sleep 0.1
  done
  log "$what did not answer $url within a minute"
  return 1
}

# The value of Key=... in an Npgsql connection string.
conn_value() {
  local key=$1 conn=$2 part
  IFS=';' read -ra parts <<<"$conn"
  for part in "${parts[@]}"; do
    [ "${part%%=*}" = "$key" ] && { echo "${part#*=}"; return 0; }
  done
}

psql_admin() {
  local conn=$1
  shift
  PGPASSWORD=$(conn_value Password "$conn") psql -q -v ON_ERROR_STOP=1 -h "$(conn_value Host "$conn")" -p "$(conn_value Port "$conn")" \
    -U "$(conn_value Username "$conn")" -d "$(conn_value Database "$conn")" "$@"
}

print_env() {
  # shellcheck disable=SC1090
  . "$state"
  printf 'export FEEDBACK_CLUSTER_URL=%q\n' "http://127.0.0.1:$NGINX_PORT"
  printf 'export FEEDBACK_CLUSTER_API_1=%q\n' "http://127.0.0.1:$API_PORT_1"
  printf 'export FEEDBACK_CLUSTER_API_2=%q\n' "http://127.0.0.1:$API_PORT_2"
  printf 'export FEEDBACK_CLUSTER_PID_1=%q\n' "$API_PID_1"
  printf 'export FEEDBACK_CLUSTER_PID_2=%q\n' "$API_PID_2"
  printf 'export FEEDBACK_CLUSTER_API_KEY=%q\n' "$CLUSTER_API_KEY"
  printf 'export FEEDBACK_CLUSTER_DATABASE_URL=%q\n' "$CLUSTER_DATABASE_URL"
}

# deploy/nginx/nginx.conf with the compose service addresses replaced by this machine's ports, and the paths an
# unprivileged nginx can write (pid, logs and temp files in $run/nginx).
render_nginx_conf() {
  local run=$1
  python3 - deploy/nginx/nginx.conf "$run/nginx" "$NGINX_PORT" "$API_PORT_1" "$API_PORT_2" >"$run/nginx/nginx.conf" <<'PY'
import re, sys
source, prefix, listen, api1, api2 = sys.argv[1:]
conf = open(source, encoding="utf-8").read()
ports = {"api-1": api1, "api-2": api2}
def upstream(match):
    name = match.group(1)
    if name not in ports:
        sys.exit(f"nginx.conf names {name}, which this script does not start")
    return f"server 127.0.0.1:{ports.pop(name)}"
conf, found = re.subn(r"server\s+(api-\d+):8000", upstream, conf)
if ports:
    sys.exit(f"nginx.conf does not list {sorted(ports)} in its upstream")
conf, listens = re.subn(r"listen\s+8080;", f"listen 127.0.0.1:{listen};", conf)
if listens != 1:
    sys.exit(f"nginx.conf should have one 'listen 8080;', found {listens}")
paths = "".join(f"  {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
conf, https = re.subn(r"^http\s*\{\n", lambda m: m.group(0) + paths, conf, flags=re.M)
if https != 1:
    sys.exit("nginx.conf has no http block")
print(f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n" + conf, end="")
PY
}

start_api() {
  local n=$1 run=$2 dll=$3 port pid
  port=$(free_port)
  mkdir -p "$run/api-$n"
  # Its own working directory, so the repository's .env (a developer's settings) does not leak in; the environment wins anyway.
  (
    cd "$run/api-$n"
    export HOST=127.0.0.1 PORT="$port" DATA_DIR="$run/api-$n" DATABASE_URL="$CLUSTER_DATABASE_URL" REDIS_URL="$CLUSTER_REDIS_URL" \
      REDIS_KEY_PREFIX="$CLUSTER_REDIS_PREFIX" API_KEY="$CLUSTER_API_KEY" LOG_FORMAT=json ASPNETCORE_ENVIRONMENT=Production
    unset ASPNETCORE_URLS
    exec setsid dotnet "$dll" </dev/null >"$run/api-$n/server.log" 2>&1
  ) &
  pid=$!
  printf 'API_PORT_%s=%q\nAPI_PID_%s=%q\n' "$n" "$port" "$n" "$pid" >>"$state"
  eval "API_PORT_$n=$port API_PID_$n=$pid"
}

start() {
  if [ -f "$state" ]; then
    log "already running (stop it first); its settings:"
    print_env
    return 0
  fi

  install_nginx
  local dll=${FEEDBACK_API_DLL:-$root/.build/Release/api/Feedback.Api.dll}
  if [ ! -f "$dll" ]; then
    log "building the API into $(dirname "$dll")"
    dotnet build src/Feedback.Api/Feedback.Api.csproj -c Release -o "$(dirname "$dll")" --nologo -v quiet >&2
  fi

  mkdir -p "$state_dir"
  local run id
  run=$(mktemp -d /tmp/feedback-cluster-XXXXXX)
  id=$(basename "$run" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
  # Written first, so a failure below still lets `stop` clean up what was made.
  printf 'RUN_DIR=%q\n' "$run" >"$state"

  local postgres redis
  if [ -n "${FEEDBACK_TEST_POSTGRES:-}" ] && [ -n "${FEEDBACK_TEST_REDIS:-}" ]; then
    postgres=$FEEDBACK_TEST_POSTGRES
    redis=$FEEDBACK_TEST_REDIS
  else
    printf 'OWN_SERVERS=1\n' >>"$state"
    eval "$(FEEDBACK_TEST_SERVERS_DIR="$state_dir/servers" scripts/test-servers.sh start)"
    postgres=$FEEDBACK_TEST_POSTGRES
    redis=$FEEDBACK_TEST_REDIS
  fi

  local database="cluster_$id"
  psql_admin "$postgres" -c "CREATE DATABASE $database" >&2
  CLUSTER_DATABASE_URL="$(python3 -c 'import sys; parts = [p for p in sys.argv[1].split(";") if p and not p.startswith("Database=")]; print(";".join(parts + ["Database=" + sys.argv[2]]))' "$postgres" "$database")"
  CLUSTER_REDIS_URL="redis://$redis"
  CLUSTER_REDIS_PREFIX="$database:"
  CLUSTER_API_KEY=${API_KEY:-fb_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  printf 'ADMIN_POSTGRES=%q\nDATABASE=%q\nCLUSTER_DATABASE_URL=%q\nCLUSTER_API_KEY=%q\n' \
    "$postgres" "$database" "$CLUSTER_DATABASE_URL" "$CLUSTER_API_KEY" >>"$state"

  # Both at once, as compose starts them: each migrates the database at start, one at a time under a lock.
  start_api 1 "$run" "$dll"
  start_api 2 "$run" "$dll"
  local n pid port
  for n in 1 2; do
    eval "pid=\$API_PID_$n port=\$API_PORT_$n"
    wait_for "API instance $n" "http://127.0.0.1:$port/health" "$pid" || { tail -n 20 "$run/api-$n/server.log" >&2; return 1; }
  done

  NGINX_PORT=$(free_port)
  printf 'NGINX_PORT=%q\n' "$NGINX_PORT" >>"$state"
  mkdir -p "$run/nginx"
  render_nginx_conf "$run"
  if [ "$(id -u)" -eq 0 ]; then
    # nginx runs as nobody: it may pass through the run directory and owns only its own.
    chmod 711 "$run"
    chown -R nobody: "$run/nginx"
  fi
  local nginx
  nginx=$(nginx_bin)
  unprivileged "$nginx" -t -q -p "$run/nginx" -c "$run/nginx/nginx.conf" -e "$run/nginx/error.log" >&2
  unprivileged "$nginx" -p "$run/nginx" -c "$run/nginx/nginx.conf" -e "$run/nginx/error.log" </dev/null >&2
  wait_for "nginx" "http://127.0.0.1:$NGINX_PORT/health" || { cat "$run/nginx/error.log" >&2; return 1; }

  log "nginx on 127.0.0.1:$NGINX_PORT in front of API instances on ports $API_PORT_1 and $API_PORT_2 (logs in $run)"
  print_env
}

stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  if [ ! -f "$state" ]; then
    log "not running"
    return 0
  fi

  local RUN_DIR="" OWN_SERVERS="" ADMIN_POSTGRES="" DATABASE="" API_PID_1="" API_PID_2=""
  # shellcheck disable=SC1090
  . "$state"
  if [ -n "$RUN_DIR" ] && [ -f "$RUN_DIR/nginx/nginx.pid" ]; then
    stop_pid "$(cat "$RUN_DIR/nginx/nginx.pid")"
  fi
  stop_pid "$API_PID_1"
  stop_pid "$API_PID_2"

  if [ "$OWN_SERVERS" = "1" ]; then
    FEEDBACK_TEST_SERVERS_DIR="$state_dir/servers" scripts/test-servers.sh stop
  elif [ -n "$DATABASE" ]; then
    psql_admin "$ADMIN_POSTGRES" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >&2 || true
  fi

  case "$RUN_DIR" in /tmp/feedback-cluster-*) rm -rf "$RUN_DIR" ;; esac
  rm -f "$state"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env)
    [ -f "$state" ] || { log "not running"; exit 1; }
    print_env
    ;;
  *)
    echo "usage: $0 start | env | stop" >&2
    exit 2
    ;;
esac
