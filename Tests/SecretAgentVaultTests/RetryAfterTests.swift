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

    @Test("a 429 lowers the client-side rate in adaptive mode, not in standard mode")
    func adaptiveRateOn429() async throws {
        for mode in [RetryMode.adaptive, .standard] {
            let (fake, times) = try await server(429, retryAfter: "0")
            defer { Task { await fake.stop() } }
            let vault = try client(fake.address, mode: mode)
            let send = Task { try await vault.send(.GET, "secret/data/x", token: "t") }
            // Read the rate while the client waits after the 429 (once the call succeeds, the curve
            // may already have grown past its maximum and the limit be off again).
            var limited = false
            let deadline = ContinuousClock.now + .seconds(5)
            while !limited && times.withLock({ $0.count }) < 2 && ContinuousClock.now < deadline {
                limited = vault.limiter.rate("vault") < .infinity
                try await Task.sleep(for: .milliseconds(5))
            }
            let response = try await send.value
            #expect(response.status == 200)
            #expect(times.withLock { $0.count } == 2)
            #expect(limited == (mode == .adaptive), "\(mode)")
        }
    }
}
