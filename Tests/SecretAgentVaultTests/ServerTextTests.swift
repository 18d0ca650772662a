import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// A failing server (or a proxy in front of it) may echo the request in its error body: for 5xx
/// and 429 no server text reaches an error or the log; 4xx text is shown with the credentials removed.
@Suite("server text in errors")
struct ServerTextTests {
    static let roleID = "role-id-echo-1b7c"
    static let secretID = "secret-id-echo-4e90d2"
    static let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlY2hvIn0.ZWNoby1zaWduYXR1cmU"

    /// A login refused with `status`, its body repeating the request (as some proxies and
    /// failing plugins do), in plain JSON and escaped.
    func echoing(_ status: Int) async throws -> FakeVault {
        try await FakeVault.start { request in
            let escaped = request.body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return (status, #"{"errors":["internal error handling request \#(escaped)","secret_id \#(Self.secretID) jwt \#(Self.jwt)"]}"#)
        }
    }

    @Test(arguments: [500, 502, 503, 429])
    func aFailingLoginShowsNoServerText(status: Int) async throws {
        let fake = try await echoing(status)
        defer { Task { await fake.stop() } }
        let dir = try TempDir()
        var appRole = VaultSettings(auth: VaultAuthSettings(method: .approle))
        appRole.auth.roleID = Self.roleID
        appRole.auth.secretIDFile = try dir.write("secret-id", Self.secretID)
        var jwt = VaultSettings(auth: VaultAuthSettings(method: .jwt))
        jwt.auth.role = "ci"
        jwt.auth.jwtFile = try dir.write("jwt", Self.jwt)
        for settings in [appRole, jwt] {
            let logs = LogCapture()
            let vault = try VaultBackend(settings: settings, environment: ["VAULT_ADDR": fake.address, "VAULT_MAX_RETRIES": "1"],
                                         httpClient: TestBao.http, logger: logs.logger(level: .trace))
            let error = await #expect(throws: VaultError.self) { try await vault.start() }
            await vault.shutdown()
            let message = error?.message ?? ""
            #expect(error?.kind == .unavailable)
            #expect(message.contains("HTTP \(status)"), "\(message)")
            #expect(!message.contains("internal error"), "\(message)")
            for (name, secret) in ["secret_id": Self.secretID, "role_id": Self.roleID, "jwt": Self.jwt] {
                #expect(!message.contains(secret), "the error shows the \(name)")
            }
            #expect(logs.leaks(["secret_id": Self.secretID, "role_id": Self.roleID, "jwt": Self.jwt]).isEmpty)
            #expect(!logs.text.contains("internal error"))
        }
        #expect(fake.requests.count == 4)  // each login tried twice (one retry; 429 is a rate limit, retried too)
    }

    @Test func aRefusedLoginShowsTheServersReasonWithoutTheCredentials() async throws {
        let fake = try await echoing(400)
        defer { Task { await fake.stop() } }
        let dir = try TempDir()
        var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
        settings.auth.roleID = Self.roleID
        settings.auth.secretIDFile = try dir.write("secret-id", Self.secretID)
        let logs = LogCapture()
        let vault = try VaultBackend(settings: settings, environment: ["VAULT_ADDR": fake.address], httpClient: TestBao.http,
                                     logger: logs.logger(level: .trace))
        let error = await #expect(throws: VaultError.self) { try await vault.start() }
        await vault.shutdown()
        #expect(error?.kind == .authentication)
        #expect(error?.message.contains("internal error handling request") == true)
        #expect(error?.message.contains(Self.secretID) == false)
        #expect(error?.message.contains(Self.roleID) == false)
        #expect(logs.leaks(["secret_id": Self.secretID, "role_id": Self.roleID]).isEmpty)
    }
}
