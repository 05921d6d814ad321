#!/usr/bin/env bash
# Many instances, one PostgreSQL: three seatcore-server processes, the
# Python module (SeatCore with request keys, and DatabaseManager), the C kiosk example run
# over and over, and the C hammer example, all at once against the same shows; then every
# acknowledged booking is looked up and every invariant checked (scripts/chaos/many.py),
# and lost hold replies are recovered by request key in the C, Python and REST doors.
# Four rounds: straight to PostgreSQL; the same while PostgreSQL crashes
# (pg_ctl -m immediate) and restarts; then both again through PgBouncer in transaction
# pooling mode (Debian's pgbouncer, stock settings apart from the pool mode; seatcore is not
# configured for it in any way).
#
#   scripts/chaos.sh            all rounds (about a minute with warm builds)
#   CHAOS_SECONDS=20 scripts/chaos.sh
#
# It starts its own throwaway PostgreSQL cluster (never the shared one: DATABASE_URL is
# ignored), builds what it needs (respecting CARGO_TARGET_DIR), and cleans up after itself.
# Needs the Python module in .venv (bindings/python/test.sh builds it; this script builds it
# when missing). PgBouncer is installed with apt-get when missing and we are root; otherwise
# that round is skipped with a printed reason.
set -euo pipefail
ulimit -c 0 # the lost-reply checks abort processes on purpose: no core files
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${CHAOS_SECONDS:-8}
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target=$root/$target ;; esac
step() { printf '\n== chaos: %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

step "building seatcore-server and libseatcore (debug)"
cargo build -q -p seatcore-server -p seatcore-c
cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$target/debug/include" examples/c/kiosk.c -o "$target/chaos-kiosk" \
  -L"$target/debug" -Wl,-rpath,"$target/debug" -lseatcore
cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$target/debug/include" examples/c/hammer.c -o "$target/chaos-hammer" \
  -L"$target/debug" -Wl,-rpath,"$target/debug" -lseatcore -lpthread
cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$target/debug/include" scripts/chaos/lost_reply.c -o "$target/chaos-lost-reply" \
  -L"$target/debug" -Wl,-rpath,"$target/debug" -lseatcore
server_bin=$target/debug/seatcore-server

export VIRTUAL_ENV=$root/.venv
export PATH="$VIRTUAL_ENV/bin:$PATH"
if ! python -c 'import seatcore, psycopg' 2>/dev/null; then
  step "building the Python module into .venv"
  scripts/setup.sh python
  maturin develop --quiet
fi

work=$(mktemp -d /tmp/seatcore-chaos.XXXXXX)
chmod 755 "$work"
pids=()
bouncer_pid=
pgdata=$work/pg
pgport=$(free_port)
pg() { SEATCORE_PGDATA=$pgdata SEATCORE_PG_PORT=$pgport scripts/pg.sh "$@"; }
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "$bouncer_pid" ] || kill "$bouncer_pid" 2>/dev/null || true
  pg stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "chaos: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

step "a throwaway PostgreSQL cluster"
direct=$(pg start)
echo "  $direct" >&2

# start_servers URL: three servers on free ports; sets $servers (comma-separated base URLs)
start_servers() {
  local url=$1 i log addr
  servers=
  for i in 1 2 3; do
    log=$work/server-$RANDOM.log
    : >"$log" # exists before the background job opens it, for the sed below
    DATABASE_URL=$url "$server_bin" --bind 127.0.0.1:0 --workers 4 --no-demo 2>"$log" &
    pids+=($!)
    for _ in $(seq 1 300); do
      addr=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$log" | head -n 1)
      [ -n "$addr" ] && break
      kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; exit 1; }
      sleep 0.1
    done
    [ -n "$addr" ] || { echo "server $i did not start:" >&2; cat "$log" >&2; exit 1; }
    servers=${servers:+$servers,}http://$addr
  done
  echo "  servers: $servers" >&2
}

stop_servers() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

# round LABEL URL [CRASH]: the servers, the Python module, the C kiosk (and, without CRASH,
# the C hammer) all use URL; the checks read the database directly. CRASH is a command that
# crashes and restarts PostgreSQL, run a third into the load.
round() {
  local label=$1 url=$2 crash=${3:-} hammer_log=$work/hammer-$1.log hammer=
  local extra="C hammer"
  [ -z "$crash" ] || extra="a database crash (pg_ctl -m immediate) a third of the way in"
  step "round '$label': 3 servers + Python module + C kiosk + $extra, for ${seconds}s"
  start_servers "$url"
  if [ -z "$crash" ]; then
    # the hammer checks its own show on its own, so it stays out of the crash round
    DATABASE_URL=$url "$target/chaos-hammer" 4 400 400 >"$hammer_log" 2>&1 &
    hammer=$!
  fi
  local status=0
  python scripts/chaos/many.py --servers "$servers" --db-url "$url" --check-url "$direct" \
    --kiosk "$target/chaos-kiosk" --lost-reply "$target/chaos-lost-reply" --label "$label" \
    --seconds "$seconds" ${crash:+--crash "$crash"} || status=$?
  if [ -n "$hammer" ]; then
    if ! wait "$hammer"; then
      echo "the C hammer failed:" >&2
      cat "$hammer_log" >&2
      status=1
    fi
    grep '^OK\|holds/s' "$hammer_log" | sed 's/^/  hammer: /' >&2
  fi
  stop_servers
  if [ "$status" != 0 ]; then
    echo "chaos: round '$label' FAILED; the servers' logs end with:" >&2
    tail -n 5 "$work"/server-*.log >&2 || true
    exit 1
  fi
  echo "  round '$label': all promises kept" >&2
}

round direct "$direct"

# pg.sh crash = pg_ctl -m immediate: every backend dies at once; the restart runs crash recovery.
cat >"$work/crash.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
export SEATCORE_PGDATA="$pgdata" SEATCORE_PG_PORT="$pgport"
"$root/scripts/pg.sh" crash
sleep 2
"$root/scripts/pg.sh" start >/dev/null
SH
chmod +x "$work/crash.sh"
round crash "$direct" "$work/crash.sh"

pgbouncer_bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
if [ -z "$pgbouncer_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  step "installing Debian's pgbouncer"
  (apt-get install -y -qq pgbouncer >/dev/null 2>&1 ||
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer)) >&2
  pgbouncer_bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
fi
if [ -z "$pgbouncer_bin" ]; then
  echo "chaos: SKIPPED the PgBouncer round: pgbouncer is not installed and we are not root to install it" >&2
  exit 0
fi

step "PgBouncer $("$pgbouncer_bin" --version | head -n 1 | awk '{print $2}') in transaction pooling mode"
bport=$(free_port)
bdir=$work/pgbouncer
mkdir -p "$bdir"
cat >"$bdir/pgbouncer.ini" <<INI
[databases]
seatcore = host=127.0.0.1 port=$pgport dbname=seatcore
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $bdir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
; Failover: PgBouncer's defaults would make seatcore's requests wait in PgBouncer's queue up
; to 120 s while PostgreSQL is down (query_wait_timeout), and keep waiting up to 15 s after it
; is back (server_login_retry). Shorter values turn an outage into prompt errors, which
; seatcore maps to 503s, and let it recover within a second. Nothing in seatcore changes.
query_wait_timeout = 3
server_login_retry = 1
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
INI
echo '"postgres" ""' >"$bdir/userlist.txt"
[ "$(id -u)" = 0 ] && chown -R postgres: "$bdir"
as_postgres "$pgbouncer_bin" -d "$bdir/pgbouncer.ini"
for _ in $(seq 1 50); do [ -s "$bdir/pgbouncer.pid" ] && break; sleep 0.1; done
bouncer_pid=$(cat "$bdir/pgbouncer.pid")
bouncer=postgres://postgres@127.0.0.1:$bport/seatcore
round pgbouncer "$bouncer"
# PostgreSQL crashes behind PgBouncer: the pooler's server connections die, the clients'
# connections to the pooler mostly survive.
round pgbouncer-crash "$bouncer" "$work/crash.sh"
step "all rounds passed"
