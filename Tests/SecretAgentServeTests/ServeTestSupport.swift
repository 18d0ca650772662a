import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SecretAgentCore
import SecretAgentOps
import SecretTemplate
import Synchronization
import Testing
@testable import SecretAgentAWS
@testable import SecretAgentServe

/// The moto server `scripts/test-servers.sh start` seeded (see scripts/seed-moto.py).
struct Moto {
    static let environment = ProcessInfo.processInfo.environment

    /// True when the moto tests should run: the server is there, or servers are required.
    static var enabled: Bool { environment["SECRET_AGENT_TEST_MOTO_ENDPOINT"] != nil || environment["SECRET_AGENT_REQUIRE_SERVERS"] == "1" }

    let endpoint: String
    let accessKeyID: String
    let secretAccessKey: String

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func require() throws -> Moto {
        func get(_ name: String) throws -> String {
            guard let v = environment[name], !v.isEmpty else {
                throw Missing(description: "\(name) is not set: run `scripts/test-servers.sh start` and source its env file")
            }
            return v
        }
        return Moto(endpoint: try get("SECRET_AGENT_TEST_MOTO_ENDPOINT"), accessKeyID: try get("SECRET_AGENT_TEST_AWS_ACCESS_KEY_ID"),
                    secretAccessKey: try get("SECRET_AGENT_TEST_AWS_SECRET_ACCESS_KEY"))
    }

    /// An agent environment that signs as the seeded user against this moto.
    func environment() -> [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]
    }

    /// The seeded user that may call nothing but sts:GetCallerIdentity.
    func denied() throws -> Moto {
        guard let key = Moto.environment["SECRET_AGENT_TEST_AWS_DENIED_ACCESS_KEY_ID"],
              let secret = Moto.environment["SECRET_AGENT_TEST_AWS_DENIED_SECRET_ACCESS_KEY"] else {
            throw Missing(description: "the denied user's keys are not set (seed-moto.py prints them)")
        }
        return Moto(endpoint: endpoint, accessKeyID: key, secretAccessKey: secret)
    }

    /// A backend on this moto (retries kept short so failing tests fail fast).
    func backend(logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })) -> AWSBackend {
        AWSBackend(settings: AWSSettings(), environment: environment(), network: AWSNetwork(client: testHTTPClient), logger: logger,
                   retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), timeout: .seconds(10)))
    }
}

/// Moto's own answer to an operation, parsed: what the local API must equal field for field.
func motoAnswer(_ backend: AWSBackend, _ service: AWSService, _ operation: String, _ body: [String: Value]) async throws -> Value {
    try await backend.context.call(service, operation, region: "us-east-1", body: .map(body), names: 1, subject: "test")
}

/// The tests' HTTP client: redirects not followed, many connections per host (the concurrency
/// test sends 100 requests at once). Never shut down.
let testHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 200
    configuration.timeout.connect = .seconds(10)
    configuration.redirectConfiguration = .disallow
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

/// The token the tests' servers require.
let testToken = "test-ssrf-token-5c1d"

/// A response of the local API.
struct APIResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var json: Value? { try? JSON.parse(String(decoding: body, as: UTF8.self)) }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// GETs (or another method) a path of a local API, with the token unless told otherwise.
func get(_ api: LocalAPI, _ path: String, token: String? = testToken, headers extra: [(String, String)] = [],
         method: HTTPMethod = .GET) async throws -> APIResponse {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(api.address.port)\(path)")
    request.method = method
    if let token { request.headers.add(name: "X-Aws-Parameters-Secrets-Token", value: token) }
    for (name, value) in extra { request.headers.add(name: name, value: value) }
    let response = try await testHTTPClient.execute(request, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 1 << 20)
    var headers: [String: String] = [:]
    for header in response.headers { headers[header.name.lowercased()] = header.value }
    return APIResponse(status: Int(response.status.code), headers: headers, body: Array(body.readableBytesView))
}

/// Runs a local API for the body's length, then stops it.
func withAPI<T>(aws: (any RawAWSSource)?, providers: ProviderSet = ProviderSet(), allow: ServeAllowSettings?, referenced: Set<Locator> = [],
                settings: ServeSettings = ServeSettings(), poll: Duration = .seconds(300), logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                _ body: (LocalAPI) async throws -> T) async throws -> T {
    let api = try await LocalAPI.bind(ListenAddress(host: "127.0.0.1", port: 0), settings: settings, token: AccessToken(testToken),
                                      sources: LocalAPI.Sources(aws: aws, providers: providers, allow: AllowList(settings: allow, referenced: referenced)),
                                      poll: poll, logger: logger)
    let task = Task { await api.run() }
    defer { task.cancel() }
    return try await body(api)
}

/// A unique name for what a test creates.
func uniqueName(_ prefix: String) -> String { "\(prefix)/\(UUID().uuidString.prefix(8))" }

/// A log handler that keeps every line, metadata included, for hygiene checks.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    var text: String { storage.withLock { $0.joined(separator: "\n") } }

    func logger() -> Logger {
        var logger = Logger(label: "capture") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.storage.withLock { $0.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })") }
        }
    }
}
