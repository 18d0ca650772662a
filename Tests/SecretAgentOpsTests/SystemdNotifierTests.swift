#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import SecretAgentOps
import Testing

/// A Unix datagram socket the test opens, standing in for systemd's notification socket.
final class NotifySocket {
    let fd: Int32
    /// What goes into `NOTIFY_SOCKET`: a path, or `@name` for an abstract socket.
    let address: String
    private let path: String?

    init(abstract: Bool) {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let unique = "secret-agent-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var name: [UInt8]
        if abstract {
            address = "@" + unique
            name = [0] + Array(unique.utf8)
            path = nil
        } else {
            address = "/tmp/" + unique + ".sock"
            name = Array(address.utf8)
            path = address
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (abstract ? 0 : 1))
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        precondition(rc == 0, "bind failed: \(errno)")
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, or nil after two seconds; waits on its own thread, so the tasks under
    /// test keep the cooperative pool.
    func receive() async -> String? {
        await HTTPTestClient.onThread { [fd] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n < 0 ? nil : String(decoding: buffer[..<n], as: UTF8.self)
        }
    }
}

@Suite("sd_notify")
struct SystemdNotifierTests {
    @Test("READY, STATUS, RELOADING and STOPPING reach a path socket", arguments: [false, true])
    func messages(abstract: Bool) async throws {
        let socket = NotifySocket(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        #expect(notifier.isEnabled)

        #expect(notifier.ready(status: "rendered 3 templates\nfrom 2 backends"))
        #expect(await socket.receive() == "READY=1\nSTATUS=rendered 3 templates from 2 backends")

        #expect(notifier.status("watching 12 references"))
        #expect(await socket.receive() == "STATUS=watching 12 references")

        #expect(notifier.reloading())
        let reloading = try #require(await socket.receive())
        let lines = reloading.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let now = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
        #expect(usec <= now && now - usec < 5_000_000)

        #expect(notifier.ready())
        #expect(await socket.receive() == "READY=1")
        #expect(notifier.stopping())
        #expect(await socket.receive() == "STOPPING=1")
    }

    @Test("without NOTIFY_SOCKET every call is a no-op")
    func unset() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000"])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready(status: "x"))
        #expect(!notifier.stopping())
        #expect(notifier.startWatchdog() == nil)
    }

    @Test("a socket nobody listens on is not an error")
    func goneSocket() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/tmp/secret-agent-no-such-socket-\(getpid())"])
        #expect(notifier.isEnabled)
        #expect(!notifier.ready())
    }

    @Test("WATCHDOG_USEC: keep-alives every half interval, only for our PID")
    func watchdog() async throws {
        let socket = NotifySocket(abstract: true)
        let other = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "200000",
                                                  "WATCHDOG_PID": "\(getpid() + 1)"])
        #expect(other.watchdogInterval == nil)

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "200000",
                                                     "WATCHDOG_PID": "\(getpid())"])
        #expect(notifier.watchdogInterval == .milliseconds(100))
        let clock = ContinuousClock()
        let start = clock.now
        let task = try #require(notifier.startWatchdog())
        for _ in 0..<3 {
            let message = await socket.receive()
            #expect(message == "WATCHDOG=1")
        }
        let elapsed = clock.now - start
        task.cancel()
        // Three keep-alives: one at once, two more 100 ms apart.
        #expect(elapsed >= .milliseconds(180) && elapsed < .seconds(5))
    }
}

@Suite("sd_notify STATUS= follows the health")
struct StatusUpdateTests {
    actor State {
        var snapshot = HealthSnapshot(renderedAll: false, poll: .seconds(60), backends: [])
        func set(_ s: HealthSnapshot) { snapshot = s }
    }

    @Test("a new STATUS= line only when the verdict changes")
    func follows() async throws {
        let socket = NotifySocket(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        let state = State()
        let task = try #require(notifier.startStatusUpdates(every: .milliseconds(20)) { await state.snapshot })
        defer { task.cancel() }
        #expect(await socket.receive() == "STATUS=starting: rendering templates")
        await state.set(HealthSnapshot(renderedAll: true, poll: .seconds(60), backends: [BackendHealth(name: "vault")]))
        #expect(await socket.receive() == "STATUS=ready: every template rendered; 1 backend answering")
        // Unchanged for several rounds: nothing more is sent.
        try await Task.sleep(for: .milliseconds(100))
        var b = BackendHealth(name: "vault", lastSuccess: .now - .seconds(200))
        b.failingSince = .now - .seconds(100)
        await state.set(HealthSnapshot(renderedAll: true, poll: .seconds(60), backends: [b]))
        let degraded = try #require(await socket.receive())
        #expect(degraded.hasPrefix("STATUS=degraded: no successful check from vault since "))
    }
}
