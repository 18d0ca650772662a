#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import SecretTemplate
import Testing

/// The helpers every module shares: backoff, durations, credential files, exit codes and errors.
@Suite("shared helpers")
struct HelperTests {
    /// Full jitter: delays spread over the whole range [0, ceiling], not only its upper half
    /// (Vault's old copy drew from [ceiling/2, ceiling]). 400 draws all in the upper half would
    /// happen with probability 2^-400.
    @Test func backoffIsFullJitterUpToTheCeiling() {
        for (attempt, ceiling) in [(1, Duration.milliseconds(100)), (2, .milliseconds(200)), (3, .milliseconds(400)), (9, .seconds(2)), (60, .seconds(2))] {
            let draws = (0..<400).map { _ in Backoff.delay(attempt: attempt, base: .milliseconds(100), cap: .seconds(2)) }
            #expect(draws.allSatisfy { $0 >= .zero && $0 <= ceiling }, "attempt \(attempt)")
            #expect(draws.contains { $0 < ceiling / 2 }, "attempt \(attempt): nothing below half the ceiling")
        }
        #expect(Backoff.delay(attempt: 0, base: .milliseconds(1), cap: .seconds(1)) <= .milliseconds(1))
    }

    @Test func durationUnits() {
        let d = Duration.seconds(2) + .nanoseconds(1_500_000)
        #expect(d.milliseconds == 2001)
        #expect(d.nanoseconds == 2_001_500_000)
        #expect(d.seconds == 2.0015)
        #expect(Duration.milliseconds(-1500).milliseconds == -1500)
        #expect(Duration.zero.seconds == 0)
    }

    @Test func credentialFilesAreTrimmedAndErrorsKeepErrno() throws {
        var template = Array("/tmp/secret-agent-cred-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        let text = Array(" \tsecret-id-1\n\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(FileBytes.readCredential(path) == "secret-id-1")
        #expect(FileBytes.isReadable(path))
        let tooLarge = FileBytes.readCredential(path, limit: 4)
        let tooLargeErrno = errno
        #expect(tooLarge == nil && tooLargeErrno == EFBIG)
        let missing = FileBytes.readCredential(path + "-missing")
        let reason = FileBytes.lastErrorDescription()
        #expect(missing == nil && reason == "No such file or directory")
        #expect(!FileBytes.isReadable(path + "-missing"))
    }

    @Test func exitCodesKeepTheirNumbers() {
        let codes: [(ExitCode, Int32)] = [(.success, 0), (.failure, 1), (.usage, 64), (.dataError, 65), (.unavailable, 69),
                                          (.software, 70), (.cannotCreate, 73), (.noPermission, 77), (.config, 78),
                                          (.notExecutable, 126), (.notFound, 127)]
        for (code, number) in codes {
            #expect(code.rawValue == number)
            #expect(ExitCode(rawValue: number) == code)
        }
    }

    @Test func agentErrorKindsMapToExitCodes() {
        let kinds: [(AgentError.Kind, ExitCode)] = [(.usage, .usage), (.dataError, .dataError), (.unavailable, .unavailable),
                                                    (.cannotCreate, .cannotCreate), (.noPermission, .noPermission), (.config, .config)]
        for (kind, code) in kinds {
            #expect(AgentError(kind, "m").exitCode == code)
            #expect(AgentError.Kind(code) == kind)
        }
        #expect(AgentError.Kind(.notFound) == nil)
        #expect(AgentError(.unavailable, "down", transient: true).isTransient)
        #expect(AgentError.data("x") == AgentError(.dataError, "x"))
    }

    /// A JSON error is its own type (not a template error), a data error at the command line,
    /// and never quotes the text.
    @Test func jsonErrors() {
        let error = #expect(throws: JSONError.self) { try JSON.parse(#"{"password": "hunter2""#) }
        #expect(error?.description.hasPrefix("invalid JSON at byte ") == true)
        #expect(error?.description.contains("hunter2") == false)
        #expect(error.map { ($0 as any AgentFailure).exitCode } == .dataError)
        #expect(TemplateError(.syntax, "x").exitCode == .dataError)
    }
}
