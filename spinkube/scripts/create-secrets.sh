#!/usr/bin/env bash
# Creates the Secrets that pizza-stg / pizza-prod expect (dev generates its own).
# Run once per environment by an operator with kubectl access; existing Secrets are kept
# unless --rotate is given (then re-run `make deploy`: the migration Job re-sets the
# role passwords and the pods restart with the new Secrets... see docs/deploy.md).
#
#   create-secrets.sh ENV --cnpg [--rotate]
#   create-secrets.sh ENV DB_HOST:PORT DB_NAME ADMIN_URL [--ca CA_FILE] [--rotate]
#
#   ENV        stg | prod (namespace pizza-ENV must exist: make deploy creates it, or
#              kubectl create namespace pizza-ENV)
#   --cnpg     the CloudNativePG tier of the overlays (spinkube/database/cnpg): a random
#              owner password in pizza-db-admin (basic-auth, the Cluster's bootstrap
#              Secret; its URL goes to pizza-db-rw with TLS verified against the CA that
#              CloudNativePG keeps in pizza-db-ca), service URLs on the PgBouncer Services
#              (login, order: rw; menu: ro). With BACKUP_ACCESS_KEY_ID and
#              BACKUP_ACCESS_SECRET_KEY in the environment it also creates pizza-db-backup
#              (the object store credentials of the backups).
#   DB_HOST    an external PostgreSQL instead: host:port; must equal db_host in the overlay
#   DB_NAME    database name
#   ADMIN_URL  a connection URL of the role that owns the schema (runs the migrations), e.g.
#              postgres://pizza_admin:...@HOST:5432/pizza?sslmode=verify-full&sslrootcert=/etc/pizza/db-ca/ca.crt
#   --ca FILE  PEM CA bundle of the database server -> Secret pizza-db-ca (key ca.crt)
set -euo pipefail
usage() { sed -n '2,26p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
ENV="$1"; shift
CNPG=0 CA="" ROTATE=0
if [ "$1" = --cnpg ]; then
  CNPG=1; shift
else
  [ $# -ge 3 ] || usage
  DB_HOST="$1" DB_NAME="$2" ADMIN_URL="$3"; shift 3
  case "$DB_HOST" in *:*) ;; *) echo "DB_HOST must be host:port" >&2; exit 2 ;; esac
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) CA="$2"; shift 2 ;;
    --rotate) ROTATE=1; shift ;;
    *) usage ;;
  esac
done
case "$ENV" in stg|prod) ;; *) echo "ENV must be stg or prod" >&2; exit 2 ;; esac
NS="pizza-$ENV"
K="${KUBECTL:-kubectl}"
rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }   # 64 hex chars, URL-safe

put() {   # put NAME [--type=...] --from-literal=... : create or (with --rotate) replace
  local name="$1"; shift
  if $K -n "$NS" get secret "$name" >/dev/null 2>&1 && [ "$ROTATE" = 0 ]; then
    echo "kept existing secret $name"; return
  fi
  $K -n "$NS" create secret generic "$name" "$@" --dry-run=client -o yaml | $K apply -f -
}

put pizza-jwt --from-literal=jwt_secret="$(rand)"

if [ "$CNPG" = 1 ]; then
  # Names from spinkube/database/cnpg (ci/checks.py checks that they agree with it).
  CLUSTER=pizza-db
  RW_HOST="$CLUSTER-pooler-rw.$NS.svc.cluster.local:5432"
  RO_HOST="$CLUSTER-pooler-ro.$NS.svc.cluster.local:5432"
  pw="$(rand)"
  # The migration Job and housekeeping go to the primary itself, never through PgBouncer.
  put pizza-db-admin --type=kubernetes.io/basic-auth \
    --from-literal=username=pizza_admin --from-literal=password="$pw" \
    --from-literal=url="postgres://pizza_admin:$pw@$CLUSTER-rw:5432/pizza?sslmode=verify-full&sslrootcert=/etc/pizza/db-ca/ca.crt"
  for svc in login menu order; do
    host="$RW_HOST"; [ "$svc" = menu ] && host="$RO_HOST"
    pw="$(rand)"
    # sslmode=disable: the hop from the pod to PgBouncer stays inside the namespace (the
    # NetworkPolicies admit only this service's pods). Spin verifies server certificates
    # against public roots only, which CloudNativePG's own CA is not; PgBouncer to
    # PostgreSQL is TLS, verified by CloudNativePG. docs/deploy.md, "Database tier".
    put "pizza-$svc-db" --from-literal=password="$pw" \
      --from-literal=url="postgres://pizza_$svc:$pw@$host/pizza?sslmode=disable&connect_timeout=5"
  done
  if [ -n "${BACKUP_ACCESS_KEY_ID:-}" ] && [ -n "${BACKUP_ACCESS_SECRET_KEY:-}" ]; then
    put pizza-db-backup --from-literal=ACCESS_KEY_ID="$BACKUP_ACCESS_KEY_ID" \
      --from-literal=ACCESS_SECRET_KEY="$BACKUP_ACCESS_SECRET_KEY"
  elif ! $K -n "$NS" get secret pizza-db-backup >/dev/null 2>&1; then
    echo "note: no pizza-db-backup yet: set BACKUP_ACCESS_KEY_ID and BACKUP_ACCESS_SECRET_KEY and re-run (WAL archiving waits for it)" >&2
  fi
  echo "done: secrets in $NS"
  exit 0
fi

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
