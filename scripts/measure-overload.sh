#!/usr/bin/env bash
# Floods a vaxpass-issuer service on loopback with wrk (Debian's, installed if missing) and reports
# throughput, how fast answers come (429s included) and the service's memory over the run.
#
#   scripts/measure-overload.sh [CONNECTIONS] [SECONDS]
#
# Phase 1 offers about what the admission limit takes; phase 2 offers CONNECTIONS (default 1024)
# concurrent clients. The endpoint is POST /v1/enrolment/nonce: every admitted request is a
# durable write through the group commit, every refused one a 429 with Retry-After.
set -euo pipefail
cd "$(dirname "$0")/.."
connections="${1:-1024}"
seconds="${2:-15}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --locked --profile bench -p vaxpass-issuer >/dev/null
bin=target/release/vaxpass-issuer
dir="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
issuer() { "$bin" --key-file "$dir/authority.sqlite" --store "sqlite:$dir/issuer.sqlite" "$@"; }
issuer init >/dev/null
"$bin" --key-file "$dir/authority.sqlite" --store "sqlite:$dir/issuer.sqlite" \
    serve --listen 127.0.0.1:0 --concurrency 256 >"$dir/out" 2>"$dir/err" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/out" && break; sleep 0.1; done
url="http://$(sed -n 's/.*listening on //p' "$dir/out")/v1/enrolment/nonce"
cat >"$dir/post.lua" <<'LUA'
wrk.method = "POST"
local statuses = {}
response = function(status) statuses[status] = (statuses[status] or 0) + 1 end
done = function() end
LUA
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
run() {
    local label="$1" conns="$2"
    local low high
    low=$(rss); high=$low
    wrk -t2 -c"$conns" -d"${seconds}s" --latency -s "$dir/post.lua" "$url" >"$dir/wrk.txt" &
    local load=$!
    while kill -0 "$load" 2>/dev/null; do
        local now; now=$(rss); [ "$now" -gt "$high" ] && high=$now; sleep 0.2
    done
    echo "== $label: $conns connections for ${seconds}s"
    grep -E "Requests/sec|Non-2xx|requests in|50%|90%|99%" "$dir/wrk.txt"
    echo "   service RSS: $((low / 1024)) MiB before, $((high / 1024)) MiB at most during the run"
}
run "within the admission limit" 128
run "flood" "$connections"
kill -0 "$server" && echo "== the service is still up; it answered every request"
issuer stats
