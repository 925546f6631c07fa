#!/usr/bin/env bash
# Creates the Secrets that pizza-stg / pizza-prod expect (dev generates its own).
# Run once per environment by an operator with kubectl access; existing Secrets are kept
# unless --rotate is given (then re-run `make deploy`: the migration Job re-sets the
# role passwords and the pods restart with the new Secrets... see docs/deploy.md).
#
#   create-secrets.sh ENV DB_HOST:PORT DB_NAME ADMIN_URL [--ca CA_FILE] [--rotate]
#
#   ENV        stg | prod (namespace pizza-ENV must exist: make deploy creates it, or
#              kubectl create namespace pizza-ENV)
#   DB_HOST    host:port of the managed PostgreSQL; must equal db_host in the overlay
#   DB_NAME    database name
#   ADMIN_URL  a connection URL of the role that owns the schema (runs the migrations), e.g.
#              postgres://pizza_admin:...@HOST:5432/pizza?sslmode=verify-full&sslrootcert=/etc/pizza/db-ca/ca.crt
#   --ca FILE  PEM CA bundle of the database server -> Secret pizza-db-ca (key ca.crt)
set -euo pipefail
usage() { sed -n '2,17p' "$0" >&2; exit 2; }
[ $# -ge 4 ] || usage
ENV="$1" DB_HOST="$2" DB_NAME="$3" ADMIN_URL="$4"; shift 4
CA="" ROTATE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) CA="$2"; shift 2 ;;
    --rotate) ROTATE=1; shift ;;
    *) usage ;;
  esac
done
case "$ENV" in stg|prod) ;; *) echo "ENV must be stg or prod" >&2; exit 2 ;; esac
case "$DB_HOST" in *:*) ;; *) echo "DB_HOST must be host:port" >&2; exit 2 ;; esac
NS="pizza-$ENV"
K="${KUBECTL:-kubectl}"
rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }   # 64 hex chars, URL-safe

put() {   # put NAME --from-literal=... : create or (with --rotate) replace
  local name="$1"; shift
  if $K -n "$NS" get secret "$name" >/dev/null 2>&1 && [ "$ROTATE" = 0 ]; then
    echo "kept existing secret $name"; return
  fi
  $K -n "$NS" create secret generic "$name" "$@" --dry-run=client -o yaml | $K apply -f -
}

put pizza-jwt --from-literal=jwt_secret="$(rand)"
put pizza-db-admin --from-literal=url="$ADMIN_URL"
for svc in login menu order; do
  pw="$(rand)"
  # sslmode=require: TLS with certificate verification by Spin's PostgreSQL client
  # (see docs/deploy.md, "External PostgreSQL", for private CAs).
  put "pizza-$svc-db" --from-literal=password="$pw" \
    --from-literal=url="postgres://pizza_$svc:$pw@$DB_HOST/$DB_NAME?sslmode=require&connect_timeout=5"
done
if [ -n "$CA" ]; then
  put pizza-db-ca --from-file=ca.crt="$CA"
fi
echo "done: secrets in $NS"
