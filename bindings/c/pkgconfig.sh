#!/usr/bin/env bash
# Writes seatcore.pc from seatcore.pc.in.
#   bindings/c/pkgconfig.sh LIBDIR INCLUDEDIR OUT_DIR [--rpath]
# LIBDIR holds libseatcore.so/.a, INCLUDEDIR holds seatcore.h. With --rpath, `Libs` also
# carries -Wl,-rpath,LIBDIR, so programs find libseatcore.so without LD_LIBRARY_PATH
# (handy for a build tree; leave it out when installing into a system directory).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 3 ]; then
  echo "usage: $0 LIBDIR INCLUDEDIR OUT_DIR [--rpath]" >&2
  exit 2
fi
libdir=$1 includedir=$2 out=$3 rpath=
[ "${4:-}" = --rpath ] && rpath="-Wl,-rpath,$libdir "
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/../../Cargo.toml" | head -n 1)
mkdir -p "$out"
sed -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" -e "s|@VERSION@|${version:-0.0.0}|" \
    -e "s|@RPATH@|$rpath|" "$here/seatcore.pc.in" > "$out/seatcore.pc"
echo "$out/seatcore.pc"
