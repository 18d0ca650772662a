#!/bin/sh
# Checks the units with `systemd-analyze verify` (about a second). The binary need not be
# installed: ExecStart is pointed at /bin/true in a scratch copy. Skips where systemd is absent.
#   systemd/verify.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found; skipping unit verification" >&2
    exit 0
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for unit in secret-agent.service secret-agent@.service; do
    sed 's|/usr/local/bin/secret-agent|/bin/true|' "$here/$unit" > "$scratch/$unit"
done
cd "$scratch"
# verify exits 0 on unknown keys and bad values, so any message at all is a failure.
if ! out=$(systemd-analyze verify ./secret-agent.service ./secret-agent@ci.service 2>&1) || [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    exit 1
fi
echo "systemd units verified: secret-agent.service, secret-agent@.service"
