#!/bin/sh
# Fetches the Debian peers the interoperability tests and benchmarks run against
# (runit 2.1.2, daemontools 0.76, s6) and unpacks them under target/peers/ with dpkg -x.
# Never installs them. Idempotent: a package already unpacked is skipped.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dest="${SVBOX_PEERS:-$top/target/peers}"
mkdir -p "$dest"
cd "$dest"

# Several test processes may call this at once: one fetches, the others wait for it.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dest/.lock"
    flock 9
fi

need=""
for pkg in runit daemontools s6 libskarnet2.13 libs6-2.11; do
    [ -e "$dest/.$pkg.done" ] || need="$need $pkg"
done
[ -n "$need" ] || exit 0

work=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
# shellcheck disable=SC2086 # the package list is meant to split
if ! apt-get download $need >/dev/null 2>&1; then
    apt-get update >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    apt-get download $need >/dev/null
fi
for pkg in $need; do
    case $pkg in
        runit | daemontools) root="$dest/$pkg" ;;
        *) root="$dest/s6" ;;
    esac
    mkdir -p "$root"
    dpkg -x "$work/${pkg}"_*.deb "$root"
    : >"$dest/.$pkg.done"
done
for prog in runit/usr/bin/sv runit/usr/bin/runsv daemontools/usr/bin/svstat s6/usr/bin/s6-svstat; do
    [ -x "$dest/$prog" ] || { echo "fetch.sh: $dest/$prog missing after unpacking" >&2; exit 1; }
done
