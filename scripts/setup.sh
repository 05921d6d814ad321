#!/usr/bin/env bash
# Installs what the project needs and the machine lacks, from the package registries only.
#   scripts/setup.sh          Rust toolchain check, PostgreSQL server binaries
#   scripts/setup.sh python   also the project's .venv (maturin, pytest, flask, mypy)
#   scripts/setup.sh c        also a C toolchain and valgrind
#   scripts/setup.sh browser  also Chromium, for the demo page's browser test
#   scripts/setup.sh ha       also pg_auto_failover for the installed PostgreSQL, for
#                             scripts/ha.sh (the failover formation and its test)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing: $* (install these Debian packages, or run this script as root)" >&2
    exit 1
  fi
  if [ ! -f /var/lib/apt/periodic/seatcore-updated ]; then
    apt-get update -qq >&2 && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/seatcore-updated
  fi
  echo "setup: installing $* from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

need_cmd() { # need_cmd COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: missing: cargo (the Rust toolchain, https://rustup.rs); it cannot be installed from here" >&2
  exit 1
fi
need_cmd cc gcc
need_cmd make make
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  apt_install postgresql
fi
need_cmd psql postgresql-client
need_cmd pkg-config pkg-config
need_cmd openssl openssl
# TLS to PostgreSQL links OpenSSL
pkg-config --exists openssl 2>/dev/null || apt_install libssl-dev

for extra in "$@"; do
  case "$extra" in
    python)
      need_cmd python3 python3
      if [ ! -x "$root/.venv/bin/python" ]; then
        python3 -m venv "$root/.venv" || { apt_install python3-venv && python3 -m venv "$root/.venv"; }
      fi
      stamp="$root/.venv/.seatcore-requirements"
      if ! cmp -s "$root/bindings/python/requirements-dev.txt" "$stamp" 2>/dev/null; then
        "$root/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/bindings/python/requirements-dev.txt" >&2
        cp "$root/bindings/python/requirements-dev.txt" "$stamp"
      fi
      ;;
    c)
      need_cmd c++ g++
      need_cmd valgrind valgrind
      need_cmd pkg-config pkg-config
      ;;
    browser)
      command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        apt_install chromium
      ;;
    ha)
      # the extension and pg_autoctl, built for the newest PostgreSQL server installed
      major=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f5)
      if [ -z "$major" ]; then
        echo "setup: missing: the PostgreSQL server, needed before pg_auto_failover" >&2
        exit 1
      fi
      if [ ! -f "/usr/lib/postgresql/$major/lib/pgautofailover.so" ] || ! command -v pg_autoctl >/dev/null 2>&1; then
        apt_install "postgresql-$major-auto-failover"
      fi
      ;;
    *) echo "setup: unknown extra '$extra'" >&2; exit 2 ;;
  esac
done
