import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

/// Real spawns of `test-child` (see ``TestChild`` for how it is found) through the hub.
@Suite("Spawning children", .timeLimit(.minutes(1)))
struct ChildProcessTests {
    let environment = ["PATH": "/usr/bin:/bin"]

    @Test("the child gets exactly the given environment, default signals and our pid as parent")
    func environmentAndSignals() async throws {
        let child = try TestChild.require()
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let process = try await ChildProcess.spawn(
            command: [child, "--log", log, "--dump-env", "--stop-after", "0"],
            environment: ["SA_FAKE_SECRET": "fake-value with spaces=and=equals", "PATH": "/bin"])
        #expect(await process.wait() == .exited(0))
        let lines = readText(log).split(separator: "\n")
        #expect(lines.contains("start pid=\(process.pid) ppid=\(getpid())"))
        // The hub thread blocks every handled signal; the child starts with none blocked or ignored.
        #expect(lines.contains("mask blocked=0000000000000000 ignored=0000000000000000"))
        #expect(lines.filter { $0.hasPrefix("env ") }.sorted() == [
            "env PATH=/bin", "env SA_FAKE_SECRET=fake-value with spaces=and=equals",
        ])
    }

    @Test("exit codes propagate", arguments: [0, 1, 7, 255] as [Int32])
    func exitCode(code: Int32) async throws {
        let process = try await ChildProcess.spawn(
            command: [try TestChild.require(), "--exit-code", "\(code)", "--stop-after", "0"], environment: environment)
        let status = await process.wait()
        #expect(status == .exited(code))
        #expect(status.exitCode == code)
        #expect(process.exitStatus == .exited(code))
        #expect(await process.wait() == .exited(code))  // again: recorded
    }

    @Test("death by signal N is 128+N", arguments: [SIGKILL, SIGUSR1, SIGTERM, SIGSEGV])
    func deathBySignal(signal: Int32) async throws {
        let process = try await ChildProcess.spawn(
            command: [try TestChild.require(), "--die-by-signal", "\(signal)"], environment: environment)
        let status = await process.wait()
        #expect(status == .signaled(signal))
        #expect(status.exitCode == 128 + signal)
    }

    @Test("signal() reaches the child; after it exits, signal() reports false")
    func signals() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let log = scratch.file("log")
        let process = try await ChildProcess.spawn(
            command: [try TestChild.require(), "--log", log, "--exit-code", "4"], environment: environment)
        try await waitForLine(in: log) { $0.hasPrefix("start ") }
        #expect(process.signal(SIGHUP))
        try await waitForLine(in: log) { $0 == "signal HUP" }
        #expect(process.signal(SIGUSR1))
        try await waitForLine(in: log) { $0 == "signal USR1" }
        #expect(process.exitStatus == nil)
        #expect(process.signal(SIGTERM))
        #expect(await process.wait() == .exited(4))
        #expect(!process.signal(SIGTERM))
    }

    @Test("command not found is 127 (PATH search and absolute path), not executable 126")
    func spawnFailures() async throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        let notFound = await #expect(throws: ProcessError.self) {
            try await ChildProcess.spawn(command: ["no-such-command-sa"], environment: environment)
        }
        #expect(notFound?.exitCode.rawValue == 127)
        // With a slash there is no lookup: execve fails in the child and reports ENOENT.
        let absent = await #expect(throws: ProcessError.self) {
            try await ChildProcess.spawn(command: [scratch.file("absent")], environment: environment)
        }
        #expect(absent?.exitCode.rawValue == 127)
        writeText(scratch.file("plain"), "not a program", mode: 0o644)
        let denied = await #expect(throws: ProcessError.self) {
            try await ChildProcess.spawn(command: [scratch.file("plain")], environment: environment)
        }
        #expect(denied?.exitCode.rawValue == 126)
        writeText(scratch.file("noformat"), "\u{7f}XYZ garbage", mode: 0o755)
        let format = await #expect(throws: ProcessError.self) {
            try await ChildProcess.spawn(command: [scratch.file("noformat")], environment: environment)
        }
        #expect(format?.exitCode.rawValue == 126)
    }

    @Test("the program is found on the child's PATH")
    func pathLookup() async throws {
        let child = try TestChild.require()
        let directory = TestChild.parent(child)
        let process = try await ChildProcess.spawn(
            command: ["test-child", "--exit-code", "3", "--stop-after", "0"], environment: ["PATH": "/nonexistent:" + directory])
        #expect(await process.wait() == .exited(3))
    }

    @Test("exec in place refuses a missing command before replacing anything")
    func execInPlaceNotFound() throws {
        let error = #expect(throws: ProcessError.self) {
            try ChildProcess.execInPlace(command: ["no-such-command-sa"], environment: environment)
        }
        #expect(error?.exitCode.rawValue == 127)
    }

    @Test("many children at once: each status goes to its own waiter")
    func concurrentChildren() async throws {
        let child = try TestChild.require()
        try await withThrowingTaskGroup(of: CodeAndStatus.self) { group in
            for code in 1...12 as ClosedRange<Int32> {
                group.addTask {
                    let process = try await ChildProcess.spawn(
                        command: [child, "--exit-code", "\(code)", "--stop-after", "0.\(code % 3)"], environment: environment)
                    return CodeAndStatus(code: code, status: await process.wait())
                }
            }
            for try await result in group { #expect(result.status == .exited(result.code)) }
        }
    }
}

struct CodeAndStatus: Sendable {
    var code: Int32
    var status: TerminationStatus
}
