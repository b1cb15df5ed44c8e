#!/usr/bin/env bash
# The issuer service's enrolment peak in four deployments, measured beside each other in one run:
#   keyfile   SQLite store, keys in the key file (the default)
#   hsm       SQLite store, keys in a PKCS#11 token (SoftHSM2, scripts/softhsm.sh)
#   pg1       PostgreSQL store (scripts/postgres.sh), one replica, key file
#   pg3       the same store, three replicas, the clients spread over them
# Rounds alternate the deployments so a machine that gets busier slows them alike; each round is
# one lunch-rush enrolment peak (everyone at once) against a fresh store. Prints each round and
# the ratios of the medians: hsm/keyfile, pg1/keyfile, pg3/pg1.
#
# Usage: scripts/measure-issuer.sh [ROUNDS] [CITIZENS]        (defaults: 3 rounds, 20000)
# Needs: cargo build --profile bench -p vaxpass-issuer -p vaxpass-lunch-rush
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${1:-3}"
CITIZENS="${2:-20000}"
RUSH=target/release/lunch-rush
SERVICE=target/release/vaxpass-issuer
for binary in "$RUSH" "$SERVICE"; do
    if [[ ! -x "$binary" ]]; then
        echo "measure-issuer.sh: $binary is missing:" \
            "cargo build --profile bench -p vaxpass-issuer -p vaxpass-lunch-rush" >&2
        exit 2
    fi
done

URL="$(scripts/postgres.sh start | tail -n 1)"
trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(scripts/softhsm.sh env)"
SERVER="${URL%/*}"

# One peak; prints enrolments per second.
peak() {
    local deployment="$1" round="$2" args=() envs=()
    case "$deployment" in
        hsm) envs=(VAXPASS_HSM_MODULE="$VAXPASS_TEST_PKCS11_MODULE"
                   VAXPASS_HSM_TOKEN="$VAXPASS_TEST_PKCS11_TOKEN"
                   VAXPASS_HSM_PIN="$VAXPASS_TEST_PKCS11_PIN") ;;
        pg1 | pg3)
            local database="measure_${deployment}_${round}_$$"
            psql -X -q -h 127.0.0.1 -p "${SERVER##*:}" -U postgres -d postgres \
                -c "CREATE DATABASE $database" >&2
            args=(--store "$SERVER/$database" --replicas "${deployment#pg}") ;;
    esac
    local out
    # lunch-rush exits 1 when the replay missed one of its own targets; the rate is still read.
    out="$(env "${envs[@]}" "$RUSH" --server-bin "$SERVICE" --json \
        --citizens "$CITIZENS" --shops 20 --scans 2000 --window-secs 1 --clients 128 \
        --server-concurrency 256 "${args[@]}" 2>/dev/null || true)"
    jq -r '.enrolment.per_second | floor' <<<"$out"
}

declare -A RATES
for round in $(seq 1 "$ROUNDS"); do
    line="round $round:"
    for deployment in keyfile hsm pg1 pg3; do
        rate="$(peak "$deployment" "$round")"
        RATES[$deployment]+="$rate "
        line+=" $deployment $rate/s"
    done
    echo "$line"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A MEDIAN
for deployment in keyfile hsm pg1 pg3; do
    MEDIAN[$deployment]="$(echo "${RATES[$deployment]}" | median)"
done
echo "medians: keyfile ${MEDIAN[keyfile]}/s, hsm ${MEDIAN[hsm]}/s," \
    "pg1 ${MEDIAN[pg1]}/s, pg3 ${MEDIAN[pg3]}/s"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "hsm / keyfile: $(ratio "${MEDIAN[hsm]}" "${MEDIAN[keyfile]}") (target >= 0.80)"
echo "pg1 / keyfile: $(ratio "${MEDIAN[pg1]}" "${MEDIAN[keyfile]}")"
echo "pg3 / pg1:     $(ratio "${MEDIAN[pg3]}" "${MEDIAN[pg1]}")"
