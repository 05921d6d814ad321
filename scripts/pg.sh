#!/usr/bin/env bash
# The project's private PostgreSQL cluster ("the embedded default").
#
#   scripts/pg.sh start   start it (initdb on first use), reuse it when already running,
#                         print its URL on stdout
#   scripts/pg.sh url     print the URL of the running cluster
#   scripts/pg.sh stop    stop it (the data stays, in .pgdata/, which git ignores)
#   scripts/pg.sh status  say whether it runs
#   scripts/pg.sh crash   stop it the hard way (pg_ctl -m immediate: no checkpoint, as after
#                         a power cut; the next start runs crash recovery). For fault tests.
#
# Settings: SEATCORE_PGDATA (default <repo>/.pgdata), SEATCORE_PG_PORT (default: a port
# derived from the checkout's path, so two clones never collide, below the kernel's range of
# ports for outgoing connections, 32768 on, so no client socket holds it), SEATCORE_PG_BIN (default:
# the newest /usr/lib/postgresql/*/bin, else whatever is on PATH).
# SEATCORE_PG_SSL=1 at first start: also make a private CA and a server certificate for
# localhost/127.0.0.1 (<data>/ca.crt is the CA to trust) and turn TLS on.
# SEATCORE_PG_PRIMARY=PORT at first start: make the cluster a hot standby of the cluster on
# 127.0.0.1:PORT (a copy by pg_basebackup that streams from it) instead of a new one.
# PostgreSQL refuses to run as root; as root the cluster runs as the `postgres` user.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${SEATCORE_PGDATA:-$root/.pgdata}
port=${SEATCORE_PG_PORT:-$((20000 + $(printf '%s' "$root" | cksum | cut -d' ' -f1) % 12000))}

find_bin() {
  if [ -n "${SEATCORE_PG_BIN:-}" ]; then echo "$SEATCORE_PG_BIN"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "pg.sh: PostgreSQL server binaries missing; installing Debian's postgresql package" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ]; then echo "$d"; return; fi
  fi
  echo "pg.sh: PostgreSQL server binaries (initdb, pg_ctl) not found: install the 'postgresql' package or set SEATCORE_PG_BIN" >&2
  exit 1
}

# Run a command as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

url() { echo "postgres://postgres@127.0.0.1:$(cat "$data/seatcore.port")/seatcore"; }

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  if running; then url; return; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ] && [ -z "${SEATCORE_PGDATA:-}" ] && [ ! -e "$data" ] &&
      ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
      # The postgres user cannot reach this checkout (a private temp dir, say): keep the
      # cluster where it can, behind the ignored .pgdata link.
      local outside
      outside=/var/tmp/seatcore-pg-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
      mkdir -p "$outside"
      ln -sfn "$outside" "$data"
    fi
    [ -L "$data" ] && data=$(readlink -f "$data")
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
      chown postgres: "$data"
    fi
    chmod 700 "$data"
    if [ -n "${SEATCORE_PG_PRIMARY:-}" ]; then
      # -R writes primary_conninfo and standby.signal: it starts as a streaming hot standby
      as_owner "$bin/pg_basebackup" -D "$data" -h 127.0.0.1 -p "$SEATCORE_PG_PRIMARY" -U postgres \
        -X stream -R --no-sync --checkpoint=fast >/dev/null
    else
      as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
      cat >>"$data/postgresql.conf" <<CONF
# seatcore's private cluster: loopback only, sized for tests and benchmarks
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_min_messages = warning
log_min_error_statement = panic
CONF
      if [ "${SEATCORE_PG_SSL:-0}" = 1 ]; then make_certs; fi
    fi
  fi
  echo "$port" | as_owner tee "$data/seatcore.port" >/dev/null
  sed -i "s/^port = .*//" "$data/postgresql.conf"
  echo "port = $port" | as_owner tee -a "$data/postgresql.conf" >/dev/null
  if ! as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null; then
    echo "pg.sh: PostgreSQL did not start; see $data/server.log:" >&2
    tail -n 20 "$data/server.log" >&2 || true
    exit 1
  fi
  as_owner "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'seatcore'" | grep -q 1 ||
    as_owner "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE seatcore" >/dev/null
  url
}

# A CA and a server certificate signed by it, both for this cluster only.
make_certs() {
  command -v openssl >/dev/null 2>&1 || { echo "pg.sh: SEATCORE_PG_SSL=1 needs the openssl command" >&2; exit 1; }
  local d="$data"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=seatcore test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/san.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 3650 -extfile "$d/san.ext" -out "$d/server.crt" 2>/dev/null
  chmod 600 "$d/server.key" "$d/ca.key"
  [ "$(id -u)" = 0 ] && chown postgres: "$d"/ca.* "$d"/server.* "$d/san.ext"
  chmod 644 "$d/ca.crt"
  printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" |
    as_owner tee -a "$d/postgresql.conf" >/dev/null
}

bin=$(find_bin)
[ -L "$data" ] && data=$(readlink -f "$data")
case "${1:-start}" in
  start) start ;;
  url) running && url || { echo "pg.sh: the private cluster is not running" >&2; exit 1; } ;;
  stop) if running; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi ;;
  status) if running; then echo "running: $(url)"; else echo "stopped"; fi ;;
  crash) if running; then as_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null; fi ;;
  *) echo "usage: scripts/pg.sh start|url|stop|status|crash" >&2; exit 2 ;;
esac
