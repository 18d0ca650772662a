#if canImport(Glibc)
import Glibc
#endif

/// The systemd notification protocol (`sd_notify`), written directly as datagrams on
/// `$NOTIFY_SOCKET` without libsystemd.
///
/// A path socket (`/run/systemd/notify`) and an abstract one (`@name`, the leading `@` standing
/// for the NUL byte) are both understood. With `NOTIFY_SOCKET` unset (not started by systemd,
/// or `Type=` other than `notify`) every call does nothing. Messages carry states and short
/// status lines only, never a value.
public struct SystemdNotifier: Sendable {
    /// The socket address as systemd gave it; nil when notifications are off.
    public let socketPath: String?
    /// Half of `WATCHDOG_USEC`, when systemd asked for keep-alives (`WatchdogSec=`) and
    /// `WATCHDOG_PID`, if set, is this process.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String], pid: Int32 = getpid()) {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = socket.flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].flatMap { Int32($0) }.map { $0 == pid } ?? true
            if forUs { interval = .microseconds(usec / 2) }
        }
        watchdogInterval = interval
    }

    /// True when there is a socket to notify.
    public var isEnabled: Bool { socketPath != nil }

    /// `READY=1`: the first complete render is done (or a reload finished), with a status line.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=" + Self.oneLine($0)] } ?? []))
    }

    /// `STATUS=…`: a one-line description shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(["STATUS=" + Self.oneLine(text)])
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=`: a SIGHUP reload began; send `ready()` when it ends
    /// (whether the new configuration was taken or refused).
    @discardableResult
    public func reloading() -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"])
    }

    /// `STOPPING=1`: the agent is shutting down.
    @discardableResult
    public func stopping() -> Bool {
        send(["STOPPING=1"])
    }

    /// `WATCHDOG=1`: one keep-alive.
    @discardableResult
    public func watchdog() -> Bool {
        send(["WATCHDOG=1"])
    }

    /// Sends `WATCHDOG=1` every `watchdogInterval` until cancelled; nil when systemd asked for
    /// no watchdog or notifications are off. Keep-alives come from a task, so a stuck
    /// cooperative thread pool stops them and systemd restarts the agent.
    public func startWatchdog() -> Task<Void, Never>? {
        guard isEnabled, let interval = watchdogInterval else { return nil }
        return Task { [self] in
            while !Task.isCancelled {
                watchdog()
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    /// Keeps `STATUS=` current: reads the health every `interval` and sends its status line
    /// whenever it changes (ready → degraded → ready). Nil when notifications are off.
    public func startStatusUpdates(every interval: Duration, health: @escaping @Sendable () async -> HealthSnapshot) -> Task<Void, Never>? {
        guard isEnabled else { return nil }
        return Task { [self] in
            var last = ""
            while !Task.isCancelled {
                let line = await health().evaluate().statusLine
                if line != last, status(line) { last = line }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    /// Sends one datagram of newline-separated `KEY=VALUE` assignments; false when it could not
    /// be delivered (or notifications are off). Failures are not errors: systemd may be gone.
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        guard let socketPath else { return false }
        return Self.send(Array(assignments.joined(separator: "\n").utf8), to: socketPath)
    }

    static func send(_ message: [UInt8], to path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(path.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity || (abstract && pathBytes.count <= capacity) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // A path socket's length includes its NUL; an abstract one's is exactly its bytes.
        let length = socklen_t(pathOffset + pathBytes.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent == message.count
    }

    /// `CLOCK_MONOTONIC` in microseconds, as systemd expects in `MONOTONIC_USEC=`.
    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
    }

    /// A status line without newlines (a newline would start a new assignment).
    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
