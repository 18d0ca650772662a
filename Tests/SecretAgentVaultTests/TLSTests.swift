import AsyncHTTPClient
import Foundation
import Logging
import SecretAgentCore
import Testing
@testable import SecretAgentVault

/// A private `bao server -dev -dev-tls` (its own CA in a temporary directory), stopped by PID.
final class TLSBao {
    let dir: TempDir
    let address: String
    let caCert: String
    private let process: Process

    init(binary: String) async throws {
        dir = try TempDir()
        let port = Int(try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        address = "https://127.0.0.1:\(port)"
        caCert = dir.path + "/vault-ca.pem"
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["server", "-dev", "-dev-tls", "-dev-tls-cert-dir=\(dir.path)", "-dev-root-token-id=root",
                             "-dev-listen-address=127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if FileManager.default.fileExists(atPath: caCert),
               (try? await TestBao.call(.GET, "sys/health", address: address, insecure: true)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw TestFailure("bao -dev-tls did not start")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

@Suite("TLS against bao -dev-tls", .enabled(if: TestBao.binary != nil))
struct TLSTests {
    @Test func verificationIsOnAndTheCACanBeConfiguredOrSkipped() async throws {
        let bao = try await TLSBao(binary: TestBao.binary!)
        defer { bao.stop() }
        try await TestBao.call(.POST, "secret/data/tls", ["data": ["k": "over-tls"]], address: bao.address, insecure: true)
        func backend(_ settings: VaultSettings, _ env: [String: String] = [:]) throws -> VaultBackend {
            var env = env
            env["VAULT_ADDR"] = bao.address
            env["VAULT_TOKEN"] = "root"
            env["VAULT_MAX_RETRIES"] = "0"
            return try VaultBackend(settings: settings, environment: env, httpClient: TestBao.http, logger: LogCapture().logger())
        }
        // No CA: the self-signed certificate is refused, with a hint, and not retried as transient.
        let refused = try backend(VaultSettings())
        let error = await #expect(throws: VaultError.self) { try await refused.start() }
        if ProcessInfo.processInfo.environment["VAULT_TEST_ECHO_LOGS"] == "1" { print("error: \(error.map { "\($0)" } ?? "-")") }
        #expect(error?.kind == .tls)
        #expect(error?.isTransient == false)
        #expect(error?.message.contains("VAULT_CACERT") == true)

        let withCA = try backend(VaultSettings(caCert: bao.caCert))
        #expect(try await withCA.value("vault:secret/tls#k")?.text == "over-tls")
        await withCA.shutdown()
        let fromEnv = try backend(VaultSettings(caCert: "/nonexistent.pem"), ["VAULT_CACERT": bao.caCert])
        #expect(try await fromEnv.value("vault:secret/tls#k")?.text == "over-tls")
        await fromEnv.shutdown()
        let skipping = try backend(VaultSettings(tlsSkipVerify: true))
        #expect(try await skipping.value("vault:secret/tls#k")?.text == "over-tls")
        await skipping.shutdown()
    }
}
