#!/usr/bin/env python3
"""The fleet simulation: N agent processes started at the same instant against moto behind a
loopback proxy that enforces per-API token-bucket quotas (scripts/throttle-proxy.py), once per
retry mode. Reports, per mode: agents started within the start timeout, the time to the last
start against the quota's theoretical minimum, API calls made against calls needed (throttled
included), then the fleet's poll traffic over a few poll intervals. Prints Markdown.

Run through Benchmarks/fleet.sh. Every process it starts is stopped by PID when it ends.
"""
import argparse, json, math, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SSM_TARGETS = "AmazonSSM.GetParameters,AmazonSSM.GetParameter,AmazonSSM.GetParametersByPath"
SM_TARGETS = "secretsmanager.BatchGetSecretValue,secretsmanager.GetSecretValue"
started_procs = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def wait_port(port, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close(); return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"fleet: {what} did not start")

def spawn(args, **kw):
    p = subprocess.Popen(args, **kw); started_procs.append(p); return p

def stop(procs, timeout=10):
    for p in procs:
        if p.poll() is None:
            try: p.send_signal(signal.SIGTERM)
            except ProcessLookupError: pass
    end = time.time() + timeout
    for p in procs:
        try: p.wait(max(0.1, end - time.time()))
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()

def stats(proxy):
    with urllib.request.urlopen(f"http://127.0.0.1:{proxy}/__stats", timeout=10) as r: return json.load(r)

def reset(proxy):
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{proxy}/__reset", data=b"", method="POST"), timeout=10).read()

def api_totals(s):
    out = {}
    for target, c in s.items():
        if target == "timeline": continue
        api = "ssm" if target.startswith("AmazonSSM.") else "sm" if target.startswith("secretsmanager.") else "other"
        o = out.setdefault(api, {"ok": 0, "throttled": 0, "by_target": {}})
        o["ok"] += c["ok"]; o["throttled"] += c["throttled"]; o["by_target"][target] = c
    return out

def run_fleet(a, mode, env, proxy, work):
    run_dir = tempfile.mkdtemp(prefix=f"fleet-{mode}-", dir=work)
    config = os.path.join(run_dir, "agent.yaml")
    with open(config, "w") as f: f.write(f"aws:\n  retry_mode: {mode}\n")
    refs = [f"--env=P{i:02d}={{{{ ssm:/fleet/p{i:02d} }}}}" for i in range(1, a.ssm + 1)]
    refs += [f"--env=S{i:02d}={{{{ sm:fleet/s{i:02d} }}}}" for i in range(1, a.sm + 1)]
    gate = os.path.join(run_dir, "gate")
    os.mkfifo(gate)
    agents = []
    for i in range(a.agents):
        marker = os.path.join(run_dir, f"started.{i}")
        # Every agent waits on the same FIFO: opening it for writing and closing it releases all at once.
        cmd = ["sh", "-c", 'read _ < "$0" || true; shift 0; exec "$@"', gate, a.agent, "exec", "--config", config,
               "--start-timeout", f"{a.start_timeout}s", "--poll", f"{a.poll}s", *refs, "--",
               "sh", "-c", 'date +%s.%N > "$0"; exec sleep 100000', marker]
        agents.append(spawn(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(run_dir, f"agent.{i}.log"), "w")))
    time.sleep(1.0)  # every shell is blocked on the FIFO
    reset(proxy)
    t0 = time.time()
    os.close(os.open(gate, os.O_WRONLY))
    deadline = t0 + a.start_timeout + 15
    starts = {}
    while time.time() < deadline:
        for i in range(a.agents):
            if i not in starts:
                try:
                    with open(os.path.join(run_dir, f"started.{i}")) as f: starts[i] = float(f.read().strip()) - t0
                except (OSError, ValueError): pass
        failed = sum(1 for i, p in enumerate(agents) if i not in starts and p.poll() is not None)
        if len(starts) + failed == a.agents: break
        time.sleep(0.2)
    start_stats = stats(proxy)
    failed = [i for i, p in enumerate(agents) if i not in starts]
    for i in failed[:3]:  # why (the agent's log names the backend and the error, never a value)
        with open(os.path.join(run_dir, f"agent.{i}.log")) as f:
            print(f"fleet: {mode}: agent {i} did not start (status {agents[i].poll()}):\n" + "".join(f.readlines()[-5:]), file=sys.stderr)
    # Poll traffic: the fleet keeps running for a few intervals.
    reset(proxy)
    time.sleep(a.poll * a.poll_intervals)
    poll_stats = stats(proxy)
    stop(agents)
    within = sum(1 for t in starts.values() if t <= a.start_timeout)
    return {"mode": mode, "started": len(starts), "within_timeout": within, "failed": len(failed),
            "last_start": max(starts.values()) if starts else None,
            "median_start": sorted(starts.values())[len(starts) // 2] if starts else None,
            "start_calls": api_totals(start_stats), "start_timeline": start_stats.get("timeline", []),
            "poll_calls": api_totals(poll_stats), "poll_timeline": poll_stats.get("timeline", [])}

def report(a, results):
    ssm_batches = math.ceil(a.ssm / 10); sm_batches = math.ceil(a.sm / 20)
    need_ssm, need_sm = a.agents * ssm_batches, a.agents * sm_batches
    minimum = max(need_ssm / a.ssm_rate, need_sm / a.sm_rate)
    print(f"Fleet: {a.agents} agents x ({a.ssm} SSM parameters + {a.sm} Secrets Manager secrets), quotas "
          f"{a.ssm_rate:g}/s SSM GetParameter* and {a.sm_rate:g}/s Secrets Manager, start timeout {a.start_timeout}s, "
          f"poll {a.poll}s; theoretical minimum to start all: {minimum:.1f} s ({need_ssm} GetParameters calls at {a.ssm_rate:g}/s)\n")
    print("| retry mode | started within timeout | last start | last / minimum | median start | useful calls (needed) | throttled calls | throttled / useful |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["start_calls"]
        ok = sum(v["ok"] for v in c.values()); thr = sum(v["throttled"] for v in c.values())
        last = r["last_start"]
        print(f"| {r['mode']} | {r['within_timeout']} of {a.agents} | {last:.1f} s | {last / minimum:.2f}x | {r['median_start']:.1f} s | "
              f"{ok} ({need_ssm + need_sm}) | {thr} (SSM {c.get('ssm', {}).get('throttled', 0)}, SM {c.get('sm', {}).get('throttled', 0)}) | "
              f"{thr / max(ok, 1):.2f} |" if last is not None else f"| {r['mode']} | 0 of {a.agents} | - | - | - | - | - | - |")
    print("\nCalls each second from the first call the proxy saw (about 1–2 s after the release), useful/throttled, both APIs (early agents' first polls included):\n")
    for r in results:
        print(f"- {r['mode']}: " + " ".join(f"{row[1]}/{row[2]}" for row in r["start_timeline"]))
    print(f"\nPoll traffic over {a.poll_intervals} intervals of {a.poll}s after the start (calls/s: mean, busiest second):\n")
    print("| retry mode | SSM calls | SSM mean/s | SSM peak/s | SM calls | SM mean/s | throttled |")
    print("|---|---|---|---|---|---|---|")
    window = a.poll * a.poll_intervals
    for r in results:
        c = r["poll_calls"]; ssm = c.get("ssm", {"ok": 0, "throttled": 0}); sm = c.get("sm", {"ok": 0, "throttled": 0})
        peak = max((row[1] + row[2] for row in r["poll_timeline"]), default=0)
        print(f"| {r['mode']} | {ssm['ok'] + ssm['throttled']} | {(ssm['ok'] + ssm['throttled']) / window:.1f} | {peak} | "
              f"{sm['ok'] + sm['throttled']} | {(sm['ok'] + sm['throttled']) / window:.1f} | {ssm['throttled'] + sm['throttled']} |")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--ssm", type=int, default=20)
    ap.add_argument("--sm", type=int, default=10)
    ap.add_argument("--ssm-rate", type=float, default=40)
    ap.add_argument("--sm-rate", type=float, default=50)
    ap.add_argument("--start-timeout", type=int, default=60)
    ap.add_argument("--poll", type=int, default=30)
    ap.add_argument("--poll-intervals", type=int, default=3)
    ap.add_argument("--modes", default="adaptive,standard")
    ap.add_argument("--json")
    a = ap.parse_args()
    if not 1 <= a.agents <= 1000: sys.exit("fleet: --agents must be 1 to 1000")
    if not 1 <= a.start_timeout <= 300 or not 1 <= a.poll * a.poll_intervals <= 600: sys.exit("fleet: the run is bounded: start timeout <= 300 s, poll window <= 600 s")
    venv = os.path.join(ROOT, ".venv", "bin")
    work = tempfile.mkdtemp(prefix="sa-fleet-")
    try:
        moto = free_port()
        spawn([os.path.join(venv, "moto_server"), "-p", str(moto)], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "moto.log"), "w"))
        wait_port(moto, "moto")
        seed = ("import boto3\nkw=dict(endpoint_url='http://127.0.0.1:%d', region_name='us-east-1', aws_access_key_id='AKIDFLEET', aws_secret_access_key='x')\n"
                "ssm=boto3.client('ssm', **kw); sm=boto3.client('secretsmanager', **kw)\n"
                "for i in range(1, %d): ssm.put_parameter(Name='/fleet/p%%02d' %% i, Value='fleet-value-%%02d' %% i, Type='String')\n"
                "for i in range(1, %d): sm.create_secret(Name='fleet/s%%02d' %% i, SecretString='fleet-secret-%%02d' %% i)\n") % (moto, a.ssm + 1, a.sm + 1)
        subprocess.run([os.path.join(venv, "python"), "-c", seed], check=True)
        proxy_port = free_port()
        spawn([os.path.join(venv, "python"), os.path.join(ROOT, "scripts", "throttle-proxy.py"), "--upstream", f"http://127.0.0.1:{moto}",
               "--port", str(proxy_port), "--quota", f"{a.ssm_rate:g}:{SSM_TARGETS}", "--quota", f"{a.sm_rate:g}:{SM_TARGETS}"],
              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "proxy.log"), "w"))
        wait_port(proxy_port, "the throttling proxy")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work, "AWS_ACCESS_KEY_ID": "AKIDFLEET", "AWS_SECRET_ACCESS_KEY": "x",
               "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy_port}", "AWS_EC2_METADATA_DISABLED": "true"}
        results = []
        for mode in a.modes.split(","):
            results.append(run_fleet(a, mode, env, proxy_port, work))
            print(f"fleet: {mode} done", file=sys.stderr, flush=True)
            time.sleep(3)  # the quotas' buckets refill
        report(a, results)
        if a.json:
            with open(a.json, "w") as f: json.dump({"args": vars(a), "results": results}, f, indent=1)
    finally:
        stop(list(reversed(started_procs)))
        subprocess.run(["rm", "-rf", work])

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
