import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// The OpenBao dev server that `scripts/test-servers.sh start` runs, seeded over its HTTP API with
/// the root token. Every test uses its own paths and mounts, so tests run in parallel.
enum TestBao {
    static let environment = ProcessInfo.processInfo.environment
    static let address = environment["SECRET_AGENT_TEST_VAULT_ADDR"]
    static let rootToken = environment["SECRET_AGENT_TEST_VAULT_TOKEN"] ?? "root"
    static var available: Bool { address != nil }
    static var required: Bool { environment["SECRET_AGENT_REQUIRE_SERVERS"] == "1" }
    static var binary: String? { environment["SECRET_AGENT_TEST_BAO"] }

    /// A name no other test uses.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    struct Answer {
        let status: Int
        let json: [String: Any]
        var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
        var auth: [String: Any] { json["auth"] as? [String: Any] ?? [:] }
    }

    /// One admin call; fails the test on a status outside 2xx unless `allow` lists it.
    @discardableResult
    static func call(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil, token: String? = nil,
                     namespace: String? = nil, headers: [(String, String)] = [], allow: Set<Int> = [],
                     address: String? = nil, insecure: Bool = false) async throws -> Answer {
        var request = HTTPClientRequest(url: (address ?? self.address!) + "/v1/" + path)
        request.method = method
        request.headers.add(name: "X-Vault-Token", value: token ?? rootToken)
        if let namespace { request.headers.add(name: "X-Vault-Namespace", value: namespace) }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body)
            request.body = .bytes(ByteBuffer(bytes: Array(data)))
        }
        let response = try await (insecure ? insecureHTTP : HTTPClient.shared).execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let data = Data(bytes.readableBytesView)
        let json = (data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let status = Int(response.status.code)
        if !(200..<300).contains(status) && !allow.contains(status) {
            Issue.record("admin \(method.rawValue) \(path) → \(status): \(json["errors"] ?? "")")
            throw TestFailure("admin call failed")
        }
        return Answer(status: status, json: json)
    }

    /// Writes a KV v2 secret and returns its version.
    @discardableResult
    static func putKV2(_ mount: String, _ path: String, _ data: [String: Any], namespace: String? = nil) async throws -> Int {
        let answer = try await call(.POST, "\(mount)/data/\(path)", ["data": data], namespace: namespace)
        return answer.data["version"] as? Int ?? 0
    }

    static func mountKV(_ mount: String, version: Int, namespace: String? = nil) async throws {
        try await call(.POST, "sys/mounts/\(mount)", ["type": "kv", "options": ["version": String(version)]], namespace: namespace)
    }

    static func policy(_ name: String, _ hcl: String) async throws {
        try await call(.PUT, "sys/policies/acl/\(name)", ["policy": hcl])
    }

    /// A child token of root with the given policies and TTLs.
    static func token(policies: [String], ttl: String? = nil, explicitMaxTTL: String? = nil, renewable: Bool = true) async throws -> String {
        var body: [String: Any] = ["policies": policies, "renewable": renewable, "no_default_policy": false]
        if let ttl { body["ttl"] = ttl }
        if let explicitMaxTTL { body["explicit_max_ttl"] = explicitMaxTTL }
        return try await call(.POST, "auth/token/create", body).auth["client_token"] as! String
    }

    /// The HTTP client the tests give backends: configured as the agent configures its own
    /// (connection failures fail the request instead of being retried until its deadline; no
    /// redirect is followed: the Vault client applies its own rule).
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// For seeding a TLS server whose CA the test does not pass.
    static let insecureHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration(certificateVerification: .none)
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A backend against the test server.
    static func backend(_ settings: VaultSettings = VaultSettings(), environment: [String: String] = [:],
                        logger: Logger = LogCapture().logger(level: .info), awsSigner: (any VaultAWSLoginSigner)? = nil) throws -> VaultBackend {
        var env = environment
        if env["VAULT_ADDR"] == nil && settings.address == nil { env["VAULT_ADDR"] = address! }
        return try VaultBackend(settings: settings, environment: env, httpClient: http, logger: logger, awsSigner: awsSigner)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A temporary directory removed at the end of the test.
final class TempDir {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "vault-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a file and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

extension VaultBackend {
    /// Fetches one locator.
    func get(_ text: String) async throws -> FetchOutcome {
        let reference = try Reference.parse(text)
        let outcomes = try await provider.fetch([reference.locator])
        return outcomes[reference.locator]!
    }

    /// Fetches one reference and applies its `#field`; fails when it is not found.
    func value(_ text: String) async throws -> Value? {
        let reference = try Reference.parse(text)
        guard case .found(let secret) = try await get(text) else { return nil }
        return try reference.select(from: secret.value)
    }
}

extension Value {
    var text: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// Runs a shell command, returning its standard output (tests use `openssl`). A command that
/// leaves a daemon behind passes `capture: false`: every descriptor above 2 is closed first, or the
/// daemon would inherit the one Foundation's `Process` watches and `waitUntilExit` would hang.
@discardableResult
func shell(_ command: String, capture: Bool = true) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    let closeAll = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; "#
    process.arguments = ["-c", capture ? command : closeAll + command]
    let pipe = Pipe()
    process.standardOutput = capture ? pipe : FileHandle.nullDevice
    process.standardError = capture ? FileHandle.standardError : FileHandle.nullDevice
    try process.run()
    let data = capture ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("command failed: \(command)") }
    return String(decoding: data, as: UTF8.self)
}
