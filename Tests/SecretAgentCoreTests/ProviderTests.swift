#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import SecretTemplate
import Testing

@Suite("file:, env: and in-memory providers")
struct ProviderTests {
    func tempFile(_ bytes: [UInt8], suffix: String = "") -> String {
        var template = Array("/tmp/secret-agent-test-XXXXXX\(suffix)".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
        precondition(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return String(cString: template)
    }

    func value(_ outcome: FetchOutcome?) -> Value? {
        if case .found(let s)? = outcome { return s.value }
        return nil
    }

    @Test("a file's bytes lose one trailing newline, LF or CRLF")
    func trailingNewline() async throws {
        let p = FileProvider()
        for (content, expected) in [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc\n\n", "abc\n"), ("abc", "abc")] {
            let path = tempFile(Array(content.utf8))
            defer { unlink(path) }
            let r = try await p.fetch([.file(path: path)])
            #expect(value(r[.file(path: path)]) == .string(expected))
        }
    }

    @Test("binary files stay bytes; a missing file is not found")
    func binaryAndMissing() async throws {
        let bytes: [UInt8] = [0xFF, 0x00, 0xFE, 0x41]
        let path = tempFile(bytes)
        defer { unlink(path) }
        let p = FileProvider()
        let r = try await p.fetch([.file(path: path), .file(path: "/nonexistent/secret")])
        #expect(value(r[.file(path: path)]) == .bytes(bytes))
        guard case .notFound? = r[.file(path: "/nonexistent/secret")] else {
            Issue.record("missing file should be notFound")
            return
        }
    }

    @Test("YAML files are maps, so #field works")
    func yamlFile() async throws {
        let path = tempFile(Array("user: app\nport: 5432\nnested:\n  key: v\n".utf8), suffix: ".yaml")
        defer { unlink(path) }
        let r = try await FileProvider().fetch([.file(path: path)])
        let v = try #require(value(r[.file(path: path)]))
        #expect(try Reference.parse("file:\(path)#user").select(from: v) == .string("app"))
        #expect(try Reference.parse("file:\(path)#/nested/key").select(from: v) == .string("v"))
        #expect(try Reference.parse("file:\(path)#port").select(from: v) == .number("5432"))
    }

    @Test("env: reads the given environment")
    func envProvider() async throws {
        let p = EnvProvider(environment: ["A": "1"])
        let r = try await p.fetch([.env(name: "A"), .env(name: "B")])
        #expect(value(r[.env(name: "A")]) == .string("1"))
        guard case .notFound? = r[.env(name: "B")] else {
            Issue.record("unset variable should be notFound")
            return
        }
    }

    @Test("ProviderSet routes by scheme and fetches each provider once")
    func providerSet() async throws {
        let a = InMemoryProvider(schemes: [.ssm, .ssmPath], name: "ssm")
        let b = InMemoryProvider(schemes: [.sm], name: "sm")
        await a.set(.ssm(name: "/a", selector: nil), Secret(value: .string("1"), version: "3"))
        await b.set(.secretsManager(id: "b", stage: nil, versionID: nil), Secret(value: .string("2")))
        let set = ProviderSet([a, b])
        let r = try await set.fetch([.ssm(name: "/a", selector: nil), .ssm(name: "/missing", selector: nil),
                                     .secretsManager(id: "b", stage: nil, versionID: nil)])
        #expect(r.count == 3)
        #expect(await a.fetchCalls == 1)
        #expect(await a.fetchedLocators == 2)
        #expect(await b.fetchCalls == 1)
    }

    @Test("a failure is never a partial result")
    func failureThrows() async {
        let a = InMemoryProvider(schemes: [.ssm])
        await a.failWith(AgentError(.noPermission, "denied"))
        let set = ProviderSet([a, EnvProvider(environment: [:])])
        let error = await #expect(throws: PartialFetchFailure.self) {
            _ = try await set.fetch([.ssm(name: "/a", selector: nil), .env(name: "X")])
        }
        // Thrown, never returned: the reason's status, and what did arrive travels with it.
        #expect(error?.exitCode == .noPermission)
        #expect(error?.description.contains("denied") == true)
        #expect(error?.fetched[.env(name: "X")] != nil && error?.fetched[.ssm(name: "/a", selector: nil)] == nil)
    }

    @Test("a scheme with no provider is a configuration error")
    func noProvider() async {
        await #expect(throws: AgentError.self) {
            _ = try await ProviderSet([FileProvider()]).fetch([.vault(path: "secret/x", version: nil, parameters: [:])])
        }
    }

    @Test("Secret and Value never print the value")
    func redaction() {
        let s = Secret(value: .string("hunter2-value"), version: "1")
        #expect(!"\(s)".contains("hunter2"))
        #expect(!String(reflecting: s.value).contains("hunter2"))
        var dumped = ""
        dump(s, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }
}
