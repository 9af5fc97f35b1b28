#!/usr/bin/env bash
# Build nbproxy, start two demo backends and nbproxy on etc/demo.cfg, all in the foreground.
# Ctrl-C stops everything. Loopback only: 127.0.0.1:8080 (nbproxy), :8081 (web01), :8082 (web02).
set -euo pipefail

cd "$(dirname "$0")/.."

CFG=etc/demo.cfg
FRONT=8080
BACKENDS=("8081 web01" "8082 web02")

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

for port in "$FRONT" 8081 8082; do
    if listening "$port"; then
        echo "demo: 127.0.0.1:$port is already in use; stop whatever listens there and try again" >&2
        exit 1
    fi
done

echo "demo: building (cargo build --release --bin nbproxy --examples) ..."
cargo build --release --bin nbproxy --examples

pids=()
# shellcheck disable=SC2317  # invoked by the traps below
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    echo "demo: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for b in "${BACKENDS[@]}"; do
    read -r port name <<<"$b"
    target/release/examples/demo_backend "$port" "$name" &
    pids+=("$!")
    if ! wait_port "$port" "$!"; then
        echo "demo: backend $name did not start on 127.0.0.1:$port" >&2
        exit 1
    fi
done

target/release/nbproxy -db -f "$CFG" &
nbproxy_pid=$!
pids+=("$nbproxy_pid")

if ! wait_port "$FRONT" "$nbproxy_pid"; then
    echo "demo: nbproxy did not start listening on 127.0.0.1:$FRONT (see its messages above)" >&2
    exit 1
fi

cat <<MSG

  nbproxy is running (pid $nbproxy_pid, master; config $CFG), in front of
    web01  127.0.0.1:8081
    web02  127.0.0.1:8082

  Connect:   curl http://127.0.0.1:$FRONT/      (run it a few times: web01 and web02 alternate)
  Logs:      one tcplog line per connection, printed here ("log stdout" in $CFG)
  Reload:    kill -USR2 $nbproxy_pid   (re-reads $CFG; no connection refused)
  Stop:      Ctrl-C (stops nbproxy and both backends)

MSG

# Returns when nbproxy exits, or at once on Ctrl-C (the traps then run cleanup).
set +e
wait "$nbproxy_pid"
status=$?
set -e
echo "demo: nbproxy exited with status $status"
exit "$status"
