#!/usr/bin/env bash
# Development environment behind `make up` / `make db`: a database with the current schema,
# the menu and branches, passwords for the three service roles, and `.dev/env` to source
# before `spin up` (or the project's spin-host).
#
#   scripts/dev-env.sh [up]   idempotent; a second run only makes sure the server runs
#   scripts/dev-env.sh stop   stops the private cluster
#
# HISTORY=1 (make up HISTORY=1) also loads the data set's year of orders into the order
# book (pizza-db seed --history, once); without it the order book is left as it is.
#
# With DATABASE_URL set (an admin URL) that database is used. Otherwise a private cluster
# runs on 127.0.0.1 only, on a port chosen once (.dev/pg.port). Its data directory is
# .dev/pg (gitignored) when the server runs as you; as root the server must run as the
# `postgres` user, who may not be able to enter the clone (a clone under /root, mode 700),
# so it lives in postgres's home instead: /var/lib/postgresql/pizza-dev/<clone>-<hash>/pg.
# .dev/pg.dir names the directory either way. Secrets are generated once into .dev/ and
# never leave it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV="$ROOT/.dev"
PORT_FILE="$DEV/pg.port"
# Set by use_cluster_dir once PostgreSQL (and so its server user) is installed.
PGDATA=""
PG_LOG=""
DB_NAME=pizza
ADMIN_USER=postgres
# The service roles; each one's URL goes to SPIN_VARIABLE_<SERVICE>_DB_URL. The admin
# service's is pizza_admin_api: pizza_admin is the schema owner's name on SpinKube.
ROLES=(pizza_login pizza_menu pizza_order pizza_admin_api)

# Progress goes to stderr, so functions can print their result on stdout.
say() { printf 'dev-env: %s\n' "$*" >&2; }
die() { printf 'dev-env: error: %s\n' "$*" >&2; exit 1; }

# Runs a PostgreSQL server tool as the `postgres` system user (initdb and postgres refuse
# to run as root), from / so that it never needs to enter the clone; as any other user,
# runs it directly.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Prints where the private cluster lives (see the header) and records it in .dev/pg.dir.
cluster_dir() {
    local dir home
    if [[ $EUID -ne 0 || -f $DEV/pg/PG_VERSION ]]; then
        dir="$DEV" # (also an earlier cluster kept in the clone, which its server could reach)
    else
        home="$(getent passwd postgres | cut -d: -f6)"
        [[ -n $home && -d $home ]] || die "user postgres has no home directory; reinstall postgresql or set DATABASE_URL"
        dir="$home/pizza-dev/$(basename "$ROOT")-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    fi
    printf '%s\n' "$dir" >"$DEV/pg.dir"
    printf '%s\n' "$dir"
}

# Points PGDATA and PG_LOG at the cluster directory.
use_cluster_dir() {
    local dir
    dir="$(cluster_dir)"
    PGDATA="$dir/pg"
    PG_LOG="$dir/pg.log"
}

# URL-safe random text: base64url of N random bytes, without padding.
random_text() {
    head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# Writes a secret file once (mode 600); later runs keep the existing value.
ensure_secret() {
    local file="$1" bytes="$2"
    if [[ ! -s $file ]]; then
        (umask 077 && random_text "$bytes" >"$file")
        say "generated ${file#"$ROOT"/}"
    fi
}

# Prints the bin directory of the newest installed PostgreSQL (Debian layout), if any.
newest_pg_bindir() {
    local dirs=(/usr/lib/postgresql/*/bin)
    [[ -d ${dirs[0]} ]] && printf '%s\n' "${dirs[@]}" | sort -V | tail -n1
}

# Prints the bin directory of the newest installed PostgreSQL, installing it if absent.
find_pg_bindir() {
    local bindir
    bindir="$(newest_pg_bindir || true)"
    if [[ -z $bindir ]]; then
        [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; install it (apt-get install postgresql) or set DATABASE_URL"
        say "installing PostgreSQL with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql postgresql-contrib >&2
        bindir="$(newest_pg_bindir)" || die "apt-get installed no /usr/lib/postgresql/*/bin"
    fi
    printf '%s\n' "$bindir"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The cluster's port: chosen once among free ones, then kept in .dev/pg.port.
ensure_port() {
    if [[ ! -s $PORT_FILE ]]; then
        local port
        for port in $(seq 54320 54420); do
            if ! port_in_use "$port"; then
                printf '%s\n' "$port" >"$PORT_FILE"
                say "chose port $port"
                break
            fi
        done
        [[ -s $PORT_FILE ]] || die "no free port in 54320-54420"
    fi
    cat "$PORT_FILE"
}

# initdb once: superuser `postgres`, TCP on 127.0.0.1 only, no Unix socket, trust for the
# admin user and passwords for everyone else.
init_cluster() {
    local bindir="$1" major method=scram-sha-256
    [[ -f $PGDATA/PG_VERSION ]] && return
    say "initialising a private cluster in $PGDATA"
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    [[ $EUID -ne 0 ]] || chown -R postgres:postgres "$(dirname "$PGDATA")"
    as_pg "$bindir/initdb" -D "$PGDATA" -U "$ADMIN_USER" -E UTF8 --no-locale \
        --auth-local=trust --auth-host=trust >/dev/null
    major="$(cat "$PGDATA/PG_VERSION")"
    ((major >= 10)) || method=md5
    cat >>"$PGDATA/postgresql.conf" <<EOF

# dev-env.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
password_encryption = '$method'
EOF
    cat >"$PGDATA/pg_hba.conf" <<EOF
# dev-env.sh: TCP on 127.0.0.1 only; the admin user is trusted, service roles need passwords.
host all $ADMIN_USER 127.0.0.1/32 trust
host all all 127.0.0.1/32 $method
EOF
}

# Server settings, given at every start so that an existing cluster gets them too.
# The tests' clusters use the same (testkit::MAKE_UP_SETTINGS). Spin keeps up to 64
# pooled connections per connection string and never closes them: max_connections is
# 4 services x 64, plus 18 for pizza-db, psql and the 3 superuser-reserved slots.
SERVER_SETTINGS="-c timezone=Etc/UTC -c max_connections=274"
# Each service role's CONNECTION LIMIT: one Spin pool (the budget above; the SpinKube
# overlays set theirs in pizza-config).
CONNECTION_LIMIT=64

start_cluster() {
    local bindir="$1" port="$2"
    if as_pg "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        say "PostgreSQL already running on 127.0.0.1:$port"
        return
    fi
    touch "$PG_LOG"
    [[ $EUID -ne 0 ]] || chown postgres:postgres "$PG_LOG"
    as_pg "$bindir/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -o "-p $port $SERVER_SETTINGS" -w -t 60 start >/dev/null ||
        die "PostgreSQL did not start; see $PG_LOG"
    say "PostgreSQL started on 127.0.0.1:$port"
}

ensure_database() {
    local psql="$1" admin_url="$2"
    local maintenance_url="${admin_url%/*}/postgres"
    if [[ -z "$("$psql" "$maintenance_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]]; then
        "$psql" "$maintenance_url" -qc "CREATE DATABASE $DB_NAME"
        say "created database $DB_NAME"
    fi
}

local_admin_url() {
    printf 'postgres://%s@127.0.0.1:%s/%s\n' "$ADMIN_USER" "$(cat "$PORT_FILE")" "$DB_NAME"
}

# True when DATABASE_URL names an external database, not the one .dev/env points at
# (sourcing .dev/env exports DATABASE_URL; that must not switch off the private cluster).
uses_external_db() {
    [[ -n ${DATABASE_URL:-} ]] || return 1
    [[ -s $PORT_FILE && $DATABASE_URL == "$(local_admin_url)" ]] && return 1
    return 0
}

# Prints the path of the pizza-db admin tool, building it when missing or older than its
# sources (not on every run: cargo may wait for a build lock held by another build).
pizza_db_bin() {
    local bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/pizza-db"
    local stale
    stale="$(find "$ROOT/crates/pizza-db" -newer "$bin" -print -quit 2>/dev/null || true)"
    if [[ ! -x $bin || -n $stale ]]; then
        say "building pizza-db (cargo build --release -p pizza-db)"
        (cd "$ROOT" && cargo build --release --quiet -p pizza-db) >&2
    fi
    printf '%s\n' "$bin"
}

export_line() {
    printf 'export %s=%q\n' "$1" "$2"
}

write_env() {
    local host="$1" admin_url="$2" role service var tmp="$DEV/env.tmp"
    (
        umask 077
        {
            echo "# Generated by scripts/dev-env.sh; source before spin up. Secret: never commit."
            export_line SPIN_VARIABLE_JWT_SECRET "$(cat "$DEV/jwt_secret")"
            export_line SPIN_VARIABLE_DB_HOST "$host"
            export_line SPIN_VARIABLE_RELAY_TOKEN "$(cat "$DEV/relay_token")"
            for role in "${ROLES[@]}"; do
                service="${role#pizza_}"
                var="SPIN_VARIABLE_$(tr '[:lower:]' '[:upper:]' <<<"${service%_api}")_DB_URL"
                export_line "$var" "$(role_url "$role" "$host")"
            done
            export_line DATABASE_URL "$admin_url"
        } >"$tmp"
    )
    mv "$tmp" "$DEV/env"
}

# A service role's URL, with the client-side connect timeout (the server-side
# statement and lock timeouts are settings of the role: migrations/0009).
role_url() {
    printf 'postgres://%s:%s@%s/%s?connect_timeout=5\n' "$1" "$(cat "$DEV/pw_$1")" "$2" "$DB_NAME"
}

up() {
    local bindir="" psql="" port admin_url host bin role seed_args
    mkdir -p "$DEV"
    chmod 711 "$DEV"
    ensure_secret "$DEV/jwt_secret" 48
    ensure_secret "$DEV/relay_token" 32
    for role in "${ROLES[@]}"; do
        ensure_secret "$DEV/pw_$role" 24
    done

    if uses_external_db; then
        admin_url="$DATABASE_URL"
        [[ $admin_url =~ ^postgres(ql)?://([^@/]*@)?([^/?]+)/([^/?]+) ]] ||
            die "DATABASE_URL must look like postgres://user[:pw]@host[:port]/dbname"
        host="${BASH_REMATCH[3]}"
        [[ $host == *:* ]] || host="$host:5432"
        DB_NAME="${BASH_REMATCH[4]}"
        say "using DATABASE_URL ($host/$DB_NAME)"
    else
        bindir="$(find_pg_bindir)"
        psql="$bindir/psql"
        use_cluster_dir
        port="$(ensure_port)"
        init_cluster "$bindir"
        start_cluster "$bindir" "$port"
        admin_url="$(local_admin_url)"
        host="127.0.0.1:$port"
        ensure_database "$psql" "$admin_url"
    fi

    bin="$(pizza_db_bin)"
    # The one migrator, run as the Kubernetes migration Job runs it (pizza-db deploy, the
    # same variables): pending migrations, then LOGIN, password and CONNECTION LIMIT for
    # each service role, under one lock. Secrets go through the environment (bash
    # assignments, no command line shows them), the admin URL too.
    DATABASE_URL="$admin_url" \
        LOGIN_DB_PASSWORD="$(<"$DEV/pw_pizza_login")" \
        MENU_DB_PASSWORD="$(<"$DEV/pw_pizza_menu")" \
        ORDER_DB_PASSWORD="$(<"$DEV/pw_pizza_order")" \
        ADMIN_DB_PASSWORD="$(<"$DEV/pw_pizza_admin_api")" \
        LOGIN_DB_CONNECTION_LIMIT="$CONNECTION_LIMIT" \
        MENU_DB_CONNECTION_LIMIT="$CONNECTION_LIMIT" \
        ORDER_DB_CONNECTION_LIMIT="$CONNECTION_LIMIT" \
        ADMIN_DB_CONNECTION_LIMIT="$CONNECTION_LIMIT" \
        "$bin" deploy --dir "$ROOT/migrations" | sed 's/^/dev-env: /' >&2
    seed_args=(seed)
    if [[ ${HISTORY:-} == 1 ]]; then
        seed_args+=(--history)
    fi
    DATABASE_URL="$admin_url" "$bin" "${seed_args[@]}" | sed 's/^/dev-env: /' >&2

    write_env "$host" "$admin_url"
    say "ready: source .dev/env"
}

stop() {
    local bindir
    [[ -s $DEV/pg.dir ]] || { say "no private cluster"; return; }
    PGDATA="$(cat "$DEV/pg.dir")/pg"
    if [[ ! -f $PGDATA/PG_VERSION ]]; then
        say "no private cluster in $PGDATA"
        return
    fi
    bindir="/usr/lib/postgresql/$(cat "$PGDATA/PG_VERSION")/bin"
    if as_pg "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        as_pg "$bindir/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
        say "PostgreSQL stopped"
    else
        say "PostgreSQL was not running"
    fi
}

case "${1:-up}" in
    up) up ;;
    stop) stop ;;
    *) die "usage: $0 [up|stop]" ;;
esac
