import SecretAgentCore
import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

@Suite("PATH lookup and the environment block")
struct ExecutableTests {
    @Test("a name with a slash is used as is")
    func slash() throws {
        #expect(try resolveExecutable("./app", searchPath: "/nowhere") == "./app")
        #expect(try resolveExecutable("/no/such/app", searchPath: nil) == "/no/such/app")
    }

    @Test("the first executable regular file on PATH wins; directories and missing ones are skipped")
    func search() throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        mkdir(scratch.file("a"), 0o755)
        mkdir(scratch.file("b"), 0o755)
        mkdir(scratch.file("a/tool"), 0o755)  // a directory named like the program
        writeText(scratch.file("b/tool"), "#!/bin/sh\n", mode: 0o755)
        let path = "\(scratch.path)/missing:\(scratch.path)/a:\(scratch.path)/b"
        #expect(try resolveExecutable("tool", searchPath: path) == scratch.file("b/tool"))
        #expect(try resolveExecutable("sh", searchPath: nil).hasSuffix("/sh"))
    }

    @Test("not found is 127, found but not executable is 126")
    func failures() throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        writeText(scratch.file("data"), "x", mode: 0o644)
        let missing = #expect(throws: ProcessError.self) { try resolveExecutable("no-such-tool-xyz", searchPath: scratch.path) }
        #expect(missing?.exitCode.rawValue == 127)
        #expect(missing?.description == "no-such-tool-xyz: command not found")
        // 0644: no x bit at all, so even root gets EACCES.
        let denied = #expect(throws: ProcessError.self) { try resolveExecutable("data", searchPath: scratch.path) }
        #expect(denied?.exitCode.rawValue == 126)
        let empty = #expect(throws: ProcessError.self) { try resolveExecutable("", searchPath: nil) }
        #expect(empty?.exitCode.rawValue == 64)
    }

    @Test("environment block: sorted NAME=value; bad names and NUL bytes refused without the value")
    func environment() throws {
        #expect(try environmentBlock(["B": "2", "A": "x=y", "EMPTY": ""]) == ["A=x=y", "B=2", "EMPTY="])
        let nul = #expect(throws: ProcessError.self) { try environmentBlock(["TOKEN": "fake\u{0}secret"]) }
        #expect(nul?.exitCode.rawValue == 65)
        #expect(nul?.description.contains("TOKEN") == true)
        #expect(nul?.description.contains("fake") == false)
        #expect(throws: ProcessError.self) { try environmentBlock(["A=B": "v"]) }
        #expect(throws: ProcessError.self) { try environmentBlock(["": "v"]) }
    }

    @Test("the child's PATH is searched first, then the agent's")
    func searchPathChoice() {
        #expect(searchPath(for: ["PATH": "/x:/y"]) == "/x:/y")
        #expect(searchPath(for: [:]) == (getenv("PATH").map { String(cString: $0) } ?? defaultSearchPath))
    }

    @Test("spawn errors map to 127/126 and keep the value out of the message")
    func spawnErrors() {
        #expect(ProcessError.spawn("app", errno: ENOENT).exitCode.rawValue == 127)
        #expect(ProcessError.spawn("app", errno: EACCES).exitCode.rawValue == 126)
        #expect(ProcessError.spawn("app", errno: ENOEXEC).exitCode.rawValue == 126)
        #expect(ProcessError.spawn("app", errno: E2BIG).kind == .spawnFailed(E2BIG))
        #expect(ProcessError.spawn("app", errno: E2BIG).kind != .spawnFailed(ENOMEM))
    }

    /// ProcessError is an `AgentFailure` like every module's error (the command line no longer
    /// special-cases it), with its own statuses: 127, 126, 65, 64 and 1.
    @Test func processErrorsAreAgentFailures() {
        let cases: [(ProcessError.Kind, ExitCode)] = [
            (.notFound, .notFound), (.notExecutable, .notExecutable), (.spawnFailed(EIO), .notExecutable),
            (.invalidEnvironment, .dataError), (.emptyCommand, .usage), (.supervisionEnded, .failure), (.alreadyRunning, .failure),
        ]
        for (kind, code) in cases {
            let failure: any AgentFailure = ProcessError(kind, "app: message")
            #expect(failure.exitCode == code)
            #expect(!failure.isTransient)
            #expect(failure.description == "app: message")
        }
    }
}
