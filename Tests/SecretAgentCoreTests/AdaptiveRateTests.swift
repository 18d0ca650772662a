import SecretAgentCore
import Synchronization
import Testing

/// The client-side rate, transition by transition, on an injected clock.
@Suite("adaptive rate")
struct AdaptiveRateTests {
    let p = AdaptiveRate.Parameters()

    @Test("no limit until a throttling answer; successes alone never turn it on")
    func offUntilThrottled() {
        var rate = AdaptiveRate()
        for t in stride(from: 0.0, to: 1.0, by: 0.01) {
            #expect(rate.acquire(at: t) == 0)
            rate.record(throttled: false, at: t)
        }
        #expect(!rate.isLimiting)
        #expect(rate.rate(at: 1) == .infinity)
    }

    @Test("the first throttling answer: firstRate calls a second, an empty bucket, one token interval to wait")
    func firstThrottle() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 10)
        #expect(rate.isLimiting)
        #expect(abs(rate.rate(at: 10) - p.firstRate) < 1e-9)
        // Empty: the next call waits 1/rate (4 s at 0.25/s).
        #expect(abs(rate.acquire(at: 10) - 1 / p.firstRate) < 1e-9)
        // Half-way, half a token: the wait is the other half at the rate then (it has grown a little).
        let wait = rate.acquire(at: 12)
        #expect(wait > 0 && wait < 2.0)
        // After a full interval, a token: go; the next one waits again.
        #expect(rate.acquire(at: 14.2) == 0)
        #expect(rate.acquire(at: 14.2) > 0)
    }

    @Test("the rate follows the cubic: back at the plateau at K, then growing; never more than one token banked")
    func cubicGrowth() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        let wMax = p.firstRate / p.beta
        let k = cbrtValue(wMax * (1 - p.beta) / p.scale)
        #expect(abs(rate.rate(at: k) - wMax) < 1e-9)
        #expect(rate.rate(at: k + 2) > rate.rate(at: k + 1))
        #expect(abs(rate.rate(at: k + 2) - (p.scale * 8 + wMax)) < 1e-9)
        // A long quiet spell banks one token, not a burst.
        #expect(rate.acquire(at: 100) == 0)
        #expect(rate.acquire(at: 100) > 0)
    }

    @Test("a further throttling answer decreases the rate multiplicatively from where it was, down to the floor")
    func repeatedThrottles() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        let k0 = cbrtValue(p.firstRate / p.beta * (1 - p.beta) / p.scale)
        let before = rate.rate(at: k0 + 3)
        rate.record(throttled: true, at: k0 + 3)
        #expect(abs(rate.rate(at: k0 + 3) - before * p.beta) < 1e-6)
        for i in 1...40 { rate.record(throttled: true, at: k0 + 3 + Double(i) * 0.001) }
        #expect(abs(rate.rate(at: k0 + 3.04) - p.floor) < 1e-6)
    }

    @Test("a success once the curve passes maxRate turns the limit off; before, it does not")
    func recovery() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        rate.record(throttled: false, at: 1)
        #expect(rate.isLimiting)
        // When the curve reaches maxRate: t = K + ∛((maxRate − wMax)/scale).
        let wMax = p.firstRate / p.beta
        let t = cbrtValue(wMax * (1 - p.beta) / p.scale) + cbrtValue((p.maxRate - wMax) / p.scale)
        rate.record(throttled: false, at: t - 0.1)
        #expect(rate.isLimiting)
        rate.record(throttled: false, at: t + 0.1)
        #expect(!rate.isLimiting)
        #expect(rate.acquire(at: t + 0.1) == 0 && rate.acquire(at: t + 0.1) == 0)
    }

    @Test("the limiter keys rates apart, waits on the injected clock's rate, and does nothing in standard mode")
    func limiterKeysAndModes() async throws {
        let now = Mutex(0.0)
        let limiter = RateLimiter(mode: .adaptive, clock: { now.withLock { $0 } })
        limiter.record("ssm|eu-west-1", throttled: true)
        #expect(abs(limiter.rate("ssm|eu-west-1") - p.firstRate) < 1e-9)
        #expect(limiter.rate("secretsmanager|eu-west-1") == .infinity)
        try await limiter.acquire("secretsmanager|eu-west-1")  // not limited: at once
        now.withLock { $0 = 100 }
        try await limiter.acquire("ssm|eu-west-1")  // a token banked by now
        let standard = RateLimiter(mode: .standard)
        standard.record("ssm|eu-west-1", throttled: true)
        #expect(standard.rate("ssm|eu-west-1") == .infinity)
        try await standard.acquire("ssm|eu-west-1")
    }

    @Test("a wait is cancelled with its task (the start deadline)")
    func cancelledWait() async {
        let limiter = RateLimiter(mode: .adaptive, clock: { 0 })
        limiter.record("ssm|x", throttled: true)
        let task = Task { try await limiter.acquire("ssm|x") }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("Retry-After: seconds honoured up to the cap; dates and junk ignored")
    func retryAfter() {
        #expect(Backoff.retryAfter("2", cap: .seconds(30)) == .seconds(2))
        #expect(Backoff.retryAfter(" 0.5 ", cap: .seconds(30)) == .milliseconds(500))
        #expect(Backoff.retryAfter("120", cap: .seconds(30)) == .seconds(30))
        #expect(Backoff.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT", cap: .seconds(30)) == nil)
        #expect(Backoff.retryAfter("-1", cap: .seconds(30)) == nil)
        #expect(Backoff.retryAfter(nil, cap: .seconds(30)) == nil)
    }

    @Test("a limiter's wait is spread over twice the token interval")
    func spread() {
        let draws = (0..<400).map { _ in Backoff.spread(seconds: 1) }
        #expect(draws.allSatisfy { $0 >= .zero && $0 <= .seconds(2) })
        #expect(draws.contains { $0 < .milliseconds(500) } && draws.contains { $0 > .milliseconds(1500) })
    }

    @Test("aws.retry_mode and vault.retry_mode: adaptive by default, standard when set, anything else refused")
    func retryModeConfig() throws {
        let base = "templates:\n  - contents: x\n    destination: /dev/shm/x\n"
        let plain = try AgentConfig.parse(yaml: "aws:\n  region: us-east-1\nvault:\n  address: http://v:8200\n" + base, file: "/x/agent.yaml", environment: [:])
        #expect(plain.aws.retryMode == .adaptive && plain.vault?.retryMode == .adaptive)
        let set = try AgentConfig.parse(yaml: "aws:\n  retry_mode: standard\nvault:\n  address: http://v:8200\n  retry_mode: Standard\n" + base,
                                        file: "/x/agent.yaml", environment: [:])
        #expect(set.aws.retryMode == .standard && set.vault?.retryMode == .standard)
        #expect(throws: AgentError.self) {
            _ = try AgentConfig.parse(yaml: "aws:\n  retry_mode: legacy\n" + base, file: "/x/agent.yaml", environment: [:])
        }
    }

    private func cbrtValue(_ x: Double) -> Double {
        var y = 1.0
        for _ in 0..<100 { y -= (y * y * y - x) / (3 * y * y) }
        return y
    }
}
