import AsyncHTTPClient
import Foundation
import Logging
import SecretAgentCore
import Testing
@testable import SecretAgentVault

/// Vault TLS as the Vault CLI reads it, against a private OpenBao with TLS listeners on the
/// test's own CA (`CertBao`): CA file and directory, server name, mutual TLS, the cert method.
@Suite("Vault TLS: CA path, server name, client certificates, cert auth", .enabled(if: TestBao.binary != nil || TestBao.required))
struct VaultTLSTests {
    static func bao() async throws -> CertBao {
        guard let binary = TestBao.binary else { throw TestFailure("SECRET_AGENT_TEST_BAO is not set (scripts/test-servers.sh start)") }
        return try await CertBao(binary: binary)
    }

    func backend(_ settings: VaultSettings, _ env: [String: String], logs: LogCapture = LogCapture(),
                 http: HTTPClient = TestBao.http) throws -> VaultBackend {
        var env = env
        env["VAULT_MAX_RETRIES"] = "0"
        return try VaultBackend(settings: settings, environment: env, httpClient: http, logger: logs.logger())
    }

    @Test("VAULT_CACERT and VAULT_CAPATH are trusted; without them the certificate is refused (exit 69) naming both")
    func caFileAndDirectory() async throws {
        let bao = try await Self.bao()
        defer { bao.stop() }
        let path = TestBao.unique("tls")
        try await bao.admin(.POST, "secret/data/\(path)", ["data": ["k": "over-tls"]])
        let base = ["VAULT_ADDR": bao.address, "VAULT_TOKEN": "root"]

        let noCA = try backend(VaultSettings(), base)
        let error = await #expect(throws: VaultError.self) { try await noCA.start() }
        #expect(error?.kind == .tls)
        #expect(error?.exitCode == .unavailable)
        #expect(error?.message.contains(bao.address) == true)
        #expect(error?.message.contains("VAULT_CACERT") == true)
        #expect(error?.message.contains("VAULT_CAPATH") == true)
        #expect(error?.message.contains("untrusted issuer") == true)

        let caFile = try backend(VaultSettings(), base.merging(["VAULT_CACERT": bao.ca]) { $1 })
        #expect(try await caFile.value("vault:secret/\(path)#k")?.text == "over-tls")
        await caFile.shutdown()

        // A directory with the CA among other PEM files (another CA) and a file that is not PEM.
        let cas = try TempDir()
        try cas.write("0-other.pem", try String(contentsOfFile: bao.rogueCert, encoding: .utf8))
        try cas.write("1-ours.pem", try String(contentsOfFile: bao.ca, encoding: .utf8))
        try cas.write("README", "CA certificates for Vault\n")
        let caDir = try backend(VaultSettings(), base.merging(["VAULT_CAPATH": cas.path]) { $1 })
        #expect(try await caDir.value("vault:secret/\(path)#k")?.text == "over-tls")
        await caDir.shutdown()
        let fromConfig = try backend(VaultSettings(address: bao.address, timeout: .seconds(30), caPath: cas.path), ["VAULT_TOKEN": "root"])
        #expect(try await fromConfig.value("vault:secret/\(path)#k")?.text == "over-tls")
        await fromConfig.shutdown()

        // A directory with only the other CA: refused like no CA at all.
        let wrong = try TempDir()
        try wrong.write("other.pem", try String(contentsOfFile: bao.rogueCert, encoding: .utf8))
        let wrongDir = try backend(VaultSettings(), base.merging(["VAULT_CAPATH": wrong.path]) { $1 })
        await #expect(throws: VaultError.self) { try await wrongDir.start() }
        // An empty directory is a configuration error at once.
        let empty = try TempDir()
        #expect(throws: VaultError.self) { try self.backend(VaultSettings(), base.merging(["VAULT_CAPATH": empty.path]) { $1 }) }
    }

    @Test("VAULT_TLS_SERVER_NAME: a certificate only for vault.test, reached at 127.0.0.1")
    func serverName() async throws {
        let bao = try await Self.bao()
        defer { bao.stop() }
        let path = TestBao.unique("sni")
        try await bao.admin(.POST, "secret/data/\(path)", ["data": ["k": "named"]])
        let env = ["VAULT_ADDR": bao.namedAddress, "VAULT_TOKEN": "root", "VAULT_CACERT": bao.ca]

        let plain = try backend(VaultSettings(), env)
        let error = await #expect(throws: VaultError.self) { try await plain.start() }
        #expect(error?.kind == .tls)
        #expect(error?.message.contains("wrong host name") == true)
        #expect(error?.message.contains("VAULT_TLS_SERVER_NAME") == true)

        for (settings, environment) in [(VaultSettings(), env.merging(["VAULT_TLS_SERVER_NAME": "vault.test"]) { $1 }),
                                        (VaultSettings(tlsServerName: "vault.test"), env)] {
            #expect(VaultBackend.dnsOverride(settings: settings, environment: environment) == ["vault.test": "127.0.0.1"])
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.dnsOverride = VaultBackend.dnsOverride(settings: settings, environment: environment)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let named = try backend(settings, environment, http: http)
            #expect(try await named.value("vault:secret/\(path)#k")?.text == "named")
            await named.shutdown()
            try await http.shutdown()
        }
    }

    @Test("mutual TLS with VAULT_CLIENT_CERT / VAULT_CLIENT_KEY; half a pair or a bad file is exit 78; the key is never logged")
    func mutualTLS() async throws {
        let bao = try await Self.bao()
        defer { bao.stop() }
        let path = TestBao.unique("mtls")
        try await bao.admin(.POST, "secret/data/\(path)", ["data": ["k": "mutual"]])
        let env = ["VAULT_ADDR": bao.mutualAddress, "VAULT_TOKEN": "root", "VAULT_CACERT": bao.ca]

        let anonymous = try backend(VaultSettings(), env)
        await #expect(throws: VaultError.self) { try await anonymous.start() }

        let logs = LogCapture()
        let withCert = try backend(VaultSettings(), env.merging(["VAULT_CLIENT_CERT": bao.clientCert, "VAULT_CLIENT_KEY": bao.clientKey]) { $1 }, logs: logs)
        #expect(try await withCert.value("vault:secret/\(path)#k")?.text == "mutual")
        await withCert.shutdown()
        let fromConfig = try backend(VaultSettings(address: bao.mutualAddress, caCert: bao.ca, clientCert: bao.clientCert, clientKey: bao.clientKey),
                                     ["VAULT_TOKEN": "root"], logs: logs)
        #expect(try await fromConfig.value("vault:secret/\(path)#k")?.text == "mutual")
        await fromConfig.shutdown()

        let key = try String(contentsOfFile: bao.clientKey, encoding: .utf8)
        let keyBody = key.split(separator: "\n").dropFirst().first.map(String.init) ?? key
        #expect(logs.leaks(["client key": keyBody, "root token": "root-token-never"]).isEmpty)
        #expect(!logs.text.contains(keyBody))

        func configError(_ extra: [String: String]) throws -> VaultError? {
            do {
                _ = try backend(VaultSettings(), env.merging(extra) { $1 })
                return nil
            } catch let error as VaultError {
                return error
            }
        }
        let halfCert = try configError(["VAULT_CLIENT_CERT": bao.clientCert])
        #expect(halfCert?.exitCode == .config)
        #expect(halfCert?.message.contains("VAULT_CLIENT_KEY") == true)
        let halfKey = try configError(["VAULT_CLIENT_KEY": bao.clientKey])
        #expect(halfKey?.exitCode == .config)
        let garbage = try TempDir().write("key.pem", "-----BEGIN PRIVATE KEY-----\nnot-a-key-at-all\n-----END PRIVATE KEY-----\n")
        let badKey = try configError(["VAULT_CLIENT_CERT": bao.clientCert, "VAULT_CLIENT_KEY": garbage])
        #expect(badKey?.exitCode == .config)
        #expect(badKey?.message.contains(garbage) == true)
        #expect(badKey?.message.contains("not-a-key-at-all") == false)
        let mismatch = try configError(["VAULT_CLIENT_CERT": bao.clientCert, "VAULT_CLIENT_KEY": bao.rogueKey])
        #expect(mismatch?.exitCode == .config)
        let badCert = try configError(["VAULT_CLIENT_CERT": bao.clientKey, "VAULT_CLIENT_KEY": bao.clientKey])
        #expect(badCert?.exitCode == .config)
        #expect(badCert?.message.contains("no PEM certificate") == true)
    }

    @Test("cert auth: logs in with the client certificate and a cert role, reads the secret, logs in again at max TTL; another CA's certificate is exit 77")
    func certAuth() async throws {
        let bao = try await Self.bao()
        defer { bao.stop() }
        let path = TestBao.unique("cert")
        try await bao.admin(.POST, "secret/data/\(path)", ["data": ["k": "by-certificate"]])
        try await bao.admin(.PUT, "sys/policies/acl/\(path)", ["policy": "path \"secret/data/\(path)\" { capabilities = [\"read\"] }"])
        try await bao.admin(.POST, "sys/auth/cert", ["type": "cert"])
        try await bao.admin(.POST, "auth/cert/certs/web", [
            "certificate": try String(contentsOfFile: bao.ca, encoding: .utf8),
            "token_policies": [path], "token_ttl": "3s", "token_max_ttl": "4s",
        ])
        var settings = VaultSettings(address: bao.address, caCert: bao.ca, clientCert: bao.clientCert, clientKey: bao.clientKey)
        settings.auth = VaultAuthSettings(method: .cert)
        settings.auth.name = "web"
        let logs = LogCapture()
        let vault = try backend(settings, [:], logs: logs)
        #expect(try await vault.value("vault:secret/\(path)#k")?.text == "by-certificate")
        #expect(logs.count("logged in to Vault", "cert login (auth/cert/, role 'web')") == 1)
        // The token cannot be renewed past 4s: the token manager logs in again with the certificate.
        let deadline = ContinuousClock.now + .seconds(30)
        while logs.count("logged in to Vault") < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(logs.count("logged in to Vault") >= 2)
        #expect(try await vault.value("vault:secret/\(path)#k")?.text == "by-certificate")
        await vault.shutdown()
        #expect(!logs.text.contains("by-certificate"))

        var rogue = settings
        rogue.clientCert = bao.rogueCert
        rogue.clientKey = bao.rogueKey
        let refused = try backend(rogue, [:])
        let error = await #expect(throws: VaultError.self) { try await refused.start() }
        #expect(error?.exitCode == .noPermission)
        #expect(error?.message.contains("cert login") == true)

        var noCert = settings
        noCert.clientCert = nil
        noCert.clientKey = nil
        let missing = try backend(noCert, [:])
        let config = await #expect(throws: VaultError.self) { try await missing.start() }
        #expect(config?.exitCode == .config)
    }

    @Test("VAULT_SKIP_VERIFY / tls_skip_verify is a warning on every start")
    func skipVerifyWarns() async throws {
        let bao = try await Self.bao()
        defer { bao.stop() }
        for (settings, env) in [(VaultSettings(tlsSkipVerify: true), ["VAULT_ADDR": bao.address, "VAULT_TOKEN": "root"]),
                                (VaultSettings(), ["VAULT_ADDR": bao.address, "VAULT_TOKEN": "root", "VAULT_SKIP_VERIFY": "true"])] {
            let logs = LogCapture()
            let vault = try backend(settings, env, logs: logs)
            try await vault.start()
            await vault.shutdown()
            #expect(logs.count("[warning]", "TLS verification of the Vault server is OFF") == 1)
        }
        let logs = LogCapture()
        _ = try backend(VaultSettings(caCert: bao.ca), ["VAULT_ADDR": bao.address], logs: logs)
        #expect(logs.count("TLS verification") == 0)
    }
}
