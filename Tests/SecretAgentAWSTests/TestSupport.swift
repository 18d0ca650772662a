import AsyncHTTPClient
import Foundation
import Logging
import SecretAgentCore
import SecretTemplate
import Synchronization
import Testing
@testable import SecretAgentAWS

/// The moto server that `scripts/test-servers.sh start` seeded with `scripts/seed-moto.py`.
struct Moto {
    static let environment = ProcessInfo.processInfo.environment

    /// True when the moto tests should run: the server is there, or servers are required
    /// (`SECRET_AGENT_REQUIRE_SERVERS=1`), in which case a missing one fails the test.
    static var enabled: Bool { environment["SECRET_AGENT_TEST_MOTO_ENDPOINT"] != nil || environment["SECRET_AGENT_REQUIRE_SERVERS"] == "1" }

    let endpoint: String
    let accessKeyID: String
    let secretAccessKey: String
    let python: String

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func require() throws -> Moto {
        func get(_ name: String) throws -> String {
            guard let v = environment[name], !v.isEmpty else {
                throw Missing(description: "\(name) is not set: run `scripts/test-servers.sh start` and source its env file (SECRET_AGENT_REQUIRE_SERVERS=1)")
            }
            return v
        }
        return Moto(endpoint: try get("SECRET_AGENT_TEST_MOTO_ENDPOINT"),
                    accessKeyID: try get("SECRET_AGENT_TEST_AWS_ACCESS_KEY_ID"),
                    secretAccessKey: try get("SECRET_AGENT_TEST_AWS_SECRET_ACCESS_KEY"),
                    python: environment["SECRET_AGENT_TEST_PYTHON"] ?? "python3")
    }

    static func value(_ name: String) throws -> String {
        guard let v = environment[name], !v.isEmpty else { throw Missing(description: "\(name) is not set (seed-moto.py prints it)") }
        return v
    }

    /// An agent environment that signs with the seeded user against this moto, and never
    /// reaches for instance metadata or the developer's ~/.aws.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_REGION": "us-east-1",
                   "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]
        env.merge(extra) { _, new in new }
        return env.filter { !$0.value.isEmpty }
    }
}

/// Quick retries so failing tests fail fast.
let testRetry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), timeout: .seconds(10))

/// The tests' HTTP client, configured as the agent's (`Backends.swift`): redirects are not
/// followed, a refused connection fails at once, connecting takes 10 s at most. Never shut down
/// (like `HTTPClient.shared`).
let testHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(10)
    configuration.redirectConfiguration = .disallow
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

func makeBackend(_ environment: [String: String], settings: AWSSettings = AWSSettings(), httpClient: HTTPClient = testHTTPClient,
                 logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })) -> AWSBackend {
    AWSBackend(settings: settings, environment: environment, httpClient: httpClient, logger: logger, retry: testRetry)
}

/// Parses references and fetches them through the backend's providers.
func fetch(_ backend: AWSBackend, _ references: [String]) async throws -> [String: FetchOutcome] {
    let parsed = try references.map { try Reference.parse($0) }
    var out: [String: FetchOutcome] = [:]
    for provider in backend.providers {
        let mine = parsed.filter { provider.schemes.contains($0.locator.scheme) }
        guard !mine.isEmpty else { continue }
        let outcomes = try await provider.fetch(mine.map(\.locator))
        for reference in mine { out[reference.text] = outcomes[reference.locator] }
    }
    return out
}

extension FetchOutcome {
    var secret: Secret? {
        if case .found(let s) = self { return s }
        return nil
    }

    var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}

extension Optional where Wrapped == FetchOutcome {
    var string: String? {
        guard case .found(let s)? = self, case .string(let text) = s.value else { return nil }
        return text
    }
}

/// A log handler that keeps every line, metadata included, for hygiene checks.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    func append(_ line: String) { storage.withLock { $0.append(line) } }

    func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "capture") { _ in Handler(capture: self) }
        logger.logLevel = level
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
            let all = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
            let error = event.error.map { " error=\($0)" } ?? ""
            capture.append("\(event.level) \(event.message) \(all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))\(error)")
        }
    }
}

/// A helper process (a second moto, a tiny credentials server): started with a Python script
/// that prints its port on the first line, stopped when the test ends (closing its stdin).
final class Helper: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private(set) var port = 0

    init(python: String, script: String, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            stop()
            throw Moto.Missing(description: "helper process did not print its port")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A temporary directory removed when the value is dropped.
final class TempDir: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sa-aws-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
