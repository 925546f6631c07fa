#!/usr/bin/env bash
# Puts Debian's nginx binary into target/tools/nginx/ (for crates/spinkube-box: the router
# built from the rendered HTTPRoutes). `apt-get download` + `dpkg -x`: no root, no service
# started, the package verified by apt's signatures. Idempotent. Prints the binary's path.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/target/tools/nginx
BIN=$DIR/usr/sbin/nginx

[[ -x $BIN ]] && { echo "$BIN"; exit 0; }
command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
  { echo "nginx.sh: needs Debian's apt-get and dpkg (or put nginx at $BIN)" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"   # apt's sandbox user writes the download here
download() { (cd "$WORK" && apt-get download -qq nginx) >&2; }
if ! download; then
  # A fresh machine may have no package lists yet.
  ((EUID == 0)) || { echo "nginx.sh: apt-get download nginx failed: run apt-get update (as root)" >&2; exit 1; }
  apt-get update -qq >&2 && download
fi
mkdir -p "$DIR.tmp"
dpkg -x "$WORK"/nginx_*.deb "$DIR.tmp"
"$DIR.tmp/usr/sbin/nginx" -v >&2
rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
echo "$BIN"
