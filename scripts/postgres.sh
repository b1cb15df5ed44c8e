#!/usr/bin/env bash
# A throwaway PostgreSQL for the issuer-server tests, under target/postgres of this repo.
#
# Usage:
#   scripts/postgres.sh [start]   install (Debian's postgresql) if missing, create the cluster on
#                                 first use, start it on 127.0.0.1 with a free port, create the
#                                 database; the LAST stdout line is the connection URL
#   scripts/postgres.sh url       print the URL if the cluster is running (exit 1 otherwise)
#   scripts/postgres.sh stop      stop the cluster (its files are kept for a fast restart)
#   scripts/postgres.sh destroy   stop and delete the cluster
#
#   export VAXPASS_TEST_POSTGRES_URL="$(scripts/postgres.sh | tail -n1)"
#
# Idempotent: a running cluster is reused as is. PostgreSQL refuses to run as root, so as root the
# cluster belongs to the `postgres` user the Debian package creates. Authentication is `trust`,
# listening on 127.0.0.1 only: this is for tests, never for data that matters.
#
# Environment: VAXPASS_PG_DIR (default: <repo>/target/postgres), VAXPASS_PG_DB (default: vaxpass).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${VAXPASS_PG_DIR:-$ROOT/target/postgres}"
DB="${VAXPASS_PG_DB:-vaxpass}"
DATA="$DIR/data"
SOCK="$DIR/sock"
LOG="$DIR/postgres.log"
PORT_FILE="$DIR/port"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1; then
        candidate="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return 0
        fi
    fi
    # Debian keeps the server binaries out of PATH, one directory per major version.
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    if [[ $EUID -ne 0 ]]; then
        log "PostgreSQL is not installed and installing needs root"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Only refresh the package lists if apt does not know the package yet.
    if ! apt-cache policy postgresql 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update"
        apt-get update -qq >&2
    fi
    log "installing postgresql"
    # Keep the package from starting its default cluster where no init system runs it anyway.
    apt-get install -y -qq --no-install-recommends postgresql >&2
}

BIN="$(find_bindir || true)"
if [[ -z "$BIN" ]]; then
    install_postgres
    BIN="$(find_bindir)" || { log "no initdb/pg_ctl after installing"; exit 1; }
fi

# Run a PostgreSQL tool as the cluster's owner.
if [[ $EUID -eq 0 ]]; then
    OWNER=postgres
    as_owner() { runuser -u "$OWNER" -- "$@"; }
else
    OWNER="$(id -un)"
    as_owner() { "$@"; }
fi

running() {
    [[ -f "$DATA/PG_VERSION" ]] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

url() {
    echo "postgres://postgres@127.0.0.1:$(cat "$PORT_FILE")/$DB"
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    local port
    if [[ -f "$PORT_FILE" ]] && port_free "$(cat "$PORT_FILE")"; then
        cat "$PORT_FILE"
        return
    fi
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 30000))
        if port_free "$port"; then
            echo "$port"
            return
        fi
    done
    log "no free port found"
    exit 1
}

psql_owner() {
    as_owner "$BIN/psql" -X -q -h 127.0.0.1 -p "$(cat "$PORT_FILE")" -U postgres "$@"
}

start() {
    mkdir -p "$DIR"
    if running; then
        log "already running"
        url
        return
    fi
    if [[ $EUID -eq 0 ]]; then
        chown "$OWNER" "$DIR"
        # The owner must be able to reach the directory through its parents.
        if ! as_owner test -w "$DIR"; then
            log "user $OWNER cannot write $DIR (set VAXPASS_PG_DIR to a reachable directory)"
            exit 1
        fi
    fi
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        log "creating a cluster in $DATA"
        rm -rf "$DATA"
        as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            --no-instructions >"$DIR/initdb.log" 2>&1 \
            || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    as_owner mkdir -p "$SOCK"
    local port
    port="$(pick_port)"
    echo "$port" >"$PORT_FILE"
    log "starting on 127.0.0.1:$port"
    # fsync stays on: the durability tests mean something only if commits really reach the disk.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $SOCK -c max_connections=300 -c shared_buffers=128MB" \
        start >&2 || { tail -n 30 "$LOG" >&2; exit 1; }
    if ! psql_owner -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        psql_owner -d postgres -c "CREATE DATABASE \"$DB\"" >&2
    fi
    url
}

stop() {
    if running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
        log "not running"
    fi
}

case "${1:-start}" in
    start) start ;;
    url) running && url || { log "not running"; exit 1; } ;;
    stop) stop ;;
    destroy) stop; rm -rf "$DIR" ;;
    *) log "usage: $0 [start|url|stop|destroy]"; exit 2 ;;
esac
