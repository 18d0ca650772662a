import Foundation
import Logging
import SecretAgentCore
import SecretTemplate
import Synchronization
import Testing
@testable import SecretAgentVault

/// The Vault client's redirect rule, against loopback servers the tests start: one redirect at
/// most, same scheme, host and port only; nothing ever reaches another origin.
@Suite("redirects")
struct RedirectTests {
    static let token = "hvs.REDIRECT-token-5b2e8a"
    static let roleID = "role-id-3f8a1c77"
    static let secretID = "secret-id-9d41be02"

    func backend(_ address: String, _ settings: VaultSettings = VaultSettings(), token: Bool = true,
                 logs: LogCapture = LogCapture()) throws -> VaultBackend {
        var env = ["VAULT_ADDR": address, "VAULT_MAX_RETRIES": "0"]
        if token { env["VAULT_TOKEN"] = Self.token }
        return try VaultBackend(settings: settings, environment: env, httpClient: TestBao.http, logger: logs.logger())
    }

    var appRole: VaultSettings {
        var settings = VaultSettings(namespace: "team1", auth: VaultAuthSettings(method: .approle))
        settings.auth.roleID = Self.roleID
        return settings
    }

    @Test func aRedirectToAnotherOriginIsRefusedAndSendsNothingThere() async throws {
        // The other origin records what it gets, and would accept anything.
        let elsewhere = try await FakeVault.start { request in
            request.uri.contains("/login") ? FakeVault.loginAnswer(token: "hvs.elsewhere") : (200, #"{"data":{"ttl":0,"policies":["root"]}}"#)
        }
        defer { Task { await elsewhere.stop() } }
        let dir = try TempDir()
        var settings = appRole
        settings.auth.secretIDFile = try dir.write("secret-id", Self.secretID)

        let targets = [
            "another port": "http://127.0.0.1:\(elsewhere.port)/v1/auth/approle/login?leak=QUERY-TEXT-71",
            "another host name": "http://localhost:PORT/v1/auth/approle/login?leak=QUERY-TEXT-71",
            "another scheme": "https://127.0.0.1:PORT/v1/auth/approle/login?leak=QUERY-TEXT-71",
            "scheme-relative": "//localhost:\(elsewhere.port)/v1/auth/approle/login?leak=QUERY-TEXT-71",
            "user information": "http://127.0.0.1:PORT@127.0.0.1:\(elsewhere.port)/v1/auth/approle/login?leak=QUERY-TEXT-71",
        ]
        for (what, target) in targets {
            for status in [307, 308, 301, 302] {
                let port = Shared(0)
                let redirecting = try await FakeVault.start(headers: { _ in
                    (status, "{}", [("Location", target.replacingOccurrences(of: "PORT", with: "\(port.value)"))])
                })
                port.value = redirecting.port
                defer { Task { await redirecting.stop() } }
                for (method, vaultSettings, useToken) in [("approle login", settings, false), ("token lookup", VaultSettings(namespace: "team1"), true)] {
                    let logs = LogCapture()
                    let vault = try backend(redirecting.address, vaultSettings, token: useToken, logs: logs)
                    let error = await #expect(throws: VaultError.self, "\(what), \(status), \(method)") { try await vault.start() }
                    await vault.shutdown()
                    let message = error?.message ?? ""
                    #expect(error?.kind == .config, "\(what): \(message)")
                    #expect(message.contains("Vault at \(redirecting.address)"), "\(message)")
                    #expect(message.contains("redirect was refused"), "\(message)")
                    #expect(message.contains("HTTP \(status)"))
                    for hidden in ["QUERY-TEXT-71", Self.token, Self.secretID, Self.roleID] {
                        #expect(!message.contains(hidden) && logs.count(hidden) == 0, "\(what): \(hidden) shown")
                    }
                }
                #expect(redirecting.requests.count == 2, "\(what), \(status): followed to itself")
            }
        }
        #expect(elsewhere.requests.isEmpty, "\(elsewhere.requests.map { "\($0.method) \($0.uri) token=\($0.header("X-Vault-Token") != nil)" })")
    }

    @Test func oneRedirectOnTheSameOriginIsFollowed() async throws {
        let port = Shared(0)
        let fake = try await FakeVault.start(headers: { request in
            let path = request.uri.split(separator: "?").first.map(String.init) ?? request.uri
            switch (request.method, path) {
            case ("GET", "/v1/auth/token/lookup-self"):
                return (200, #"{"data":{"accessor":"a","ttl":0,"renewable":false,"policies":["root"]}}"#, [])
            case (_, let p) where p.hasPrefix("/v1/sys/internal/ui/mounts/"):
                return (404, #"{"errors":[]}"#, [])
            case ("GET", "/v1/app/absolute"):
                return (301, "", [("Location", "http://127.0.0.1:\(port.value)/v1/app/new?from=absolute")])
            case ("GET", "/v1/app/relative"):
                return (302, "", [("Location", "new")])
            case ("GET", "/v1/app/temporary"):
                return (307, "", [("Location", "/v1/app/new")])
            case ("GET", "/v1/app/new"):
                return (200, #"{"data":{"k":"moved"}}"#, [])
            case ("GET", "/v1/app/twice"):
                return (307, "", [("Location", "/v1/app/temporary")])
            case ("GET", "/v1/app/see-other"):
                return (303, "", [("Location", "/v1/app/new")])
            case ("POST", "/v1/auth/approle/login"):
                return (307, "", [("Location", "/v1/auth/approle-moved/login")])
            case ("POST", "/v1/auth/approle-moved/login"):
                let (status, text) = FakeVault.loginAnswer(token: Self.token)
                return (status, text, [])
            case ("POST", "/v1/transit/random/8"):
                return (302, "", [("Location", "/v1/transit/random/16")])
            default:
                return (404, #"{"errors":[]}"#, [])
            }
        })
        port.value = fake.port
        defer { Task { await fake.stop() } }
        let vault = try backend(fake.address)
        for path in ["absolute", "relative", "temporary"] {
            #expect(try await vault.value("vault:app/\(path)#k")?.text == "moved", "\(path)")
            let last = try #require(fake.requests.last)
            #expect(last.uri.hasPrefix("/v1/app/new"))
            #expect(last.header("X-Vault-Token") == Self.token)  // the same origin gets the token
        }
        #expect(fake.requests.contains { $0.uri == "/v1/app/new?from=absolute" })
        // A second redirect, a 303, and a 302 for a POST are refused.
        for reference in ["vault:app/twice", "vault:app/see-other", "vault:transit/random/8?format=hex"] {
            let before = fake.requests.count
            let error = await #expect(throws: VaultError.self, "\(reference)") { try await vault.get(reference) }
            #expect(error?.kind == .config)
            #expect(error?.message.contains("redirect was refused") == true, "\(error?.message ?? "")")
            #expect(fake.requests.count - before == (reference.hasSuffix("twice") ? 3 : 2))  // mount lookup + the request(s)
        }
        #expect(!fake.requests.contains { $0.uri.hasPrefix("/v1/transit/random/16") })
        await vault.shutdown()

        // 307 repeats a login's method and body on the same origin.
        let dir = try TempDir()
        var settings = appRole
        settings.auth.secretIDFile = try dir.write("secret-id", Self.secretID)
        let login = try backend(fake.address, settings, token: false)
        try await login.start()
        await login.shutdown()
        let moved = try #require(fake.requests.last)
        #expect(moved.method == "POST" && moved.uri == "/v1/auth/approle-moved/login")
        #expect(moved.json["secret_id"] as? String == Self.secretID)
        #expect(moved.header("X-Vault-Namespace") == "team1")
    }

    @Test func locations() throws {
        let base = "http://vault.example:8200/v1/app/x?a=1"
        #expect(RedirectURL.resolve("/v1/y?b=2#frag", against: base)?.pathAndQuery == "/v1/y?b=2")
        #expect(RedirectURL.resolve("y", against: base)?.pathAndQuery == "/v1/app/y")
        #expect(RedirectURL.resolve("?b=2", against: base)?.pathAndQuery == "/v1/app/x?b=2")
        #expect(RedirectURL.resolve("HTTP://VAULT.example:8200/v1/z", against: base)?.origin == RedirectURL.parse(base)?.origin)
        #expect(RedirectURL.resolve("http://vault.example/v1/z", against: base)?.port == 80)
        #expect(RedirectURL.resolve("https://vault.example:8200/v1/z", against: base)?.origin != RedirectURL.parse(base)?.origin)
        #expect(RedirectURL.resolve("//other:8200/v1/z", against: base)?.host == "other")
        #expect(RedirectURL.resolve("ftp://vault.example:8200/", against: base) == nil)
        #expect(RedirectURL.parse("http://[::1]:8200/v1")?.host == "[::1]")
        #expect(RedirectURL.parse("https://[::1]/v1")?.port == 443)
        #expect(RedirectURL.parse("http://u:p@h:1/x")?.hasUserInfo == true)
        #expect(RedirectURL.parse("http://u:p@h:1/x?q=s")?.shown == "http://h:1/x")
        #expect(RedirectURL.parse("http://h:99999/x") == nil)
    }
}

/// A value the test sets after a server's responder was made (its port).
final class Shared<T: Sendable>: Sendable {
    private let stored: Mutex<T>
    init(_ value: T) { stored = Mutex(value) }
    var value: T {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
