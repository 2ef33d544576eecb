#!/usr/bin/env bash
# Starts PgBouncer on 127.0.0.1:6432 in transaction mode, in front of the
# PostgreSQL on 127.0.0.1:5432, the way Supabase's and Neon's poolers run:
# every database name is forwarded (the `*` fallback), one server connection
# per transaction. Used by CI to run the integration tests through a real
# pooler (see RELIABILITY.md):
#
#   scripts/pgbouncer.sh start    # idempotent; waits until it answers
#   scripts/pgbouncer.sh stop
#
# PgBouncer refuses to run as root: as root it runs as the `postgres` user
# (the Debian package's server user), else as `nobody`.
set -euo pipefail

PORT="${PGBOUNCER_PORT:-6432}"
UPSTREAM_PORT="${PGBOUNCER_UPSTREAM_PORT:-5432}"
DIR="${PGBOUNCER_DIR:-${TMPDIR:-/tmp}/chatwire-pgbouncer}"
BIN="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"

run_as=()
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
  run_as=(runuser -u "$user" --)
fi

answers() { pg_isready -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -q 2>/dev/null; }
ours() { [ -f "$DIR/pgbouncer.pid" ] && kill -0 "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null; }

stop() {
  if [ -f "$DIR/pgbouncer.pid" ]; then
    kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -f "$DIR/pgbouncer.pid" ] || break; sleep 0.1; done
  fi
}

start() {
  if [ ! -x "$BIN" ]; then
    echo "pgbouncer not found: apt-get install -y pgbouncer" >&2
    exit 1
  fi
  if ours && answers; then
    echo "pgbouncer already answers on 127.0.0.1:$PORT"
    return
  fi
  if answers; then
    # Debian's package may have started its own on the same port.
    echo "127.0.0.1:$PORT is taken by another server (a packaged pgbouncer service?); stop it or set PGBOUNCER_PORT" >&2
    exit 1
  fi
  mkdir -p "$DIR"
  # auth_type=trust still looks the user up in auth_file.
  printf '"postgres" ""\n' >"$DIR/userlist.txt"
  cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$UPSTREAM_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
; go test ./... runs packages in parallel, each with many test databases.
max_client_conn = 2000
default_pool_size = 8
max_db_connections = 8
; Leave room under PostgreSQL's max_connections (100 by default) for the
; direct admin connections of the tests: pools of dropped test databases go
; idle and are closed soon.
max_user_connections = 60
server_idle_timeout = 5
server_lifetime = 60
; The tests' databases come and go.
autodb_idle_timeout = 10
ignore_startup_parameters = extra_float_digits,search_path
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
  if [ ${#run_as[@]} -gt 0 ]; then chown -R "$user" "$DIR"; fi
  stop
  "${run_as[@]}" "$BIN" -d "$DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do ours && answers && break; sleep 0.1; done
  if ! { ours && answers; }; then
    echo "pgbouncer did not start; its log:" >&2
    tail -n 20 "$DIR/pgbouncer.log" >&2 || true
    exit 1
  fi
  echo "pgbouncer answers on 127.0.0.1:$PORT (transaction mode, upstream 127.0.0.1:$UPSTREAM_PORT)"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
