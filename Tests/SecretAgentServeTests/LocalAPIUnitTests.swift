import Foundation
import NIOCore
import NIOHTTP1
import SecretAgentAWS
import SecretAgentCore
import SecretAgentOps
import SecretTemplate
import Synchronization
import Testing
@testable import SecretAgentServe

/// A Secrets Manager stand-in that counts its calls and answers slowly, so concurrent requests
/// really overlap.
final class CountingSource: RawAWSSource {
    let calls = Atomic<Int>(0)
    let version = Mutex("v1")

    func fetchRaw(_ request: AWSRawRequest) async throws -> AWSRawAnswer {
        calls.add(1, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(200))
        guard case .secret(let id, _, _) = request else { throw AWSError(.failed, "no parameters here", code: "ParameterNotFound", status: 400) }
        let v = version.withLock { $0 }
        return AWSRawAnswer(body: Array("{\"Name\":\"\(id)\",\"VersionId\":\"\(v)\"}".utf8), version: v)
    }

    func changedRaw(_ known: [AWSRawRequest: String?]) async throws -> [AWSRawRequest] {
        let v = version.withLock { $0 }
        return known.filter { $0.value != v }.map(\.key)
    }
}

struct LocalAPIUnitTests {
    func request(_ uri: String, token: String? = testToken, headers: [(String, String)] = []) -> HTTPListener.Request {
        var h = HTTPHeaders()
        if let token { h.add(name: "X-Aws-Parameters-Secrets-Token", value: token) }
        for (n, v) in headers { h.add(name: n, value: v) }
        return HTTPListener.Request(method: .GET, uri: uri, headers: h)
    }

    @Test func tokenComparison() {
        let token = AccessToken("s3cret-token")
        #expect(token.matches("s3cret-token"))
        #expect(!token.matches("s3cret-tokeN"))
        #expect(!token.matches("s3cret-token-and-more"))
        #expect(!token.matches("s3cret"))
        #expect(!token.matches(""))
        #expect(!"\(token)".contains("s3cret"))
    }

    @Test func tokenSources() throws {
        let settings = ServeSettings()
        #expect(try AccessToken.load(settings: settings, environment: ["AWS_SESSION_TOKEN": "b", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "c"]).matches("b"))
        #expect(try AccessToken.load(settings: settings, environment: ["AWS_TOKEN": "a", "AWS_SESSION_TOKEN": "b"]).matches("a"))
        let error = #expect(throws: ServeError.self) { try AccessToken.load(settings: settings, environment: [:]) }
        #expect(error?.exitCode == .config)
        let path = "/tmp/secret-agent-serve-token-\(getpid())"
        try "from-file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        #expect(try AccessToken.load(settings: settings, environment: ["AWS_TOKEN": "file://\(path)"]).matches("from-file"))
        #expect(try AccessToken.load(settings: ServeSettings(tokenFile: path), environment: ["AWS_TOKEN": "a"]).matches("from-file"))
        #expect(try AccessToken.load(settings: ServeSettings(tokenEnv: ["MY_TOKEN"]), environment: ["AWS_TOKEN": "a", "MY_TOKEN": "m"]).matches("m"))
    }

    @Test func defaultAllowListIsWhatTemplatesReference() throws {
        let referenced: Set<Locator> = try Set(["sm:prod/db", "ssm:/app/url:3", "ssm-path:/app/conf", "vault:secret/data/web",
                                                "vault:pki/issue/web?common_name=a.example", "env:HOME"].map { try Reference.parse($0).locator })
        let allow = AllowList(settings: nil, referenced: referenced)
        #expect(allow.allows(.secret(id: "prod/db", versionID: nil, stage: "AWSPREVIOUS")))
        #expect(!allow.allows(.secret(id: "prod/db2", versionID: nil, stage: nil)))
        #expect(allow.allows(.parameter(name: "/app/url", selector: nil, decrypt: true)))
        #expect(allow.allows(.parameter(name: "/app/conf/db/password", selector: nil, decrypt: true)))
        #expect(!allow.allows(.parameter(name: "/app/confidential", selector: nil, decrypt: true)))
        #expect(allow.allows(try Reference.parse("vault:secret/data/web#password").locator))
        #expect(!allow.allows(try Reference.parse("vault:secret/data/other").locator))
        #expect(allow.allows(try Reference.parse("vault:pki/issue/web?common_name=a.example").locator))
        #expect(!allow.allows(try Reference.parse("vault:pki/issue/web?common_name=evil.example").locator))
        #expect(allow.allows(try Reference.parse("env:HOME").locator))
        #expect(!allow.allows(try Reference.parse("env:AWS_SECRET_ACCESS_KEY").locator))
        #expect(!allow.allows(try Reference.parse("file:/etc/shadow").locator))

        let explicit = AllowList(settings: ServeAllowSettings(secretsManager: ["prod/*"], vault: ["*"]), referenced: referenced)
        #expect(explicit.allows(.secret(id: "prod/anything", versionID: nil, stage: nil)))
        #expect(!explicit.allows(.secret(id: "dev/db", versionID: nil, stage: nil)))
        #expect(!explicit.allows(.parameter(name: "/app/url", selector: nil, decrypt: false)))
        #expect(explicit.allows(try Reference.parse("vault:secret/data/other").locator))
    }

    @Test func requestedNamesAreOneLogLine() {
        let key = CacheKey.aws(.secret(id: "a\nFORGED line\u{1b}[31m" + String(repeating: "x", count: 400), versionID: nil, stage: nil))
        #expect(!key.text.contains("\n") && !key.text.contains("\u{1b}"))
        #expect(key.text.count <= 258)
    }

    @Test func queryDecoding() {
        let target = RequestTarget("/secretsmanager/get?secretId=a%2Fb+c&versionStage=AWS%43URRENT&refreshNow=TRUE&flag")
        #expect(target.path == "/secretsmanager/get")
        #expect(target.value("secretId") == "a/b+c")
        #expect(target.value("versionStage") == "AWSCURRENT")
        #expect(target.refreshNow)
        #expect(target.value("flag") == "")
        #expect(RequestTarget.decode("%zz") == nil)
        #expect(RequestTarget.decode("%ff") == nil)
    }

    @Test func concurrentFirstRequestsShareOneFetch() async throws {
        let source = CountingSource()
        try await withAPI(aws: source, allow: ServeAllowSettings(secretsManager: ["*"])) { api in
            let replies = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<100 { group.addTask { await api.respond(request("/v1/shared")).status } }
                var all: [Int] = []
                for await status in group { all.append(status) }
                return all
            }
            #expect(replies == Array(repeating: 200, count: 100))
            #expect(source.calls.load(ordering: .relaxed) == 1)
            #expect(api.statistics.misses + api.statistics.hits == 100)
        }
    }

    @Test func theCacheIsBoundedLeastRecentlyUsedFirst() async throws {
        let source = CountingSource()
        try await withAPI(aws: source, allow: ServeAllowSettings(secretsManager: ["*"]), settings: ServeSettings(cacheSize: 2)) { api in
            _ = await api.respond(request("/v1/a"))
            _ = await api.respond(request("/v1/b"))
            _ = await api.respond(request("/v1/a"))  // a is now more recent than b
            _ = await api.respond(request("/v1/c"))  // evicts b
            #expect(api.cachedCount == 2)
            #expect(source.calls.load(ordering: .relaxed) == 3)
            _ = await api.respond(request("/v1/a"))
            #expect(source.calls.load(ordering: .relaxed) == 3)
            _ = await api.respond(request("/v1/b"))
            #expect(source.calls.load(ordering: .relaxed) == 4)
        }
    }

    @Test func thePollRefetchesOnlyWhatMoved() async throws {
        let source = CountingSource()
        try await withAPI(aws: source, allow: ServeAllowSettings(secretsManager: ["*"])) { api in
            _ = await api.respond(request("/v1/a"))
            _ = await api.respond(request("/v1/b?versionId=v1"))
            await api.pollOnce()
            #expect(source.calls.load(ordering: .relaxed) == 2)
            source.version.withLock { $0 = "v2" }
            await api.pollOnce()
            #expect(source.calls.load(ordering: .relaxed) == 3)
            let body = await api.respond(request("/v1/a")).body
            #expect(String(buffer: body).contains("\"v2\""))
        }
    }

    @Test func namesTheAgentPollsFollowItsChanges() async throws {
        let source = CountingSource()
        let api = try await LocalAPI.bind(ListenAddress(host: "127.0.0.1", port: 0), settings: ServeSettings(), token: AccessToken(testToken),
                                          sources: LocalAPI.Sources(aws: source, providers: ProviderSet(),
                                                                    allow: AllowList(settings: ServeAllowSettings(secretsManager: ["*"]), referenced: []),
                                                                    agentPolled: [.secretsManager(id: "polled", stage: nil, versionID: nil)]),
                                          poll: .seconds(300), logger: .init(label: "test"))
        let task = Task { await api.run() }
        defer { task.cancel() }
        _ = await api.respond(request("/v1/polled"))
        _ = await api.respond(request("/v1/polled?versionStage=AWSPREVIOUS"))
        _ = await api.respond(request("/v1/other"))
        source.version.withLock { $0 = "v2" }
        // The API's own poll asks only about what the agent does not poll (the other stage of
        // that secret, and the other secret), and fetches those two again.
        await api.pollOnce()
        #expect(source.calls.load(ordering: .relaxed) == 5)
        #expect(String(buffer: await api.respond(request("/v1/polled")).body).contains("\"v1\""))
        // The agent's loop reports the change: every stage of that secret is fetched again.
        api.agentChanged([.secretsManager(id: "polled", stage: nil, versionID: nil)])
        let deadline = ContinuousClock.now + .seconds(10)
        func served(_ path: String) async -> String { String(buffer: await api.respond(request(path)).body) }
        while !(await served("/v1/polled")).contains("\"v2\"") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        while !(await served("/v1/polled?versionStage=AWSPREVIOUS")).contains("\"v2\"") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await served("/v1/polled").contains("\"v2\""))
        #expect(await served("/v1/polled?versionStage=AWSPREVIOUS").contains("\"v2\""))
        #expect(source.calls.load(ordering: .relaxed) == 7)
    }

    @Test func refusalsAndStartingNeverFetch() async throws {
        let source = CountingSource()
        try await withAPI(aws: source, allow: ServeAllowSettings(secretsManager: ["ok/*"])) { api in
            #expect(await api.respond(request("/v1/ok/a", token: nil)).status == 403)
            #expect(await api.respond(request("/v1/ok/a", headers: [("X-Forwarded-For", "1.2.3.4")])).status == 400)
            #expect(await api.respond(request("/v1/other")).status == 403)
            #expect(await api.respond(HTTPListener.Request(method: .DELETE, uri: "/v1/ok/a", headers: [:])).status == 405)
            #expect(source.calls.load(ordering: .relaxed) == 0)
            #expect(api.statistics.refusals == 4)
        }
        let unready = try await LocalAPI.bind(ListenAddress(host: "127.0.0.1", port: 0), settings: ServeSettings(), token: AccessToken(testToken),
                                              sources: nil, poll: .seconds(300), logger: .init(label: "test"))
        #expect(await unready.respond(request("/v1/ok/a")).status == 503)
        let task = Task { await unready.run() }
        task.cancel()
        await task.value
    }

    @Test func throttlingAndUnreachableBackendsKeepAWSShapes() async throws {
        struct Failing: RawAWSSource {
            let error: any Error
            func fetchRaw(_ request: AWSRawRequest) async throws -> AWSRawAnswer { throw error }
            func changedRaw(_ known: [AWSRawRequest: String?]) async throws -> [AWSRawRequest] { [] }
        }
        let throttled = Failing(error: AWSError(.unavailable, "AWS secretsmanager:GetSecretValue kept failing", code: "ThrottlingException", status: 400))
        try await withAPI(aws: throttled, allow: ServeAllowSettings(secretsManager: ["*"])) { api in
            let reply = await api.respond(request("/v1/a"))
            #expect(reply.status == 400)
            #expect(String(buffer: reply.body) == #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#)
            #expect(reply.headers.contains { $0 == ("x-amzn-ErrorType", "ThrottlingException") })
        }
        let unreachable = Failing(error: AWSError(.unavailable, "cannot reach AWS secretsmanager at http://127.0.0.1:1"))
        try await withAPI(aws: unreachable, allow: ServeAllowSettings(secretsManager: ["*"])) { api in
            let reply = await api.respond(request("/v1/a"))
            #expect(reply.status == 503)
            #expect(!String(buffer: reply.body).contains("127.0.0.1"), "the agent's error stays in its log")
        }
    }

    @Test func serveConfiguration() throws {
        let yaml = """
            serve:
              address: 127.0.0.1:2774
              token_env: [MY_TOKEN]
              cache_size: 50
              refresh_now_interval: 30s
              max_connections: 10
              allow:
                secretsmanager: [prod/*]
                ssm: /app/*
            """
        let config = try AgentConfig.parse(yaml: yaml, file: "/tmp/agent.yaml", environment: [:])
        let serve = try #require(config.serve)
        #expect(serve.address == "127.0.0.1:2774" && serve.tokenEnv == ["MY_TOKEN"] && serve.cacheSize == 50)
        #expect(serve.refreshNowInterval == .seconds(30) && serve.maxConnections == 10)
        #expect(serve.allow == ServeAllowSettings(secretsManager: ["prod/*"], ssm: ["/app/*"]))
        let empty = try AgentConfig.parse(yaml: "serve: {}\n", file: "/tmp/agent.yaml", environment: [:])
        #expect(empty.serve == ServeSettings())
        #expect(try AgentConfig.parse(yaml: "poll: 5m\n", file: "/tmp/agent.yaml", environment: [:]).serve == nil)
        #expect(throws: AgentError.self) { try AgentConfig.parse(yaml: "serve:\n  adress: x\n", file: "/tmp/agent.yaml", environment: [:]) }
        #expect(throws: AgentError.self) { try AgentConfig.parse(yaml: "serve:\n  address: nope\n", file: "/tmp/agent.yaml", environment: [:]) }
        for key in ["serve", "serve.address", "serve.allow", "serve.allow.secretsmanager", "serve.allow.ssm", "serve.allow.vault",
                    "serve.token_env", "serve.token_file", "serve.cache_size", "serve.refresh_now_interval", "serve.max_connections"] {
            #expect(AgentConfig.keyPaths.contains(key), "\(key)")
        }
    }
}
