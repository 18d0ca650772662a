#!/usr/bin/env bash
# Prints the `swift build` arguments of the release binary as it ships, one a line (scripts/install.sh,
# examples/Dockerfile through it, and Benchmarks/run.sh build with exactly these):
#
#   -c release --static-swift-stdlib   the Swift runtime linked in
#   -Osize                             smaller than -O and no slower to the child (BENCHMARKS.md)
#   lld, --no-export-dynamic, --gc-sections
#                                      no exported Swift symbol table; what only the export kept is dropped
#   libstdc++ and libz linked in statically (from .build/static-libs, symlinks made here to the
#   toolchain's archives when they exist): only what the runtime uses of them, and two shared
#   libraries fewer to map at start (left: glibc and libgcc_s; a static libgcc would need
#   glibc 2.35's _dl_find_object)
#
# Still a position-independent executable (ASLR). No DT_RELR (-z pack-relative-relocs): it needs
# glibc 2.36, which RHEL 9, Amazon Linux 2023 and Ubuntu 22.04 lack; the binary runs on glibc 2.34
# and later (Sources/CSecretAgent/glibc-compat.c).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
libs=$root/.build/static-libs
mkdir -p "$libs"
for lib in libstdc++.a libz.a; do
    path=$(clang -print-file-name="$lib" 2>/dev/null || true)
    case "$path" in
        /*) ln -sf "$path" "$libs/$lib" ;;
        *) rm -f "$libs/$lib" ;; # not installed: the shared library is linked instead
    esac
done
printf '%s\n' -c release --static-swift-stdlib -Xswiftc -Osize -Xswiftc -use-ld=lld \
    -Xlinker --no-export-dynamic -Xlinker --gc-sections \
    -Xlinker -L"$libs"
