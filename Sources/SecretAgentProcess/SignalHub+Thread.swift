import CSecretAgent
#if canImport(Glibc)
import Glibc
#endif

extension SignalHub {
    /// Starts the hub's pthread. It lives as long as the process: the children's
    /// `PR_SET_PDEATHSIG` is tied to the thread that forked them, never a pool thread.
    func startThread() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let rc = pthread_create(&thread, &attributes, { context in
            let hub = Unmanaged<SignalHub>.fromOpaque(context!).takeUnretainedValue()
            hub.run()
        }, context)
        pthread_attr_destroy(&attributes)
        precondition(rc == 0, "cannot start the signal thread: \(rc)")
    }

    private func run() -> Never {
        _ = csa_block_signals_for_agent()
        var signalReady: Int32 = 0
        var pipeReady: Int32 = 0
        while true {
            _ = csa_poll2(signalFD, pipeRead, -1, &signalReady, &pipeReady)
            var received: [SignalInfo] = []
            var raw = csa_siginfo()
            while csa_signalfd_read(signalFD, &raw) == 1 || csa_signal_pipe_read(pipeRead, &raw) == 1 {
                // Signal 0 is a wake-up for the command queue.
                if raw.signo > 0 { received.append(SignalInfo(signal: raw.signo, code: raw.code, senderPID: raw.pid)) }
            }
            // Reap on every wake-up: cheap, and exits are recorded before signals are handled.
            reapAll()
            for info in received where info.signal != SIGCHLD { dispatch(info) }
            let commands = state.withLock { state in
                defer { state.commands.removeAll() }
                return state.commands
            }
            for command in commands { command() }
        }
    }

    /// `waitpid(-1, WNOHANG)` until nothing is left: every zombie goes, ours are recorded.
    private func reapAll() {
        while true {
            let reaped: (pid: pid_t, TerminationStatus?, [CheckedContinuation<TerminationStatus, Never>], (@Sendable (pid_t, TerminationStatus) -> Void)?) =
                state.withLock { state in
                    // Inside the lock: `send` never signals a pid recycled after this reap.
                    var raw: Int32 = 0
                    let pid = csa_reap_one(&raw)
                    guard pid > 0, var child = state.children[pid] else { return (pid, nil, [], nil) }
                    let status = TerminationStatus(waitStatus: raw)
                    let waiters = child.waiters
                    let onExit = child.onExit
                    child.status = status
                    child.waiters = []
                    child.onExit = nil
                    state.children[pid] = child
                    return (pid, status, waiters, onExit)
                }
            guard reaped.pid > 0 else { return }
            guard let status = reaped.1 else { continue }
            // onExit first: a supervisor's state is updated before any waiter resumes.
            reaped.3?(reaped.pid, status)
            for waiter in reaped.2 { waiter.resume(returning: status) }
        }
    }

    private func dispatch(_ info: SignalInfo) {
        let (handler, cleanup) = state.withLock { ($0.handler, $0.interruptCleanup) }
        if let handler {
            handler(info)
        } else if Signals.interrupting.contains(info.signal) {
            cleanup?(info.signal)
            fflush(nil)
            _exit(128 + info.signal)
        }
    }

    /// Forks and execs on the hub thread. `path` is already resolved (no PATH search here);
    /// `stdio` gives the child's descriptors 0, 1 and 2 (-1 inherits the agent's);
    /// `onSpawned` runs on the hub thread before any later signal is handled.
    func spawn(
        path: String, arguments: [String], environment: [String], pdeathsig: Int32,
        stdio: [Int32] = [-1, -1, -1],
        onSpawned: (@Sendable (pid_t) -> Void)? = nil,
        onExit: (@Sendable (pid_t, TerminationStatus) -> Void)? = nil
    ) async -> Result<pid_t, ProcessError> {
        await withCheckedContinuation { continuation in
            perform {
                var spawnErrno: Int32 = 0
                let pid = withCStringArray(arguments) { argv in
                    withCStringArray(environment) { envp in
                        stdio.withUnsafeBufferPointer { csa_spawn_stdio(path, argv, envp, pdeathsig, $0.baseAddress!, &spawnErrno) }
                    }
                }
                guard pid > 0 else {
                    continuation.resume(returning: .failure(.spawn(arguments.first ?? path, errno: spawnErrno)))
                    return
                }
                self.state.withLock { $0.children[pid] = Child(onExit: onExit) }
                onSpawned?(pid)
                continuation.resume(returning: .success(pid))
            }
        }
    }
}

/// Calls `body` with a NULL-terminated `char *[]` of `strings`.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
