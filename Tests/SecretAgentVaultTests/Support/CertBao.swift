import Foundation
import NIOHTTP1
@testable import SecretAgentVault

/// A private OpenBao in dev mode with three TLS listeners on a CA the test makes with openssl
/// (in a temporary directory, removed with it), stopped by PID:
/// - `address`: a server certificate for IP 127.0.0.1; client certificates requested, not required
///   (the cert auth method reads them);
/// - `namedAddress`: a server certificate only for the DNS name `vault.test`;
/// - `mutualAddress`: client certificates required and verified against the CA.
/// `adminAddress` is the dev listener (plain http) the test seeds through with the root token.
final class CertBao {
    let dir = try! TempDir()
    let adminAddress: String
    let address: String
    let namedAddress: String
    let mutualAddress: String
    private let process = Process()

    var ca: String { dir.path + "/ca.pem" }
    /// A client certificate and key signed by the CA.
    var clientCert: String { dir.path + "/client.pem" }
    var clientKey: String { dir.path + "/client.key" }
    /// A client certificate and key from another (self-signed) CA.
    var rogueCert: String { dir.path + "/rogue.pem" }
    var rogueKey: String { dir.path + "/rogue.key" }

    static func freePort() throws -> Int {
        Int(try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
            .trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    init(binary: String) async throws {
        let d = dir.path
        let ports = try (0..<4).map { _ in try Self.freePort() }
        adminAddress = "http://127.0.0.1:\(ports[0])"
        address = "https://127.0.0.1:\(ports[1])"
        namedAddress = "https://127.0.0.1:\(ports[2])"
        mutualAddress = "https://127.0.0.1:\(ports[3])"
        try dir.write("ext.cnf", """
            [server]
            subjectAltName=IP:127.0.0.1
            extendedKeyUsage=serverAuth
            [named]
            subjectAltName=DNS:vault.test
            extendedKeyUsage=serverAuth
            [client]
            extendedKeyUsage=clientAuth
            """)
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        var script = "set -e; cd '\(d)'; "
        script += "openssl req -x509 \(ec) -keyout ca.key -out ca.pem -days 2 -subj '/CN=secret-agent test CA' 2>/dev/null; "
        for name in ["server", "named", "client"] {
            script += "openssl req \(ec) -keyout \(name).key -out \(name).csr -subj '/CN=\(name)' 2>/dev/null; "
            script += "openssl x509 -req -in \(name).csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out \(name).pem -extfile ext.cnf -extensions \(name) 2>/dev/null; "
        }
        script += "openssl req -x509 \(ec) -keyout rogue.key -out rogue.pem -days 2 -subj '/CN=client' 2>/dev/null; "
        try shell(script)
        try dir.write("listeners.hcl", """
            listener "tcp" {
              address = "127.0.0.1:\(ports[1])"
              tls_cert_file = "\(d)/server.pem"
              tls_key_file = "\(d)/server.key"
            }
            listener "tcp" {
              address = "127.0.0.1:\(ports[2])"
              tls_cert_file = "\(d)/named.pem"
              tls_key_file = "\(d)/named.key"
            }
            listener "tcp" {
              address = "127.0.0.1:\(ports[3])"
              tls_cert_file = "\(d)/server.pem"
              tls_key_file = "\(d)/server.key"
              tls_client_ca_file = "\(d)/ca.pem"
              tls_require_and_verify_client_cert = true
            }
            """)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["server", "-dev", "-dev-root-token-id=root", "-dev-listen-address=127.0.0.1:\(ports[0])",
                             "-config=\(d)/listeners.hcl"]
        // dev mode writes the root token to ~/.vault-token: keep it in the temporary directory.
        process.environment = ["HOME": d, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<150 {
            if (try? await TestBao.call(.GET, "sys/health", address: adminAddress, insecure: true)) != nil,
               (try? await TestBao.call(.GET, "sys/health", address: address, insecure: true)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw TestFailure("bao with TLS listeners did not start")
    }

    /// An admin call through the dev listener with the root token.
    @discardableResult
    func admin(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws -> TestBao.Answer {
        try await TestBao.call(method, path, body, token: "root", address: adminAddress)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
