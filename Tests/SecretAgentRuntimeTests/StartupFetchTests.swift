import Logging
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate
import Testing

/// A provider that fails transiently a few times, then answers.
actor FlakyProvider: SecretProvider {
    nonisolated let schemes: Set<Scheme> = [.ssm]
    nonisolated let name = "flaky"
    var failuresLeft: Int
    let failure: AgentError
    private(set) var calls = 0

    init(failures: Int, failure: AgentError = AgentError(.unavailable, "connection refused", transient: true)) {
        self.failuresLeft = failures
        self.failure = failure
    }

    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        calls += 1
        if failuresLeft > 0 {
            failuresLeft -= 1
            throw failure
        }
        return Dictionary(uniqueKeysWithValues: locators.map { ($0, FetchOutcome.found(Secret(value: .string("v")))) })
    }
}

@Suite("Start-up fetch with a deadline")
struct StartupFetchTests {
    let logger = Logger(label: "test")
    let locator = Locator.ssm(name: "/a", selector: nil)

    @Test("transient failures are retried until they succeed")
    func retries() async throws {
        let p = FlakyProvider(failures: 3)
        let r = try await StartupFetch(providers: ProviderSet([p]), timeout: .seconds(20), logger: logger).run([locator])
        #expect(r.count == 1)
        #expect(await p.calls == 4)
    }

    @Test("past the deadline the agent gives up with exit 69")
    func deadline() async {
        let p = FlakyProvider(failures: 1000)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await StartupFetch(providers: ProviderSet([p]), timeout: .seconds(1), logger: logger).run([locator])
        } throws: { error in
            (error as? AgentError)?.exitCode == .unavailable && (error as! AgentError).message.contains("--start-timeout")
        }
        #expect(clock.now - start < .seconds(6))
        #expect(await p.calls > 1)
    }

    @Test("permission denied is not retried")
    func denied() async {
        let p = FlakyProvider(failures: 1000, failure: AgentError(.noPermission, "denied"))
        await #expect(throws: AgentError.self) {
            _ = try await StartupFetch(providers: ProviderSet([p]), timeout: .seconds(10), logger: logger).run([locator])
        }
        #expect(await p.calls == 1)
    }

    @Test("backoff stays within its cap")
    func backoff() {
        for attempt in 1...30 {
            let d = Backoff.delay(attempt: attempt, base: .milliseconds(200), cap: .seconds(5))
            #expect(d >= .zero && d <= .seconds(5))
        }
    }
}
