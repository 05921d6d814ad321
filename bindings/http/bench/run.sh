#!/usr/bin/env bash
# seatcore-server benchmark (not a test): HTTP hold throughput, the hot-seat storm, a
# 200,000-seat status read and peak RSS, next to pgbench running the least SQL a hold needs.
# Usage: bindings/http/bench/run.sh [CONNECTIONS=16] [SECONDS=10]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root"
conns=${1:-16}
secs=${2:-10}
target=${CARGO_TARGET_DIR:-$root/target}
cargo build --release -q -p seatcore-server --bin seatcore-server --example load
base_url=${DATABASE_URL:-$(scripts/pg.sh start)}
psql -X -q "$base_url" -c "DROP SCHEMA IF EXISTS http_bench CASCADE" -c "CREATE SCHEMA http_bench" 2>/dev/null
sep=$([[ $base_url == *\?* ]] && echo '&' || echo '?')
url="${base_url}${sep}options=-c%20search_path%3Dhttp_bench"
port=${BENCH_PORT:-5077}
log=$(mktemp)
/usr/bin/time -v "$target/release/seatcore-server" --bind 127.0.0.1:$port --database-url "$url" \
  --workers "$conns" --no-demo --sweep-interval-seconds 3600 2>"$log" >/dev/null &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
load="$target/release/examples/load"
rss() { echo "server RSS now: $(awk '/VmRSS/{print $2, $3}' /proc/$(pgrep -P $server)/status)"; }
rss
"$load" "http://127.0.0.1:$port" holds "$conns" "$secs"
rss
"$load" "http://127.0.0.1:$port" storm "$conns" "$secs"
# a 200,000-seat show, made in SQL, read through HTTP
psql -X -q "$url" -c "INSERT INTO shows (show_id, seat_count) VALUES ('big', 200000)" \
  -c "INSERT INTO seats (show_id, seat_no, seat_id) SELECT 'big', g, 'ROW' || (g / 500) || '_SEAT' || (g % 500) FROM generate_series(1, 200000) g"
start=$(date +%s.%N)
bytes=$(curl -s "http://127.0.0.1:$port/shows/big/seats" | wc -c)
echo "200k-seat status read: $bytes bytes in $(echo "$(date +%s.%N) - $start" | bc) s"
rss
# SIGTERM the server itself (the child of /usr/bin/time), then let time report
kill -TERM "$(pgrep -P $server)"
wait $server || true
grep -E "Maximum resident set size" "$log" | sed 's/^\s*/server: /'
# pgbench: the least SQL a hold needs, same concurrency
psql -X -q "$url" -c "INSERT INTO shows (show_id, seat_count) VALUES ('pgbench_show', 320000)" \
  -c "INSERT INTO seats (show_id, seat_no, seat_id) SELECT 'pgbench_show', g, 'S' || (g - 1) FROM generate_series(1, 320000) g"
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1 || command -v pgbench)
PGOPTIONS="-c search_path=http_bench" "$pgbench" -n -f bindings/http/bench/pgbench-hold.sql \
  -c "$conns" -j 2 -T "$secs" "$base_url" 2>/dev/null | grep -E "^tps" | sed 's/^/pgbench hold SQL: /'
psql -X -q "$base_url" -c "DROP SCHEMA IF EXISTS http_bench CASCADE" 2>/dev/null
rm -f "$log"
