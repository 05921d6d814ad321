#!/usr/bin/env bash
# A PostgreSQL formation with automatic failover, on Debian's pg_auto_failover
# (postgresql-15-auto-failover): a monitor and two data nodes on this machine, loopback only,
# synchronous replication (a commit is on both data nodes before it is acknowledged).
# docs/ha.md explains it.
#
#   scripts/ha.sh start          create the formation (first time) or start it again; waits
#                                until it has a primary and a secondary; the last line is its
#                                multi-host URL
#   scripts/ha.sh url [--read|--monitor]
#                                the URL for writes; --read: for reads (a standby preferred);
#                                --monitor: the monitor's database
#   scripts/ha.sh status         the monitor's view of the nodes, and the URLs
#   scripts/ha.sh failover       planned switchover; prints when the new primary takes writes, and
#                                returns once the old one follows it
#   scripts/ha.sh kill-primary   SIGKILL to the primary's PostgreSQL and its keeper; returns once
#                                a new primary takes writes
#   scripts/ha.sh kill-standby   SIGKILL to the standby's PostgreSQL and its keeper; returns once
#                                the primary takes writes without it (synchronous replication off)
#   scripts/ha.sh revive         starts the keepers of killed nodes; returns once the formation
#                                has a primary and a secondary again
#   scripts/ha.sh stop           stops it (the data stays in .hadata/, which git ignores)
#   scripts/ha.sh destroy        stops it and deletes its data
#
# Each event prints one line on stderr: "ha: <what> ... <seconds> s". The failover timeouts
# (how long until a dead primary is replaced) are set at creation, below, and in docs/ha.md.
#
# Settings: SEATCORE_HA_DIR (default <repo>/.hadata), SEATCORE_HA_PORT (the first of three
# ports: monitor, node1, node2; default derived from the checkout's path, so two clones never
# collide, below the kernel's range of ports for outgoing connections, so no client socket
# holds one, and moved on to the next three at creation while one is taken),
# SEATCORE_HA_TIMEOUT (seconds any wait may take, default 120).
# PostgreSQL refuses to run as root; as root the formation runs as the `postgres` user.
# pg_auto_failover is installed with apt-get when missing and we are root (scripts/setup.sh ha).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${SEATCORE_HA_DIR:-$root/.hadata}
sum=$(printf '%s' "$root" | cksum | cut -d' ' -f1)
default_port=$((10000 + sum % 7000 * 3))
limit=${SEATCORE_HA_TIMEOUT:-120}
nodes=(node1 node2)

# The monitor's timeouts (ms). A node is taken for dead once its keeper has not reported for
# node_considered_unhealthy_timeout and the monitor's health checks fail (every
# health_check_period; a check gives up after health_check_timeout, retried
# health_check_max_retries times, health_check_retry_delay apart). The standby is then
# promoted, but it takes writes only once the old primary had primary_demote_timeout to stop
# itself: that must exceed the keepers' network_partition_timeout (s), after which a primary
# that can reach neither the monitor nor its standby stops PostgreSQL: no split brain.
monitor_settings="
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 2000
pgautofailover.health_check_max_retries = 2
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 4000
pgautofailover.primary_demote_timeout = 6000"
network_partition_timeout=3

# Sized for tests on a shared machine (pg_auto_failover's own tuning takes a quarter of RAM
# per instance), loopback only.
instance_settings="
shared_buffers = 64MB
work_mem = 4MB
maintenance_work_mem = 64MB
effective_cache_size = 1GB
wal_keep_size = 256MB
max_connections = 300
log_min_messages = warning"

say() { echo "ha: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# Run a command as the formation's owner: ourselves, or `postgres` when we are root, with
# pg_autoctl's files inside the formation's folder. `detached` runs it in the background, in
# a session of its own, so that it outlives this script.
owner_command() {
  local env=(XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" XDG_RUNTIME_DIR="$dir/xdg/run"
    PATH="$bin:$PATH")
  if [ "$(id -u)" = 0 ]; then
    command=(runuser -u postgres -- env "${env[@]}" "$@")
  else
    command=(env "${env[@]}" "$@")
  fi
}
as_owner() {
  local command
  owner_command "$@"
  (cd / && "${command[@]}")
}
detached() {
  local command
  owner_command "$@"
  (cd / && setsid -f "${command[@]}")
}

# The PostgreSQL major version pg_auto_failover is installed for, and its binaries.
find_bin() {
  local so
  so=$(ls /usr/lib/postgresql/*/lib/pgautofailover.so 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$so" ] || ! command -v pg_autoctl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      "$root/scripts/setup.sh" ha >&2
      so=$(ls /usr/lib/postgresql/*/lib/pgautofailover.so 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    if [ -z "$so" ] || ! command -v pg_autoctl >/dev/null 2>&1; then
      die "pg_auto_failover is missing: install Debian's postgresql-15-auto-failover (it brings pg_autoctl), or run this as root"
    fi
  fi
  bin=$(dirname "$(dirname "$so")")/bin
}

# port_free PORT: whether PostgreSQL could listen on it (bound as PostgreSQL binds, with
# SO_REUSEADDR: only a listener or a live connection on that port stands in the way).
port_free() {
  python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# free_ports: the first of three free ports for a new formation: SEATCORE_HA_PORT's, or the
# checkout's and, while one of those is taken, the next three.
free_ports() {
  local base=${SEATCORE_HA_PORT:-$default_port} tries=0
  until port_free "$base" && port_free $((base + 1)) && port_free $((base + 2)); do
    [ -z "${SEATCORE_HA_PORT:-}" ] || die "a port of $base to $((base + 2)) (SEATCORE_HA_PORT) is taken"
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || die "no three free ports from $default_port on (set SEATCORE_HA_PORT)"
    base=$((base + 3))
  done
  echo "$base"
}

ports() {
  if [ -f "$dir/ports" ]; then cat "$dir/ports"; else echo "${SEATCORE_HA_PORT:-$default_port}"; fi
}
port_of() { # port_of monitor|node1|node2
  local base
  base=$(ports)
  case "$1" in monitor) echo "$base" ;; node1) echo $((base + 1)) ;; node2) echo $((base + 2)) ;; esac
}

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$(port_of monitor)/pg_auto_failover?sslmode=disable"; }
hosts() { echo "127.0.0.1:$(port_of node1),127.0.0.1:$(port_of node2)"; }
write_url() { echo "postgres://postgres@$(hosts)/seatcore?target_session_attrs=read-write"; }
read_url() { echo "postgres://postgres@$(hosts)/seatcore?target_session_attrs=prefer-standby"; }

# SQL on the monitor; prints the rows (empty when the monitor does not answer).
monitor() {
  PGCONNECT_TIMEOUT=2 psql -X -q -tA -F ' ' "$(monitor_url)" -c "$1" 2>/dev/null || true
}

# The keeper's supervisor process of a node (or of the monitor), when it runs.
keeper_pid() {
  local f="$dir/xdg/run/pg_autoctl$dir/$1/pg_autoctl.pid" pid
  [ -f "$f" ] || return 1
  pid=$(head -n 1 "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Starts a node's (or the monitor's) keeper in the background, logging to logs/.
run_keeper() {
  keeper_pid "$1" >/dev/null && return 0
  detached pg_autoctl run --pgdata "$dir/$1" >>"$dir/logs/$1.log" 2>&1 </dev/null
}

# wait_for WHAT COMMAND...: runs COMMAND every 0.1 s until it succeeds (SEATCORE_HA_TIMEOUT).
wait_for() {
  local what=$1 started
  shift
  started=$(now)
  until "$@"; do
    if awk -v s="$(since "$started")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
      say "gave up waiting for $what after $limit s; the monitor says:"
      monitor "SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid" >&2
      exit 1
    fi
    sleep 0.1
  done
}

# The formation as the monitor sees it: "name:reported/assigned ..." by node id.
states() {
  monitor "SELECT string_agg(nodename || ':' || reportedstate || '/' || goalstate, ' ' ORDER BY nodeid)
           FROM pgautofailover.node"
}
healthy() { # one primary and one secondary, each where the monitor wants it, both keepers
  # running and reporting, both servers passing the monitor's health checks
  local s n
  for n in "${nodes[@]}"; do keeper_pid "$n" >/dev/null || return 1; done
  s=$(monitor "SELECT string_agg(nodename || ':' || reportedstate || '/' || goalstate, ' ' ORDER BY nodeid)
               FROM pgautofailover.node WHERE health = 1 AND reporttime > now() - interval '3 seconds'")
  [[ "$s" == *":primary/primary"* && "$s" == *":secondary/secondary"* ]]
}
node_in() { # node_in STATE...: the node whose reported and assigned state is one of STATEs
  local states_sql
  states_sql=$(printf "'%s'," "$@")
  monitor "SELECT nodename FROM pgautofailover.node WHERE reportedstate::text IN (${states_sql%,})
           AND goalstate = reportedstate ORDER BY nodeid LIMIT 1"
}
takes_writes() { # takes_writes NODE: a transaction there commits a write within 2 s
  # (a promoted node may still wait for a standby that is gone before it acknowledges a
  # commit: a read-write session alone is not enough)
  timeout 2 env PGCONNECT_TIMEOUT=2 psql -X -q -tA \
    "postgres://postgres@127.0.0.1:$(port_of "$1")/seatcore?target_session_attrs=read-write" \
    -c "SELECT txid_current()" >/dev/null 2>&1
}
without_standby() { [ -n "$(node_in wait_primary)" ]; }
monitor_answers() { [ "$(monitor "SELECT 1")" = 1 ]; }
node1_alone() { [ -n "$(monitor "SELECT 1 FROM pgautofailover.node WHERE nodename = 'node1' AND reportedstate = 'single'")" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# Appends the instance settings to a node's postgresql.conf, once (a copy of node1 has them).
tune() {
  grep -q '^wal_keep_size = 256MB' "$1/postgresql.conf" ||
    echo "$instance_settings" | as_owner tee -a "$1/postgresql.conf" >/dev/null
}

create() {
  mkdir -p "$dir/logs" "$dir/xdg/config" "$dir/xdg/data" "$dir/xdg/run"
  chmod 700 "$dir/xdg/run"
  local first
  first=$(free_ports)
  echo "$first" >"$dir/ports"
  say "creating the formation in $dir (ports $(port_of monitor), $(port_of node1), $(port_of node2))"
  [ "$(id -u)" != 0 ] || chown -R postgres: "$dir"
  as_owner pg_autoctl create monitor --pgdata "$dir/monitor" --pgport "$(port_of monitor)" \
    --hostname 127.0.0.1 --auth trust --no-ssl --pgctl "$bin/pg_ctl" >>"$dir/logs/create.log" 2>&1 ||
    { tail -n 20 "$dir/logs/create.log" >&2; die "creating the monitor failed"; }
  as_owner pg_autoctl config set --pgdata "$dir/monitor" postgresql.listen_addresses 127.0.0.1 >/dev/null
  tune "$dir/monitor"
  echo "$monitor_settings" | as_owner tee -a "$dir/monitor/postgresql.conf" >/dev/null
  run_keeper monitor
  wait_for "the monitor" monitor_answers
  local n
  for n in "${nodes[@]}"; do
    # node1 starts alone (single); node2 is made a copy of it and follows it
    as_owner pg_autoctl create postgres --pgdata "$dir/$n" --pgport "$(port_of "$n")" --name "$n" \
      --hostname 127.0.0.1 --listen 127.0.0.1 --auth trust --no-ssl --pgctl "$bin/pg_ctl" \
      --dbname seatcore --monitor "$(monitor_url)" >>"$dir/logs/create.log" 2>&1 ||
      { tail -n 20 "$dir/logs/create.log" >&2; die "creating $n failed"; }
    as_owner pg_autoctl config set --pgdata "$dir/$n" timeout.network_partition_timeout \
      "$network_partition_timeout" >/dev/null
    tune "$dir/$n"
    run_keeper "$n"
    if [ "$n" = node1 ]; then wait_for "node1 to run alone" node1_alone; fi
  done
}

start() {
  local started
  started=$(now)
  if [ ! -f "$dir/ports" ]; then
    if [ -z "${SEATCORE_HA_DIR:-}" ] && [ "$(id -u)" = 0 ] && [ ! -e "$dir" ] &&
      ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
      # The postgres user cannot reach this checkout: keep the formation where it can,
      # behind the ignored .hadata link.
      mkdir -p "/var/tmp/seatcore-ha-$sum"
      ln -sfn "/var/tmp/seatcore-ha-$sum" "$dir"
    fi
    [ -L "$dir" ] && dir=$(readlink -f "$dir")
    create
  else
    # the keepers give up when the monitor does not answer: it goes first
    run_keeper monitor
    wait_for "the monitor" monitor_answers
    local n
    for n in "${nodes[@]}"; do run_keeper "$n"; done
  fi
  wait_for "a primary and a secondary" healthy
  say "formation up after $(since "$started") s: $(states)"
  say "reads (a standby preferred): $(read_url)"
  write_url
}

# kill_node NODE: SIGKILL, at once, to the node's keeper (the supervisor and its services)
# and to its PostgreSQL (the postmaster and every backend).
kill_node() {
  local pids=() pid pm
  if pid=$(keeper_pid "$1"); then
    pids+=("$pid")
    pids+=($(ps -o pid= --ppid "$pid" || true))
  fi
  if [ -f "$dir/$1/postmaster.pid" ]; then
    pm=$(head -n 1 "$dir/$1/postmaster.pid")
    if kill -0 "$pm" 2>/dev/null; then
      pids+=("$pm")
      pids+=($(ps -o pid= --ppid "$pm" || true))
    fi
  fi
  [ ${#pids[@]} -gt 0 ] || die "$1 is not running"
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

other_than() { if [ "$1" = node1 ]; then echo node2; else echo node1; fi; }

require_healthy() {
  healthy || die "the formation is not at rest (a primary and a secondary): $(states)"
}

# kill_node_in STATE ROLE: SIGKILL to the node in STATE (the formation's ROLE: primary or
# standby); returns once the other node takes writes (as the new primary, or as the primary
# without a standby).
kill_node_in() {
  require_healthy
  local role=$2 victim other started
  victim=$(node_in "$1")
  other=$(other_than "$victim")
  started=$(now)
  kill_node "$victim"
  say "killed the $role ($victim) with SIGKILL"
  case $role in
    primary)
      wait_for "$other to take writes" takes_writes "$other"
      say "kill-primary: $other takes writes $(since "$started") s after $victim was killed"
      ;;
    standby)
      wait_for "$other to go on alone" without_standby
      say "kill-standby: $other takes writes without a standby $(since "$started") s after $victim was killed"
      ;;
  esac
}

# on NODE: runs SQL statements as the superuser
sql_on() { # sql_on NODE STATEMENT...
  local node=$1 args=()
  shift
  for s in "$@"; do args+=(-c "$s"); done
  PGCONNECT_TIMEOUT=2 psql -X -q -tA "postgres://postgres@127.0.0.1:$(port_of "$node")/postgres" "${args[@]}"
}

failover() {
  require_healthy
  local old new started
  old=$(node_in primary)
  new=$(other_than "$old")
  started=$(now)
  # The old primary takes no more writes before the switchover starts: pg_auto_failover 2.0
  # can move it to wait_primary (synchronous replication off) while the standby is being
  # promoted and leave it there, taking writes, until it is demoted; pg_rewind then drops
  # what it acknowledged meanwhile (pg_auto_failover's GitHub issue 774, fixed after 2.0).
  # New transactions there are read-only from here: writers see SQLSTATE 25006 and move to
  # the new primary.
  sql_on "$old" "ALTER SYSTEM SET default_transaction_read_only = on" "SELECT pg_reload_conf()" >/dev/null
  # the command returns once the old primary follows the new one; the new one takes writes
  # before that
  as_owner pg_autoctl perform switchover --pgdata "$dir/monitor" --formation default >>"$dir/logs/events.log" 2>&1 &
  local pid=$!
  wait_for "$new to take writes" takes_writes "$new"
  say "failover: $new takes writes $(since "$started") s after the switchover began"
  wait "$pid" || { tail -n 20 "$dir/logs/events.log" >&2; die "the switchover failed"; }
  wait_for "a primary and a secondary" healthy
  # The old primary, a standby now, takes writes again once promoted.
  sql_on "$old" "ALTER SYSTEM RESET default_transaction_read_only" "SELECT pg_reload_conf()" >/dev/null
  [ "$(sql_on "$old" "SHOW default_transaction_read_only")" = off ] ||
    die "$old is still read-only by default"
}

revive() {
  local n started
  started=$(now)
  for n in "${nodes[@]}"; do
    if ! keeper_pid "$n" >/dev/null; then
      say "starting $n's keeper again"
      run_keeper "$n"
    fi
  done
  wait_for "a primary and a secondary" healthy
  say "revive: a primary and a secondary again after $(since "$started") s: $(states)"
}

stop() {
  local n pid
  for n in "${nodes[@]}" monitor; do
    if pid=$(keeper_pid "$n"); then
      as_owner pg_autoctl stop --pgdata "$dir/$n" >/dev/null 2>&1 || true
      wait_for "$n to stop" gone "$pid"
    fi
  done
}

find_bin
[ -L "$dir" ] && dir=$(readlink -f "$dir")
case "${1:-}" in
  start) start ;;
  url)
    case "${2:-}" in
      --read) read_url ;;
      --monitor) monitor_url ;;
      *) write_url ;;
    esac
    ;;
  status)
    if [ -f "$dir/ports" ]; then
      as_owner pg_autoctl show state --pgdata "$dir/monitor" 2>/dev/null || echo "the monitor does not answer"
      echo "writes: $(write_url)"
      echo "reads:  $(read_url)"
    else
      echo "no formation in $dir"
    fi
    ;;
  failover) failover ;;
  kill-primary) kill_node_in primary primary ;;
  kill-standby) kill_node_in secondary standby ;;
  revive) revive ;;
  stop) [ ! -f "$dir/ports" ] || stop ;;
  destroy)
    if [ -f "$dir/ports" ]; then stop; fi
    rm -rf "$dir"
    [ ! -L "$root/.hadata" ] || [ -n "${SEATCORE_HA_DIR:-}" ] || rm -f "$root/.hadata"
    ;;
  *)
    echo "usage: scripts/ha.sh start|url [--read|--monitor]|status|failover|kill-primary|kill-standby|revive|stop|destroy" >&2
    exit 2
    ;;
esac
