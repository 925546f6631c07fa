#!/usr/bin/env bash
# Builds PgBouncer from Debian's pinned source tarball into target/tools/pgbouncer-<version>/
# (for crates/e2e/tests/pooler.rs: the app through PgBouncer in transaction mode).
# Idempotent: exits at once if the binary is there. Prints the binary's path.
set -euo pipefail

VERSION=1.24.1
SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
URL=http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_${VERSION}.orig.tar.gz
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$ROOT/target/tools/pgbouncer-$VERSION
BIN=$PREFIX/bin/pgbouncer

[[ -x $BIN ]] && { echo "$BIN"; exit 0; }

# Build dependencies, and the Debian packages that provide them.
missing=()
for tool in cc:gcc make:make pkg-config:pkg-config curl:curl; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
for lib in libevent:libevent-dev openssl:libssl-dev; do
  pkg-config --exists "${lib%%:*}" 2>/dev/null || missing+=("${lib#*:}")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    echo "pgbouncer.sh: missing build dependencies: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "pgbouncer.sh: installing ${missing[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "pgbouncer.sh: building PgBouncer $VERSION into $PREFIX" >&2
mkdir -p "$ROOT/target/tools"
WORK=$(mktemp -d "$ROOT/target/tools/pgbouncer-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
curl -fsSL --retry 3 -o "$WORK/src.tar.gz" "$URL"
echo "$SHA256  $WORK/src.tar.gz" | sha256sum -c --quiet -
tar -xzf "$WORK/src.tar.gz" -C "$WORK"
cd "$WORK/pgbouncer-$VERSION"
# c-ares off: libevent resolves names, so the result does not depend on whether
# libc-ares-dev happens to be installed. Only the binary is built (no docs, no pandoc).
./configure --prefix="$PREFIX" --without-cares >"$WORK/configure.log" 2>&1 ||
  { tail -20 "$WORK/configure.log" >&2; exit 1; }
make -s -j"$(nproc)" pgbouncer >"$WORK/make.log" 2>&1 || { tail -30 "$WORK/make.log" >&2; exit 1; }
install -D -m 755 pgbouncer "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
"$BIN" --version >&2
echo "$BIN"
