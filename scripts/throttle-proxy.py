#!/usr/bin/env python3
"""A loopback reverse proxy that enforces AWS-like API quotas in front of a JSON 1.1 backend
(moto): a token bucket per quota, shared by the `X-Amz-Target`s it names; an over-quota call is
answered as SSM and Secrets Manager answer it (HTTP 400, `ThrottlingException`, "Rate exceeded")
and never reaches the backend. Standard library only.

    throttle-proxy.py --upstream http://127.0.0.1:5000 \\
        --quota 40:AmazonSSM.GetParameters,AmazonSSM.GetParameter,AmazonSSM.GetParametersByPath \\
        --quota 50:secretsmanager.BatchGetSecretValue [--retry-after 1] [--port 0]

Prints the port it listens on (first line of stdout). `--quota RATE[/BURST]:TARGET,…` (burst
defaults to the rate: a full bucket holds one second of calls). Calls whose target no quota names
go through unmetered (and are counted). GET /__stats answers the counts as JSON
{"TARGET": {"ok": N, "throttled": N}, …} plus "timeline": per second since the first call,
[second, ok, throttled]; POST /__reset zeroes them. `--retry-after S` adds `Retry-After: S` to
throttling answers (AWS does not send one).
"""
import argparse, http.client, http.server, json, os, signal, sys, threading, time, urllib.parse

class Bucket:
    def __init__(self, rate, burst):
        self.rate, self.capacity = rate, burst
        self.tokens, self.last = burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.targets, self.timeline, self.start = {}, {}, None

    def count(self, target, ok):
        with self.lock:
            now = time.monotonic()
            if self.start is None: self.start = now
            t = self.targets.setdefault(target, {"ok": 0, "throttled": 0})
            t["ok" if ok else "throttled"] += 1
            second = int(now - self.start)
            s = self.timeline.setdefault(second, [0, 0])
            s[0 if ok else 1] += 1

    def snapshot(self):
        with self.lock:
            return dict(self.targets, timeline=[[k] + v for k, v in sorted(self.timeline.items())])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--quota", action="append", default=[])
    ap.add_argument("--retry-after", type=float)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--exit-on-eof", action="store_true", help="end when stdin closes (for tests)")
    args = ap.parse_args()
    # A parent that blocks signals (a test runner) passes its mask on: SIGTERM must end the proxy.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.exit_on_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    upstream = urllib.parse.urlsplit(args.upstream)
    buckets = {}
    for q in args.quota:
        rate_text, _, targets = q.partition(":")
        rate, _, burst = rate_text.partition("/")
        bucket = Bucket(float(rate), float(burst or rate))
        for t in targets.split(","):
            buckets[t.strip()] = bucket
    stats = Stats()
    local = threading.local()

    def forward(method, path, headers, body):
        for _ in range(2):
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                return r.status, r.getheaders(), r.read()
            except (http.client.HTTPException, OSError):
                conn.close(); local.conn = None
        raise OSError("upstream unreachable")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass

        def reply(self, status, body, headers=()):
            self.send_response(status)
            for k, v in headers: self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/__stats":
                return self.reply(200, json.dumps(stats.snapshot()).encode(), [("Content-Type", "application/json")])
            if self.path == "/__reset":
                stats.reset()
                return self.reply(200, b"{}", [("Content-Type", "application/json")])
            target = self.headers.get("X-Amz-Target", "")
            bucket = buckets.get(target)
            ok = bucket.take() if bucket is not None else True
            if target:
                stats.count(target, ok)
            if not ok:
                headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", "throttle-proxy")]
                if args.retry_after is not None:
                    headers.append(("Retry-After", "%g" % args.retry_after))
                return self.reply(400, b'{"__type":"ThrottlingException","message":"Rate exceeded"}', headers)
            hop = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
            try:
                status, rheaders, rbody = forward(self.command, self.path, headers, body)
            except OSError:
                return self.reply(502, b"upstream unreachable")
            self.reply(status, rbody, [(k, v) for k, v in rheaders if k.lower() not in hop | {"content-length", "server", "date"}])

        do_POST = do_GET = do_PUT = do_DELETE = handle_any

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # a fleet connects at once
    server = Server(("127.0.0.1", args.port), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass

if __name__ == "__main__":
    main()
