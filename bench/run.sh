#!/usr/bin/env bash
# seatcore's benchmark harness: `make bench`.
#
# In one run on one machine: the ceiling (pgbench running the least SQL a hold needs, with the
# same number of clients) and seatcore's doors on the same PostgreSQL server, alternated
# BENCH_REPS times so drift cancels out (extend-hold and partial releases right after a run
# of holds, each measured against it, on holds made before its run); then the one-off figures (200k-seat show, sweep,
# Python and C in-process, server peak memory). Prints a table of medians and writes
# docs/bench.svg and bench-out/results.jsonl.
#
# Settings: BENCH_REPS (3), BENCH_SECONDS (10 per timed run), BENCH_PORT (5055),
# BENCH_WORKERS (the server's --workers, 64: a worker waiting for its grouped hold holds no
# connection, so more workers make bigger groups),
# DATABASE_URL (else the private cluster; a database seatcore_bench is made afresh in it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
reps=${BENCH_REPS:-3}
secs=${BENCH_SECONDS:-10}
port=${BENCH_PORT:-5055}
workers=${BENCH_WORKERS:-64}
out=$root/bench-out
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"

scripts/setup.sh python c
command -v wrk >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; } ||
  { echo "bench: wrk is missing (Debian package wrk)" >&2; exit 1; }
command -v pgbench >/dev/null 2>&1 || { echo "bench: pgbench is missing (Debian package postgresql-contrib)" >&2; exit 1; }

server_url=${DATABASE_URL:-$(scripts/pg.sh start)}
# the same server, a fresh database of its own
bench_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/seatcore_bench")))' "$server_url")
psql -X -q "$server_url" -c "DROP DATABASE IF EXISTS seatcore_bench WITH (FORCE)" -c "CREATE DATABASE seatcore_bench"

echo "bench: building release binaries" >&2
cargo build --release -q -p seatcore-server -p seatcore-c
cargo build --release -q -p seatcore-server --example event_readers
cargo build --release -q -p seatcore --features test-support --example core_bench
tdir=${CARGO_TARGET_DIR:-$root/target}

record() { echo "$1" >>"$results"; }

start_server() { # start_server LOGNAME [URL]: a release server on $port; sets server_pid
  "$tdir/release/seatcore-server" --bind "127.0.0.1:$port" --workers "$workers" --no-demo \
    --database-url "${2:-$bench_url}" --sweep-interval-ms 86400000 >"$out/$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
}
stop_server() { kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; }
peak_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status"; }
trap 'kill $server_pid 2>/dev/null || true' EXIT
base=http://127.0.0.1:$port

# A show with N seats S1..SN, through the API (one request, the seat list in its body);
# a 200,000-seat one is timed from outside, as a client sees it.
make_show() { # make_show ID N
  python3 -c 'import json, sys; print(json.dumps({"seat_ids": ["S%d" % i for i in range(1, int(sys.argv[1]) + 1)]}))' "$2" >"$out/seats.json"
  local t
  t=$(curl -sf -o /dev/null -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$out/seats.json" "$base/shows/$1/initialize")
  [ "$2" = 200000 ] && record "{\"scenario\":\"http_initialize_200k\",\"rep\":0,\"seconds\":$t,\"bytes\":$(wc -c <"$out/seats.json")}"
  return 0
}

# One server for the whole run: every show is made through it first (200,000-seat
# initializes: 2.1 MB bodies), then it serves all the load; its peak memory covers both.
echo "bench: making the shows" >&2
start_server server
for rep in $(seq "$reps"); do
  for s in ceiling_c16 d16 ceiling_c64 d64 cyc hl ext part; do make_show "${s}_$rep" 200000; done
  make_show "storm_$rep" 10
done

run_wrk() { # run_wrk SCENARIO REP SHOW MODE CONNECTIONS [HOLDS]
  local line
  line=$(HOLDS=${6:-} SHOW=$3 MODE=$4 SPAN=$((200000 / 2)) wrk -t2 -c"$5" -d"${secs}s" -s bench/hold.lua "$base" | grep '^RESULT ' | cut -d' ' -f2-)
  record "{\"scenario\":\"$1\",\"rep\":$2,\"wrk\":$line}"
}

run_ceiling() { # run_ceiling REP CLIENTS
  local show=ceiling_c$2_$1
  sed "s/SHOW_ID/$show/g" bench/ceiling.sql >"$out/ceiling.sql"
  rm -f "$out"/pgbench_log.*
  (cd "$out" && pgbench -n -c "$2" -j 2 -T "$secs" -f ceiling.sql -l --log-prefix=pgbench_log "$bench_url" >"$out/pgbench.txt" 2>&1)
  python3 - "$out" "$1" "$2" >>"$results" <<'PY'
import glob, json, re, sys
out, rep, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = open(f"{out}/pgbench.txt").read()
tps = float(re.search(r"tps = ([0-9.]+)", text).group(1))
lat = sorted(int(l.split()[2]) for f in glob.glob(f"{out}/pgbench_log.*") for l in open(f))
print(json.dumps({"scenario": f"ceiling_c{clients}", "rep": rep, "tps": tps,
                  "p50_ms": lat[len(lat) // 2] / 1000, "p99_ms": lat[len(lat) * 99 // 100] / 1000}))
PY
}

for rep in $(seq "$reps"); do
  echo "bench: round $rep of $reps" >&2
  run_ceiling "$rep" 16
  run_wrk http_holds_c16 "$rep" "d16_$rep" distinct 16
  run_ceiling "$rep" 64
  run_wrk http_holds_c64 "$rep" "d64_$rep" distinct 64
  run_wrk http_hold_book_c16 "$rep" "cyc_$rep" cycle 16
  run_wrk http_storm_c16 "$rep" "storm_$rep" storm 16
  # the hold lifecycle, right after the holds it is measured against
  run_wrk http_holds_c16_lifecycle "$rep" "hl_$rep" distinct 16
  # (each on holds made before it starts: 512 one-seat holds, 3,000 holds of 20 seats)
  python3 bench/make_holds.py "$base" "ext_$rep" 512 1 "$out/holds_ext.txt"
  run_wrk http_extend_c16 "$rep" "ext_$rep" extend 16 "$out/holds_ext.txt"
  python3 bench/make_holds.py "$base" "part_$rep" 3000 20 "$out/holds_part.txt"
  run_wrk http_partial_release_c16 "$rep" "part_$rep" partial 16 "$out/holds_part.txt"
done

# How big the groups of holds were over the runs above (the server's own counts).
groups=$(curl -sf "$base/metrics" | python3 -c '
import json, re, sys
print(json.dumps({m.group(1): int(m.group(2)) for m in re.finditer(r"seatcore_hold_groups_total\{size=\"([^\"]+)\"\} (\d+)", sys.stdin.read())}))')
record "{\"scenario\":\"hold_group_sizes\",\"rep\":1,\"groups\":$groups}"

# Best-available holds of 4 seats on a 20,000-seat show that is 70 % taken, each followed by
# a release: 1 connection (latency), then 16 (throughput).
for rep in $(seq "$reps"); do
  python3 bench/best_show.py "$base" "best_$rep" >"$out/best_show.txt"
  for c in 1 16; do
    line=$(SHOW="best_$rep" MODE=best wrk -t1 -c"$c" -d"${secs}s" -s bench/hold.lua "$base" | grep '^RESULT ' | cut -d' ' -f2-)
    record "{\"scenario\":\"http_best4_c$c\",\"rep\":$rep,\"taken\":$(cat "$out/best_show.txt"),\"wrk\":$line}"
  done
done

# Status reads of a 300-seat show (15 rows of 20, 100 seats held), as a seat map kept up to
# date by polling over keep-alive connections: 1 connection (latency), then 16.
python3 -c 'import json; print(json.dumps({"seat_ids": [r + str(i) for r in "ABCDEFGHIJKLMNO" for i in range(1, 21)]}))' >"$out/poll.json"
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$out/poll.json" "$base/shows/poll/initialize"
python3 -c 'import json; print(json.dumps({"seat_ids": [r + str(i) for r in "ABCDE" for i in range(1, 21)], "hold_duration_seconds": 1800}))' >"$out/poll_hold.json"
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$out/poll_hold.json" "$base/shows/poll/hold"
for rep in $(seq "$reps"); do
  for c in 1 16; do
    line=$(SHOW=poll MODE=status wrk -t1 -c"$c" -d"${secs}s" -s bench/hold.lua "$base" | grep '^RESULT ' | cut -d' ' -f2-)
    record "{\"scenario\":\"http_status300_c$c\",\"rep\":$rep,\"wrk\":$line}"
  done
done

# A 200k-seat status through the server (streamed), then the server's peak memory.
for rep in $(seq "$reps"); do
  t=$(curl -s -o /dev/null -w '%{time_total}' "$base/shows/d16_1/seats")
  record "{\"scenario\":\"http_status_200k\",\"rep\":$rep,\"seconds\":$t}"
done
record "{\"scenario\":\"server_peak_rss\",\"rep\":1,\"mb\":$(peak_mb)}"
stop_server

# Event streams: BENCH_READERS (10,000) readers of one show on a server of their own. Each
# round: holds (16 connections) with no reader connected; the readers connect, and a probe
# makes one hold every 250 ms on the show they read, each `held` event timed at every reader
# from the moment its hold was sent; then holds again while the readers stay connected,
# once the threads that read their requests have ended.
# The readers' client (bindings/http/examples/event_readers.rs: one mio loop) runs on
# this machine too. Then the server's peak memory.
readers=${BENCH_READERS:-10000}
ulimit -n "$(ulimit -Hn)"
start_server streams
for rep in $(seq "$reps"); do
  make_show "sq_$rep" 200000
  make_show "sr_$rep" 200000
  make_show "watch_$rep" "$((secs * 4))"
done
for rep in $(seq "$reps"); do
  echo "bench: event streams, round $rep of $reps" >&2
  run_wrk http_holds_c16_no_readers "$rep" "sq_$rep" distinct 16
  : >"$out/readers.err"
  : >"$out/readers.json"
  "$tdir/release/examples/event_readers" --base "$base" --show "watch_$rep" --readers "$readers" \
    --changes "$((secs * 4))" --interval-ms 250 --server-pid "$server_pid" --hold-seconds "$((secs + 40))" \
    >"$out/readers.json" 2>"$out/readers.err" &
  readers_pid=$!
  until [ -s "$out/readers.json" ] || ! kill -0 "$readers_pid" 2>/dev/null; do sleep 0.5; done
  # The steady state with the readers connected: the connection threads that read their
  # requests (up to a wave's 500) have ended, at most 30 s.
  for _ in $(seq 60); do
    [ "$(ls "/proc/$server_pid/task" | wc -l)" -le "$((workers + 40))" ] && break
    sleep 0.5
  done
  run_wrk http_holds_c16_readers "$rep" "sr_$rep" distinct 16
  kill "$readers_pid" 2>/dev/null || true
  wait "$readers_pid" 2>/dev/null || true
  record "{\"scenario\":\"event_readers\",\"rep\":$rep,\"result\":$(cat "$out/readers.json")}"
done
record "{\"scenario\":\"server_peak_rss_streams\",\"rep\":1,\"mb\":$(peak_mb)}"
stop_server

# What writing the change log costs holds: the same build on a database whose log drops
# every record (a trigger on the log's table), alternated with the normal one.
nolog_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/seatcore_bench_nolog")))' "$server_url")
psql -X -q "$server_url" -c "DROP DATABASE IF EXISTS seatcore_bench_nolog WITH (FORCE)" -c "CREATE DATABASE seatcore_bench_nolog"
for rep in $(seq "$reps"); do
  for variant in log nolog; do
    if [ "$variant" = log ]; then start_server "log_$rep"; else start_server "nolog_$rep" "$nolog_url"; fi
    if [ "$variant" = nolog ] && [ "$rep" = 1 ]; then
      psql -X -q "$nolog_url" -c "CREATE FUNCTION bench_drop_change() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RETURN NULL; END\$\$" \
        -c "CREATE TRIGGER bench_drop_change BEFORE INSERT ON changes FOR EACH ROW EXECUTE FUNCTION bench_drop_change()"
    fi
    make_show "lc_${variant}_$rep" 200000
    run_wrk "http_holds_c16_$variant" "$rep" "lc_${variant}_$rep" distinct 16
    stop_server
  done
done
psql -X -q "$nolog_url" -c "SELECT count(*) AS records_kept FROM changes" >"$out/nolog_records.txt"

# The core in-process: initialize / status of 200k seats, sweep of 100k expired holds.
DATABASE_URL=$bench_url "$tdir/release/examples/core_bench" --seats 200000 --threads 16 --secs "$secs" \
  | grep '^RESULT ' | cut -d' ' -f2- >>"$results"

# The Python module in-process (1 and 8 threads), release build, one shared DatabaseManager.
(
  # shellcheck disable=SC1091
  source "$root/.venv/bin/activate"
  maturin develop --release -q >/dev/null 2>&1
  DATABASE_URL=$bench_url python bindings/python/bench/bench_holds.py --seconds "$secs" --threads 1,8
) | while read -r line; do
  case "$line" in
    *" thread(s): "*)
      n=$(echo "$line" | sed -E 's/.*: ([0-9]+) thread\(s\).*/\1/')
      rate=$(echo "$line" | sed -E 's/.*: ([0-9,]+) holds\/s.*/\1/; s/,//g')
      record "{\"scenario\":\"python_t$n\",\"rep\":0,\"per_s\":$rate}"
      ;;
  esac
done

# seatcore.aio: 64 tasks on one event loop against 8 threads on the sync API (release build,
# installed above), and a 1 ms timer's lag under that load.
"$root/.venv/bin/python" bench/aio_bench.py --url "$bench_url" --seconds "$secs" --reps "$reps" \
  --jsonl "$results" >"$out/aio_bench.txt"

# The C library, release build, 8 threads (each cycle: a hold, then a booking or a release).
cc -O2 -std=c99 -Wall -I"$tdir/release/include" examples/c/hammer.c -o "$out/hammer" \
  -L"$tdir/release" -lseatcore -lpthread -Wl,-rpath,"$tdir/release"
line=$(DATABASE_URL=$bench_url "$out/hammer" 8 2000 100000 2>/dev/null | grep ' holds/s' || true)
rate=$(echo "$line" | sed -E 's/.*: ([0-9]+) holds\/s.*/\1/')
[ -n "$rate" ] && record "{\"scenario\":\"c_t8\",\"rep\":0,\"per_s\":$rate}"

"$root/.venv/bin/python" -m pip install -q --disable-pip-version-check matplotlib >&2 || true
"$root/.venv/bin/python" bench/report.py "$results" docs/bench.svg
