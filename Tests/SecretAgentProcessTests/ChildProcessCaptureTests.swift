import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

/// `ChildProcess.runCapturing`: output through pipes, a time limit, an output limit.
@Suite("Capturing a command's output", .timeLimit(.minutes(1)))
struct ChildProcessCaptureTests {
    let environment = ["PATH": "/usr/bin:/bin"]

    @Test("stdout and stderr arrive apart, with the exit status; stdin is /dev/null")
    func streams() async throws {
        let run = try await ChildProcess.runCapturing(
            command: ["/bin/sh", "-c", "cat; printf 'to stdout'; printf 'to stderr' >&2; exit 5"],
            environment: environment, timeout: .seconds(30))
        #expect(run.status == .exited(5))
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "to stdout")
        #expect(String(decoding: run.standardError, as: UTF8.self) == "to stderr")
        #expect(!run.timedOut && !run.truncated)
    }

    @Test("a command past its time limit is killed")
    func timeout() async throws {
        let started = ContinuousClock.now
        let run = try await ChildProcess.runCapturing(command: ["/bin/sh", "-c", "echo started; exec sleep 60"],
                                                      environment: environment, timeout: .milliseconds(500))
        #expect(run.timedOut)
        #expect(run.status == .signaled(SIGKILL))
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "started\n")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("output beyond the limit is dropped and reported; the command still runs to its end")
    func outputLimit() async throws {
        let run = try await ChildProcess.runCapturing(command: ["/bin/sh", "-c", "head -c 200000 /dev/zero; exit 0"],
                                                      environment: environment, timeout: .seconds(30), outputLimit: 1000)
        #expect(run.status == .exited(0))
        #expect(run.standardOutput.count == 1000 && run.truncated)
    }

    @Test("a command that does not exist is exit 127 before anything runs")
    func notFound() async throws {
        await #expect(throws: ProcessError.self) {
            try await ChildProcess.runCapturing(command: ["/nonexistent/tool"], environment: environment, timeout: .seconds(5))
        }
    }
}
