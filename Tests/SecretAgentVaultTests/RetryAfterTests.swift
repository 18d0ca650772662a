import Foundation
import Logging
import NIOHTTP1
import SecretAgentCore
import Synchronization
import Testing
@testable import SecretAgentVault

/// Vault's 429 (a rate limit quota) and 503 with `Retry-After`, against a loopback server.
@Suite("Vault Retry-After and the adaptive rate")
struct RetryAfterTests {
    /// A server that answers the first request with `status` (and `Retry-After` when given),
    /// then 200; it records when each request came.
    final class Times: Sendable {
        let seen = Mutex<[ContinuousClock.Instant]>([])
        func withLock<R>(_ body: (inout [ContinuousClock.Instant]) -> R) -> R { seen.withLock { body(&$0) } }
    }

    func server(_ status: Int, retryAfter: String?) async throws -> (FakeVault, Times) {
        let times = Times()
        let fake = try await FakeVault.start(headers: { _ in
            let n = times.withLock { $0.append(.now); return $0.count }
            if n == 1 { return (status, #"{"errors":["rate limit quota exceeded"]}"#, retryAfter.map { [("Retry-After", $0)] } ?? []) }
            return (200, #"{"data":{"data":{"k":"v"}}}"#, [])
        })
        return (fake, times)
    }

    func client(_ address: String, mode: RetryMode) throws -> VaultClient {
        var settings = VaultSettings()
        settings.retryMode = mode
        return try VaultClient(options: try VaultOptions(settings: settings, environment: ["VAULT_ADDR": address]), http: TestBao.http,
                               logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test("429 and 503 with Retry-After: the retry waits that long (the backoff alone is at most 100 ms)", arguments: [429, 503])
    func retryAfterHonoured(status: Int) async throws {
        let (fake, times) = try await server(status, retryAfter: "2")
        defer { Task { await fake.stop() } }
        let response = try await client(fake.address, mode: .standard).send(.GET, "secret/data/x", token: "t")
        #expect(response.status == 200)
        let seen = times.withLock { $0 }
        #expect(seen.count == 2)
        if seen.count == 2 { #expect(seen[1] - seen[0] >= .milliseconds(1900), "retried after \(seen[1] - seen[0])") }
    }

    @Test("a 429 lowers the client-side rate in adaptive mode (seen when the retry comes), not in standard mode")
    func adaptiveRateOn429() async throws {
        for mode in [RetryMode.adaptive, .standard] {
            let client = Mutex<VaultClient?>(nil)
            let seen = Mutex<[Double]>([])  // the client's rate when each request came
            let fake = try await FakeVault.start(headers: { _ in
                let rate = client.withLock { $0?.limiter.rate("vault") } ?? .infinity
                let n = seen.withLock { $0.append(rate); return $0.count }
                return n == 1 ? (429, #"{"errors":["rate limit quota exceeded"]}"#, []) : (200, #"{"data":{"data":{"k":"v"}}}"#, [])
            })
            defer { Task { await fake.stop() } }
            let vault = try self.client(fake.address, mode: mode)
            client.withLock { $0 = vault }
            let response = try await vault.send(.GET, "secret/data/x", token: "t")
            #expect(response.status == 200)
            let rates = seen.withLock { $0 }
            #expect(rates.count == 2 && rates[0] == .infinity)
            #expect(rates.count == 2 && (rates[1] < .infinity) == (mode == .adaptive), "\(mode): rates \(rates)")
        }
    }

    @Test("VAULT_RATE_LIMIT spaces requests at that rate (a burst of 1: five requests take four intervals); junk is refused")
    func fixedRateLimit() async throws {
        let times = Times()
        let fake = try await FakeVault.start(headers: { _ in
            times.withLock { $0.append(.now) }
            return (200, #"{"data":{"data":{"k":"v"}}}"#, [])
        })
        defer { Task { await fake.stop() } }
        let vault = try VaultClient(options: try VaultOptions(settings: VaultSettings(), environment: ["VAULT_ADDR": fake.address, "VAULT_RATE_LIMIT": "4:1"]),
                                    http: TestBao.http, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { _ = try await vault.send(.GET, "secret/data/x", token: "t") } }
            try await group.waitForAll()
        }
        let seen = times.withLock { $0 }.sorted()
        #expect(seen.count == 5)
        if let first = seen.first, let last = seen.last { #expect(last - first >= .milliseconds(950), "five requests within \(last - first)") }
        #expect(throws: VaultError.self) {
            _ = try VaultOptions(settings: VaultSettings(), environment: ["VAULT_ADDR": fake.address, "VAULT_RATE_LIMIT": "fast"])
        }
    }
}
