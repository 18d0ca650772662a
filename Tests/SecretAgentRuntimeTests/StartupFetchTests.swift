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

/// A provider that serves every locator but the "throttled" ones on the first call, failing
/// transiently for those (as one throttled batch of many does), and records what each call asked.
actor ThrottledBatchProvider: SecretProvider {
    nonisolated let schemes: Set<Scheme> = [.ssm]
    nonisolated let name = "batches"
    let throttled: Set<Locator>
    private(set) var asked: [Set<Locator>] = []

    init(throttled: Set<Locator>) { self.throttled = throttled }

    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        asked.append(Set(locators))
        let served = locators.filter { asked.count > 1 || !throttled.contains($0) }
        let outcomes = Dictionary(uniqueKeysWithValues: served.map { ($0, FetchOutcome.found(Secret(value: .string("v-\($0.text)")))) })
        if served.count < locators.count {
            throw PartialFetchFailure(fetched: outcomes, reason: AgentError(.unavailable, "ThrottlingException: Rate exceeded", transient: true))
        }
        return outcomes
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

    @Test("after a partial failure only what did not arrive is asked for again; every value arrives once")
    func retriesOnlyWhatFailed() async throws {
        let all = Set((1...30).map { Locator.ssm(name: "/p\($0)", selector: nil) })
        let throttled = Set(all.sorted { $0.text < $1.text }.prefix(10))
        let p = ThrottledBatchProvider(throttled: throttled)
        let r = try await StartupFetch(providers: ProviderSet([p]), timeout: .seconds(20), logger: logger).run(all)
        #expect(r.count == 30)
        for l in all {
            guard case .found(let secret)? = r[l] else {
                Issue.record("\(l.text) arrived")
                continue
            }
            #expect(secret.value == .string("v-\(l.text)"))
        }
        let asked = await p.asked
        #expect(asked.count == 2)
        #expect(asked.first == all)
        #expect(asked.last == throttled, "the retry asks for the 10 throttled references only, not all 30")
    }

    @Test("past the deadline the agent gives up with exit 69")
    func deadline() async {
        let p = FlakyProvider(failures: 1000)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await StartupFetch(providers: ProviderSet([p]), timeout: .seconds(3), logger: logger).run([locator])
        } throws: { error in
            (error as? AgentError)?.exitCode == .unavailable && (error as! AgentError).message.contains("--start-timeout")
        }
        // 3 s leave room for a retry however loaded the machine is (1 s did not, twice).
        #expect(clock.now - start < .seconds(8))
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

@Suite("First poll splay")
struct SplayTests {
    @Test("the first poll lands anywhere in the interval, not on the same beat for every agent")
    func firstPollSpreads() {
        let poll = Duration.seconds(300)
        let delays = (0..<2000).map { _ in AgentLoop.splayed(poll) }
        #expect(delays.allSatisfy { $0 >= poll * 0.05 && $0 <= poll })
        // 2,000 agents of one rollout: their first polls cover the interval (each fifth of it
        // gets a share), where without the splay all would fall within ±10 % of 300 s.
        for fifth in 0..<5 {
            let low = poll * (Double(fifth) / 5), high = poll * (Double(fifth + 1) / 5)
            let share = delays.filter { $0 >= low && $0 < high }.count
            #expect(share > 200, "fifth \(fifth): \(share) of 2000")
        }
    }
}
