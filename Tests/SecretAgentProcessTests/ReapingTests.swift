import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

/// The hub reaps every child, not only its own: what PID 1 must do. The test process becomes a
/// child subreaper so orphaned grandchildren are re-parented to it, like to PID 1 in a container.
@Suite("Reaping", .timeLimit(.minutes(1)))
struct ReapingTests {
    @Test("an orphaned grandchild is adopted and reaped when it exits: no zombie left")
    func orphansAreReaped() async throws {
        #expect(SignalHub.becomeChildSubreaper())
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let pidFile = scratch.file("grandchild")
        let shell = try await ChildProcess.spawn(
            command: ["/bin/sh", "-c", "sleep 0.5 & echo $! > '\(pidFile)'; exit 0"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(await shell.wait() == .exited(0))
        let grandchild = try #require(pid_t(readText(pidFile).split(separator: "\n").first ?? ""))
        // Orphaned: re-parented to this process (the subreaper).
        let adopted = try #require(procStat(grandchild))
        #expect(adopted.ppid == getpid())
        // It exits after 0.5 s; SIGCHLD makes the hub reap it, so /proc/PID goes away.
        var gone = false
        for _ in 0..<250 where !gone {
            try await Task.sleep(for: .milliseconds(20))
            gone = procStat(grandchild) == nil
        }
        #expect(gone, "grandchild \(grandchild) still present: \(String(describing: procStat(grandchild)))")
        // And no zombie child of ours lingers (others' tests' children may be exiting right now).
        var zombies = zombieChildren()
        for _ in 0..<50 where !zombies.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            zombies = zombieChildren()
        }
        #expect(zombies.isEmpty)
    }
}
