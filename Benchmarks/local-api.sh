#!/usr/bin/env bash
# The local secrets API under load: cached reads per second with the agent pinned to one core, and
# latency percentiles (p50, p99), for /secretsmanager/get and /systemsmanager/parameters/get;
# beside them the same read asked of moto directly (GetSecretValue, what every read costs without
# a cache). Prints a Markdown table for BENCHMARKS.md.
#
#   Benchmarks/local-api.sh                       # .build/release/secret-agent if built, else .build/debug
#   AGENT=/usr/local/bin/secret-agent Benchmarks/local-api.sh
#   DURATION=20s CONNECTIONS=32 Benchmarks/local-api.sh
#
# Needs: wrk (Debian: apt-get install wrk), taskset (util-linux), curl, and moto in .venv/ as
# scripts/test-servers.sh installs it. The agent runs on CPU 0, wrk on CPU 1 (AGENT_CPU, LOAD_CPU).
# Everything started here is stopped by PID when the script ends, however it ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
agent_cpu=${AGENT_CPU:-0}
load_cpu=${LOAD_CPU:-1}
agent=${AGENT:-}
if [ -z "$agent" ]; then
  if [ -x "$root/.build/release/secret-agent" ]; then agent=$root/.build/release/secret-agent; else agent=$root/.build/debug/secret-agent; fi
fi
[ -x "$agent" ] || { echo "local-api.sh: no agent binary at $agent (swift build first, or set AGENT)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "local-api.sh: wrk is missing (Debian: apt-get install wrk)" >&2; exit 1; }
[ -x "$venv/bin/moto_server" ] || { echo "local-api.sh: moto is missing: run scripts/test-servers.sh start once" >&2; exit 1; }

work=$(mktemp -d /dev/shm/secret-agent-bench-api.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "local-api.sh: $1 did not answer" >&2; return 1; }

moto_port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
moto=http://127.0.0.1:$moto_port
wait_http "$moto/moto-api/"
AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench "$venv/bin/python" - <<PY
import boto3, json
sm = boto3.client("secretsmanager", endpoint_url="$moto", region_name="us-east-1")
sm.create_secret(Name="bench/api/db", SecretString=json.dumps({"user": "bench", "password": "bench-" + "x" * 40}))
ssm = boto3.client("ssm", endpoint_url="$moto", region_name="us-east-1")
ssm.put_parameter(Name="/bench/api/url", Value="https://db.example:5432/app", Type="SecureString")
PY

api_port=$(free_port)
ops_port=$(free_port)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
cat >"$work/agent.yaml" <<YAML
poll: 5m
output_dir: $work/out
serve:
  address: 127.0.0.1:$api_port
templates:
  - contents: "{{ sm:bench/api/db#user }} {{ ssm:/bench/api/url }}"
    destination: app.conf
YAML
# A clean environment: an inherited variable holding an ARN would be resolved for the child.
env -i PATH="$PATH" HOME="$work" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
  AWS_ENDPOINT_URL="$moto" AWS_EC2_METADATA_DISABLED=true AWS_TOKEN="$token" taskset -c "$agent_cpu" "$agent" run --config "$work/agent.yaml" --listen "127.0.0.1:$ops_port" \
  --log-level warning 2>"$work/agent.log" &
agent_pid=$!
pids+=("$agent_pid")
for _ in $(seq 1 300); do [ -f "$work/out/app.conf" ] && break; sleep 0.1; done
[ -f "$work/out/app.conf" ] || { echo "local-api.sh: the agent did not start:" >&2; cat "$work/agent.log" >&2; exit 1; }

api=http://127.0.0.1:$api_port
header="X-Aws-Parameters-Secrets-Token: $token"
sm_path="/secretsmanager/get?secretId=bench/api/db"
ssm_path="/systemsmanager/parameters/get?name=/bench/api/url&withDecryption=true"
for path in "$sm_path" "$ssm_path"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$api$path")" = 200 ] || { echo "local-api.sh: $path did not answer 200" >&2; exit 1; }
done
calls_before=$(curl -s "http://127.0.0.1:$ops_port/metrics" | awk '/^secret_agent_api_calls_total/ {s += $NF} END {print s + 0}')

# The agent's CPU time so far, in clock ticks (user + system).
ticks() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
hz=$(getconf CLK_TCK)

# wrk's summary → "label requests/s p50 p99 non-2xx reads-per-agent-CPU-second" (latencies in ms).
measure() { # label, wrk args…
  local out label=$1 before after
  shift
  before=$(ticks)
  out=$(taskset -c "$load_cpu" wrk -t1 -c"$connections" -d"$duration" --latency "$@")
  after=$(ticks)
  echo "$out" >"$work/wrk-$label.txt"
  awk -v label="$label" -v cpu="$(( after - before ))" -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /requests in/ { total = $1 } /Non-2xx/ { bad = $NF }
    END { printf "%s %.0f %.3f %.3f %d %s\n", label, rps, p50, p99, bad + 0, (cpu > 0 ? sprintf("%.0f", total / (cpu / hz)) : "-") }' <<<"$out"
}

results=()
results+=("$(measure sm -H "$header" "$api$sm_path")")
results+=("$(measure ssm -H "$header" "$api$ssm_path")")
cat >"$work/direct.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"SecretId": "bench/api/db"}'
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "secretsmanager.GetSecretValue"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"
LUA
results+=("$(measure direct -s "$work/direct.lua" "$moto/")")
calls_after=$(curl -s "http://127.0.0.1:$ops_port/metrics" | awk '/^secret_agent_api_calls_total/ {s += $NF} END {print s + 0}')
metrics=$(curl -s "http://127.0.0.1:$ops_port/metrics")
hits=$(awk '/^secret_agent_local_api_hits_total/ {s += $NF} END {print s + 0}' <<<"$metrics")

cpu=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
echo
echo "## Local API load run — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Agent: \`$(basename "$(dirname "$agent")")\` build ($("$agent" --version 2>/dev/null || echo unknown)), pinned to CPU $agent_cpu; wrk 1 thread, $connections keep-alive connections, $duration each, on CPU $load_cpu; $cpu, $(nproc) CPUs, shared."
echo
echo "| read | requests/s | p50 ms | p99 ms | non-2xx | reads per agent CPU-second |"
echo "|---|---:|---:|---:|---:|---:|"
for line in "${results[@]}"; do
  read -r label rps p50 p99 bad per_cpu <<<"$line"
  case $label in
    sm) name="local API \`/secretsmanager/get\` (cached)" ;;
    ssm) name="local API \`/systemsmanager/parameters/get\` (cached, decrypted)" ;;
    direct) name="moto directly, \`GetSecretValue\` (no cache)"; per_cpu="(moto)" ;;
  esac
  echo "| $name | $rps | $p50 | $p99 | $bad | $per_cpu |"
done
echo
echo "Backend calls the agent made during the local API runs: $((calls_after - calls_before)) (cache hits counted: $hits)."
