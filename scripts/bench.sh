#!/usr/bin/env bash
# TCP stream benchmark on loopback: one sender writing 64 KiB buffers to a sink that discards them,
# (a) direct, (b) through nbproxy (nbproc 1, mode tcp), (c) through HAProxy (nbthread 1, mode tcp).
# Prints MB/s per case and the ratios nbproxy/direct and nbproxy/haproxy. Not part of CI.
#
#   scripts/bench.sh [SECONDS [CONNS...]]      default: 5 seconds, 1 and 8 connections
#
# Environment: HAPROXY (default: haproxy on PATH, else /usr/sbin/haproxy), BENCH_PORT (first of three ports,
# default 19100), NO_BUILD=1 to skip `cargo build --release`, BIN (default target/release) for prebuilt binaries.
set -euo pipefail

cd "$(dirname "$0")/.."

SECS=${1:-5}
shift || true
CONNS=("$@")
if [ ${#CONNS[@]} -eq 0 ]; then
    CONNS=(1 8)
fi
BASE=${BENCH_PORT:-19100}
SINK_PORT=$BASE
NBPROXY_PORT=$((BASE + 1))
HAPROXY_PORT=$((BASE + 2))
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
BIN=${BIN:-target/release}
BENCH=$BIN/examples/stream_bench

listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Wait up to 5 s for 127.0.0.1:$1 to accept connections; give up early if process $2 (optional) has exited.
wait_port() {
    for _ in $(seq 50); do
        listening "$1" && return 0
        if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}

for port in "$SINK_PORT" "$NBPROXY_PORT" "$HAPROXY_PORT"; do
    if listening "$port"; then
        echo "bench: 127.0.0.1:$port is in use; set BENCH_PORT to another base port" >&2
        exit 1
    fi
done

if [ "${NO_BUILD:-}" != 1 ]; then
    cargo build --release --bin nbproxy --examples
fi

tmp=$(mktemp -d)
pids=()
# shellcheck disable=SC2317  # invoked by the traps below
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A tcp-mode proxy on $2 in front of the sink; $1 is the process-model line of the global section.
proxy_cfg() {
    cat <<CFG
global
    $1
    maxconn 1024

defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m

listen bench
    bind 127.0.0.1:$2
    server sink 127.0.0.1:$SINK_PORT
CFG
}

# Start "$@" in the background with its output in $tmp/NAME.log, wait for PORT. Usage: start NAME PORT CMD...
start() {
    local name=$1 port=$2
    shift 2
    "$@" >"$tmp/$name.log" 2>&1 &
    pids+=("$!")
    if ! wait_port "$port" "$!"; then
        echo "bench: $name did not listen on 127.0.0.1:$port; its output:" >&2
        sed 's/^/    /' "$tmp/$name.log" >&2
        return 1
    fi
}

# Prints the MB/s figure of one run against PORT with CONNS connections, or "n/a".
measure() {
    local out
    if out=$("$BENCH" send "127.0.0.1:$1" "$SECS" "$2" 2>"$tmp/send.err"); then
        awk '/^MB\/s:/ { print $2 }' <<<"$out"
    else
        echo "bench: send to 127.0.0.1:$1 with $2 connection(s) failed: $(cat "$tmp/send.err")" >&2
        echo n/a
    fi
}

ratio() {
    if [[ $1 == n/a || $2 == n/a ]]; then
        echo n/a
    else
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'
    fi
}

start sink "$SINK_PORT" "$BENCH" sink "$SINK_PORT"

have_nbproxy=0
proxy_cfg "nbproc 1" "$NBPROXY_PORT" >"$tmp/nbproxy.cfg"
if start nbproxy "$NBPROXY_PORT" "$BIN/nbproxy" -db -f "$tmp/nbproxy.cfg"; then
    have_nbproxy=1
fi

have_haproxy=0
if [ -x "$HAPROXY" ]; then
    proxy_cfg "nbthread 1" "$HAPROXY_PORT" >"$tmp/haproxy.cfg"
    if start haproxy "$HAPROXY_PORT" "$HAPROXY" -db -f "$tmp/haproxy.cfg"; then
        have_haproxy=1
    fi
    haproxy_version=$("$HAPROXY" -v 2>/dev/null | head -n1)
else
    echo "bench: haproxy not found; install it for the comparison column: apt-get install haproxy" >&2
    haproxy_version="(not installed)"
fi

echo "TCP stream over loopback: $SECS s per run, 64 KiB writes; MB = 10^6 bytes"
nbproxy_version=$("$BIN/nbproxy" -v 2>/dev/null | head -n1 || true)
echo "nbproxy: ${nbproxy_version:-?}"
echo "haproxy: $haproxy_version"
echo "cpus:    $(nproc)"
echo
printf '%-6s %12s %12s %12s %16s %17s\n' conns direct nbproxy haproxy nbproxy/direct nbproxy/haproxy
for c in "${CONNS[@]}"; do
    direct=$(measure "$SINK_PORT" "$c")
    nb=n/a
    ha=n/a
    if [ "$have_nbproxy" = 1 ]; then nb=$(measure "$NBPROXY_PORT" "$c"); fi
    if [ "$have_haproxy" = 1 ]; then ha=$(measure "$HAPROXY_PORT" "$c"); fi
    printf '%-6s %12s %12s %12s %16s %17s\n' "$c" "$direct" "$nb" "$ha" "$(ratio "$nb" "$direct")" "$(ratio "$nb" "$ha")"
done
