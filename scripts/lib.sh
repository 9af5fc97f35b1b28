# shellcheck shell=bash
# Helpers shared by scripts/demo.sh and scripts/bench.sh (sourced, not run).

# True if something accepts TCP connections on 127.0.0.1:$1.
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
