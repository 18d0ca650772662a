import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

@Suite("no credential or value in logs or errors", .enabled(if: TestBao.available))
struct SecrecyTests {
    @Test func nothingSecretAtTraceLevel() async throws {
        let seeded = try await Seeded.make("leak")
        let logs = LogCapture()
        var secrets: [String: String] = ["value": seeded.password]
        var errors: [String] = []

        // Token auth with a token we know, renewed once.
        let token = try await TestBao.token(policies: [seeded.policy], ttl: "3s")
        secrets["token"] = token
        let byToken = try TestBao.backend(environment: ["VAULT_TOKEN": token], logger: logs.logger())
        try await byToken.start()
        #expect(try await byToken.value(seeded.reference)?.text == seeded.password)
        try await Task.sleep(for: .milliseconds(2500))
        #expect(logs.count("Vault token renewed") >= 1)
        for denied in ["vault:secret/\(TestBao.unique("elsewhere"))", "vault:sys/config/state/sanitized"] {
            do { _ = try await byToken.get(denied) } catch { errors.append("\(error)") }
        }
        await byToken.shutdown()

        // AppRole with a wrapped secret_id, then a bad secret_id.
        let mount = TestBao.unique("approle")
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "approle"])
        try await TestBao.call(.POST, "auth/\(mount)/role/web", ["token_policies": [seeded.policy]])
        let roleID = try await TestBao.call(.GET, "auth/\(mount)/role/web/role-id").data["role_id"] as! String
        let wrapped = try await TestBao.call(.POST, "auth/\(mount)/role/web/secret-id", headers: [("X-Vault-Wrap-TTL", "60s")])
        let wrappingToken = (wrapped.json["wrap_info"] as! [String: Any])["token"] as! String
        secrets["role_id"] = roleID
        secrets["wrapping token"] = wrappingToken
        let dir = try TempDir()
        var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
        settings.auth.mount = mount
        settings.auth.roleIDFile = try dir.write("role-id", roleID)
        settings.auth.secretIDFile = try dir.write("secret-id", wrappingToken)
        settings.auth.secretIDWrapped = true
        let byAppRole = try TestBao.backend(settings, logger: logs.logger())
        #expect(try await byAppRole.value(seeded.reference)?.text == seeded.password)
        await byAppRole.shutdown()
        let badSecret = "bad-secret-id-" + UUID().uuidString
        secrets["bad secret_id"] = badSecret
        settings.auth.secretIDFile = try dir.write("secret-id", badSecret)
        settings.auth.secretIDWrapped = false
        let refused = try TestBao.backend(settings, logger: logs.logger())
        do { try await refused.start() } catch { errors.append("\(error)") }
        settings.auth.secretIDWrapped = true
        let badUnwrap = try TestBao.backend(settings, logger: logs.logger())
        do { try await badUnwrap.start() } catch { errors.append("\(error)") }

        if ProcessInfo.processInfo.environment["VAULT_TEST_ECHO_LOGS"] == "1" { errors.forEach { print("error: \($0)") } }
        #expect(errors.count == 4)
        #expect(logs.leaks(secrets).isEmpty, "leaked: \(logs.leaks(secrets))")
        for (name, secret) in secrets {
            #expect(!errors.contains { $0.contains(secret) }, "an error contains the \(name)")
        }
        #expect(logs.all.contains { $0.hasPrefix("[trace]") })
    }

    @Test func leasesAreRevokedOnShutdownWhenAskedTo() async throws {
        let mount = TestBao.unique("pki")
        try await TestBao.call(.POST, "sys/mounts/\(mount)", ["type": "pki"])
        try await TestBao.call(.POST, "\(mount)/root/generate/internal", ["common_name": "root", "ttl": "24h"])
        try await TestBao.call(.POST, "\(mount)/roles/web", ["allow_any_name": true, "generate_lease": true, "ttl": "1h"])
        var settings = VaultSettings()
        settings.revokeOnShutdown = true
        let vault = try TestBao.backend(settings, environment: ["VAULT_TOKEN": TestBao.rootToken])
        guard case .found(let secret) = try await vault.get("vault:\(mount)/issue/web?common_name=x.test") else {
            Issue.record("not found"); return
        }
        let id = try #require(secret.lease?.id)
        #expect(try await TestBao.call(.PUT, "sys/leases/lookup", ["lease_id": id]).status == 200)
        await vault.shutdown()
        let after = try await TestBao.call(.PUT, "sys/leases/lookup", ["lease_id": id], allow: [400])
        #expect(after.status == 400)
    }
}
