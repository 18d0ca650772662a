import Foundation
import Testing

/// A private OpenBao (dev mode) with a TLS listener on a CA made with openssl, for the binary:
/// the listener asks for client certificates without requiring them (the cert method reads them).
/// Everything lives in a scratch directory; `stop()` ends the server and removes it.
final class TLSOpenBao: @unchecked Sendable {
    let scratch = Scratch(onTmpfs: false)
    let admin: String
    let address: String
    private let process = Process()

    init() throws {
        let bao = try Servers.value("SECRET_AGENT_TEST_BAO")
        let ports = (0..<2).map { _ in Net.freePort() }
        admin = "http://127.0.0.1:\(ports[0])"
        address = "https://127.0.0.1:\(ports[1])"
        let d = scratch.path
        scratch.write("ext.cnf", "[server]\nsubjectAltName=IP:127.0.0.1\n[client]\nextendedKeyUsage=clientAuth\n")
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        var script = "set -e; cd '\(d)'; mkdir cas; "
        script += "openssl req -x509 \(ec) -keyout ca.key -out cas/ca.pem -days 2 -subj '/CN=e2e CA' 2>/dev/null; "
        for name in ["server", "client"] {
            script += "openssl req \(ec) -keyout \(name).key -out \(name).csr -subj '/CN=\(name)' 2>/dev/null; "
            script += "openssl x509 -req -in \(name).csr -CA cas/ca.pem -CAkey ca.key -CAcreateserial -days 2 -out \(name).pem -extfile ext.cnf -extensions \(name) 2>/dev/null; "
        }
        script += "openssl req -x509 \(ec) -keyout rogue.key -out rogue.pem -days 2 -subj '/CN=client' 2>/dev/null; "
        try Self.sh(script)
        scratch.write("listener.hcl", """
            listener "tcp" {
              address = "127.0.0.1:\(ports[1])"
              tls_cert_file = "\(d)/server.pem"
              tls_key_file = "\(d)/server.key"
            }
            """)
        process.executableURL = URL(fileURLWithPath: bao)
        process.arguments = ["server", "-dev", "-dev-root-token-id=root", "-dev-listen-address=127.0.0.1:\(ports[0])", "-config=\(d)/listener.hcl"]
        process.environment = ["HOME": d, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard eventually(timeout: 15, { (try? self.call("GET", "sys/health"))?.contains("initialized") == true }) else {
            stop()
            throw Servers.Missing(description: "OpenBao with a TLS listener did not start")
        }
    }

    static func sh(_ script: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Servers.Missing(description: "openssl failed") }
    }

    /// An admin call with the root token over the plain dev listener.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-X", method, "-H", "X-Vault-Token: root"] + (body.map { ["--data-binary", $0] } ?? []) + [admin + "/v1/" + path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        scratch.remove()
    }
}

@Suite("Vault over TLS with the cert auth method, end to end", .enabled(if: Servers.vaultEnabled))
struct VaultTLSEndToEndTests {
    @Test("render logs in with the client certificate (CA from ca_path); no key, token or secret at trace; another CA's certificate is 77; no CA is 69")
    func certAuth() throws {
        let bao = try TLSOpenBao()
        defer { bao.stop() }
        let id = UUID().uuidString.prefix(8).lowercased()
        let secret = "cert-secret-\(UUID().uuidString.prefix(8))"
        try bao.call("POST", "secret/data/e2e-\(id)", #"{"data": {"password": "\#(secret)"}}"#)
        try bao.call("PUT", "sys/policies/acl/e2e-\(id)", #"{"policy": "path \"secret/data/e2e-\#(id)\" { capabilities = [\"read\"] }"}"#)
        try bao.call("POST", "sys/auth/cert", #"{"type": "cert"}"#)
        let ca = try String(contentsOfFile: bao.scratch.file("cas/ca.pem"), encoding: .utf8)
        let role = try JSONSerialization.data(withJSONObject: ["certificate": ca, "token_policies": ["e2e-\(id)"]])
        try bao.call("POST", "auth/cert/certs/web", String(decoding: role, as: UTF8.self))

        let out = Scratch()
        defer { out.remove() }
        func config(cert: String, key: String, caPath: Bool = true) -> String {
            out.write("agent.yaml", """
                vault:
                  address: \(bao.address)
                \(caPath ? "  ca_path: \(bao.scratch.file("cas"))" : "")
                  client_cert: \(bao.scratch.file(cert))
                  client_key: \(bao.scratch.file(key))
                  auth:
                    method: cert
                    name: web
                output_dir: \(out.path)/out
                templates:
                  - contents: "pw={{ vault:secret/e2e-\(id)#password }}"
                    destination: app.conf
                """)
        }
        let env = Agent.cleanEnvironment(["HOME": out.path])
        let r = try Agent.run(["render", "--log-level", "trace", "--config", config(cert: "client.pem", key: "client.key")], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(out.read("out/app.conf") == "pw=\(secret)")
        #expect(r.stderr.contains("cert login"))
        let key = try String(contentsOfFile: bao.scratch.file("client.key"), encoding: .utf8)
        for line in key.split(separator: "\n") where !line.hasPrefix("-----") {
            #expect(!r.output.contains(line), "a line of the client key appears in the output")
        }
        #expect(!r.output.contains(secret))
        #expect(r.output.range(of: #"\b(s|hvs|hvb)\.[A-Za-z0-9]{20,}"#, options: .regularExpression) == nil, "a token appears in the output")

        let rogue = try Agent.run(["render", "--start-timeout", "5s", "--config", config(cert: "rogue.pem", key: "rogue.key")], environment: env)
        #expect(rogue.status == 77, "\(rogue.stderr)")

        let noCA = try Agent.run(["render", "--start-timeout", "5s", "--config", config(cert: "client.pem", key: "client.key", caPath: false)], environment: env)
        #expect(noCA.status == 69, "\(noCA.stderr)")
        #expect(noCA.stderr.contains(bao.address) && noCA.stderr.contains("VAULT_CACERT") && noCA.stderr.contains("VAULT_CAPATH"), "\(noCA.stderr)")
    }
}
