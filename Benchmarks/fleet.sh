#!/usr/bin/env bash
# The fleet simulation (issue 16): N agents (default 200) started at the same instant against
# moto behind a loopback proxy enforcing per-API quotas (40/s SSM, 50/s Secrets Manager), with
# `aws.retry_mode: adaptive` and then `standard`; prints Markdown tables (see BENCHMARKS.md).
#
#   Benchmarks/fleet.sh                      # build release, then both modes with 200 agents
#   SKIP_BUILD=1 Benchmarks/fleet.sh         # use the existing .build/release/secret-agent
#   AGENT=.build/debug/secret-agent Benchmarks/fleet.sh --agents 20 --modes adaptive
#
# Extra arguments go to fleet.py (--agents, --ssm, --sm, --ssm-rate, --sm-rate, --start-timeout,
# --poll, --poll-intervals, --modes, --json). Bounded: at most 1000 agents, a 300 s start timeout
# and a 600 s poll window. Every process it starts is stopped by PID when it ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=$root/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import moto.server, boto3' 2>/dev/null || [ ! -x "$venv/bin/moto_server" ]; then
  "$venv/bin/pip" install --quiet 'moto[server]'
fi
agent=${AGENT:-$root/.build/release/secret-agent}
if [ -z "${AGENT:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
  # The release flags scripts/install.sh ships with (one list: scripts/release-flags.sh).
  mapfile -t build_flags < <("$root/scripts/release-flags.sh")
  swift build "${build_flags[@]}" --product secret-agent >&2
fi
[ -x "$agent" ] || { echo "fleet.sh: $agent is missing (run without SKIP_BUILD=1)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true
exec "$venv/bin/python" "$root/Benchmarks/fleet.py" --agent "$agent" "$@"
