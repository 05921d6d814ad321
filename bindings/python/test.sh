#!/usr/bin/env bash
# The Python door's tests: lint every Python source of the project (ruff), build the module
# into the project's .venv, run pytest against a real PostgreSQL (DATABASE_URL, else the
# private cluster), then check the type stubs. Called by `make test` with DATABASE_URL
# exported. Respects CARGO_TARGET_DIR. With CI set, a test whose prerequisite is missing fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

scripts/setup.sh python
export VIRTUAL_ENV="$root/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

echo "== python: ruff" >&2
python -m ruff check bindings/python/python bindings/python/tests bindings/python/bench examples/python \
  scripts/chaos/*.py scripts/ha/*.py bench/*.py

echo "== python: maturin develop (debug build)" >&2
maturin develop --quiet

echo "== python: pytest" >&2
status=0
python -m pytest -q -rs -p no:cacheprovider bindings/python/tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "python: pytest collected no tests; that is a failure" >&2
  exit 1
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi

echo "== python: stubtest and mypy --strict" >&2
python -m mypy.stubtest seatcore
python -m mypy --strict --no-incremental bindings/python/python/seatcore examples/python/flask_app.py
echo "python: all good" >&2
