#!/bin/sh
# Applies /migrations/NNNN_*.sql in file-name order, each file in its own transaction
# together with its schema_migrations row (version = file name without .sql), skipping
# versions already recorded; then gives the service roles LOGIN, their passwords and
# their connection limits.
# Same table and advisory lock as the project's own migrator (crates/pizza-db/src/migrate.rs).
# Needs: DATABASE_URL (owner/admin), LOGIN_DB_PASSWORD, MENU_DB_PASSWORD, ORDER_DB_PASSWORD,
# and each role's connection limit (the overlay's budget): LOGIN_DB_CONNECTION_LIMIT,
# MENU_DB_CONNECTION_LIMIT, ORDER_DB_CONNECTION_LIMIT, positive integers (never -1,
# "no limit", which would let one service take the others' connections).
set -eu
export LC_ALL=C
MIGRATIONS_DIR="${MIGRATIONS_DIR:-/migrations}"
LOCK_KEY=8100140070841706855   # i64 of the bytes "pizzamig"
: "${DATABASE_URL:?DATABASE_URL is required}"
: "${LOGIN_DB_PASSWORD:?}" "${MENU_DB_PASSWORD:?}" "${ORDER_DB_PASSWORD:?}"
for var in LOGIN_DB_CONNECTION_LIMIT MENU_DB_CONNECTION_LIMIT ORDER_DB_CONNECTION_LIMIT; do
  eval "val=\${$var:-}"
  # Digits only, no leading zero: psql pastes :limit into the statement as it is.
  case "$val" in
    '' | 0* | *[!0-9]*) echo "$var must be a positive integer (got '$val')" >&2; exit 1 ;;
  esac
done

# Wait for the server (a fresh dev database may still be starting).
i=0
until pg_isready -d "$DATABASE_URL" -q; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then echo "database not reachable" >&2; exit 1; fi
  sleep 2
done

# printf, not echo: sh echo may interpret the backslashes of psql meta-commands.
emit() { printf '%s\n' "$*"; }

driver="$(mktemp)"
trap 'rm -f "$driver"' EXIT
{
  emit '\set ON_ERROR_STOP on'
  emit 'SET client_min_messages = warning;'
  emit "SELECT pg_advisory_lock($LOCK_KEY) AS locked \\gset"
  emit 'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());'
  found=0
  for f in "$MIGRATIONS_DIR"/*.sql; do
    [ -e "$f" ] || continue
    found=1
    v="$(basename "$f" .sql)"
    case "$v" in
      *[!A-Za-z0-9_.-]*) printf "bad migration file name: %s\n" "$f" >&2; exit 1 ;;
    esac
    emit "SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '$v') AS pending \\gset"
    emit '\if :pending'
    emit "\\echo applying $v"
    emit 'BEGIN;'
    emit "\\i $f"
    emit "INSERT INTO schema_migrations (version) VALUES ('$v');"
    emit 'COMMIT;'
    emit '\else'
    emit "\\echo already applied: $v"
    emit '\endif'
  done
  [ "$found" = 1 ] || { printf "no migrations in %s\n" "$MIGRATIONS_DIR" >&2; exit 1; }
  # Service roles (created NOLOGIN by the migrations) get LOGIN and their password from
  # the Secrets, and their CONNECTION LIMIT from the budget (validated above); \getenv
  # keeps the passwords off the command line.
  for svc in login menu order; do
    upper="$(echo "$svc" | tr a-z A-Z)"
    emit "\\getenv pw ${upper}_DB_PASSWORD"
    emit "ALTER ROLE pizza_$svc WITH LOGIN PASSWORD :'pw';"
    emit "\\getenv limit ${upper}_DB_CONNECTION_LIMIT"
    emit "ALTER ROLE pizza_$svc CONNECTION LIMIT :limit;"
  done
  emit '\unset pw'
  emit '\unset limit'
  emit "SELECT pg_advisory_unlock($LOCK_KEY) AS unlocked \\gset"
} > "$driver"

psql "$DATABASE_URL" --no-psqlrc --quiet -v ON_ERROR_STOP=1 -f "$driver"
echo "migrations done"
