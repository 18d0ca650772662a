#!/usr/bin/env python3
"""The design simulation behind AdaptiveRate (Sources/SecretAgentCore/AdaptiveRate.swift): N
agents, each with 2 SSM GetParameters batches and 1 Secrets Manager batch, make their first calls
within `spread` seconds of each other against token-bucket quotas (40/s SSM, 50/s Secrets Manager,
a burst of one second); each call takes `latency` seconds; an agent that has started polls (its
first poll 5-100 % into a 30 s interval), and its polls count against the quotas too. An event
simulation, no I/O: it compares retry strategies on what issue 16 asks (every agent started, the
last start within 1.5x the minimum, throttled calls <= useful ones).

    python3 Benchmarks/fleet-sim.py            # the table (3 seeds per row; a minute or so)

Strategies: `standard` (per-call full-jitter backoff 200 ms..5 s, 4 attempts, then the start-up
loop's backoff), `botocore` (the AWS SDKs' adaptive mode: a bucket at the measured rate x0.7 on
throttling, 0.5/s minimum, CUBIC growth on successes, C = 0.4), `cubic` (this project's first
curve: 0.25/s, x0.7, CUBIC growth with scale 0.1 since the last throttle, waits spread over twice
the token interval at the rate of the moment) and `chosen` (AdaptiveRate: 0.25/s, x0.9, the rate
growing as r0 / (1 - t*r0/2.5) since the last throttle, a wait ending when the integral of that
curve reaches a random 0-2 tokens).
"""
import heapq, math, random

class Quota:
    def __init__(s, rate): s.rate = rate; s.cap = rate; s.tok = rate; s.last = 0.0; s.ok = 0; s.thr = 0
    def take(s, t):
        s.tok = min(s.cap, s.tok + (t - s.last) * s.rate); s.last = t
        if s.tok >= 1: s.tok -= 1; s.ok += 1; return True
        s.thr += 1; return False

class Chosen:
    """AdaptiveRate: off until throttled; then the rate r0 / (1 - tau*r0/c) since the last throttle."""
    def __init__(s, first=0.25, beta=0.9, c=2.5, floor=0.05, maxrate=20):
        s.first, s.beta, s.c, s.floor, s.max = first, beta, c, floor, maxrate
        s.on = False; s.tok = 0.0; s.last = 0.0; s.r0 = 0.0; s.tf = 0.0
    def x(s, t): return min(1.0, max(0.0, t - s.tf) * s.r0 / s.c)
    def rate(s, t): return math.inf if not s.on or s.x(t) >= 1 else s.r0 / (1 - s.x(t))
    def refill(s, t):
        if s.on and t > s.last:
            a, b = 1 - s.x(s.last), 1 - s.x(t)
            s.tok = 1.0 if b <= 0 else min(1.0, s.tok + s.c * math.log(a / b))
            s.last = t
    def acquire(s, t, need):
        if not s.on: return 0.0
        s.refill(t)
        x = s.x(t)
        if s.tok >= min(need, 1.0) or x >= 1: s.tok -= 1; return 0.0
        xw = 1 - (1 - x) * math.exp(-(need - s.tok) / s.c)
        return min(max((xw - x) * s.c / s.r0, 1e-6), 1.0)  # asked again at least once a second
    def record(s, t, throttled):
        if not throttled:
            if s.on and s.rate(t) >= s.max: s.__init__(s.first, s.beta, s.c, s.floor, s.max)
            return
        cur = s.rate(t); s.refill(t)
        s.r0 = s.first if cur >= s.max else max(s.floor, cur * s.beta)
        s.tf = t; s.on = True; s.tok = min(s.tok, 0.0); s.last = t
    backoff_after_throttle = False

class Cubic:
    """The first curve: CUBIC in the time since the last throttle, waits at the rate of the moment."""
    def __init__(s, first=0.25, beta=0.7, C=0.1, floor=0.05, maxrate=20):
        s.first, s.beta, s.C, s.floor, s.max = first, beta, C, floor, maxrate
        s.on = False; s.tok = 0.0; s.last = None; s.wmax = 0; s.k = 0; s.tf = 0
    def rate(s, t): return max(s.floor, s.C * (t - s.tf - s.k) ** 3 + s.wmax)
    def refill(s, t):
        if s.last is not None and t > s.last: s.tok = min(1.0, s.tok + (t - s.last) * s.rate(t))
        s.last = t if s.last is None else max(s.last, t)
    def acquire(s, t, need):
        if not s.on: return 0.0
        s.refill(t)
        if s.tok >= 1: s.tok -= 1; return 0.0
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
    def acquire(s, t, need):
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
    reserve = True  # a reservation: the call goes after the returned wait, without asking again

class Standard:
    def acquire(s, t, need): return 0.0
    def record(s, t, throttled): pass
    backoff_after_throttle = True
    reserve = True

def backoff(attempt, base, cap): return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))

def run(N, limiter, spread=1.5, seed=1, latency=0.2, timeout=60.0, poll=30.0):
    random.seed(seed)
    q = {"ssm": Quota(40), "sm": Quota(50)}
    ev = []; seq = [0]
    def at(t, f): seq[0] += 1; heapq.heappush(ev, (t, seq[0], f))
    done = [None] * N
    calls = (("ssm", 0), ("ssm", 1), ("sm", 0))
    def agent(i, t0):
        lim = {"ssm": limiter(), "sm": limiter()}
        st = {"round": 0, "pending": set(calls)}
        def poll_at(t):
            for c in calls: attempt(c, 1, t, None)
        def start_round(t):
            st["round"] += 1; st["out"] = set(st["pending"])
            for c in sorted(st["out"]): attempt(c, 1, t, finish)
        def finish(c, ok, t):
            st["out"].discard(c)
            if ok: st["pending"].discard(c)
            if not st["out"]:
                if not st["pending"]:
                    done[i] = t; at(t + poll * random.uniform(0.05, 1.0), poll_at); return
                d = backoff(st["round"], 0.2, 5)
                if t + d > t0 + timeout: done[i] = -1; return
                at(t + d, start_round)
        def attempt(c, n, t, cb, need=None):
            need = random.uniform(0, 2) if need is None else need
            l = lim[c[0]]; w = l.acquire(t, need)
            if w > 0 and not getattr(l, "reserve", False): at(t + w, lambda t2: attempt(c, n, t2, cb, need)); return
            def send(ts):
                ok = q[c[0]].take(ts + latency / 2)
                def answer(t3):
                    l.record(t3, not ok)
                    if ok:
                        if cb: cb(c, True, t3)
                    elif n < 4: at(t3 + (backoff(n, 0.2, 5) if l.backoff_after_throttle else 0), lambda t4: attempt(c, n + 1, t4, cb))
                    elif cb: cb(c, False, t3)
                at(ts + latency, answer)
            at(t + w, send)
        at(t0, start_round)
    for i in range(N): agent(i, random.uniform(0, spread))
    horizon = None
    while ev:
        t, _, f = heapq.heappop(ev)
        if horizon is None and all(d is not None for d in done): horizon = t
        if horizon is not None: break
        f(t)
    started = [d for d in done if d and d > 0]
    return len(started), max(started), q["ssm"].ok + q["sm"].ok, q["ssm"].thr + q["sm"].thr

if __name__ == "__main__":
    print("| agents | first calls spread over | strategy | started (least of 3) | last start (most of 3) | minimum | throttled / useful (mean of 3) |")
    print("|---|---|---|---|---|---|---|")
    rows = [(50, 1.5), (100, 1.5), (200, 0.5), (200, 1.5), (200, 3.0), (400, 1.5)]
    for N, spread in rows:
        for name, lim in (("standard", Standard), ("botocore", Botocore), ("cubic", Cubic), ("chosen", Chosen)):
            rs = [run(N, lim, spread, seed) for seed in (1, 2, 3)]
            print(f"| {N} | {spread:g} s | {name} | {min(r[0] for r in rs)} | {max(r[1] for r in rs):.1f} s | {max(2 * N / 40, N / 50):.1f} s | "
                  f"{sum(r[3] / r[2] for r in rs) / 3:.2f} |", flush=True)
