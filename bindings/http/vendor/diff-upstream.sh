#!/usr/bin/env bash
# The vendored tiny_http against upstream tiny_http 0.12.0, as one unified diff.
#
#   bindings/http/vendor/diff-upstream.sh          rewrites bindings/http/vendor/tiny_http.diff
#   bindings/http/vendor/diff-upstream.sh --check  fails when that file is not what it would write
#
# Upstream's source comes through cargo itself: a throwaway project depending on
# `tiny_http = "=0.12.0"`, `cargo fetch`, and the package as cargo unpacked it (checked
# against the registry's checksum). Upstream's Cargo.toml is compared as its authors wrote
# it (Cargo.toml.orig in the package), not cargo's normalized copy. The upstream files the
# vendored copy leaves out are listed by name at the top of the diff, not shown as removed;
# PATCHES.md, which explains the diff, is not part of it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vendored="$here/tiny_http"
committed="$here/tiny_http.diff"
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Upstream 0.12.0, through cargo.
mkdir -p "$tmp/fetch/src"
cat > "$tmp/fetch/Cargo.toml" <<'EOF'
[package]
name = "upstream-tiny-http"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tiny_http = "=0.12.0"

[workspace]
EOF
: > "$tmp/fetch/src/lib.rs"
manifest="$tmp/fetch/Cargo.toml"
cargo=${CARGO:-cargo}
if ! "$cargo" fetch --quiet --manifest-path "$manifest"; then
  echo "diff-upstream: cargo fetch failed; trying the local registry cache" >&2
  "$cargo" fetch --quiet --offline --manifest-path "$manifest"
fi
upstream=$("$cargo" metadata --offline --format-version 1 --manifest-path "$manifest" \
  | grep -o '"manifest_path":"[^"]*/tiny_http-0\.12\.0/Cargo\.toml"' | head -n 1 | cut -d '"' -f 4)
upstream=$(dirname "$upstream")
[ -f "$upstream/src/lib.rs" ] || { echo "diff-upstream: no tiny_http 0.12.0 source found" >&2; exit 1; }

# The two trees to compare: a/ upstream, b/ vendored.
export LC_ALL=C
(cd "$vendored" && find . -type f ! -path ./PATCHES.md | sed 's#^\./##' | sort) > "$tmp/vendored.list"
(cd "$upstream" && find . -type f ! -name .cargo-ok ! -name .cargo_vcs_info.json ! -path ./Cargo.toml \
  | sed -e 's#^\./##' -e 's#^Cargo\.toml\.orig$#Cargo.toml#' | sort) > "$tmp/upstream.list"
mkdir -p "$tmp/cmp/a" "$tmp/cmp/b"
while IFS= read -r f; do
  mkdir -p "$tmp/cmp/b/$(dirname "$f")"
  cp "$vendored/$f" "$tmp/cmp/b/$f"
  src="$upstream/$f"
  [ "$f" = Cargo.toml ] && src="$upstream/Cargo.toml.orig"
  if [ -f "$src" ]; then
    mkdir -p "$tmp/cmp/a/$(dirname "$f")"
    cp "$src" "$tmp/cmp/a/$f"
  fi
done < "$tmp/vendored.list"

{
  echo "The vendored tiny_http (bindings/http/vendor/tiny_http) against tiny_http 0.12.0 as"
  echo "published on crates.io, upstream's Cargo.toml as its authors wrote it (Cargo.toml.orig)."
  echo "Written by bindings/http/vendor/diff-upstream.sh; each change explained in PATCHES.md."
  echo
  echo "Upstream files left out of the vendored copy:"
  comm -13 "$tmp/vendored.list" "$tmp/upstream.list" | sed 's/^/    /'
  echo
  rc=0
  (cd "$tmp/cmp" && diff -ruN a b) > "$tmp/raw.diff" || rc=$?
  [ "$rc" -le 1 ] || { echo "diff-upstream: diff failed" >&2; exit 1; }
  # No timestamps: the file depends on the contents only.
  sed -E 's#^(---|\+\+\+) ([^\t]*)\t.*$#\1 \2#' "$tmp/raw.diff"
} > "$tmp/tiny_http.diff"

if $check; then
  if ! cmp -s "$tmp/tiny_http.diff" "$committed"; then
    echo "diff-upstream: $committed is stale; run $0 and commit it. The difference:" >&2
    diff -u "$committed" "$tmp/tiny_http.diff" | head -n 60 >&2 || true
    exit 1
  fi
  echo "diff-upstream: $committed is current"
else
  cp "$tmp/tiny_http.diff" "$committed"
  echo "diff-upstream: wrote $committed ($(grep -c '^diff ' "$committed") files differ)"
fi
