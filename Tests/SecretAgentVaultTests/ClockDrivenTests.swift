import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// The token and lease tasks on a clock the test advances, against a loopback fake: they act
/// when their schedules say, and the lease manager follows the token manager's new tokens,
/// without the test waiting for real time to pass.
@Suite("token and lease tasks on a manual clock")
struct ClockDrivenTests {
    /// Counts logins, to hand out a new token each time.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.withLock { value += 1; return value } }
    }

    static let lookup = #"{"data":{"ttl":30,"creation_ttl":30,"renewable":true,"policies":["default"],"accessor":"acc-1"}}"#
    static let deniedMounts = (403, #"{"errors":["permission denied"]}"#)

    static func creds(_ n: Int, ttl: Int) -> (Int, String) {
        (200, #"{"lease_id":"database/creds/app/l\#(n)","lease_duration":\#(ttl),"renewable":true,"data":{"username":"u\#(n)","password":"pw-\#(n)-secret"}}"#)
    }

    func backend(_ fake: FakeVault, _ settings: VaultSettings = VaultSettings(), environment: [String: String] = [:],
                 clock: ManualClock, logs: LogCapture) throws -> VaultBackend {
        var env = environment
        env["VAULT_ADDR"] = fake.address
        return try VaultBackend(settings: settings, environment: env, httpClient: TestBao.http, logger: logs.logger(level: .debug),
                                awsSigner: nil, clock: clock, jitter: .fixed(0))
    }

    /// `deadline` is `plus` after something that arrived between `since` and now (real clock).
    static func within(_ deadline: ContinuousClock.Instant, _ since: ContinuousClock.Instant, plus: Duration) -> Bool {
        deadline >= since + plus - .milliseconds(1) && deadline <= ContinuousClock.now + plus + .milliseconds(1)
    }

    func requests(_ fake: FakeVault, _ path: String) -> [FakeVault.Request] {
        fake.requests.filter { $0.uri == "/v1/" + path }
    }

    @Test(.timeLimit(.minutes(1)))
    func theTokenAndALeaseAreRenewedAtTwoThirdsOfTheirTTL() async throws {
        let creds = Counter()
        let fake = try await FakeVault.start { request in
            switch (request.method, request.uri) {
            case ("GET", "/v1/auth/token/lookup-self"): return (200, Self.lookup)
            case ("POST", "/v1/auth/token/renew-self"): return (200, #"{"auth":{"lease_duration":30,"renewable":true}}"#)
            case ("GET", "/v1/database/creds/app"): return Self.creds(creds.next(), ttl: 60)
            case ("PUT", "/v1/sys/leases/renew"): return (200, #"{"lease_id":"database/creds/app/l1","lease_duration":60,"renewable":true}"#)
            default: return request.uri.hasPrefix("/v1/sys/internal/ui/mounts/") ? Self.deniedMounts : (404, #"{"errors":[]}"#)
            }
        }
        defer { Task { await fake.stop() } }
        let clock = ManualClock()
        let logs = LogCapture()
        let vault = try backend(fake, environment: ["VAULT_TOKEN": "hvs.FAKE-token-clock-1"], clock: clock, logs: logs)
        // The token (30 s) is renewed at 20 s, the lease (60 s) at 40 s, from when each arrived
        // (stamped by the real clock, while the manual one stands still).
        let login = ContinuousClock.now
        try await vault.start()
        let tokenAt = try #require(await clock.sleeper { Self.within($0, login, plus: .seconds(20)) })
        let fetch = ContinuousClock.now
        guard case .found = try await vault.get("vault:database/creds/app") else { Issue.record("not found"); return }
        let leaseAt = try #require(await clock.sleeper { Self.within($0, fetch, plus: .seconds(40)) })
        #expect(requests(fake, "auth/token/renew-self").isEmpty)

        clock.advance(to: tokenAt)
        #expect(await eventually { requests(fake, "auth/token/renew-self").count == 1 })
        #expect(requests(fake, "auth/token/renew-self").first?.json["increment"] as? String == "30s")
        #expect(requests(fake, "sys/leases/renew").isEmpty)
        // The next renewal is planned from this one (stamped by the manual clock).
        let nextToken = try #require(await clock.sleeper { near($0, tokenAt + .seconds(20)) })

        clock.advance(to: max(nextToken, leaseAt) + .milliseconds(1))
        #expect(await eventually { requests(fake, "sys/leases/renew").count == 1 && requests(fake, "auth/token/renew-self").count == 2 })
        let renewal = try #require(requests(fake, "sys/leases/renew").first)
        #expect(renewal.json["lease_id"] as? String == "database/creds/app/l1")
        #expect(requests(fake, "database/creds/app").count == 1)  // renewed, not fetched again
        #expect(await eventually { logs.count("lease renewed", "reference=vault:database/creds/app", "ttl=1m") == 1 })
        #expect(await eventually { logs.count("Vault token renewed", "ttl=30s") == 2 })  // logged after the answer
        await vault.shutdown()
        #expect(logs.leaks(["token": "hvs.FAKE-token-clock-1", "password": "pw-1-secret"]).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func aLoginAtMaxTTLHandsTheNewTokenToTheLeasesOfTheOldOne() async throws {
        let logins = Counter(), creds = Counter()
        let fake = try await FakeVault.start { request in
            switch (request.method, request.uri) {
            case ("POST", "/v1/auth/approle/login"):
                return FakeVault.loginAnswer(token: "hvs.FAKE-login-\(logins.next())", ttl: 30)
            case ("POST", "/v1/auth/token/renew-self"):
                // The first token is near its max TTL: 9 of the 30 seconds asked.
                let ttl = request.header("X-Vault-Token") == "hvs.FAKE-login-1" ? 9 : 30
                return (200, #"{"auth":{"lease_duration":\#(ttl),"renewable":true}}"#)
            case ("GET", "/v1/database/creds/app"): return Self.creds(creds.next(), ttl: 3600)
            default: return request.uri.hasPrefix("/v1/sys/internal/ui/mounts/") ? Self.deniedMounts : (404, #"{"errors":[]}"#)
            }
        }
        defer { Task { await fake.stop() } }
        var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
        settings.auth.roleID = "role-id-clock"
        let clock = ManualClock()
        let logs = LogCapture()
        let vault = try backend(fake, settings, clock: clock, logs: logs)
        let replaced = ReplacementLog(vault)
        let login = ContinuousClock.now
        try await vault.start()
        let renewAt = try #require(await clock.sleeper { Self.within($0, login, plus: .seconds(20)) })
        let fetch = ContinuousClock.now
        guard case .found(let first) = try await vault.get("vault:database/creds/app") else { Issue.record("not found"); return }
        #expect(await clock.sleeper { Self.within($0, fetch, plus: .seconds(2400)) } != nil)  // the lease: renewed at 40 min

        // Renewal gets 9 s: max TTL is near, so a login follows at 2/3 of them.
        clock.advance(to: renewAt)
        let loginAt = try #require(await clock.sleeper { near($0, renewAt + .seconds(6)) })
        #expect(logs.count("Vault token renewed; max TTL reached, will log in again", "ttl=9s") == 1)
        #expect(requests(fake, "auth/approle/login").count == 1)

        // The new token ends the lease's time with the old one (at 29 s): it is replaced at once
        // (85 % of that life is past at 26 s), with the new token.
        clock.advance(to: loginAt)
        #expect(await eventually { requests(fake, "database/creds/app").count == 2 })
        #expect(requests(fake, "auth/approle/login").count == 2)
        #expect(requests(fake, "database/creds/app").last?.header("X-Vault-Token") == "hvs.FAKE-login-2")
        let seen = await replaced.wait(count: 1, timeout: .seconds(5))
        #expect(seen.map(\.0) == [try Reference.parse("vault:database/creds/app").locator])
        guard case .found(let second) = try await vault.get("vault:database/creds/app") else { Issue.record("gone"); return }
        #expect(second.lease?.id == "database/creds/app/l2" && first.lease?.id == "database/creds/app/l1")
        #expect(logs.count("logged in to Vault", "reason=the token cannot be renewed further") == 1)
        #expect(logs.count("replaced a lease before it expired", "reference=vault:database/creds/app") == 1)
        await vault.shutdown()
        #expect(logs.leaks(["token 1": "hvs.FAKE-login-1", "token 2": "hvs.FAKE-login-2", "role_id": "role-id-clock", "password": "pw-1-secret"]).isEmpty)
    }
}
