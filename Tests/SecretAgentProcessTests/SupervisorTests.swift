import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor with real children. Received signals are injected with `handle(_:)` (what the
/// hub thread calls) instead of being sent to the test runner.
@Suite("Supervisor", .timeLimit(.minutes(1)))
struct SupervisorTests {
    let environment = ["PATH": "/usr/bin:/bin", "SA_FAKE": "one"]

    /// Collects every event until the stream finishes.
    func collect(_ supervisor: Supervisor) -> Task<[SupervisorEvent], Never> {
        Task { await supervisor.events.reduce(into: []) { $0.append($1) } }
    }

    @Test("wait() returns the child's own exit; events end with childExited")
    func ownExit() async throws {
        let supervisor = Supervisor()
        let events = collect(supervisor)
        let pid = try await supervisor.start(
            command: [try TestChild.require(), "--exit-code", "7", "--stop-after", "0.1"], environment: environment)
        #expect(pid > 0)
        let status = await supervisor.wait()
        #expect(status == .exited(7))
        #expect(status.exitCode == 7)
        #expect(await events.value == [.childExited(.exited(7))])
        #expect(supervisor.pid == nil)
        let again = await #expect(throws: ProcessError.self) {
            try await supervisor.start(command: [try TestChild.require()], environment: environment)
        }
        #expect(again?.kind == .supervisionEnded)
    }

    @Test("stop() sends the stop signal; an ignored SIGTERM gets SIGKILL after the timeout")
    func stopEscalates() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let supervisor = Supervisor(stopTimeout: .milliseconds(300))
        try await supervisor.start(command: [try TestChild.require(), "--log", log, "--ignore-term"], environment: environment)
        try await waitForLine(in: log) { $0.hasPrefix("start ") }
        let started = ContinuousClock.now
        let status = await supervisor.stop()
        #expect(status == .signaled(SIGKILL))
        #expect(status.exitCode == 137)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(readText(log).split(separator: "\n").contains("signal TERM"))
    }

    @Test("SIGTERM from kill: the child gets the stop signal and its status is reported")
    func terminateFromKill() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let supervisor = Supervisor(stopSignal: SIGINT)
        let events = collect(supervisor)
        try await supervisor.start(
            command: [try TestChild.require(), "--log", log, "--exit-code", "3"], environment: environment)
        try await waitForLine(in: log) { $0.hasPrefix("start ") }
        supervisor.handle(.user(SIGTERM, from: 1))
        #expect(await supervisor.wait() == .exited(3))
        #expect(readText(log).split(separator: "\n").contains("signal INT"))
        #expect(await events.value == [.terminateRequested(SIGTERM), .childExited(.exited(3))])
    }

    @Test("forwarding: user signals reach the child, the terminal's and SIGCHLD do not")
    func forwarding() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let supervisor = Supervisor()
        try await supervisor.start(command: [try TestChild.require(), "--log", log], environment: environment)
        try await waitForLine(in: log) { $0.hasPrefix("start ") }
        supervisor.handle(.kernel(SIGINT))   // Ctrl-C: the child already got it from the tty
        supervisor.handle(.kernel(SIGWINCH))
        supervisor.handle(.user(SIGCHLD))
        supervisor.handle(.user(SIGHUP))
        supervisor.handle(.user(SIGUSR2))
        supervisor.handle(.user(SIGWINCH))
        try await waitForLine(in: log) { $0 == "signal WINCH" }
        try await Task.sleep(for: .milliseconds(100))
        // Signals pending together are not delivered in the order they were sent.
        let signals = readText(log).split(separator: "\n").filter { $0.hasPrefix("signal ") }
        #expect(signals.sorted() == ["signal HUP", "signal USR2", "signal WINCH"])
        #expect(supervisor.signal(SIGUSR1))
        try await waitForLine(in: log) { $0 == "signal USR1" }
        #expect(await supervisor.stop() == .exited(0))
    }

    @Test("SIGHUP with hupReloads is a reload event; the child does not get it")
    func reload() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let supervisor = Supervisor(hupReloads: true)
        let events = collect(supervisor)
        try await supervisor.start(command: [try TestChild.require(), "--log", log], environment: environment)
        try await waitForLine(in: log) { $0.hasPrefix("start ") }
        supervisor.handle(.user(SIGHUP))
        supervisor.handle(.user(SIGUSR1))
        try await waitForLine(in: log) { $0 == "signal USR1" }
        #expect(!readText(log).contains("signal HUP"))
        #expect(await supervisor.stop() == .exited(0))
        #expect(await events.value == [.reloadRequested, .childExited(.exited(0))])
    }

    @Test("restart: graceful stop, then a new child with the new environment; wait() covers both")
    func restart() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let (first, second) = (scratch.file("first"), scratch.file("second"))
        let child = try TestChild.require()
        let supervisor = Supervisor()
        let events = collect(supervisor)
        let oldPID = try await supervisor.start(command: [child, "--log", first, "--dump-env"], environment: environment)
        try await waitForLine(in: first) { $0.hasPrefix("start ") }
        var next = environment
        next["SA_FAKE"] = "two"
        let newPID = try await supervisor.restart(environment: next, command: [child, "--log", second, "--dump-env"])
        #expect(newPID != oldPID)
        #expect(supervisor.pid == newPID)
        #expect(readText(first).contains("signal TERM"))
        try await waitForLine(in: second) { $0 == "env SA_FAKE=two" }
        #expect(await supervisor.stop() == .exited(0))
        #expect(await events.value == [.childExited(.exited(0)), .childExited(.exited(0))])
    }

    @Test("a failed start throws 127 and leaves the supervisor usable; a second start is refused")
    func startErrors() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let supervisor = Supervisor()
        let missing = await #expect(throws: ProcessError.self) {
            try await supervisor.start(command: ["no-such-command-sa"], environment: environment)
        }
        #expect(missing?.exitCode.rawValue == 127)
        try await supervisor.start(command: [try TestChild.require(), "--log", log], environment: environment)
        try await waitForLine(in: log) { $0.hasPrefix("start ") }  // its handlers are in place
        let twice = await #expect(throws: ProcessError.self) {
            try await supervisor.start(command: [try TestChild.require()], environment: environment)
        }
        #expect(twice?.kind == .alreadyRunning)
        #expect(await supervisor.stop() == .exited(0))
    }
}
