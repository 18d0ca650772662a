import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// A KV v2 secret under `secret/` and a policy that reads only it.
struct Seeded {
    let path: String
    let policy: String
    let password: String

    static func make(_ prefix: String) async throws -> Seeded {
        let path = TestBao.unique(prefix)
        let password = "pw-" + UUID().uuidString
        try await TestBao.putKV2("secret", "\(path)/registry", ["username": "ci", "password": password])
        let policy = "read-" + path
        try await TestBao.policy(policy, "path \"secret/data/\(path)/*\" { capabilities = [\"read\"] }")
        return Seeded(path: path, policy: policy, password: password)
    }

    var reference: String { "vault:secret/\(path)/registry#password" }
}

@Suite("auth methods against OpenBao", .enabled(if: TestBao.available))
struct AuthTests {
    @Test func tokenSourcesInPrecedenceOrder() async throws {
        let seeded = try await Seeded.make("tok")
        let token = try await TestBao.token(policies: [seeded.policy])
        let dir = try TempDir()
        // ~/.vault-token via HOME, trimmed of its newline.
        try dir.write(".vault-token", token + "\n")
        let fromHome = try TestBao.backend(environment: ["HOME": dir.path])
        #expect(try await fromHome.value(seeded.reference)?.text == seeded.password)
        await fromHome.shutdown()
        // token_file wins over ~/.vault-token, VAULT_TOKEN over both.
        var settings = VaultSettings()
        settings.auth.tokenFile = try dir.write("token", "  \(token)\n")
        try dir.write(".vault-token", "bogus")
        let fromFile = try TestBao.backend(settings, environment: ["HOME": dir.path])
        #expect(try await fromFile.value(seeded.reference)?.text == seeded.password)
        await fromFile.shutdown()
        settings.auth.tokenFile = try dir.write("token", "bogus")
        let fromEnv = try TestBao.backend(settings, environment: ["HOME": dir.path, "VAULT_TOKEN": token])
        #expect(try await fromEnv.value(seeded.reference)?.text == seeded.password)
        await fromEnv.shutdown()
    }

    @Test func badTokenAndNoTokenAreClearErrors() async throws {
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": "s.not-a-real-token-1234"], logger: logs.logger())
        let error = await #expect(throws: VaultError.self) { try await vault.start() }
        #expect(error?.exitCode == .noPermission)
        #expect(error?.message.contains("VAULT_TOKEN") == true)
        #expect(error?.message.contains("not-a-real-token") == false)
        #expect(logs.leaks(["token": "s.not-a-real-token-1234"]).isEmpty)
        let none = try TestBao.backend(environment: ["HOME": "/nonexistent"])
        let missing = await #expect(throws: VaultError.self) { try await none.start() }
        #expect(missing?.exitCode == .config)
    }

    @Test func permissionDeniedNamesThePathAndTheRole() async throws {
        let seeded = try await Seeded.make("deny")
        let mount = TestBao.unique("approle")
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "approle"])
        try await TestBao.call(.POST, "auth/\(mount)/role/web", ["token_policies": [seeded.policy], "token_ttl": "5m"])
        let roleID = try await TestBao.call(.GET, "auth/\(mount)/role/web/role-id").data["role_id"] as! String
        let secretID = try await TestBao.call(.POST, "auth/\(mount)/role/web/secret-id").data["secret_id"] as! String
        let dir = try TempDir()
        var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
        settings.auth.mount = mount
        settings.auth.roleIDFile = try dir.write("role-id", roleID + "\n")
        settings.auth.secretIDFile = try dir.write("secret-id", secretID + "\n")
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, logger: logs.logger())
        try await vault.start()
        let other = TestBao.unique("other")
        try await TestBao.putKV2("secret", other, ["k": "v"])
        let error = await #expect(throws: VaultError.self) { try await vault.get("vault:secret/\(other)") }
        #expect(error?.exitCode == .noPermission)
        #expect(error?.message.contains("secret/data/\(other)") == true)
        #expect(error?.message.contains("role 'web'") == true)
        #expect(error?.message.contains("approle") == true)
        #expect(logs.leaks(["secret_id": secretID, "role_id": roleID]).isEmpty)
        #expect(error.map { "\($0)" }?.contains(secretID) == false)
        await vault.shutdown()
    }

    @Test func appRoleWithPlainAndWrappedSecretID() async throws {
        let seeded = try await Seeded.make("approle")
        let mount = TestBao.unique("approle")
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "approle"])
        try await TestBao.call(.POST, "auth/\(mount)/role/web", ["token_policies": [seeded.policy], "token_ttl": "5m"])
        let roleID = try await TestBao.call(.GET, "auth/\(mount)/role/web/role-id").data["role_id"] as! String
        let plain = try await TestBao.call(.POST, "auth/\(mount)/role/web/secret-id").data["secret_id"] as! String
        let wrapped = try await TestBao.call(.POST, "auth/\(mount)/role/web/secret-id", headers: [("X-Vault-Wrap-TTL", "120s")])
        let wrappingToken = (wrapped.json["wrap_info"] as! [String: Any])["token"] as! String

        let dir = try TempDir()
        let logs = LogCapture()
        var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
        settings.auth.mount = "auth/\(mount)"
        settings.auth.roleID = roleID
        settings.auth.secretIDFile = try dir.write("secret-id", plain)
        let vault = try TestBao.backend(settings, logger: logs.logger())
        #expect(try await vault.value(seeded.reference)?.text == seeded.password)
        await vault.shutdown()

        settings.auth.roleID = nil
        settings.auth.roleIDFile = try dir.write("role-id", roleID)
        settings.auth.secretIDFile = try dir.write("wrapped", wrappingToken + "\n")
        settings.auth.secretIDWrapped = true
        let unwrapping = try TestBao.backend(settings, logger: logs.logger())
        try await unwrapping.start()
        #expect(try await unwrapping.value(seeded.reference)?.text == seeded.password)
        await unwrapping.shutdown()
        // A wrapping token unwraps once: another agent with the same file is refused, clearly.
        let second = try TestBao.backend(settings, logger: logs.logger())
        let error = await #expect(throws: VaultError.self) { try await second.start() }
        #expect(error?.exitCode == .noPermission)
        #expect(error?.message.contains("unwrap") == true)
        #expect(logs.leaks(["secret_id": plain, "wrapping token": wrappingToken, "role_id": roleID, "value": seeded.password]).isEmpty)
        #expect(error?.message.contains(wrappingToken) == false)
    }

    @Test func jwtLoginWithAKeyPairTheTestMakes() async throws {
        let seeded = try await Seeded.make("jwt")
        let mount = TestBao.unique("jwt")
        let dir = try TempDir()
        try shell("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out \(dir.path)/key.pem 2>/dev/null")
        let publicKey = try shell("openssl pkey -in \(dir.path)/key.pem -pubout")
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "jwt"])
        try await TestBao.call(.POST, "auth/\(mount)/config", ["jwt_validation_pubkeys": [publicKey], "bound_issuer": "https://issuer.test"])
        try await TestBao.call(.POST, "auth/\(mount)/role/ci", [
            "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["secret-agent"],
            "token_policies": [seeded.policy], "token_ttl": "5m",
        ])
        let jwt = try JWT.sign(["iss": "https://issuer.test", "sub": "pipeline-7", "aud": "secret-agent"], keyFile: "\(dir.path)/key.pem")
        var settings = VaultSettings(auth: VaultAuthSettings(method: .jwt))
        settings.auth.mount = mount
        settings.auth.role = "ci"
        settings.auth.jwtFile = try dir.write("jwt", jwt + "\n")
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, logger: logs.logger())
        try await vault.start()
        #expect(try await vault.value(seeded.reference)?.text == seeded.password)
        await vault.shutdown()
        #expect(logs.count("logged in to Vault") == 1)

        // A JWT for another audience is refused with the server's reason, without the JWT.
        let wrong = try JWT.sign(["iss": "https://issuer.test", "sub": "x", "aud": "someone-else"], keyFile: "\(dir.path)/key.pem")
        settings.auth.jwtFile = try dir.write("jwt", wrong)
        let refused = try TestBao.backend(settings, logger: logs.logger())
        let error = await #expect(throws: VaultError.self) { try await refused.start() }
        #expect(error?.exitCode == .noPermission)
        #expect(error?.message.contains("role 'ci'") == true)
        #expect(logs.leaks(["jwt": jwt, "wrong jwt": wrong, "value": seeded.password]).isEmpty)
        #expect(error?.message.contains(wrong) == false)
    }
}

@Suite("kubernetes auth against OpenBao and a fake TokenReview API", .enabled(if: TestBao.available))
struct KubernetesAuthTests {
    @Test func kubernetesLoginEndToEnd() async throws {
        let seeded = try await Seeded.make("k8s")
        // The Kubernetes API OpenBao asks: every TokenReview says "system:serviceaccount:default:app".
        let api = try await FakeVault.start { request in
            guard request.uri == "/apis/authentication.k8s.io/v1/tokenreviews" else { return (404, "{}") }
            return (201, #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"system:serviceaccount:default:app","uid":"uid-1"}}}"#)
        }
        defer { Task { await api.stop() } }
        let dir = try TempDir()
        try shell("openssl req -x509 -newkey rsa:2048 -nodes -keyout \(dir.path)/ca.key -out \(dir.path)/ca.pem -days 1 -subj /CN=k8s-ca 2>/dev/null")
        let mount = TestBao.unique("kubernetes")
        try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "kubernetes"])
        try await TestBao.call(.POST, "auth/\(mount)/config", [
            "kubernetes_host": api.address, "disable_local_ca_jwt": true,
            "kubernetes_ca_cert": try String(contentsOfFile: dir.path + "/ca.pem", encoding: .utf8),
        ])
        try await TestBao.call(.POST, "auth/\(mount)/role/app", [
            "bound_service_account_names": ["app"], "bound_service_account_namespaces": ["default"], "token_policies": [seeded.policy],
        ])
        // A service-account token as the kubelet mounts it (OpenBao reads its claims, the API vouches for it).
        let claims: [String: Any] = [
            "iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:default:app",
            "kubernetes.io/serviceaccount/namespace": "default", "kubernetes.io/serviceaccount/service-account.name": "app",
            "kubernetes.io/serviceaccount/service-account.uid": "uid-1",
        ]
        let jwt = JWT.base64url(Data(#"{"alg":"RS256"}"#.utf8)) + "." + JWT.base64url(try JSONSerialization.data(withJSONObject: claims)) + ".c2ln"
        var settings = VaultSettings(auth: VaultAuthSettings(method: .kubernetes))
        settings.auth.mount = mount
        settings.auth.role = "app"
        settings.auth.jwtFile = try dir.write("token", jwt)
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, logger: logs.logger())
        #expect(try await vault.value(seeded.reference)?.text == seeded.password)
        await vault.shutdown()
        #expect(api.requests.count == 1)
        #expect(logs.count("kubernetes login (auth/\(mount)/, role 'app')") == 1)
        #expect(logs.leaks(["jwt": jwt, "value": seeded.password]).isEmpty)
    }
}

/// RS256 JWTs signed with `openssl dgst`.
enum JWT {
    static func sign(_ claims: [String: Any], keyFile: String, lifetime: TimeInterval = 600) throws -> String {
        var claims = claims
        let now = Int(Date().timeIntervalSince1970)
        claims["iat"] = now
        claims["nbf"] = now - 5
        claims["exp"] = now + Int(lifetime)
        let header = base64url(try JSONSerialization.data(withJSONObject: ["alg": "RS256", "typ": "JWT"]))
        let payload = base64url(try JSONSerialization.data(withJSONObject: claims))
        let input = header + "." + payload
        let dir = NSTemporaryDirectory() + "jwt-" + UUID().uuidString
        try input.write(toFile: dir, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try shell("openssl dgst -sha256 -sign \(keyFile) -out \(dir).sig \(dir)")
        defer { try? FileManager.default.removeItem(atPath: dir + ".sig") }
        let signature = try Data(contentsOf: URL(fileURLWithPath: dir + ".sig"))
        return input + "." + base64url(signature)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
