#!/usr/bin/env bash
# The Python door's tests: lint every Python source of the project (ruff), build the module
# into the project's .venv (and seatcore-server, which the HTTP contract checks also run
# against), run pytest against a real PostgreSQL (DATABASE_URL, else the private cluster):
# the asyncio tests under `python -X dev -W error`, then check the type stubs. Called by `make test` with DATABASE_URL
# exported. Respects CARGO_TARGET_DIR. With CI set, a test whose prerequisite is missing fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

scripts/setup.sh python
export VIRTUAL_ENV="$root/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

echo "== python: ruff" >&2
python -m ruff check bindings/python/python bindings/python/tests bindings/python/bench examples/python \
  scripts/*.py scripts/chaos/*.py scripts/ha/*.py bench/*.py

echo "== python: maturin develop (debug build)" >&2
maturin develop --quiet

echo "== python: cargo build -p seatcore-server (debug, for the HTTP contract checks)" >&2
cargo build -q -p seatcore-server

run_pytest() { # run_pytest [PYTHON-FLAGS...] -- PYTEST-ARGS...
  local flags=()
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  local status=0
  python "${flags[@]}" -m pytest -q -rs -p no:cacheprovider "$@" || status=$?
  if [ "$status" -eq 5 ]; then
    echo "python: pytest collected no tests; that is a failure" >&2
    exit 1
  elif [ "$status" -ne 0 ]; then
    exit "$status"
  fi
}
# asyncio: an un-awaited coroutine, an unclosed resource or an unretrieved exception fails
async_tests=(bindings/python/tests/test_aio.py bindings/python/tests/test_http_contract.py)

echo "== python: pytest" >&2
run_pytest -- bindings/python/tests "${async_tests[@]/#/--ignore=}" "$@"
echo "== python: pytest, asyncio under -X dev -W error" >&2
run_pytest -X dev -W error -- "${async_tests[@]}" "$@"

echo "== python: stubtest and mypy --strict" >&2
python -m mypy.stubtest seatcore
python -m mypy --strict --no-incremental bindings/python/python/seatcore examples/python/flask_app.py \
  examples/python/fastapi_app.py bench/aio_bench.py
echo "python: all good" >&2
