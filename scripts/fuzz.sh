#!/usr/bin/env bash
# Bounded libFuzzer runs of secret-agent's parsers (issue 8).
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]     # default 60 s for each of: reference template json filters config
#
# reference, template, json and filters are Tests/Fuzz/<target>.swift + Tests/Fuzz/Common.swift
# compiled together with the SecretTemplate sources (no dependencies) with
# `-sanitize=fuzzer,address` into .build-fuzz/. config is Tests/Fuzz/config.swift compiled with
# SecretAgentCore's sources (less LogHandler.swift, which needs swift-log), the system's libyaml
# (libyaml-dev) and SecretTemplate as a module.
# The checked-in corpus Tests/Fuzz/corpus/<target>/ is read, never written: new inputs go to
# .build-fuzz/corpus/<target>/ (FUZZ_UPDATE_CORPUS=1 merges the interesting ones back, minimised).
# A crash leaves .build-fuzz/artifacts/<target>/crash-*; turn it into a test in
# Tests/SecretTemplateTests/FuzzRegressionTests.swift. Exit status: 0 when no target crashed.
#
# Environment: FUZZ_JOBS (parallel jobs per target, default 1), FUZZ_MAX_LEN (default 4096),
# FUZZ_CONFIGURATION (debug | release, default release: -O finds more per second).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(reference template json filters config)
out=.build-fuzz
mkdir -p "$out"
opt=-O
[ "${FUZZ_CONFIGURATION:-release}" = debug ] && opt=-Onone

build_config() {
  local binary=$out/fuzz-config dir=$out/config
  local core; core=$(ls Sources/SecretAgentCore/*.swift | grep -v -e /LogHandler.swift -e /APICalls.swift)
  # shellcheck disable=SC2086
  if [ -x "$binary" ] && [ -z "$(find $core Sources/SecretTemplate Tests/Fuzz/config.swift -newer "$binary" 2>/dev/null | head -1)" ]; then return 0; fi
  echo "fuzz: building config (libyaml, SecretTemplate, SecretAgentCore)" >&2
  mkdir -p "$dir/mods"
  swiftc -parse-as-library -module-name SecretTemplate -emit-module -emit-module-path "$dir/mods/SecretTemplate.swiftmodule" \
    -sanitize=fuzzer,address $opt -wmo -c Sources/SecretTemplate/*.swift -o "$dir/template.o"
  # The system's libyaml.a (Debian's libyaml-dev) is linked as it is: the Swift reader on top of
  # it (YAML.swift: composition, duplicate keys, aliases) and the configuration schema are
  # instrumented; libyaml's own C is not.
  # shellcheck disable=SC2086
  swiftc -parse-as-library -module-name SecretAgentCore -I "$dir/mods" -I Sources/CYAML \
    -sanitize=fuzzer,address $opt -g $core Tests/Fuzz/config.swift "$dir/template.o" -Xlinker -l:libyaml.a -o "$binary" \
    2> >(grep -v "Cannot export local symbol" >&2)
}

build() { # target
  local target=$1 binary=$out/fuzz-$1
  if [ "$target" = config ]; then build_config; return; fi
  local sources=(Sources/SecretTemplate/*.swift Tests/Fuzz/Common.swift "Tests/Fuzz/$target.swift")
  # Rebuild only when a source is newer than the binary.
  if [ -x "$binary" ] && [ -z "$(find "${sources[@]}" -newer "$binary" 2>/dev/null | head -1)" ]; then return 0; fi
  echo "fuzz: building $target" >&2
  swiftc -parse-as-library -sanitize=fuzzer,address $opt -g -module-name SecretTemplate \
    "${sources[@]}" -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
}

summary=()
status=0
for target in "${targets[@]}"; do
  build "$target"
  mkdir -p "$out/corpus/$target" "$out/artifacts/$target" "Tests/Fuzz/corpus/$target"
  log=$out/$target.log
  dict=()
  [ -f "Tests/Fuzz/$target.dict" ] && dict=(-dict="$root/Tests/Fuzz/$target.dict")
  echo "fuzz: $target for ${seconds}s" >&2
  jobs=()
  [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
  rm -f "$out/artifacts/$target"/*
  set +e
  # Swift's own crash backtracer would read the stack under ASan; libFuzzer reports instead.
  (cd "$out" && SWIFT_BACKTRACE=enable=no "./fuzz-$target" "corpus/$target" "$root/Tests/Fuzz/corpus/$target" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-4096}" -timeout=10 -rss_limit_mb=2048 \
    "${jobs[@]}" -print_final_stats=1 -artifact_prefix="artifacts/$target/") >"$log" 2>&1
  rc=$?
  set -e
  # With -jobs the per-job logs are fuzz-N.log in the working directory (.build-fuzz).
  if [ ${#jobs[@]} -gt 0 ]; then cat "$out"/fuzz-*.log >>"$log" 2>/dev/null || true; rm -f "$out"/fuzz-*.log; fi
  execs=$( (grep -h 'stat::number_of_executed_units' "$log" || true) | awk '{s+=$2} END {print s+0}')
  cov=$( (grep -ho 'cov: [0-9]*' "$log" || true) | tail -1 | awk '{print $2}')
  crashes=$(find "$out/artifacts/$target" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
  if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
    status=1
    echo "fuzz: $target FAILED (exit $rc); see $log and $out/artifacts/$target/" >&2
    grep -m1 -A12 'ERROR: \|==ERROR\|Fatal error\|property violated' "$log" >&2 || true
  fi
  if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
    "$out/fuzz-$target" -merge=1 "Tests/Fuzz/corpus/$target" "$out/corpus/$target" >>"$log" 2>&1 || true
  fi
  summary+=("$target: ${execs:-0} executions, coverage ${cov:-?}, $(ls "Tests/Fuzz/corpus/$target" | wc -l) corpus files, $crashes findings")
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $status
