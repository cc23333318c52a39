#!/usr/bin/env bash
# Throw-away PostgreSQL and Redis servers for the tests and the bench: loopback only, free ports, data in temporary
# directories that `stop` removes.
#
#   scripts/test-servers.sh start [--durable] [--stats]
#                                               install when missing, start both, print the settings as export lines
#   scripts/test-servers.sh env                 print the settings of the running servers again
#   scripts/test-servers.sh stop                stop both and remove their directories
#
# Settings: FEEDBACK_TEST_POSTGRES (an Npgsql connection string to a superuser, so tests can create a database each)
# and FEEDBACK_TEST_REDIS (host:port). Use them with: eval "$(scripts/test-servers.sh start)".
# Without --durable PostgreSQL runs with fsync off: the data is thrown away anyway and the tests create many databases.
# The bench passes --durable so its figures include the commits' fsync; bench/postgres.sh also passes --stats, which loads
# pg_stat_statements (from the Debian package's contrib) and times WAL and I/O, for its profile of the write path.
set -euo pipefail
cd "$(dirname "$0")/.."
state_dir=${FEEDBACK_TEST_SERVERS_DIR:-$(pwd)/.build/test-servers}
state="$state_dir/state.env"

log() { echo "test-servers: $*" >&2; }

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

pg_bin() {
  local initdb
  initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] && dirname "$initdb"
}

install_missing() {
  local packages=()
  [ -n "$(pg_bin)" ] || packages+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  [ ${#packages[@]} -eq 0 ] && return 0
  log "installing ${packages[*]} from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${packages[@]}" >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the postgres OS user when we are root (postgres refuses to run as root).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

print_env() {
  # shellcheck disable=SC1090
  . "$state"
  printf 'export FEEDBACK_TEST_POSTGRES=%q\n' "$FEEDBACK_TEST_POSTGRES"
  printf 'export FEEDBACK_TEST_REDIS=%q\n' "$FEEDBACK_TEST_REDIS"
}

wait_until() {
  local what=$1
  shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  log "$what did not answer within 10 s"
  return 1
}

# Whether the servers the state file names answer.
alive() {
  local PG_BIN="" FEEDBACK_TEST_POSTGRES="" FEEDBACK_TEST_REDIS=""
  # shellcheck disable=SC1090
  . "$state"
  [ -n "$FEEDBACK_TEST_POSTGRES" ] && [ -n "$FEEDBACK_TEST_REDIS" ] || return 1
  local pg_port=${FEEDBACK_TEST_POSTGRES#*Port=}
  pg_port=${pg_port%%;*}
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$pg_port" >/dev/null 2>&1 &&
    redis-cli -h "${FEEDBACK_TEST_REDIS%:*}" -p "${FEEDBACK_TEST_REDIS##*:}" ping >/dev/null 2>&1
}

start() {
  local durable=0 stats=0 option
  for option in "$@"; do
    case "$option" in
      --durable) durable=1 ;;
      --stats) stats=1 ;;
      *) log "unknown option $option"; return 2 ;;
    esac
  done
  if [ -f "$state" ]; then
    if alive; then
      log "already running (stop them first); their settings:"
      print_env
      return 0
    fi
    # A state file left by servers that died (a reboot, their directory removed): start afresh.
    log "the servers of $state no longer answer; starting new ones"
    stop
  fi

  install_missing
  local bin pg_dir redis_dir pg_port redis_port
  bin=$(pg_bin)
  mkdir -p "$state_dir"
  pg_dir=$(mktemp -d /tmp/feedback-pg-XXXXXX)
  redis_dir=$(mktemp -d /tmp/feedback-redis-XXXXXX)
  # Written first, so a failure below still lets `stop` clean up what was made.
  printf 'PG_DIR=%q\nREDIS_DIR=%q\nPG_BIN=%q\n' "$pg_dir" "$redis_dir" "$bin" >"$state"

  [ "$(id -u)" -eq 0 ] && chown postgres: "$pg_dir"
  as_postgres "$bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1 ||
    { cat "$pg_dir/initdb.log" >&2; return 1; }
  pg_port=$(free_port)
  local fsync=off
  [ "$durable" -eq 1 ] && fsync=on
  cat >>"$pg_dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_dir'
max_connections = 400
shared_buffers = 128MB
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
CONF
  if [ "$stats" -eq 1 ]; then
    cat >>"$pg_dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
track_io_timing = on
track_wal_io_timing = on
CONF
  fi
  as_postgres "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 start >&2 ||
    { cat "$pg_dir/server.log" >&2; return 1; }
  wait_until "PostgreSQL" "$bin/pg_isready" -h 127.0.0.1 -p "$pg_port"

  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$redis_dir" \
    --daemonize yes --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log" >&2
  wait_until "Redis" redis-cli -h 127.0.0.1 -p "$redis_port" ping

  printf 'FEEDBACK_TEST_POSTGRES=%q\nFEEDBACK_TEST_REDIS=%q\n' \
    "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres" "127.0.0.1:$redis_port" >>"$state"
  log "PostgreSQL on 127.0.0.1:$pg_port (fsync $fsync), Redis on 127.0.0.1:$redis_port"
  print_env
}

stop() {
  if [ ! -f "$state" ]; then
    log "not running"
    return 0
  fi

  local PG_DIR="" REDIS_DIR="" PG_BIN=""
  # shellcheck disable=SC1090
  . "$state"
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >&2 || true
  fi

  if [ -n "$REDIS_DIR" ] && [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid
    pid=$(cat "$REDIS_DIR/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi

  case "$PG_DIR" in /tmp/feedback-pg-*) rm -rf "$PG_DIR" ;; esac
  case "$REDIS_DIR" in /tmp/feedback-redis-*) rm -rf "$REDIS_DIR" ;; esac
  rm -f "$state"
  log "stopped"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  env)
    [ -f "$state" ] || { log "not running"; exit 1; }
    print_env
    ;;
  *)
    echo "usage: $0 start [--durable] | env | stop" >&2
    exit 2
    ;;
esac
