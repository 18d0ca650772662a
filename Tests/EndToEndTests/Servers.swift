import Foundation
import Testing

/// The real backends `scripts/test-servers.sh` started (moto, OpenBao), for end-to-end runs of
/// the built binary. Tests are skipped without them, and fail when SECRET_AGENT_REQUIRE_SERVERS=1.
enum Servers {
    static let env = ProcessInfo.processInfo.environment
    static var motoEnabled: Bool { env["SECRET_AGENT_TEST_MOTO_ENDPOINT"] != nil || env["SECRET_AGENT_REQUIRE_SERVERS"] == "1" }
    static var vaultEnabled: Bool { env["SECRET_AGENT_TEST_VAULT_ADDR"] != nil || env["SECRET_AGENT_REQUIRE_SERVERS"] == "1" }

    struct Missing: Error, CustomStringConvertible { var description: String }

    static func value(_ name: String) throws -> String {
        guard let v = env[name], !v.isEmpty else {
            throw Missing(description: "\(name) is not set: run the suite with scripts/test.sh")
        }
        return v
    }

    static var python: String { env["SECRET_AGENT_TEST_PYTHON"] ?? "python3" }

    /// The agent's environment for moto at `endpoint` (default: the shared, signature-checking one).
    static func awsEnvironment(endpoint: String? = nil) throws -> [String: String] {
        Agent.cleanEnvironment([
            "AWS_ENDPOINT_URL": try endpoint ?? value("SECRET_AGENT_TEST_MOTO_ENDPOINT"),
            "AWS_ACCESS_KEY_ID": try value("SECRET_AGENT_TEST_AWS_ACCESS_KEY_ID"),
            "AWS_SECRET_ACCESS_KEY": try value("SECRET_AGENT_TEST_AWS_SECRET_ACCESS_KEY"),
            "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        ])
    }

    /// Runs a boto3 snippet as the seeded user (`c(service)` makes a client).
    static func boto(_ code: String, endpoint: String? = nil) throws {
        let script = """
            import os, boto3
            def c(service):
                return boto3.client(service, endpoint_url=os.environ["EP"], region_name="us-east-1",
                                    aws_access_key_id=os.environ["K"], aws_secret_access_key=os.environ["S"])
            \(code.split(separator: "\n").joined(separator: "\n"))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script]
        p.environment = ["EP": try endpoint ?? value("SECRET_AGENT_TEST_MOTO_ENDPOINT"),
                         "K": try value("SECRET_AGENT_TEST_AWS_ACCESS_KEY_ID"), "S": try value("SECRET_AGENT_TEST_AWS_SECRET_ACCESS_KEY"),
                         "PATH": env["PATH"] ?? "/usr/bin:/bin"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Missing(description: "boto3 snippet failed") }
    }

    /// A Vault API call with the root token (JSON body or nil), through curl.
    @discardableResult
    static func vault(_ method: String, _ path: String, _ body: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-X", method, "-H", "X-Vault-Token: \(try value("SECRET_AGENT_TEST_VAULT_TOKEN"))",
                       "--data-binary", body ?? "", try value("SECRET_AGENT_TEST_VAULT_ADDR") + "/v1/" + path]
        if body == nil { p.arguments!.removeSubrange(5...6) }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A moto of the test's own (signatures unchecked), to stop and start for outage tests.
final class PrivateMoto: @unchecked Sendable {
    let port: Int
    private var process: Process?
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() throws {
        port = Net.freePort()
        try start()
    }

    func start() throws {
        let server = URL(fileURLWithPath: Servers.python).deletingLastPathComponent().appendingPathComponent("moto_server").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: server)
        p.arguments = ["-H", "127.0.0.1", "-p", "\(port)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let ready = eventually(timeout: 20) { Net.accepts(port: self.port) }
        if !ready { throw Servers.Missing(description: "private moto did not start") }
    }

    func stop() {
        guard let p = process else { return }
        p.terminate()
        if !eventually(timeout: 3, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        process = nil
    }

    deinit { stop() }
}
