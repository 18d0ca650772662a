import CSecretAgent
#if canImport(Glibc)
import Glibc
#endif

/// How a command run by ``ChildProcess/runCapturing(command:environment:timeout:outputLimit:)``
/// ended and what it printed.
public struct CapturedRun: Sendable {
    /// How it ended (``TerminationStatus/signaled(_:)`` with SIGKILL after a time-out).
    public var status: TerminationStatus
    /// Its standard output, at most `outputLimit` bytes.
    public var standardOutput: [UInt8]
    /// Its standard error, at most `outputLimit` bytes.
    public var standardError: [UInt8]
    /// True when it ran past its time limit and was killed.
    public var timedOut: Bool
    /// True when it printed more than `outputLimit` bytes on either stream (the rest was dropped).
    public var truncated: Bool
}

extension ChildProcess {
    /// Runs `command` to completion with exactly `environment`, its standard input `/dev/null`
    /// and its standard output and error captured through close-on-exec pipes (no other child
    /// inherits them). The hub forks and reaps it, as every child.
    ///
    /// After `timeout` the command gets SIGKILL; pipes still held open by its own children are
    /// abandoned two seconds later. Nothing is logged here: the caller decides what of the
    /// output may be shown.
    /// - Throws: ``ProcessError`` when the command cannot start (127, 126, 65) or a pipe cannot be made.
    public static func runCapturing(
        command: [String], environment: [String: String], timeout: Duration, outputLimit: Int = 1 << 20
    ) async throws(ProcessError) -> CapturedRun {
        let name = command.first ?? ""
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard null >= 0, csa_pipe_cloexec(&out) == 0, csa_pipe_cloexec(&err) == 0 else {
            let code = errno
            for fd in [null] + out + err where fd >= 0 { close(fd) }
            throw ProcessError(.spawnFailed(code), "\(name): cannot create pipes for its output (\(String(cString: strerror(code))))")
        }
        let child: ChildProcess
        do {
            child = try await spawn(command: command, environment: environment, pdeathsig: SIGKILL,
                                    stdio: [null, out[1], err[1]], onSpawned: nil, onExit: nil)
        } catch {
            for fd in [null, out[0], out[1], err[0], err[1]] { close(fd) }
            throw error
        }
        for fd in [null, out[1], err[1]] { close(fd) }
        let reader = OutputReader(pid: child.pid, fds: (out[0], err[0]), deadline: .now + timeout, limit: outputLimit)
        let (output, error, timedOut, truncated) = await withCheckedContinuation { continuation in
            runOnThread { continuation.resume(returning: reader.run()) }
        }
        return CapturedRun(status: await child.wait(), standardOutput: output, standardError: error,
                           timedOut: timedOut, truncated: truncated)
    }
}

/// Reads both pipes with `poll` on a thread of its own (no Swift concurrency thread blocks)
/// until both are closed and the child has exited, killing it at the deadline.
private struct OutputReader: Sendable {
    let pid: pid_t
    let fds: (Int32, Int32)
    let deadline: ContinuousClock.Instant
    let limit: Int

    func run() -> ([UInt8], [UInt8], Bool, Bool) {
        var open = [fds.0, fds.1]
        var data: [[UInt8]] = [[], []]
        var timedOut = false, truncated = false
        var giveUp = deadline + .seconds(2)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open[0] >= 0 || open[1] >= 0 || SignalHub.shared.exitStatus(of: pid) == nil {
            let now = ContinuousClock.now
            if now >= deadline && !timedOut {
                _ = SignalHub.shared.send(SIGKILL, to: pid)
                timedOut = true
                giveUp = now + .seconds(2)
            }
            if timedOut && now >= giveUp { break }
            let until = timedOut ? giveUp : deadline
            var wait = Int32(min(1000, max(0, (until - now).milliseconds)))
            if open[0] < 0 && open[1] < 0 { wait = min(wait, 20) } // only the exit is left to see
            var readyOut: Int32 = 0, readyErr: Int32 = 0
            _ = csa_poll2(open[0], open[1], wait, &readyOut, &readyErr)
            let ready = [readyOut, readyErr]
            for i in 0..<2 where ready[i] == 1 && open[i] >= 0 {
                let n = buffer.withUnsafeMutableBytes { read(open[i], $0.baseAddress, $0.count) }
                if n > 0 {
                    let room = max(0, limit - data[i].count)
                    if n > room { truncated = true }
                    data[i].append(contentsOf: buffer.prefix(min(n, room)))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(open[i])
                    open[i] = -1
                }
            }
        }
        for fd in open where fd >= 0 { close(fd) }
        return (data[0], data[1], timedOut, truncated)
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Runs `body` on a new detached pthread.
private func runOnThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    if rc == 0 {
        pthread_detach(thread)
    } else {
        Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body() // no thread: block here rather than never
    }
}
