#!/usr/bin/env bash
# Hostile-input checks that need tools beyond cargo (the Rust ones are in
# bindings/http/tests/hostile.rs and run with `cargo test`):
#   1. schemathesis fuzzes the REST API from its own /openapi.json: no 5xx, every response
#      as described (status, content type, headers, body schema), schema-invalid input
#      refused; then again with an admin token, checking the admin endpoints refuse
#      requests without it (ignored_auth).
#   2. the server behind nginx (docs/deploy-nginx.md, hostile/nginx.conf): the contract
#      answers through the proxy, nginx's own refusals are JSON, and 1000 slow clients at
#      nginx do not slow normal ones.
# Needs DATABASE_URL (else the private cluster). Respects CARGO_TARGET_DIR.
# Knobs: SEATCORE_FUZZ_EXAMPLES (default 40 per operation), SEATCORE_FUZZ_SEED,
# SEATCORE_SKIP_NGINX=1, SEATCORE_SKIP_FUZZ=1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root"
here=bindings/http/hostile
target=${CARGO_TARGET_DIR:-$root/target}
examples=${SEATCORE_FUZZ_EXAMPLES:-40}
seed=${SEATCORE_FUZZ_SEED:-20261125}

db=${DATABASE_URL:-$(scripts/pg.sh start)}
echo "== hostile: building seatcore-server" >&2
cargo build -q -p seatcore-server
bin=$target/debug/seatcore-server

work=$(mktemp -d /tmp/seatcore-hostile.XXXXXX)
schema="hostile_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql -q "$db" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -q "$db" -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
case "$db" in *\?*) url="$db&options=-c%20search_path%3D$schema" ;; *) url="$db?options=-c%20search_path%3D$schema" ;; esac

# Starts the server with extra flags; sets $addr. Its log goes to $work/server-$1.log.
start_server() {
  local name=$1; shift
  "$bin" --bind 127.0.0.1:0 --database-url "$url" --min-hold-seconds 1 "$@" 2>"$work/server-$name.log" &
  pids+=($!)
  for _ in $(seq 1 200); do
    addr=$(sed -n 's/.*listening on http:\/\/\([^ ]*\).*/\1/p' "$work/server-$name.log" | head -n 1)
    [ -n "$addr" ] && return 0
    sleep 0.1
  done
  echo "hostile: the server did not start:" >&2; cat "$work/server-$name.log" >&2; exit 1
}

check_log() {
  if grep -q "panicked" "$work/server-$1.log"; then
    echo "hostile: the server panicked:" >&2; grep -B2 -A5 panicked "$work/server-$1.log" >&2; exit 1
  fi
}

if [ "${SEATCORE_SKIP_FUZZ:-0}" != 1 ]; then
  venv=$target/schemathesis-venv
  if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "== hostile: installing schemathesis into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$here/requirements.txt"
  fi
  st="$venv/bin/schemathesis"
  checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,use_after_free,ensure_resource_availability

  # One worker: hypothesis's lambda-description cache is not thread-safe on this Python
  # (a KeyError or an AST recursion SystemError in schemathesis's coverage phase).
  start_server fuzz
  echo "== hostile: schemathesis on http://$addr/openapi.json ($examples examples per operation, seed $seed)" >&2
  (cd "$work" && "$st" run "http://$addr/openapi.json" --checks "$checks" --max-examples "$examples" \
      --seed "$seed" --workers 1 --request-timeout 10 --no-color 2>&1) | tee "$work/fuzz.out" | grep -E "passed|failed|generated|Seed|❌|ST[0-9]" >&2 || true
  grep -q "failures\|errors\? in\|❌" "$work/fuzz.out" && { cat "$work/fuzz.out" >&2; echo "hostile: schemathesis found failures" >&2; exit 1; }
  grep -qE "[0-9]+ generated, [0-9]+ passed" "$work/fuzz.out" || { cat "$work/fuzz.out" >&2; echo "hostile: schemathesis did not run" >&2; exit 1; }
  check_log fuzz
  curl -fsS "http://$addr/health" >/dev/null

  start_server admin --admin-token fuzz-admin-token --no-demo
  # The admin endpoints are those the description says need the token.
  admin_paths=$(curl -fsS "http://$addr/openapi.json" | python3 -c '
import json, re, sys
paths = json.load(sys.stdin)["paths"]
print("|".join(re.escape(p) for p, item in paths.items() if any("security" in op for op in item.values())))')
  [ -n "$admin_paths" ] || { echo "hostile: the description names no admin endpoint" >&2; exit 1; }
  echo "== hostile: schemathesis on the admin endpoints ($admin_paths) with a token configured (ignored_auth)" >&2
  (cd "$work" && "$st" run "http://$addr/openapi.json" --checks not_a_server_error,ignored_auth,response_schema_conformance \
      --include-path-regex "^($admin_paths)\$" -H "Authorization: Bearer fuzz-admin-token" \
      --max-examples "$examples" --seed "$seed" --workers 1 --no-color 2>&1) | tee "$work/fuzz-admin.out" | grep -E "generated|❌|ST[0-9]" >&2 || true
  grep -q "❌" "$work/fuzz-admin.out" && { cat "$work/fuzz-admin.out" >&2; echo "hostile: admin fuzzing found failures" >&2; exit 1; }
  grep -qE "[0-9]+ generated, [0-9]+ passed" "$work/fuzz-admin.out" || { cat "$work/fuzz-admin.out" >&2; exit 1; }
  check_log admin
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/reset")
  [ "$code" = 401 ] || { echo "hostile: /reset without the token gave $code" >&2; exit 1; }
fi

if [ "${SEATCORE_SKIP_NGINX:-0}" != 1 ]; then
  if ! command -v nginx >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== hostile: installing Debian's nginx" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >&2
  fi
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  if [ ! -x "$nginx" ]; then
    echo "hostile: no nginx (not root, or no apt-get): skipping the reverse-proxy test" >&2
    # Under CI every prerequisite must be there.
    [ -z "${CI:-}" ] || [ "${CI}" = false ] || { echo "hostile: CI is set: nginx is required" >&2; exit 1; }
  else
    start_server nginx --workers 8
    upstream=$addr
    upstream_pid=${pids[-1]}
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$work/nginx"
    sed -e "s#@PREFIX@#$work/nginx#g" -e "s#@LISTEN@#127.0.0.1:$port#g" -e "s#@UPSTREAM@#$upstream#g" \
      "$here/nginx.conf" >"$work/nginx/nginx.conf"
    ulimit -n 8192 2>/dev/null || true
    "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/stderr" &
    pids+=($!)
    front="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do curl -fsS "$front/health" >/dev/null 2>&1 && break; sleep 0.1; done
    echo "== hostile: the contract through nginx at $front" >&2
    expect() { # method path body status
      local got
      got=$(curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$front$2")
      [ "$got" = "$4" ] || { echo "hostile: $1 $2 through nginx: $got, expected $4: $(cat "$work/body")" >&2; exit 1; }
      python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/body" || { echo "hostile: $1 $2: not JSON: $(cat "$work/body")" >&2; exit 1; }
    }
    expect GET /health "" 200
    expect POST /shows/nginx_show/initialize '{"seat_ids": ["A1", "A2"]}' 201
    expect POST /shows/nginx_show/hold '{"seat_ids": ["A1"]}' 201
    hold_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hold_id"])' "$work/body")
    expect POST /shows/nginx_show/book "{\"hold_id\": \"$hold_id\"}" 200
    expect POST /shows/nginx_show/book "{\"hold_id\": \"$hold_id\"}" 200
    expect POST /shows/nginx_show/hold '{"seat_ids": ["A1"]}' 409
    expect GET /shows/nope/seats "" 404
    expect POST /shows/nginx_show/hold '[1]' 400
    # nginx's own refusal of a body over client_max_body_size, in the API's shape.
    head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$work/big"
    got=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "@$work/big" "$front/shows/big/initialize")
    [ "$got" = 413 ] && grep -q '"error"' "$work/body" || { echo "hostile: a 17 MiB body through nginx: $got $(cat "$work/body")" >&2; exit 1; }
    echo "== hostile: 1000 slow clients at nginx, normal clients through it" >&2
    python3 "$here/slow_clients.py" "127.0.0.1:$port" --slow 1000 --normal 300 --p99-bound 1.0 >&2
    echo "== hostile: 1000 slow clients straight at the server" >&2
    python3 "$here/slow_clients.py" "$upstream" --slow 1000 --normal 300 --p99-bound 1.0 >&2
    check_log nginx
    # The server gone: nginx answers 503 JSON with Retry-After, not an HTML page.
    kill "$upstream_pid"; wait "$upstream_pid" 2>/dev/null || true
    expect GET /health "" 503
    curl -s -D - -o /dev/null "$front/health" | grep -qi '^retry-after: 1' || { echo "hostile: no Retry-After from nginx" >&2; exit 1; }
  fi
fi
echo "hostile: all good" >&2
