#!/usr/bin/env bash
# Benchmarks on loopback, nbproxy against HAProxy. Not part of CI.
#
# TCP part: one sender writing 64 KiB buffers to a sink that discards them, (a) direct, (b) through nbproxy
# (nbproc 1, mode tcp), (c) through HAProxy (nbthread 1, mode tcp), each proxy copying, with `option splice-auto`
# and with `option splice-request` + `option splice-response` (splice(2) always). Prints MB/s per case and the
# ratios nbproxy/direct and nbproxy/haproxy.
#
# HTTP part: nginx serving a 100-byte file with keep-alive, loaded with wrk (-t1 -c50 -d5s --latency) through
# nbproxy (nbproc 1, mode http) and through HAProxy (nbthread 1, mode http, http-reuse always), alternating, at
# least 3 rounds each, for keep-alive and for `Connection: close`. Prints the medians of req/s, p99 latency,
# errors, and the proxy worker's CPU seconds per 100k requests (utime+stime from /proc/PID/stat), and the
# ratios nbproxy/HAProxy. Needs wrk and nginx (apt-get install wrk nginx-light); skipped without them.
# Large responses: the same alternating wrk rounds for a 1 MiB file (-c10) and a 100 MiB file (-c2), keep-alive.
#
# Idle part: IDLE_CONNS (default 5,000) keep-alive HTTP connections, each after one request, then as many bare
# `mode tcp` connections, held open through nbproxy (nbproc 1) and through HAProxy (nbthread 1) in front of nginx;
# prints the proxy's RSS growth per connection in KiB (VmRSS of the worker before and while they are held).
#
#   scripts/bench.sh [SECONDS [CONNS...]]      TCP: default 5 seconds, 1 and 8 connections
#
# BASELINE=PATH (another nbproxy binary, e.g. a build of the previous commit) adds it to the HTTP part as a third
# proxy, alternating with the others, and prints the ratios nbproxy/baseline: a before/after comparison from one run.
#
# Environment: PART (tcp, http, idle or all; default all), ROUNDS (HTTP rounds, default 3, at least 3), HTTP_SECS
# (seconds per wrk run, default 5), HAPROXY (default: haproxy on PATH, else /usr/sbin/haproxy), NGINX (default:
# nginx on PATH, else /usr/sbin/nginx), BENCH_PORT (first of ten ports, default 19100), NO_BUILD=1 to skip
# `cargo build --release`, BIN (default target/release) for prebuilt binaries.
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
NGINX_PORT=$((BASE + 3))
NBPROXY_HTTP_PORT=$((BASE + 4))
HAPROXY_HTTP_PORT=$((BASE + 5))
BASELINE_HTTP_PORT=$((BASE + 20))
NBPROXY_SPLICE_PORT=$((BASE + 6))
HAPROXY_SPLICE_PORT=$((BASE + 7))
NBPROXY_FORCED_PORT=$((BASE + 8))
HAPROXY_FORCED_PORT=$((BASE + 9))
PART=${PART:-all}
ROUNDS=${ROUNDS:-3}
HTTP_SECS=${HTTP_SECS:-5}
IDLE_CONNS=${IDLE_CONNS:-5000}
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
BIN=${BIN:-target/release}
BENCH=$BIN/examples/stream_bench

case $PART in
    tcp | http | idle | all) ;;
    *)
        echo "bench: PART must be tcp, http, idle or all" >&2
        exit 2
        ;;
esac
if [ "$ROUNDS" -lt 3 ]; then
    ROUNDS=3
fi

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

for port in "$SINK_PORT" "$NBPROXY_PORT" "$HAPROXY_PORT" "$NGINX_PORT" "$NBPROXY_HTTP_PORT" "$HAPROXY_HTTP_PORT" \
    "$NBPROXY_SPLICE_PORT" "$HAPROXY_SPLICE_PORT" "$NBPROXY_FORCED_PORT" "$HAPROXY_FORCED_PORT" "$BASELINE_HTTP_PORT"; do
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

# A proxy on $3 in front of 127.0.0.1:$4 in mode $2 (tcp or http); $1 is the process-model line of the global
# section, $5 (optional) extra lines for the listen section.
proxy_cfg() {
    cat <<CFG
global
    $1
    maxconn 4096

defaults
    mode $2
    timeout connect 5s
    timeout client 1m
    timeout server 1m

listen bench
    bind 127.0.0.1:$3
${5:-}
    server backend 127.0.0.1:$4
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

# $1/$2, or "n/a".
ratio() {
    if [[ $1 == n/a || $2 == n/a ]]; then
        echo n/a
    else
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'
    fi
}

nbproxy_version=$("$BIN/nbproxy" -v 2>/dev/null | head -n1 || true)
if [ -x "$HAPROXY" ]; then
    haproxy_version=$("$HAPROXY" -v 2>/dev/null | head -n1)
else
    echo "bench: haproxy not found; install it for the comparison column: apt-get install haproxy" >&2
    haproxy_version="(not installed)"
fi

# ---------------------------------------------------------------------------------------------------------------
# TCP

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

tcp_part() {
    start sink "$SINK_PORT" "$BENCH" sink "$SINK_PORT"

    # One nbproxy and one HAProxy per way of forwarding: copy, splice-auto, splice forced in both directions.
    local ways=(copy auto forced)
    local -A opts=([copy]="" [auto]="    option splice-auto"
        [forced]="    option splice-request
    option splice-response")
    local -A nb_port=([copy]=$NBPROXY_PORT [auto]=$NBPROXY_SPLICE_PORT [forced]=$NBPROXY_FORCED_PORT)
    local -A ha_port=([copy]=$HAPROXY_PORT [auto]=$HAPROXY_SPLICE_PORT [forced]=$HAPROXY_FORCED_PORT)
    local -A have_nb=() have_ha=()
    local w
    for w in "${ways[@]}"; do
        have_nb[$w]=0
        have_ha[$w]=0
        proxy_cfg "nbproc 1" tcp "${nb_port[$w]}" "$SINK_PORT" "${opts[$w]}" >"$tmp/nbproxy-$w.cfg"
        if start "nbproxy-$w" "${nb_port[$w]}" "$BIN/nbproxy" -db -f "$tmp/nbproxy-$w.cfg"; then
            have_nb[$w]=1
        fi
        if [ -x "$HAPROXY" ]; then
            proxy_cfg "nbthread 1" tcp "${ha_port[$w]}" "$SINK_PORT" "${opts[$w]}" >"$tmp/haproxy-$w.cfg"
            if start "haproxy-$w" "${ha_port[$w]}" "$HAPROXY" -db -f "$tmp/haproxy-$w.cfg"; then
                have_ha[$w]=1
            fi
        fi
    done

    echo "TCP stream over loopback: $SECS s per run, 64 KiB writes; MB = 10^6 bytes"
    echo "nbproxy: ${nbproxy_version:-?}"
    echo "haproxy: $haproxy_version"
    echo "cpus:    $(nproc)"
    echo
    printf '%-6s %-7s %12s %12s %12s %16s %17s\n' conns forward direct nbproxy haproxy nbproxy/direct \
        nbproxy/haproxy
    local c direct nb ha
    for c in "${CONNS[@]}"; do
        direct=$(measure "$SINK_PORT" "$c")
        for w in "${ways[@]}"; do
            nb=n/a
            ha=n/a
            if [ "${have_nb[$w]}" = 1 ]; then nb=$(measure "${nb_port[$w]}" "$c"); fi
            if [ "${have_ha[$w]}" = 1 ]; then ha=$(measure "${ha_port[$w]}" "$c"); fi
            printf '%-6s %-7s %12s %12s %12s %16s %17s\n' "$c" "$w" "$direct" "$nb" "$ha" \
                "$(ratio "$nb" "$direct")" "$(ratio "$nb" "$ha")"
        done
    done
    echo "(copy: no splice option; auto: option splice-auto; forced: option splice-request + splice-response;"
    echo " the same options in both proxies; direct is one run per connection count)"
}

# ---------------------------------------------------------------------------------------------------------------
# HTTP

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Live direct children of pid $1, one per line.
children_of() {
    local f line rest ppid
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r _ ppid _ <<<"$rest"
        if [ "$ppid" = "$1" ]; then
            f=${f#/proc/}
            echo "${f%/stat}"
        fi
    done
}

# The pids doing a proxy's traffic: the children of master $1 (nbproxy's workers), or $1 itself if it has none
# (HAProxy with -db and no -W is a single process).
workers_of() {
    local kids
    kids=$(children_of "$1")
    if [ -n "$kids" ]; then
        echo "$kids"
    else
        echo "$1"
    fi
}

# utime+stime clock ticks of the pids given, summed.
cpu_ticks() {
    local p line rest total=0
    local -a f
    for p in "$@"; do
        { read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

# Median of the numbers given ("n/a" ones ignored; "n/a" if none).
median() {
    printf '%s\n' "$@" | { grep -v -e '^n/a$' -e '^$' || true; } | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One wrk run against port $1 whose traffic is done by pids $3…; $2 = keepalive|close|1MiB|100MiB (the file and
# the number of connections follow from it).
# Prints "req_per_s p99_ms errors cpu_s_per_100k" ("n/a" for what could not be measured).
wrk_run() {
    local port=$1 mode=$2
    shift 2
    local -a hdr=()
    local file=100.txt conns=50
    case $mode in
        close) hdr=(-H 'Connection: close') ;;
        1MiB) file=1M.bin conns=10 ;;
        100MiB) file=100M.bin conns=2 ;;
    esac
    local before after out
    before=$(cpu_ticks "$@")
    if ! out=$(timeout $((HTTP_SECS + 20)) wrk -t1 -c"$conns" -d"${HTTP_SECS}s" --latency "${hdr[@]}" \
        "http://127.0.0.1:$port/$file" 2>&1); then
        echo "bench: wrk via :$port ($mode) failed: $(tail -n1 <<<"$out")" >&2
        echo "n/a n/a n/a n/a"
        return
    fi
    after=$(cpu_ticks "$@")
    awk -v ticks=$((after - before)) -v hz="$CLK_TCK" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        $1 == "99%" { p99 = ms($2) }
        / requests in / { reqs = $1 + 0 }
        /^Requests\/sec:/ { rps = $2 + 0 }
        /Socket errors:/ { gsub(",", ""); errs += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { errs += $NF }
        END {
            if (rps == "") rps = "n/a"
            if (p99 == "") p99 = "n/a"
            cpu = (reqs > 0) ? sprintf("%.4f", ticks / hz / reqs * 100000) : "n/a"
            printf "%s %s %d %s\n", rps, p99, errs, cpu
        }' <<<"$out"
}

# Start nginx on $NGINX_PORT serving 100.txt, 1M.bin and 100M.bin from $tmp/nginx/www (once).
nginx_started=0
start_nginx() {
    if [ "$nginx_started" = 1 ]; then
        return 0
    fi
    local ng=$tmp/nginx
    mkdir -p "$ng/www" "$ng/logs"
    chmod 755 "$tmp" "$ng" "$ng/www" # nginx workers may run as nobody
    head -c 100 /dev/zero | tr '\0' x >"$ng/www/100.txt"
    head -c $((1 << 20)) /dev/zero >"$ng/www/1M.bin"
    head -c $((100 << 20)) /dev/zero >"$ng/www/100M.bin"
    chmod 644 "$ng/www/"*
    cat >"$ng/nginx.conf" <<CFG
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $ng/body;
    proxy_temp_path $ng/proxy;
    fastcgi_temp_path $ng/fastcgi;
    uwsgi_temp_path $ng/uwsgi;
    scgi_temp_path $ng/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $ng/www;
    }
}
CFG
    if ! start nginx "$NGINX_PORT" "$NGINX" -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log"; then
        echo "bench: nginx did not start" >&2
        return 1
    fi
    nginx_started=1
}

http_part() {
    if ! command -v wrk >/dev/null || [ ! -x "$NGINX" ]; then
        echo "bench: the HTTP part needs wrk and nginx: apt-get install wrk nginx-light (skipped)" >&2
        return 0
    fi
    if ! start_nginx; then
        echo "bench: HTTP part skipped" >&2
        return 0
    fi

    local nb_pid="" ha_pid="" base_pid=""
    local -a proxies=(nbproxy haproxy)
    proxy_cfg "nbproc 1" http "$NBPROXY_HTTP_PORT" "$NGINX_PORT" >"$tmp/nbproxy-http.cfg"
    if start nbproxy-http "$NBPROXY_HTTP_PORT" "$BIN/nbproxy" -db -f "$tmp/nbproxy-http.cfg"; then
        nb_pid=${pids[-1]}
    fi
    if [ -n "${BASELINE:-}" ]; then
        proxy_cfg "nbproc 1" http "$BASELINE_HTTP_PORT" "$NGINX_PORT" >"$tmp/baseline-http.cfg"
        if start baseline-http "$BASELINE_HTTP_PORT" "$BASELINE" -db -f "$tmp/baseline-http.cfg"; then
            base_pid=${pids[-1]}
            proxies+=(baseline)
        fi
    fi
    if [ -x "$HAPROXY" ]; then
        proxy_cfg "nbthread 1" http "$HAPROXY_HTTP_PORT" "$NGINX_PORT" "    http-reuse always" \
            >"$tmp/haproxy-http.cfg"
        if start haproxy-http "$HAPROXY_HTTP_PORT" "$HAPROXY" -db -f "$tmp/haproxy-http.cfg"; then
            ha_pid=${pids[-1]}
        fi
    fi

    echo
    echo "HTTP via wrk -t1 -c50 -d${HTTP_SECS}s --latency to nginx (100-byte file, keep-alive); $ROUNDS rounds, medians"
    echo "nbproxy: ${nbproxy_version:-?} (nbproc 1)"
    echo "haproxy: $haproxy_version (nbthread 1, http-reuse always)"
    if [ -n "$base_pid" ]; then
        echo "baseline: $BASELINE (nbproc 1)"
    fi
    echo "nginx:   $("$NGINX" -v 2>&1 | head -n1)"
    echo "cpus:    $(nproc)"
    local header=0 mode r proxy port pid i n
    local -a rps p99 errs cpu w res
    for mode in keepalive close 1MiB 100MiB; do
        declare -A m=()
        for proxy in "${proxies[@]}"; do
            m[$proxy.n]=0
        done
        for r in $(seq "$ROUNDS"); do
            for proxy in "${proxies[@]}"; do # alternate
                case $proxy in
                    nbproxy) port=$NBPROXY_HTTP_PORT pid=$nb_pid ;;
                    haproxy) port=$HAPROXY_HTTP_PORT pid=$ha_pid ;;
                    *) port=$BASELINE_HTTP_PORT pid=$base_pid ;;
                esac
                if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
                    continue
                fi
                mapfile -t w < <(workers_of "$pid")
                read -r -a res < <(wrk_run "$port" "$mode" "${w[@]}")
                echo "bench: round $r $mode $proxy: req/s ${res[0]} p99 ${res[1]} ms errors ${res[2]} cpu ${res[3]}" >&2
                i=${m[$proxy.n]}
                m[$proxy.rps.$i]=${res[0]}
                m[$proxy.p99.$i]=${res[1]}
                m[$proxy.err.$i]=${res[2]}
                m[$proxy.cpu.$i]=${res[3]}
                m[$proxy.n]=$((i + 1))
            done
        done
        declare -A med=()
        if [ "$header" = 0 ]; then
            echo
            printf '%-11s %-8s %12s %10s %8s %14s\n' client proxy req/s p99_ms errors cpu_s/100k
            header=1
        fi
        for proxy in "${proxies[@]}"; do
            rps=() p99=() errs=() cpu=()
            n=${m[$proxy.n]}
            for ((i = 0; i < n; i++)); do
                rps+=("${m[$proxy.rps.$i]}")
                p99+=("${m[$proxy.p99.$i]}")
                errs+=("${m[$proxy.err.$i]}")
                cpu+=("${m[$proxy.cpu.$i]}")
            done
            med[$proxy.rps]=$(median "${rps[@]}")
            med[$proxy.p99]=$(median "${p99[@]}")
            med[$proxy.err]=$(median "${errs[@]}")
            med[$proxy.cpu]=$(median "${cpu[@]}")
            printf '%-11s %-8s %12s %10s %8s %14s\n' "$mode" "$proxy" "${med[$proxy.rps]}" "${med[$proxy.p99]}" \
                "${med[$proxy.err]}" "${med[$proxy.cpu]}"
        done
        printf '%-11s %-8s %12s %10s %8s %14s\n' "$mode" "nb/ha" "$(ratio "${med[nbproxy.rps]}" "${med[haproxy.rps]}")" \
            "$(ratio "${med[nbproxy.p99]}" "${med[haproxy.p99]}")" "" \
            "$(ratio "${med[nbproxy.cpu]}" "${med[haproxy.cpu]}")"
        if [ -n "$base_pid" ]; then
            printf '%-11s %-8s %12s %10s %8s %14s\n' "$mode" "nb/base" \
                "$(ratio "${med[nbproxy.rps]}" "${med[baseline.rps]}")" \
                "$(ratio "${med[nbproxy.p99]}" "${med[baseline.p99]}")" "" \
                "$(ratio "${med[nbproxy.cpu]}" "${med[baseline.cpu]}")"
        fi
        unset m med
    done
}

# ---------------------------------------------------------------------------------------------------------------
# Idle connections

# VmRSS in KiB of the pids given, summed.
rss_kib() {
    local p total=0 v
    for p in "$@"; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# KiB of RSS per connection that $IDLE_CONNS idle connections cost the proxy whose traffic pids are $3…, through
# port $1; $2 = http (one request each, kept alive) or tcp (no byte sent). Prints the figure or "n/a".
idle_run() {
    local port=$1 kind=$2
    shift 2
    local -a path=()
    if [ "$kind" = http ]; then
        path=(/100.txt)
    fi
    local before after out
    before=$(rss_kib "$@")
    "$BENCH" idle "127.0.0.1:$port" "$IDLE_CONNS" 30 "${path[@]}" >"$tmp/idle.out" 2>"$tmp/idle.err" &
    local idle_pid=$!
    for _ in $(seq 600); do
        if grep -q '^ready' "$tmp/idle.out" 2>/dev/null || ! kill -0 "$idle_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    sleep 1 # let the proxy settle (buffers released, pools purged)
    if ! grep -q '^ready' "$tmp/idle.out"; then
        echo "bench: idle $kind via :$port failed: $(tail -n1 "$tmp/idle.err")" >&2
        kill "$idle_pid" 2>/dev/null || true
        wait "$idle_pid" 2>/dev/null || true
        echo n/a
        return
    fi
    after=$(rss_kib "$@")
    kill "$idle_pid" 2>/dev/null || true
    wait "$idle_pid" 2>/dev/null || true
    sleep 1 # the proxy closes the connections before the next run
    awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f\n", (a - b) / n }'
}

# The proxy config of the idle part: $1 process-model line, $2 mode, $3 port.
idle_cfg() {
    cat <<CFG
global
    $1
    maxconn 8000

defaults
    mode $2
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    timeout http-keep-alive 1m

listen idle
    bind 127.0.0.1:$3
    server backend 127.0.0.1:$NGINX_PORT
CFG
}

idle_part() {
    if [ ! -x "$NGINX" ]; then
        echo "bench: the idle part needs nginx: apt-get install nginx-light (skipped)" >&2
        return 0
    fi
    if ! start_nginx; then
        echo "bench: idle part skipped" >&2
        return 0
    fi
    local kind proxy pid port cfg
    echo
    echo "Idle connections: $IDLE_CONNS held open at once; proxy RSS growth per connection (KiB)"
    printf '%-30s %10s %10s %10s\n' connection nbproxy haproxy nb/ha
    for kind in http tcp; do
        declare -A kib=([nbproxy]=n/a [haproxy]=n/a)
        for proxy in nbproxy haproxy; do
            port=$NBPROXY_HTTP_PORT
            cfg="nbproc 1"
            if [ "$proxy" = haproxy ]; then
                [ -x "$HAPROXY" ] || continue
                port=$HAPROXY_HTTP_PORT
                cfg="nbthread 1"
            fi
            port=$((port + 10)) # apart from the HTTP part's proxies
            idle_cfg "$cfg" "$kind" "$port" >"$tmp/$proxy-idle-$kind.cfg"
            if [ "$proxy" = nbproxy ]; then
                start "$proxy-idle-$kind" "$port" "$BIN/nbproxy" -db -f "$tmp/$proxy-idle-$kind.cfg" || continue
            else
                start "$proxy-idle-$kind" "$port" "$HAPROXY" -db -f "$tmp/$proxy-idle-$kind.cfg" || continue
            fi
            pid=${pids[-1]}
            mapfile -t w < <(workers_of "$pid")
            kib[$proxy]=$(idle_run "$port" "$kind" "${w[@]}")
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        done
        local label="tcp (no byte sent)"
        if [ "$kind" = http ]; then
            label="http (keep-alive, 1 request)"
        fi
        printf '%-30s %10s %10s %10s\n' "$label" "${kib[nbproxy]}" "${kib[haproxy]}" \
            "$(ratio "${kib[nbproxy]}" "${kib[haproxy]}")"
        unset kib
    done
}

if [ "$PART" = tcp ] || [ "$PART" = all ]; then
    tcp_part
fi
if [ "$PART" = http ] || [ "$PART" = all ]; then
    http_part
fi
if [ "$PART" = idle ] || [ "$PART" = all ]; then
    idle_part
fi
