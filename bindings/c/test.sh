#!/usr/bin/env bash
# The C door's test suite, called by `make test` with DATABASE_URL exported.
#
# Builds libseatcore (debug), writes a pkg-config file for the build tree, compiles the C
# examples and tests with -std=c99 -Wall -Wextra -Werror -pedantic and the C++ ones with -std=c++17
# -Wall -Wextra -Werror (through pkg-config, shared and static), runs them against a fresh
# schema of DATABASE_URL, then again under valgrind (no errors, no definite leaks).
#
#   DATABASE_URL=postgres://... bindings/c/test.sh
# Without DATABASE_URL it uses the project's private cluster (scripts/pg.sh start).
# SEATCORE_C_NO_VALGRIND=1 skips the valgrind runs; SEATCORE_C_PROFILE=release tests a
# release build.
#
# A missing valgrind or C++ compiler fails the suite when CI is set; elsewhere the part
# that needs it is skipped, and the last line says what was skipped.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

cargo=${CARGO:-cargo}
profile=${SEATCORE_C_PROFILE:-debug}
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target=$root/$target ;; esac
libdir=$target/$profile
out=$target/seatcore-c-test
mkdir -p "$out"

step() { printf '\n== %s\n' "$*" >&2; }

skipped=()
# have TOOL PART: true when TOOL is installed; otherwise fails under CI, or records PART as
# skipped and returns false.
have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ -n "${CI:-}" ]; then
    echo "bindings/c/test.sh: $1 is not installed, and CI needs $2" >&2
    exit 1
  fi
  printf '\n!! %s is not installed: skipping %s (with CI set this fails)\n' "$1" "$2" >&2
  skipped+=("$2 (no $1)")
  return 1
}
have_cxx=false
if have c++ "the C++ example and header check"; then have_cxx=true; fi

step "building libseatcore ($profile)"
if [ "$profile" = release ]; then
  "$cargo" build -q -p seatcore-c --release
else
  "$cargo" build -q -p seatcore-c
fi
test -f "$libdir/libseatcore.so" && test -f "$libdir/libseatcore.a"

step "pkg-config file"
export PKG_CONFIG_PATH="$out/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
"$here/pkgconfig.sh" "$libdir" "$libdir/include" "$out/pkgconfig" --rpath >/dev/null
pkg-config --exists seatcore
cflags=$(pkg-config --cflags seatcore)
libs=$(pkg-config --libs seatcore)
static_libs=$(pkg-config --variable=static_libs seatcore)

step "compiling the examples"
cwarn=(-std=c99 -Wall -Wextra -Werror -pedantic -g)
cxxwarn=(-std=c++17 -Wall -Wextra -Werror -g)
# shellcheck disable=SC2086 # pkg-config output is meant to be split
{
  cc "${cwarn[@]}" $cflags examples/c/kiosk.c -o "$out/kiosk" $libs
  cc "${cwarn[@]}" $cflags examples/c/kiosk.c -o "$out/kiosk_static" "$libdir/libseatcore.a" $static_libs
  cc "${cwarn[@]}" $cflags examples/c/hammer.c -o "$out/hammer" $libs -lpthread
  cc "${cwarn[@]}" $cflags "$here/tests/bad_input.c" -o "$out/bad_input" $libs
  cc "${cwarn[@]}" $cflags "$here/tests/lifecycle.c" -o "$out/lifecycle" $libs
  # the change log, and fork safety
  cc "${cwarn[@]}" $cflags examples/c/watch.c -o "$out/watch" $libs -lpthread
  cc "${cwarn[@]}" $cflags "$here/tests/fork.c" -o "$out/fork" $libs -lpthread
  # the header on its own, in each language
  printf '#include "seatcore.h"\nint main(void) { return SEATCORE_OK; }\n' > "$out/header_only.c"
  cc "${cwarn[@]}" $cflags "$out/header_only.c" -o "$out/header_only_c" $libs
  if $have_cxx; then
    c++ "${cxxwarn[@]}" $cflags -Iexamples/cpp examples/cpp/kiosk.cpp -o "$out/kiosk_cpp" $libs
    c++ "${cxxwarn[@]}" $cflags -Iexamples/cpp "$here/tests/lifecycle.cpp" -o "$out/lifecycle_cpp" $libs
    c++ "${cxxwarn[@]}" $cflags -Iexamples/cpp "$here/tests/reads.cpp" -o "$out/reads_cpp" $libs
    c++ "${cxxwarn[@]}" $cflags -Iexamples/cpp examples/cpp/watch.cpp -o "$out/watch_cpp" $libs -lpthread
    cp "$out/header_only.c" "$out/header_only.cpp"
    c++ "${cxxwarn[@]}" $cflags "$out/header_only.cpp" -o "$out/header_only_cpp" $libs
  fi
}
if ldd "$out/kiosk_static" | grep -q libseatcore; then
  echo "kiosk_static links libseatcore dynamically" >&2
  exit 1
fi

step "a fresh schema"
base_url=${DATABASE_URL:-$(scripts/pg.sh start)}
schema="c_door_$$_$(date +%s)"
psql "$base_url" -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
cleanup() { psql "$base_url" -qX -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# `-csearch_path=...` (no space) means the same to the server as `-c search_path=...`.
case "$base_url" in
  postgres://* | postgresql://*)
    case "$base_url" in *\?*) sep='&' ;; *) sep='?' ;; esac
    DATABASE_URL="$base_url${sep}options=-csearch_path%3D$schema" ;;
  *) DATABASE_URL="$base_url options=-csearch_path=$schema" ;;
esac
export DATABASE_URL

run() { # run NAME CMD...: runs it quietly, showing the output on failure
  local name=$1 log="$out/$1.log"
  shift
  if "$@" >"$log" 2>&1; then
    printf '  ok    %s\n' "$name" >&2
  else
    printf '  FAIL  %s (exit %s)\n' "$name" "$?" >&2
    cat "$log" >&2
    exit 1
  fi
}

step "running against $schema"
run kiosk "$out/kiosk"
run kiosk-again "$out/kiosk"            # the show exists now: the second flow reuses it
run kiosk-static "$out/kiosk_static"
if $have_cxx; then run kiosk-cpp "$out/kiosk_cpp"; fi
run bad-input "$out/bad_input"
run lifecycle "$out/lifecycle" lifecycle_c
if $have_cxx; then run lifecycle-cpp "$out/lifecycle_cpp" lifecycle_cpp; fi
if $have_cxx; then run reads-cpp "$out/reads_cpp" reads_cpp; fi
run hammer "$out/hammer" 8 40 120
grep -q '^OK' "$out/hammer.log"
run watch "$out/watch" 20
if $have_cxx; then run watch-cpp "$out/watch_cpp"; fi
run fork "$out/fork"
# the kiosk must fail, not crash, without a reachable database
if DATABASE_URL=postgres://nobody@127.0.0.1:1/none "$out/kiosk" >"$out/kiosk-down.log" 2>&1; then
  echo "kiosk succeeded without a database" >&2
  exit 1
fi
grep -q 'SEATCORE_UNAVAILABLE' "$out/kiosk-down.log"
printf '  ok    %s\n' "kiosk-without-database" >&2
# the booked seats are in the database: 2 per C kiosk run (3 runs) and 2 per C++ run
want_booked=6
if $have_cxx; then want_booked=8; fi
booked=$(psql "$base_url" -qAtX -c "SELECT count(*) FROM $schema.seats WHERE booking_id IS NOT NULL
                                     AND show_id IN ('kiosk_demo_c', 'kiosk_demo_cpp')")
if [ "$booked" != "$want_booked" ]; then
  echo "expected $want_booked booked kiosk seats, found $booked" >&2
  exit 1
fi
printf '  ok    %s\n' "bookings-in-database" >&2

if [ -n "${SEATCORE_C_NO_VALGRIND:-}" ]; then
  step "valgrind skipped (SEATCORE_C_NO_VALGRIND)"
  skipped+=("valgrind runs (SEATCORE_C_NO_VALGRIND)")
elif have valgrind "the valgrind runs"; then
  step "under valgrind"
  vg=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
      --errors-for-leak-kinds=definite)
  run valgrind-kiosk "${vg[@]}" "$out/kiosk"
  if $have_cxx; then run valgrind-kiosk-cpp "${vg[@]}" "$out/kiosk_cpp"; fi
  run valgrind-bad-input "${vg[@]}" "$out/bad_input"
  run valgrind-lifecycle "${vg[@]}" "$out/lifecycle" lifecycle_c_valgrind
  if $have_cxx; then run valgrind-lifecycle-cpp "${vg[@]}" "$out/lifecycle_cpp" lifecycle_cpp_valgrind; fi
  if $have_cxx; then run valgrind-reads-cpp "${vg[@]}" "$out/reads_cpp" reads_cpp_valgrind; fi
  run valgrind-hammer "${vg[@]}" "$out/hammer" 4 10 60
  run valgrind-watch "${vg[@]}" "$out/watch" 10
  if $have_cxx; then run valgrind-watch-cpp "${vg[@]}" "$out/watch_cpp"; fi
  # Memory errors only: a forked child keeps, on purpose, what it inherited (the parent's
  # pool, what the parent's threads had in flight) and must not free it, which a leak check
  # would count against the child.
  run valgrind-fork valgrind -q --error-exitcode=99 --leak-check=no "$out/fork"
fi
if [ ${#skipped[@]} -gt 0 ]; then
  step "C door: passed, but SKIPPED:"
  printf '  - %s\n' "${skipped[@]}" >&2
else
  step "C door: all passed"
fi
