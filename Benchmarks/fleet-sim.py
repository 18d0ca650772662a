#!/usr/bin/env python3
"""The design simulation behind AdaptiveRate (Sources/SecretAgentCore/AdaptiveRate.swift): N
agents, each with 2 SSM GetParameters batches and 1 Secrets Manager batch, start within `spread`
seconds of each other against token-bucket quotas (40/s SSM, 50/s Secrets Manager, a burst of
one second). An event simulation, no I/O: it compares retry strategies on what issue 16 asks
(every agent started, the last start within 1.5x the minimum, throttled calls <= useful ones).

    python3 Benchmarks/fleet-sim.py            # the table for N = 50, 100, 200, 400
Strategies: `standard` (per-call full-jitter backoff 200 ms..5 s, 4 attempts, then the start-up
loop's backoff), `botocore` (the AWS SDKs' adaptive mode: a bucket at the measured rate x0.7 on
throttling, 0.5/s minimum, CUBIC growth on successes, C = 0.4), and `chosen` (AdaptiveRate).
"""
import heapq, math, random, sys

class Quota:
    def __init__(s, rate): s.rate = rate; s.cap = rate; s.tok = rate; s.last = 0.0; s.ok = 0; s.thr = 0
    def take(s, t):
        s.tok = min(s.cap, s.tok + (t - s.last) * s.rate); s.last = t
        if s.tok >= 1: s.tok -= 1; s.ok += 1; return True
        s.thr += 1; return False

class Chosen:
    """AdaptiveRate: off until throttled; then a rate on a cubic of the time since the last throttle."""
    def __init__(s, first=0.25, beta=0.7, C=0.1, floor=0.05, maxrate=20):
        s.first, s.beta, s.C, s.floor, s.max = first, beta, C, floor, maxrate
        s.on = False; s.tok = 0.0; s.last = None; s.wmax = 0; s.k = 0; s.tf = 0
    def rate(s, t): return max(s.floor, s.C * (t - s.tf - s.k) ** 3 + s.wmax)
    def refill(s, t):
        if s.last is not None and t > s.last: s.tok = min(1.0, s.tok + (t - s.last) * s.rate(t))
        s.last = t if s.last is None else max(s.last, t)
    def acquire(s, t):
        if not s.on: return 0.0
        s.refill(t)
        if s.tok >= 1: s.tok -= 1; return 0.0
        # Spread: uniform over twice the wait, at most 3/first (then asked again at the grown rate).
        return min(random.uniform(0, 2 * (1 - s.tok) / s.rate(t)), 3 / s.first)
    def record(s, t, throttled):
        if not throttled:
            if s.on and s.rate(t) >= s.max: s.__init__(s.first, s.beta, s.C, s.floor, s.max)
            return
        cur = min(s.rate(t), s.max) if s.on else s.first / s.beta
        s.refill(t)
        s.wmax = max(cur, s.floor / s.beta); s.k = (s.wmax * (1 - s.beta) / s.C) ** (1 / 3); s.tf = t; s.on = True
        s.tok = min(s.tok, 0.0); s.last = t
    backoff_after_throttle = False

class Botocore:
    """botocore/retries/adaptive.py, bucket.py, throttling.py (reservation-style bucket)."""
    def __init__(s):
        s.on = False; s.fill = 0.5; s.cap = 1; s.tok = 0.0; s.last = None; s.wmax = 0.0; s.k = 0.0; s.lastfail = 0.0
        s.mrate = 0.0; s.lastbucket = None; s.count = 0
    def setrate(s, r): s.fill = max(r, 0.5); s.cap = max(r, 1.0); s.tok = min(s.tok, s.cap)
    def acquire(s, t):
        if not s.on: return 0.0
        if s.last is not None: s.tok = min(s.cap, s.tok + (t - s.last) * s.fill)
        s.last = t; s.tok -= 1
        return 0.0 if s.tok >= 0 else -s.tok / s.fill
    def record(s, t, throttled):
        b = math.floor(t * 2) / 2
        if s.lastbucket is None: s.lastbucket = math.floor(t)
        s.count += 1
        if b > s.lastbucket:
            s.mrate = s.count / (b - s.lastbucket) * 0.8 + s.mrate * 0.2; s.count = 0; s.lastbucket = b
        if not throttled: new = 0.4 * (t - s.lastfail - s.k) ** 3 + s.wmax
        else:
            use = s.mrate if not s.on else min(s.mrate, s.fill)
            s.wmax = use; s.k = (use * 0.3 / 0.4) ** (1 / 3); s.lastfail = t; new = use * 0.7; s.on = True
        s.setrate(min(new, 2 * s.mrate))
    backoff_after_throttle = True

class Standard:
    def acquire(s, t): return 0.0
    def record(s, t, throttled): pass
    backoff_after_throttle = True

def backoff(attempt, base, cap): return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))

def run(N, limiter, spread=1.0, seed=1, lat=0.01, timeout=60.0):
    random.seed(seed)
    q = {"ssm": Quota(40), "sm": Quota(50)}
    ev = []; seq = [0]
    def at(t, f): seq[0] += 1; heapq.heappush(ev, (t, seq[0], f))
    done = [None] * N
    def agent(i, t0):
        lim = {"ssm": limiter(), "sm": limiter()}
        st = {"round": 0, "pending": {("ssm", 0), ("ssm", 1), ("sm", 0)}}
        def start_round(t):
            st["round"] += 1; st["out"] = set(st["pending"])
            for c in list(st["out"]): attempt(c, 1, t)
        def finish(c, ok, t):
            st["out"].discard(c)
            if ok: st["pending"].discard(c)
            if not st["out"]:
                if not st["pending"]: done[i] = t; return
                d = backoff(st["round"], 0.2, 5)
                if t + d > t0 + timeout: done[i] = -1; return
                at(t + d, start_round)
        def attempt(c, n, t):
            l = lim[c[0]]; w = l.acquire(t)
            if w > 0 and isinstance(l, Chosen): at(t + w, lambda t2: attempt(c, n, t2)); return
            def send(ts):
                ok = q[c[0]].take(ts + lat / 2)
                def resp(t3):
                    l.record(t3, not ok)
                    if ok: finish(c, True, t3)
                    elif n < 4: at(t3 + (backoff(n, 0.2, 5) if l.backoff_after_throttle else 0), lambda t4: attempt(c, n + 1, t4))
                    else: finish(c, False, t3)
                at(ts + lat, resp)
            at(t + w, send)
        at(t0, start_round)
    for i in range(N): agent(i, random.uniform(0, spread))
    while ev:
        t, _, f = heapq.heappop(ev); f(t)
    started = [d for d in done if d and d > 0]
    return len(started), max(started), q["ssm"].ok + q["sm"].ok, q["ssm"].thr + q["sm"].thr

if __name__ == "__main__":
    print("| agents | spread | strategy | started | last start | minimum | useful | throttled |")
    print("|---|---|---|---|---|---|---|---|")
    for N in (50, 100, 200, 400):
        for spread in ((0.0, 1.0, 2.0) if N == 200 else (1.0,)):
            for name, lim in (("standard", Standard), ("botocore", Botocore), ("chosen", Chosen)):
                rs = [run(N, lim, spread, seed) for seed in (1, 2, 3)]
                print(f"| {N} | {spread:g} s | {name} | {min(r[0] for r in rs)} | {max(r[1] for r in rs):.1f} s | {max(2 * N / 40, N / 50):.1f} s | "
                      f"{rs[0][2]} | {round(sum(r[3] for r in rs) / 3)} |", flush=True)
