#!/bin/sh
# Installs nbproxy: the binary, its man pages and, with --layout seed, the seed's tree and sample config.
#
#   scripts/install.sh [--prefix DIR] [--layout seed] [--no-build] [--bin PATH]
#
#   --prefix DIR    where to install (default /usr/local)
#   --layout seed   also make the seed's tree under DIR (sbin conf logs var/run var/chroot), put the sample
#                   config at DIR/conf/nbproxy.cfg with its paths rewritten to DIR, install the init script,
#                   systemd unit and logrotate snippet (same rewrite) under DIR/share/nbproxy/, and, when run as
#                   root, create the `nbproxy` system user (no login shell, no home) if it is missing
#   --no-build      do not run `cargo build --release`; install target/release/nbproxy as it is
#   --bin PATH      install this binary instead of building one (implies --no-build)
#
# Installs DIR/sbin/nbproxy, DIR/share/man/man1/nbproxy.1 and DIR/share/man/man5/nbproxy.cfg.5.
# Idempotent: running it again replaces the binary and man pages (atomically, so a running nbproxy is not
# disturbed) but keeps an existing DIR/conf/nbproxy.cfg. Prints what it did.
# The seed's own install is `--prefix /application/nbproxy --layout seed`.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
SEED_PREFIX=/application/nbproxy
PREFIX=/usr/local
LAYOUT=
BUILD=1
BIN=

usage() {
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "install: $*" >&2
    exit 1
}

say() {
    echo "install: $*"
}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix)
            [ $# -ge 2 ] || die "--prefix needs a directory"
            PREFIX=$2
            shift 2
            ;;
        --prefix=*)
            PREFIX=${1#--prefix=}
            shift
            ;;
        --layout)
            [ $# -ge 2 ] || die "--layout needs a name (seed)"
            LAYOUT=$2
            shift 2
            ;;
        --layout=*)
            LAYOUT=${1#--layout=}
            shift
            ;;
        --no-build)
            BUILD=0
            shift
            ;;
        --bin)
            [ $# -ge 2 ] || die "--bin needs a path"
            BIN=$2
            BUILD=0
            shift 2
            ;;
        --bin=*)
            BIN=${1#--bin=}
            BUILD=0
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
    esac
done

case $LAYOUT in
    '' | seed) ;;
    *) die "unknown layout '$LAYOUT' (only 'seed')" ;;
esac
[ -n "$PREFIX" ] || die "empty --prefix"
case $PREFIX in
    /*) ;;
    *) PREFIX=$(pwd)/$PREFIX ;;
esac
# No trailing slash, so that rewritten paths read DIR/conf rather than DIR//conf.
while [ "$PREFIX" != / ] && [ "${PREFIX%/}" != "$PREFIX" ]; do
    PREFIX=${PREFIX%/}
done

if [ "$BUILD" = 1 ]; then
    say "building: cargo build --release --bin nbproxy"
    (cd "$SRC" && cargo build --release --bin nbproxy)
fi
if [ -z "$BIN" ]; then
    BIN=$SRC/target/release/nbproxy
fi
if [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
    die "no executable at $BIN (build it, or pass --bin PATH)"
fi

# make_dir DIR [MODE]
make_dir() {
    if [ -d "$1" ]; then
        return 0
    fi
    mkdir -p "$1"
    [ -z "${2-}" ] || chmod "$2" "$1"
    say "created $1"
}

# put SRC DEST MODE: copy next to DEST, then rename over it (a running binary is replaced, not overwritten).
put() {
    tmp="$(dirname "$2")/.$(basename "$2").new.$$"
    cp "$1" "$tmp"
    chmod "$3" "$tmp"
    mv -f "$tmp" "$2"
    say "installed $2"
}

# The seed's paths in a shipped file, rewritten to the prefix (for sed: escape \ & and the # delimiter).
rewrite() {
    esc=$(printf '%s\n' "$PREFIX" | sed 's/[\\&#]/\\&/g')
    sed "s#$SEED_PREFIX#$esc#g" "$1"
}

# put_rewritten SRC DEST MODE
put_rewritten() {
    tmp="$(dirname "$2")/.$(basename "$2").new.$$"
    rewrite "$1" >"$tmp"
    chmod "$3" "$tmp"
    mv -f "$tmp" "$2"
    say "installed $2"
}

make_dir "$PREFIX/sbin"
make_dir "$PREFIX/share/man/man1"
make_dir "$PREFIX/share/man/man5"
put "$BIN" "$PREFIX/sbin/nbproxy" 755
put "$SRC/man/nbproxy.1" "$PREFIX/share/man/man1/nbproxy.1" 644
put "$SRC/man/nbproxy.cfg.5" "$PREFIX/share/man/man5/nbproxy.cfg.5" 644

if [ "$LAYOUT" = seed ]; then
    make_dir "$PREFIX/conf"
    make_dir "$PREFIX/logs"
    make_dir "$PREFIX/var/run"
    # The workers' chroot: empty, not writable by them.
    make_dir "$PREFIX/var/chroot" 755
    if [ -e "$PREFIX/conf/nbproxy.cfg" ]; then
        say "kept existing $PREFIX/conf/nbproxy.cfg"
    else
        put_rewritten "$SRC/etc/nbproxy.cfg" "$PREFIX/conf/nbproxy.cfg" 644
    fi
    make_dir "$PREFIX/share/nbproxy/init.d"
    make_dir "$PREFIX/share/nbproxy/systemd"
    make_dir "$PREFIX/share/nbproxy/logrotate.d"
    put_rewritten "$SRC/etc/init.d/nbproxy" "$PREFIX/share/nbproxy/init.d/nbproxy" 755
    put_rewritten "$SRC/etc/systemd/nbproxy.service" "$PREFIX/share/nbproxy/systemd/nbproxy.service" 644
    put_rewritten "$SRC/etc/logrotate.d/nbproxy" "$PREFIX/share/nbproxy/logrotate.d/nbproxy" 644

    if [ "$(id -u)" != 0 ]; then
        say "not root: not creating the nbproxy user (the sample config runs the workers as user nbproxy)"
    elif id -u nbproxy >/dev/null 2>&1; then
        say "user nbproxy exists"
    else
        nologin=/sbin/nologin
        [ -x "$nologin" ] || nologin=/usr/sbin/nologin
        # Retried briefly: another install running at the same time may hold the passwd lock or win the race.
        tries=5
        while ! id -u nbproxy >/dev/null 2>&1; do
            if getent group nbproxy >/dev/null 2>&1; then
                set -- -g nbproxy
            else
                set --
            fi
            if useradd -r "$@" -s "$nologin" -M nbproxy; then
                say "created system user nbproxy (shell $nologin, no home)"
                break
            fi
            tries=$((tries - 1))
            [ "$tries" -gt 0 ] || die "could not create user nbproxy"
            sleep 1
        done
    fi
    say "to run it at boot: copy $PREFIX/share/nbproxy/init.d/nbproxy to /etc/init.d/ (or"
    say "  systemd/nbproxy.service to /etc/systemd/system/) and logrotate.d/nbproxy to /etc/logrotate.d/"
fi
if [ "$LAYOUT" = seed ]; then
    say "done: check the config with $PREFIX/sbin/nbproxy -c -f $PREFIX/conf/nbproxy.cfg"
else
    say "done"
fi
