#!/usr/bin/env bash
# The whole file system of the secret-agent image, built into DEST: the stripped binary, the
# shared libraries it needs (what `ldd` names: glibc and its loader, and libgcc_s — the Swift
# runtime, libstdc++ and zlib are linked in statically), the system CA bundle, and passwd/group entries for
# the non-root user 65532. examples/Dockerfile copies DEST into a `scratch` image, so the image
# is exactly these files; run here, the last line is the image's size.
#
#   scripts/rootfs.sh .build/release/secret-agent /tmp/rootfs
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/rootfs.sh BINARY DEST" >&2; exit 64; }
binary=$1 dest=$2
[ -x "$binary" ] || { echo "rootfs.sh: $binary is not an executable" >&2; exit 66; }
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] || { echo "rootfs.sh: no CA bundle at $ca (install ca-certificates, or set CA_BUNDLE)" >&2; exit 69; }

install -d -m 0755 "$dest/usr/local/bin" "$dest/etc/ssl/certs"
install -d -m 1777 "$dest/tmp"
install -m 0755 "$binary" "$dest/usr/local/bin/secret-agent"
strip "$dest/usr/local/bin/secret-agent"
# Each library at the path the binary looks it up by (the loader at its PT_INTERP path).
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
    install -D -m 0755 "$(readlink -f "$lib")" "$dest$lib"
done
install -m 0644 "$ca" "$dest/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' > "$dest/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$dest/etc/group"
chmod 0644 "$dest/etc/passwd" "$dest/etc/group"
echo "image size: $(du -sb "$dest" | cut -f1) bytes ($(du -sh "$dest" | cut -f1)) in $(find "$dest" -type f | wc -l) files"
