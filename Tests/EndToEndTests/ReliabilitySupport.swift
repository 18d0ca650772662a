import Foundation
import Testing

// Support for the reliability and security suite (issue 8): a fault-injecting proxy, /proc
// readers and a secret scanner. Everything here runs the built binary; nothing reaches the
// network beyond 127.0.0.1.

/// A loopback HTTP proxy between the agent and moto or OpenBao that injects faults. It is a
/// small Python program (written into a scratch directory, started and stopped by PID) because
/// a blocking, byte-exact proxy is a page of Python and several of Swift.
///
/// Faults, one per line of the control file, the first applies; `FAULT xN` applies N times:
/// `pass`, `drop`, `reset`, `delay:SECONDS`, `status:CODE`, `throttle`, `deny`, `truncate`,
/// `nonjson`, `garbage` (see the script's docstring).
final class FaultProxy: @unchecked Sendable {
    struct Request: Decodable {
        var t: Double
        var method: String
        var path: String
        var target: String
        var fault: String
    }

    let scratch: Scratch
    let port: Int
    private var process: Process?
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    init(upstream: String) throws {
        guard let upstreamPort = URL(string: upstream)?.port else { throw Servers.Missing(description: "bad upstream \(upstream)") }
        let scratch = Scratch(onTmpfs: false)
        self.scratch = scratch
        scratch.write("faultproxy.py", Self.script)
        scratch.write("control", "pass\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: Servers.python) ? Servers.python : "/usr/bin/python3")
        p.arguments = [scratch.file("faultproxy.py"), "\(upstreamPort)", scratch.file("control"), scratch.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: scratch.write("proxy.err", ""))
        try p.run()
        process = p
        guard eventually(timeout: 10, { scratch.exists("port") }), let text = scratch.read("port"), let port = Int(text) else {
            kill(p.processIdentifier, SIGKILL)
            throw Servers.Missing(description: "the fault proxy did not start: \(scratch.read("proxy.err") ?? "")")
        }
        self.port = port
    }

    /// Sets the faults for the next requests (one per line; see the type's documentation).
    func set(_ faults: String...) {
        let tmp = scratch.write("control.new", faults.joined(separator: "\n") + "\n")
        rename(tmp, scratch.file("control"))
    }

    /// Every request the proxy saw since the last `clearLog()`.
    var requests: [Request] {
        (scratch.read("requests.log") ?? "").split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }
    }

    func clearLog() { scratch.write("requests.log", "") }

    func stop() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
        scratch.remove()
    }

    deinit { stop() }

    static let script = #"""
        """A loopback HTTP proxy that injects faults, for secret-agent's reliability tests.

            faultproxy.py UPSTREAM_PORT CONTROL_FILE STATE_DIR

        Listens on a free 127.0.0.1 port (written to STATE_DIR/port), forwards each request to
        127.0.0.1:UPSTREAM_PORT, logs one JSON line per request to STATE_DIR/requests.log. Before
        each request it reads CONTROL_FILE: one fault per line, the first applies; `FAULT xN`
        applies N times and is then removed.

            pass            forward unchanged
            drop            read the request, close the connection without an answer
            reset           read the request, close with a TCP reset
            delay:SECONDS   wait, then forward (longer than the client's timeout: a hung backend)
            status:CODE     answer CODE with a JSON error body (AWS `__type` and Vault `errors`)
            throttle        AWS ThrottlingException (HTTP 400)
            deny            AWS AccessDeniedException (HTTP 400) / Vault permission denied (HTTP 403)
            truncate        forward, then send the headers and half the body, and close
            nonjson         HTTP 200 with an HTML body
            garbage         bytes that are not HTTP, then close
        """
        import http.client, json, os, socket, struct, sys, threading, time

        UPSTREAM = int(sys.argv[1])
        CONTROL = sys.argv[2]
        STATE = sys.argv[3]
        lock = threading.Lock()


        def next_fault():
            with lock:
                try:
                    with open(CONTROL) as f:
                        lines = [l.strip() for l in f if l.strip()]
                except FileNotFoundError:
                    return "pass"
                if not lines:
                    return "pass"
                first = lines[0]
                if " x" in first:
                    fault, count = first.rsplit(" x", 1)
                    count = int(count) - 1
                    rest = lines[1:] if count <= 0 else [f"{fault} x{count}"] + lines[1:]
                    with open(CONTROL + ".tmp", "w") as f:
                        f.write("\n".join(rest) + "\n")
                    os.replace(CONTROL + ".tmp", CONTROL)
                    return fault
                return first


        def log(entry):
            with lock:
                with open(os.path.join(STATE, "requests.log"), "a") as f:
                    f.write(json.dumps(entry) + "\n")


        def read_request(conn, buf):
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return None, b""
                buf += chunk
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = []
            for line in lines[1:]:
                name, value = line.split(":", 1)
                headers.append((name.strip(), value.strip()))
            length = 0
            for name, value in headers:
                if name.lower() == "content-length":
                    length = int(value)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return None, b""
                rest += chunk
            return (method, path, headers, rest[:length]), rest[length:]


        def answer(conn, status, reason, headers, body):
            head = f"HTTP/1.1 {status} {reason}\r\n"
            for name, value in headers:
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    head += f"{name}: {value}\r\n"
            head += f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
            conn.sendall(head.encode("latin-1") + body)


        def forward(method, path, headers, body):
            up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
            up.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in ("connection", "content-length"):
                    up.putheader(name, value)
            up.putheader("Content-Length", str(len(body)))
            up.putheader("Connection", "close")
            up.endheaders(body)
            resp = up.getresponse()
            out = (resp.status, resp.reason, resp.getheaders(), resp.read())
            up.close()
            return out


        def error_body(code, message):
            return json.dumps({"__type": code, "message": message, "errors": [message]}).encode()


        def handle(conn):
            buf = b""
            try:
                while True:
                    request, buf = read_request(conn, buf)
                    if request is None:
                        return
                    method, path, headers, body = request
                    target = next((v for n, v in headers if n.lower() == "x-amz-target"), "")
                    fault = next_fault()
                    log({"t": time.time(), "method": method, "path": path, "target": target, "fault": fault})
                    kind, _, arg = fault.partition(":")
                    if kind == "drop":
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    if kind == "reset":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
                    if kind == "garbage":
                        conn.sendall(b"\x00\xffNOT-HTTP garbage\r\n\r\n")
                        return
                    if kind == "status":
                        code = int(arg)
                        aws = {503: "ServiceUnavailable"}.get(code, "InternalFailure")
                        answer(conn, code, "Injected", [("Content-Type", "application/json")], error_body(aws, "injected fault"))
                        continue
                    if kind == "throttle":
                        answer(conn, 400, "Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                               ("x-amzn-ErrorType", "ThrottlingException")], error_body("ThrottlingException", "Rate exceeded"))
                        continue
                    if kind == "deny":
                        if target:
                            answer(conn, 400, "Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                   ("x-amzn-ErrorType", "AccessDeniedException")],
                                   error_body("AccessDeniedException", "User is not authorized (injected)"))
                        else:
                            answer(conn, 403, "Forbidden", [("Content-Type", "application/json")], error_body("AccessDenied", "permission denied"))
                        continue
                    if kind == "nonjson":
                        answer(conn, 200, "OK", [("Content-Type", "text/html")], b"<html><body>a proxy says hello</body></html>")
                        continue
                    if kind == "delay":
                        time.sleep(float(arg))
                    status, reason, rheaders, data = forward(method, path, headers, body)
                    if kind == "truncate":
                        head = f"HTTP/1.1 {status} {reason}\r\n"
                        for name, value in rheaders:
                            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                                head += f"{name}: {value}\r\n"
                        head += f"Content-Length: {len(data)}\r\n\r\n"
                        conn.sendall(head.encode("latin-1") + data[: len(data) // 2])
                        conn.shutdown(socket.SHUT_RDWR)
                        return
                    answer(conn, status, reason, rheaders, data)
            except (ConnectionError, OSError):
                return
            finally:
                try:
                    conn.close()
                except OSError:
                    pass


        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(128)
        with open(os.path.join(STATE, "port.tmp"), "w") as f:
            f.write(str(server.getsockname()[1]))
        os.replace(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
        """#
}

/// Reading a live process through /proc.
enum Proc {
    /// `/proc/PID/status` as a map (`VmRSS` → `12345 kB`).
    static func status(_ pid: pid_t) -> [String: String] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    /// A `… kB` field of /proc/PID/status in KiB.
    static func kilobytes(_ pid: pid_t, _ field: String) -> Int? {
        status(pid)[field].flatMap { Int($0.split(separator: " ").first ?? "") }
    }

    /// How many file descriptors the process has open.
    static func fdCount(_ pid: pid_t) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }

    /// The argument vector, NUL-separated as the kernel keeps it.
    static func cmdline(_ pid: pid_t) -> Data {
        FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
    }

    /// The soft limit of a resource in /proc/PID/limits (`Max core file size` → "0").
    static func softLimit(_ pid: pid_t, _ name: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return line.dropFirst(name.count).split(separator: " ").first.map(String.init)
        }
        return nil
    }

    /// Every descendant of `pid` (children, their children …).
    static func descendants(of pid: pid_t) -> [pid_t] {
        var parent: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let p = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let pp = pid_t(fields[1]) { parent[p] = pp }
        }
        var out: [pid_t] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            for (child, pp) in parent where pp == next {
                out.append(child)
                frontier.append(child)
            }
        }
        return out
    }
}

/// Everything the agent printed, to scan for secret values.
struct SecretScan {
    /// Values that must never appear, with a name for the message.
    var secrets: [(name: String, value: [UInt8])] = []
    /// Bytes scanned so far, and in how many captures.
    private(set) var bytesScanned = 0
    private(set) var captures = 0
    private(set) var hits: [String] = []

    /// Adds a value and its base64 (the two forms the issue names) plus its URL-safe base64.
    mutating func add(_ name: String, _ value: [UInt8]) {
        guard value.count >= 4 else { return }
        secrets.append((name, value))
        let b64 = Data(value).base64EncodedString()
        secrets.append((name + " (base64)", Array(b64.utf8)))
        // The base64 of a value inside a longer text starts at an unknown offset: its middle is
        // stable for the three alignments; a long enough middle still proves a leak.
        if value.count >= 12 {
            for shift in 1...2 {
                let shifted = Data([UInt8](repeating: 0, count: shift) + value).base64EncodedString()
                let inner = shifted.dropFirst(4).dropLast(4)
                if inner.count >= 8 { secrets.append((name + " (base64, shifted)", Array(inner.utf8))) }
            }
        }
    }

    mutating func add(_ name: String, _ value: String) { add(name, Array(value.utf8)) }

    /// Scans `bytes` (from `what`) and records every secret found.
    mutating func scan(_ bytes: [UInt8], from what: String) {
        bytesScanned += bytes.count
        captures += 1
        for (name, value) in secrets where Self.contains(bytes, value) {
            hits.append("\(name) in \(what)")
        }
    }

    mutating func scan(_ text: String, from what: String) { scan(Array(text.utf8), from: what) }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}

/// A secret value that looks like nothing else in the logs.
func distinctiveSecret(_ label: String) -> String {
    "\(label)-\(UUID().uuidString.prefix(13).lowercased())-Zq9"
}

/// Waits for a process to end (up to `timeout` seconds, then SIGKILL) and returns its status.
@discardableResult
func finish(_ p: Process, signal: Int32 = SIGTERM, timeout: Double = 15) -> Int32 {
    if p.isRunning { kill(p.processIdentifier, signal) }
    if !eventually(timeout: timeout, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    return p.terminationStatus
}

/// Lines of a text that contain `fragment`.
func count(_ fragment: String, in text: String) -> Int {
    text.components(separatedBy: fragment).count - 1
}

/// The body of an HTTP GET on loopback (through curl: Foundation on Linux has no URL loading
/// without FoundationNetworking), or "" when it fails.
func httpGet(_ url: String, headers: [String] = []) -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    // Headers (a token) go through stdin (`-H @-`), never the command line `ps` shows.
    p.arguments = ["curl", "-s", "--max-time", "10"] + (headers.isEmpty ? [] : ["-H", "@-"]) + [url]
    let out = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardInput = input
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return "" }
    input.fileHandleForWriting.write(Data(headers.map { $0 + "\n" }.joined().utf8))
    try? input.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
