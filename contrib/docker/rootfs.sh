#!/bin/sh
# SPDX-License-Identifier: MIT
# Assembles in DEST the whole root of envinject's FROM-scratch image:
#   rootfs.sh DEST [BINARY]
# BINARY (default: envinject from PATH) becomes DEST/envinject, beside
#   - every shared library it links (ldd), and the ones it dlopens with
#     their own dependencies: libcurl.so.4 (every remote provider) and
#     libcrypto.so.3 (dotenvx decryption, LaunchDarkly);
#   - the dynamic loader, at the path the binary names;
#   - /etc/ssl/certs/ca-certificates.crt (https), /etc/nsswitch.conf
#     ("hosts: files dns": glibc 2.34 and later has both built in, so no
#     libnss_* module is needed; the container runtime provides
#     /etc/hosts and /etc/resolv.conf);
#   - an empty /tmp (mode 1777).
# Nothing else: no shell, no /bin.  contrib/docker/Dockerfile runs this
# script in its build stage and copies DEST whole into the scratch stage;
# tests/integration/rootfs.sh runs it and envinject inside with chroot.
# Libraries keep the path ldd resolved them to (symbolic links followed:
# each file is copied under the name the loader looks for).
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: rootfs.sh DEST [BINARY]" >&2
    exit 64
fi
dest=$1
bin=${2:-$(command -v envinject || true)}
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "rootfs.sh: no envinject binary (give its path as BINARY)" >&2
    exit 66
fi
ca=/etc/ssl/certs/ca-certificates.crt
[ -r "$ca" ] || { echo "rootfs.sh: $ca is missing (ca-certificates)" >&2; exit 69; }

# where the loader would find a library by soname (ldconfig's cache)
find_lib() {
    ldconfig -p | awk -v n="$1" '$1 == n && /x86-64|AArch64|64bit/ { print $NF; exit }
                                 $1 == n { f = $NF } END { if (f) print f }' | head -n 1
}

# absolute paths of the libraries and loader that FILE needs, FILE too
closure() {
    echo "$1"
    # "libx.so => /path (addr)", or the loader: "/lib64/ld-... (addr)"
    ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

list=$(mktemp)
trap 'rm -f "$list"' EXIT
closure "$bin" >"$list"
for soname in libcurl.so.4 libcrypto.so.3; do
    lib=$(find_lib "$soname")
    if [ -z "$lib" ]; then
        echo "rootfs.sh: $soname not found (ldconfig -p)" >&2
        exit 69
    fi
    closure "$lib" >>"$list"
done

mkdir -p "$dest/etc/ssl/certs" "$dest/tmp"
chmod 1777 "$dest/tmp"
cp -L "$bin" "$dest/envinject"
sort -u "$list" | while read -r lib; do
    [ "$lib" = "$bin" ] && continue
    mkdir -p "$dest${lib%/*}"
    cp -L "$lib" "$dest$lib"
done
cp -L "$ca" "$dest$ca"
printf 'hosts: files dns\n' >"$dest/etc/nsswitch.conf"
