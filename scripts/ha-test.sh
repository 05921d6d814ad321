#!/usr/bin/env bash
# The failover round (`make test-ha`): the formation of scripts/ha.sh under load from three
# seatcore-server processes and the Python module, through a planned switchover, the primary
# killed with SIGKILL and the standby killed with SIGKILL (scripts/ha/round.py checks every
# promise and prints the figures). A few minutes with warm builds.
#
# Needs pg_auto_failover (Debian's postgresql-15-auto-failover): installed with apt-get when
# missing and we are root, otherwise the round FAILS naming the package (never skipped).
# Builds seatcore-server (debug, respecting CARGO_TARGET_DIR) and the Python module into
# .venv when it is missing or older than the sources. Leaves the formation stopped (its data
# stays in .hadata/; `scripts/ha.sh destroy` deletes it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target=$root/$target ;; esac
step() { printf '\n== ha: %s\n' "$*" >&2; }

scripts/setup.sh python ha
step "building seatcore-server and the Python module (debug)"
cargo build -q -p seatcore-server
export VIRTUAL_ENV=$root/.venv
export PATH="$VIRTUAL_ENV/bin:$PATH"
so=$(ls bindings/python/python/seatcore/_seatcore*.so 2>/dev/null | head -n 1 || true)
if [ -z "$so" ] || [ -n "$(find seatcore/src bindings/python/src migrations -newer "$so" -print -quit)" ] ||
  ! python -c 'import seatcore, psycopg' 2>/dev/null; then
  maturin develop --quiet
fi
python -m ruff check scripts/ha

step "the formation (scripts/ha.sh start)"
trap 'step "stopping the formation"; scripts/ha.sh stop' EXIT
url=$(scripts/ha.sh start)
step "the round"
python scripts/ha/round.py --ha scripts/ha.sh --server-bin "$target/debug/seatcore-server" \
  --url "$url" --read-url "$(scripts/ha.sh url --read)" --monitor-url "$(scripts/ha.sh url --monitor)"
