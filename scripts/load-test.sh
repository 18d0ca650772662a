#!/usr/bin/env bash
# The long load test (issue 8): an agent with 1,000 references and a 1 s poll against a moto of
# its own for LOAD_MINUTES (default 10), while a writer rotates one value every 3 s. Passes when
# memory stays flat, no file descriptor leaks and every rotation reaches the file. The result
# table replaces the "Last load-test result" section of RELIABILITY.md.
#
#   scripts/load-test.sh               # 10 minutes
#   LOAD_MINUTES=1 scripts/load-test.sh
#
# Starts the test servers (moto, OpenBao) when TEST_SERVERS_DIR has none running, and stops
# what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
minutes=${LOAD_MINUTES:-10}
export TEST_SERVERS_DIR=${TEST_SERVERS_DIR:-$root/.test-servers}
started=0
if [ ! -f "$TEST_SERVERS_DIR/env" ] || ! kill -0 "$(cat "$TEST_SERVERS_DIR/moto.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
  scripts/test-servers.sh start
  started=1
fi
cleanup() { if [ $started = 1 ]; then scripts/test-servers.sh stop; fi; }
trap cleanup EXIT
# shellcheck disable=SC1091
. "$TEST_SERVERS_DIR/env"
export SECRET_AGENT_REQUIRE_SERVERS=1 SECRET_AGENT_LOAD_MINUTES=$minutes
mkdir -p .build-load
report=$root/.build-load/last-result.md
rm -f "$report"
export SECRET_AGENT_LOAD_REPORT=$report
swift build --build-tests
set +e
swift test --skip-build --filter 'ReliabilityLoadTests' 2>&1 | tee .build-load/last-run.log
status=${PIPESTATUS[0]}
set -e
if [ -f "$report" ]; then
  verdict=passed
  [ "$status" -eq 0 ] || verdict="FAILED (see .build-load/last-run.log)"
  python3 - "$report" "$verdict" "$minutes" <<'EOF'
import re, sys
report, verdict, minutes = open(sys.argv[1]).read().strip(), sys.argv[2], sys.argv[3]
path = "RELIABILITY.md"
text = open(path).read()
block = (f"<!-- load-result:begin -->\n`LOAD_MINUTES={minutes} scripts/load-test.sh`: **{verdict}** "
         f"(debug build, 2 shared cores).\n\n{report}\n<!-- load-result:end -->")
text = re.sub(r"<!-- load-result:begin -->.*?<!-- load-result:end -->", lambda _: block, text, flags=re.S)
open(path, "w").write(text)
EOF
  echo "load-test: $verdict; RELIABILITY.md updated" >&2
fi
exit "$status"
