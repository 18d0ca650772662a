import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// An AppRole mount with role `web`, for wrapped secret_ids.
struct WrappedAppRole {
    let mount: String
    let roleID: String
    let seeded: Seeded
    let dir: TempDir

    static func make() async throws -> WrappedAppRole {
        let seeded = try await Seeded.make("wrap")
        let mount = TestBao.unique("approle")
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "approle"])
        for role in ["web", "other"] {
            try await TestBao.call(.POST, "auth/\(mount)/role/\(role)", ["token_policies": [seeded.policy], "token_ttl": "5m"])
        }
        let roleID = try await TestBao.call(.GET, "auth/\(mount)/role/web/role-id").data["role_id"] as! String
        return WrappedAppRole(mount: mount, roleID: roleID, seeded: seeded, dir: try TempDir())
    }

    /// A plain secret_id of `role`.
    func secretID(role: String = "web") async throws -> String {
        try await TestBao.call(.POST, "auth/\(mount)/role/\(role)/secret-id").data["secret_id"] as! String
    }

    /// A wrapping token made the genuine way: the role's secret-id endpoint with X-Vault-Wrap-TTL.
    func wrappedByTheRole(_ role: String = "web", mount: String? = nil) async throws -> String {
        let answer = try await TestBao.call(.POST, "auth/\(mount ?? self.mount)/role/\(role)/secret-id", headers: [("X-Vault-Wrap-TTL", "120s")])
        return (answer.json["wrap_info"] as! [String: Any])["token"] as! String
    }

    /// A wrapping token anyone with `sys/wrapping/wrap` can make, around any data.
    static func wrappedBySysWrap(_ data: [String: Any]) async throws -> String {
        let answer = try await TestBao.call(.POST, "sys/wrapping/wrap", data, headers: [("X-Vault-Wrap-TTL", "120s")])
        return (answer.json["wrap_info"] as! [String: Any])["token"] as! String
    }

    func settings(wrappingToken: String, role: String? = nil, path: String? = nil) throws -> VaultSettings {
        var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
        settings.auth.mount = mount
        settings.auth.roleID = roleID
        settings.auth.role = role
        settings.auth.secretIDFile = try dir.write("wrapped-" + UUID().uuidString, wrappingToken + "\n")
        settings.auth.secretIDWrapped = true
        settings.auth.secretIDWrappingPath = path
        return settings
    }
}

@Suite("a wrapped secret_id is unwrapped only when it was made by the role's secret-id path", .enabled(if: TestBao.available))
struct WrappingTests {
    @Test func aSecretIDWrappedBySysWrapIsRefusedAndNotUnwrapped() async throws {
        let app = try await WrappedAppRole.make()
        // A genuine secret_id, wrapped by someone with sys/wrapping/wrap: the old code unwrapped it and logged in.
        let genuine = try await app.secretID()
        for (role, path) in [(nil, nil), ("web", nil), (nil, "auth/\(app.mount)/role/web/secret-id")] as [(String?, String?)] {
            let wrappingToken = try await WrappedAppRole.wrappedBySysWrap(["secret_id": genuine])
            let logs = LogCapture()
            let vault = try TestBao.backend(try app.settings(wrappingToken: wrappingToken, role: role, path: path), logger: logs.logger())
            let error = await #expect(throws: VaultError.self) { try await vault.start() }
            await vault.shutdown()
            #expect(error?.kind == .authentication)
            #expect(error?.exitCode == .noPermission)
            let message = error?.message ?? ""
            #expect(message.contains("sys/wrapping/wrap"), "\(message)")
            #expect(message.contains("auth/\(app.mount)/role/\(role ?? (path == nil ? "*" : "web"))/secret-id"), "\(message)")
            #expect(message.contains("tampered"))
            #expect(!message.contains(wrappingToken) && !message.contains(genuine))
            #expect(logs.leaks(["wrapping token": wrappingToken, "secret_id": genuine]).isEmpty)
            #expect(logs.count("sys/wrapping/unwrap") == 0)
            // Nothing was unwrapped: the wrapping token still unwraps, once.
            let unwrap = try await TestBao.call(.POST, "sys/wrapping/unwrap", token: wrappingToken)
            #expect(unwrap.data["secret_id"] as? String == genuine)
        }
    }

    @Test func aGenuineWrappedSecretIDLogsIn() async throws {
        let app = try await WrappedAppRole.make()
        for (role, path) in [(nil, nil), ("web", nil), (nil, "auth/\(app.mount)/role/web/secret-id"), (nil, "/auth/\(app.mount)/role/web/secret-id/")] as [(String?, String?)] {
            let wrappingToken = try await app.wrappedByTheRole()
            let logs = LogCapture()
            let vault = try TestBao.backend(try app.settings(wrappingToken: wrappingToken, role: role, path: path), logger: logs.logger())
            #expect(try await vault.value(app.seeded.reference)?.text == app.seeded.password, "role \(role ?? "-"), path \(path ?? "-")")
            await vault.shutdown()
            #expect(logs.leaks(["wrapping token": wrappingToken]).isEmpty)
            // It was unwrapped (used once).
            #expect(try await TestBao.call(.POST, "sys/wrapping/unwrap", token: wrappingToken, allow: [400]).status == 400)
        }
    }

    @Test func aSecretIDOfAnotherRoleOrMountIsRefused() async throws {
        let app = try await WrappedAppRole.make()
        let otherMount = TestBao.unique("approle")
        try await TestBao.call(.POST, "sys/auth/\(otherMount)", ["type": "approle"])
        try await TestBao.call(.POST, "auth/\(otherMount)/role/web", ["token_policies": ["default"]])
        let cases: [(token: String, role: String?, found: String)] = [
            (try await app.wrappedByTheRole("other"), "web", "auth/\(app.mount)/role/other/secret-id"),
            (try await app.wrappedByTheRole("web", mount: otherMount), nil, "auth/\(otherMount)/role/web/secret-id"),
        ]
        for c in cases {
            let vault = try TestBao.backend(try app.settings(wrappingToken: c.token, role: c.role))
            let error = await #expect(throws: VaultError.self) { try await vault.start() }
            await vault.shutdown()
            #expect(error?.exitCode == .noPermission)
            #expect(error?.message.contains("its creation_path is \(c.found)") == true, "\(error?.message ?? "")")
            #expect(try await TestBao.call(.POST, "sys/wrapping/unwrap", token: c.token).status == 200)
        }
    }

    @Test func insideANamespace() async throws {
        let namespace = TestBao.unique("team")
        try await TestBao.call(.POST, "sys/namespaces/\(namespace)")
        let mount = "approle"
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "approle"], namespace: namespace)
        try await TestBao.call(.POST, "auth/\(mount)/role/web", ["token_policies": ["default"]], namespace: namespace)
        let roleID = try await TestBao.call(.GET, "auth/\(mount)/role/web/role-id", namespace: namespace).data["role_id"] as! String
        let wrapped = try await TestBao.call(.POST, "auth/\(mount)/role/web/secret-id", namespace: namespace, headers: [("X-Vault-Wrap-TTL", "120s")])
        let wrappingToken = (wrapped.json["wrap_info"] as! [String: Any])["token"] as! String
        let dir = try TempDir()
        var settings = VaultSettings(namespace: namespace, auth: VaultAuthSettings(method: .approle))
        settings.auth.roleID = roleID
        settings.auth.role = "web"
        settings.auth.secretIDFile = try dir.write("wrapped", wrappingToken)
        settings.auth.secretIDWrapped = true
        let vault = try TestBao.backend(settings)
        try await vault.start()
        await vault.shutdown()
    }

    @Test func theRule() {
        let any = WrappingPathRule(mount: "approle", role: nil, configured: nil, namespace: nil)
        #expect(any.accepts("auth/approle/role/web/secret-id"))
        #expect(!any.accepts("sys/wrapping/wrap"))
        #expect(!any.accepts("auth/approle/role//secret-id"))
        #expect(!any.accepts("auth/approle/role/web/secret-id/extra"))
        #expect(!any.accepts("auth/other/role/web/secret-id"))
        #expect(!any.accepts("auth/approle/role/web/custom-secret-id"))
        let nested = WrappingPathRule(mount: "team/approle", role: "web", configured: nil, namespace: "ns1")
        #expect(nested.accepts("auth/team/approle/role/web/secret-id"))
        #expect(nested.accepts("ns1/auth/team/approle/role/web/secret-id"))
        #expect(!nested.accepts("ns2/auth/team/approle/role/web/secret-id"))
        #expect(!nested.accepts("auth/team/approle/role/api/secret-id"))
        let configured = WrappingPathRule(mount: "approle", role: "web", configured: "auth/approle/role/api/secret-id", namespace: nil)
        #expect(configured.accepts("auth/approle/role/api/secret-id"))
        #expect(!configured.accepts("auth/approle/role/web/secret-id"))
        #expect(WrappingPathRule(mount: "", role: nil, configured: nil, namespace: nil).accepts("auth//role/web/secret-id") == false)
    }

    @Test func theConfigurationKey() throws {
        func auth(_ yaml: String) throws -> VaultAuthSettings {
            try #require(try AgentConfig.parse(yaml: "vault:\n  auth:\n    method: approle\n" + yaml, file: "/x/agent.yaml", environment: [:]).vault).auth
        }
        let set = try auth("    role: web\n    secret_id_wrapping_path: /auth/approle/role/web/secret-id\n")
        #expect(set.secretIDWrappingPath == "auth/approle/role/web/secret-id")
        #expect(set.secretIDWrapped)
        #expect(set.role == "web")
        #expect(try auth("    secret_id_wrapped: true\n").secretIDWrappingPath == nil)
        #expect(throws: AgentError.self) { try auth("    secret_id_wrapped: false\n    secret_id_wrapping_path: auth/approle/role/web/secret-id\n") }
        #expect(throws: AgentError.self) { try auth("    secret_id_wrapping_path: \"/\"\n") }
    }
}
