#!/usr/bin/env bash
# Creates the Secrets the overlays expect. No secret ever appears on a command line (where
# other users of the machine can read it): values are generated here or read from the
# environment or stdin, and reach kubectl as files in a private temporary folder (mode
# 700, removed on exit) or reach kustomize as git-ignored env files.
#
#   create-secrets.sh dev [--rotate]
#   create-secrets.sh ENV --cnpg [--rotate]
#   ADMIN_URL=... create-secrets.sh ENV DB_HOST:PORT DB_NAME [--ca CA_FILE] [--rotate]
#
#   dev        writes the dev overlay's credentials (a random JWT key, random passwords and
#              the URLs built from them, random payment keys for the test provider and the
#              relay's token) into spinkube/overlays/dev/secrets/, one env file
#              per Secret (mode 600, folder 700, git-ignored), which the overlay's
#              secretGenerator reads. Needs no cluster; run it before rendering or
#              deploying dev. Existing files are kept; --rotate replaces all but
#              pizza-db-admin (the dev database was initialised with that password: delete
#              its PVC and the file to change it). Nothing is printed but file names.
#   ENV        stg | prod: creates the Secrets in namespace pizza-ENV (it must exist: make
#              deploy creates it, or kubectl create namespace pizza-ENV). Run once per
#              environment by an operator with kubectl access; existing Secrets are kept
#              unless --rotate is given (then re-run `make deploy`: the migration Job
#              re-sets the role passwords and the pods restart with the new Secrets; see
#              docs/deploy.md).
#   --cnpg     the CloudNativePG tier of the overlays (spinkube/database/cnpg): a random
#              owner password in pizza-db-admin (basic-auth, the Cluster's bootstrap
#              Secret; its URL goes to pizza-db-rw with TLS verified against the CA that
#              CloudNativePG keeps in pizza-db-ca), service URLs on the PgBouncer Services
#              (login, order: rw; menu: ro; admin: its own). With BACKUP_ACCESS_KEY_ID and
#              BACKUP_ACCESS_SECRET_KEY in the environment it also creates pizza-db-backup
#              (the object store credentials of the backups).
#   PAYMENT_PROVIDER_KEY, PAYMENT_WEBHOOK_SECRET  (environment; stg, prod) the payment
#              provider's secret API key and the secret it signs webhooks with: the
#              provider issues them, so they are never generated. They become
#              pizza-payment-provider and pizza-payment-webhook; needed once (the order
#              pods do not start without them: the script fails while either is missing).
#              The relay's Bearer token (pizza-relay) is generated.
#   DB_HOST    an external PostgreSQL instead: host:port; must equal db_host in the overlay
#   DB_NAME    database name
#   ADMIN_URL  (environment, or one line on stdin when unset; typed without echo on a
#              terminal) a connection URL of the role that owns the schema and runs the
#              migrations, e.g.
#              postgres://pizza_admin:...@HOST:5432/pizza?sslmode=verify-full&sslrootcert=/etc/pizza/db-ca/ca.crt
#   --ca FILE  PEM CA bundle of the database server -> Secret pizza-db-ca (key ca.crt)

# Values are handed to put/env_file by variable name (KEY=VARNAME, read with ${!var}).
# shellcheck disable=SC2034
set -euo pipefail
umask 077
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
ENV="$1"; shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SPINKUBE="$(dirname "$HERE")"

# 64 hex characters from 32 random bytes: URL-safe, so it goes into a URL unescaped.
rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The services with a database Secret pizza-<service>-db, and each one's PostgreSQL role
# (the user of its URL; the migrations create it, the migration Job gives it LOGIN).
SERVICES="login menu order admin"
# The service's database role: pizza_<service>, but the admin service's is pizza_admin_api
# (pizza_admin is the schema owner).
role_of() { if [[ $1 == admin ]]; then echo pizza_admin_api; else echo "pizza_$1"; fi; }

# ---------------------------------------------------------------------------------------
# dev: env files for the overlay's secretGenerator.
if [ "$ENV" = dev ]; then
  ROTATE=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --rotate) ROTATE=1; shift ;;
      *) usage ;;
    esac
  done
  DIR="$SPINKUBE/overlays/dev/secrets"
  # Must equal db_host in overlays/dev/kustomization.yaml (postgres.yaml's Service).
  DB=postgres.pizza-dev.svc.cluster.local:5432
  mkdir -p "$DIR"
  chmod 700 "$DIR"

  # env_file NAME KEY=VARNAME... : writes DIR/NAME.env (KEY=value lines) unless it exists
  # and this is no rotation; values come from shell variables (printf is a builtin: no
  # process sees them in its argv). Written to a temporary file first, then renamed.
  env_file() {
    local name="$1" file="$DIR/$1.env" tmp spec var; shift
    if [ -s "$file" ] && { [ "$ROTATE" = 0 ] || [ "$name" = pizza-db-admin ]; }; then
      echo "kept ${file#"$SPINKUBE"/}"
      return
    fi
    tmp="$(mktemp "$DIR/.$name.XXXXXX")"
    {
      printf '# Generated by spinkube/scripts/create-secrets.sh dev. Git-ignored: never commit.\n'
      for spec in "$@"; do
        var="${spec#*=}"
        printf '%s=%s\n' "${spec%%=*}" "${!var}"
      done
    } >"$tmp"
    chmod 600 "$tmp"
    mv "$tmp" "$file"
    echo "wrote ${file#"$SPINKUBE"/}"
  }

  # Reads KEY's value back from an existing env file (for URLs built on kept passwords).
  env_value() { if [ -f "$DIR/$1.env" ]; then sed -n "s/^$2=//p" "$DIR/$1.env" | head -n1; fi; }

  jwt_secret="$(rand)"   # 64 characters, 32 random bytes: at least the 32 bytes Spin wants
  env_file pizza-jwt jwt_secret=jwt_secret

  # Payments (docs/deploy.md, "Payments"). dev's provider is the test provider in the order
  # SpinApp, which checks the key payments-provider sends and signs its webhooks with the
  # secret order-webhook verifies: both read the same Secrets, so random values do. The
  # relay's Bearer token is shared by the order SpinApp and the relay ticker CronJob.
  payment_provider_key="sk_test_$(rand)"
  env_file pizza-payment-provider payment_provider_key=payment_provider_key
  payment_webhook_secret="whsec_$(rand)"
  env_file pizza-payment-webhook payment_webhook_secret=payment_webhook_secret
  relay_token="$(rand)"
  env_file pizza-relay relay_token=relay_token

  admin_pw="$(env_value pizza-db-admin password)"
  [ -n "$admin_pw" ] || admin_pw="$(rand)"
  admin_url="postgres://pizza_admin:$admin_pw@$DB/pizza?sslmode=disable"
  env_file pizza-db-admin password=admin_pw url=admin_url

  for svc in $SERVICES; do
    pw="$(rand)"
    url="postgres://$(role_of "$svc"):$pw@$DB/pizza?sslmode=disable&connect_timeout=5"
    env_file "pizza-$svc-db" password=pw url=url
  done
  echo "done: dev credentials in ${DIR#"$SPINKUBE"/}/ (kubectl kustomize reads them)"
  exit 0
fi

# ---------------------------------------------------------------------------------------
# stg, prod: Secrets in the cluster.
[ $# -ge 1 ] || usage
CNPG=0 CA="" ROTATE=0
if [ "$1" = --cnpg ]; then
  CNPG=1; shift
else
  [ $# -ge 2 ] || usage
  DB_HOST="$1" DB_NAME="$2"; shift 2
  case "$DB_HOST" in *:*) ;; *) echo "DB_HOST must be host:port" >&2; exit 2 ;; esac
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) [ $# -ge 2 ] || usage; CA="$2"; shift 2 ;;
    --rotate) ROTATE=1; shift ;;
    *) usage ;;
  esac
done
case "$ENV" in stg|prod) ;; *) echo "ENV must be dev, stg or prod" >&2; exit 2 ;; esac
NS="pizza-$ENV"
K="${KUBECTL:-kubectl}"

if [ "$CNPG" = 0 ] && [ -z "${ADMIN_URL:-}" ]; then
  if [ -t 0 ]; then
    read -rsp "admin URL (postgres://...): " ADMIN_URL; echo >&2
  else
    IFS= read -r ADMIN_URL || true
  fi
  [ -n "$ADMIN_URL" ] || { echo "ADMIN_URL is empty: set it in the environment or give it on stdin" >&2; exit 2; }
fi

# The values become files here, one per key, and kubectl reads them (--from-file): they
# are never an argument of any process.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# put NAME [--type=TYPE] KEY=VARNAME... KEY@FILE... : creates Secret NAME (or, with
# --rotate, replaces it) with each KEY holding the value of shell variable VARNAME, or the
# contents of FILE (not secret: a CA certificate).
put() {
  local name="$1" spec key var args=(); shift
  if $K -n "$NS" get secret "$name" >/dev/null 2>&1 && [ "$ROTATE" = 0 ]; then
    echo "kept existing secret $name"; return
  fi
  mkdir "$WORK/$name"
  for spec in "$@"; do
    case "$spec" in
      --type=*) args+=("$spec"); continue ;;
      *@*) args+=("--from-file=${spec%%@*}=${spec#*@}"); continue ;;
    esac
    key="${spec%%=*}" var="${spec#*=}"
    printf '%s' "${!var}" >"$WORK/$name/$key"
    args+=("--from-file=$key=$WORK/$name/$key")
  done
  $K -n "$NS" create secret generic "$name" "${args[@]}" --dry-run=client -o yaml | $K apply -f -
}

jwt_secret="$(rand)"
put pizza-jwt jwt_secret=jwt_secret

# Payments: the relay's Bearer token (the order SpinApp and the relay ticker read it) is
# generated; the provider's key and webhook secret come from the environment (the provider
# issues them). Without them, and without the Secrets from an earlier run, the order pods
# cannot start: say so and fail once everything else is made.
relay_token="$(rand)"
put pizza-relay relay_token=relay_token
MISSING=()
for spec in pizza-payment-provider:payment_provider_key:PAYMENT_PROVIDER_KEY \
            pizza-payment-webhook:payment_webhook_secret:PAYMENT_WEBHOOK_SECRET; do
  IFS=: read -r name key var <<<"$spec"
  if [ -n "${!var:-}" ]; then
    put "$name" "$key=$var"
  elif ! $K -n "$NS" get secret "$name" >/dev/null 2>&1; then
    MISSING+=("$var (for Secret $name)")
  fi
done
payments_done() {
  if [ "${#MISSING[@]}" -gt 0 ]; then
    local IFS=,
    echo "error: set ${MISSING[*]} in the environment and re-run: the order pods do not start without them" >&2
    exit 1
  fi
}

if [ "$CNPG" = 1 ]; then
  # Names from spinkube/database/cnpg (the CI checks compare them with it).
  CLUSTER=pizza-db
  RW_HOST="$CLUSTER-pooler-rw.$NS.svc.cluster.local:5432"
  RO_HOST="$CLUSTER-pooler-ro.$NS.svc.cluster.local:5432"
  ADMIN_HOST="$CLUSTER-pooler-admin.$NS.svc.cluster.local:5432"
  username=pizza_admin
  pw="$(rand)"
  # The migration Job and housekeeping go to the primary itself, never through PgBouncer.
  url="postgres://pizza_admin:$pw@$CLUSTER-rw:5432/pizza?sslmode=verify-full&sslrootcert=/etc/pizza/db-ca/ca.crt"
  put pizza-db-admin --type=kubernetes.io/basic-auth username=username password=pw url=url
  for svc in $SERVICES; do
    case "$svc" in menu) host="$RO_HOST" ;; admin) host="$ADMIN_HOST" ;; *) host="$RW_HOST" ;; esac
    pw="$(rand)"
    # sslmode=disable: the hop from the pod to PgBouncer stays inside the namespace (the
    # NetworkPolicies admit only this service's pods). Spin verifies server certificates
    # against public roots only, which CloudNativePG's own CA is not; PgBouncer to
    # PostgreSQL is TLS, verified by CloudNativePG. docs/deploy.md, "Database tier".
    url="postgres://$(role_of "$svc"):$pw@$host/pizza?sslmode=disable&connect_timeout=5"
    put "pizza-$svc-db" password=pw url=url
  done
  if [ -n "${BACKUP_ACCESS_KEY_ID:-}" ] && [ -n "${BACKUP_ACCESS_SECRET_KEY:-}" ]; then
    put pizza-db-backup ACCESS_KEY_ID=BACKUP_ACCESS_KEY_ID ACCESS_SECRET_KEY=BACKUP_ACCESS_SECRET_KEY
  elif ! $K -n "$NS" get secret pizza-db-backup >/dev/null 2>&1; then
    echo "note: no pizza-db-backup yet: set BACKUP_ACCESS_KEY_ID and BACKUP_ACCESS_SECRET_KEY and re-run (WAL archiving waits for it)" >&2
  fi
  payments_done
  echo "done: secrets in $NS"
  exit 0
fi

put pizza-db-admin url=ADMIN_URL
for svc in $SERVICES; do
  pw="$(rand)"
  # sslmode=require: TLS with certificate verification by Spin's PostgreSQL client
  # (see docs/deploy.md, "External PostgreSQL", for private CAs).
  url="postgres://$(role_of "$svc"):$pw@$DB_HOST/$DB_NAME?sslmode=require&connect_timeout=5"
  put "pizza-$svc-db" password=pw url=url
done
if [ -n "$CA" ]; then
  [ -r "$CA" ] || { echo "cannot read CA file $CA" >&2; exit 2; }
  put pizza-db-ca "ca.crt@$CA"
fi
payments_done
echo "done: secrets in $NS"
