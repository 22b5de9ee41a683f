#!/bin/sh
# Fetches the kernel for the boot test (tests/boot.rs): Debian's current
# linux-image-<version>-amd64, the package linux-image-amd64 depends on, downloaded with
# apt-get download and unpacked with dpkg -x under target/boot/ (never installed). Cached:
# a version already unpacked is reused. Prints the kernel's path on stdout.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dest="${SVBOX_BOOT_DIR:-$top/target/boot}"
mkdir -p "$dest"

# Several test processes may call this at once: one fetches, the others wait for it.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dest/.lock"
    flock 9
fi

resolve() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

pkg=$(resolve)
if [ -z "$pkg" ]; then
    apt-get update >/dev/null 2>&1 || true
    pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
    # No package lists (offline): fall back to the newest kernel already unpacked.
    kernel=$(find "$dest" -path '*/kernel/*/boot/vmlinuz-*' 2>/dev/null | sort | tail -n 1)
    if [ -n "$kernel" ]; then
        echo "$kernel"
        exit 0
    fi
    echo "fetch-kernel.sh: cannot resolve linux-image-amd64's kernel package" >&2
    exit 1
fi

root="$dest/kernel/$pkg"
if [ ! -e "$root/.done" ]; then
    work=$(mktemp -d "$dest/.fetch.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || {
        apt-get update >/dev/null 2>&1 || true
        (cd "$work" && apt-get download "$pkg" >/dev/null)
    }
    rm -rf "$root"
    mkdir -p "$root"
    # Only the kernel image is needed: the modules are not (serial, initramfs and ACPI
    # power-off are built in), so they are not kept.
    dpkg -x "$work/${pkg}"_*.deb "$work/x"
    mkdir -p "$root/boot"
    cp "$work"/x/boot/vmlinuz-* "$root/boot/"
    : >"$root/.done"
fi
kernel=$(find "$root/boot" -name 'vmlinuz-*' | head -n 1)
[ -n "$kernel" ] || { echo "fetch-kernel.sh: no vmlinuz in $pkg" >&2; exit 1; }
echo "$kernel"
