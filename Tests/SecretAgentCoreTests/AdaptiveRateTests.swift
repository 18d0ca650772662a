import Foundation
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

    /// The seconds after a throttling answer at which the curve restarted at `r0` has delivered
    /// `tokens` tokens: recoveryCalls · ln(1/(1 − x)) = tokens, x = τ·r0/recoveryCalls.
    func timeFor(tokens: Double, from r0: Double) -> Double {
        (1 - exp(-tokens / p.recoveryCalls)) * p.recoveryCalls / r0
    }

    @Test("the first throttling answer: firstRate calls a second, an empty bucket, a wait on the rising curve")
    func firstThrottle() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 10)
        #expect(rate.isLimiting)
        #expect(abs(rate.rate(at: 10) - p.firstRate) < 1e-9)
        // Empty: one token takes (1 − e^(−1/2.5))·2.5/0.25 = 3.30 s, less than 1/firstRate = 4 s: the rate grows meanwhile.
        let wait = rate.acquire(at: 10, need: 1)
        #expect(abs(wait - timeFor(tokens: 1, from: p.firstRate)) < 1e-9)
        #expect(abs(wait - 3.2968) < 1e-3)
        // Asked again half-way: the rest of the same wait.
        #expect(abs(rate.acquire(at: 10 + wait / 2, need: 1) - wait / 2) < 1e-6)
        // Then a token: go; the next call waits again.
        #expect(rate.acquire(at: 10 + wait + 1e-6, need: 1) == 0)
        #expect(rate.acquire(at: 10 + wait + 1e-6, need: 1) > 0)
    }

    @Test("a call's jitter: a small need goes early into debt, which the next call pays; a large one waits longer")
    func jitteredNeed() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        let short = rate.acquire(at: 0, need: 0.2)
        let long = rate.acquire(at: 0, need: 1.8)
        #expect(abs(short - timeFor(tokens: 0.2, from: p.firstRate)) < 1e-9)
        #expect(abs(long - timeFor(tokens: 1.8, from: p.firstRate)) < 1e-9)
        #expect(rate.acquire(at: short + 1e-6, need: 0.2) == 0)  // 0.2 tokens: enough to go, one owed
        // The bucket is at −0.8 now: even a call that needs nothing waits for it to refill to 0.
        #expect(abs(rate.acquire(at: short + 1e-6, need: 0) - (timeFor(tokens: 1, from: p.firstRate) - short - 1e-6)) < 1e-6)
    }

    @Test("the rate grows hyperbolically: double at half the recovery time, unbounded after it; one token banked at most")
    func hyperbolicGrowth() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        let recovery = p.recoveryCalls / p.firstRate  // 10 s
        #expect(abs(rate.rate(at: recovery / 2) - 2 * p.firstRate) < 1e-9)
        #expect(abs(rate.rate(at: recovery * 0.9) - 10 * p.firstRate) < 1e-9)
        #expect(rate.rate(at: recovery) == .infinity)
        // A quiet spell on the curve banks one token, not a burst (5.8 tokens' worth by 9 s).
        #expect(rate.acquire(at: recovery * 0.9) == 0)
        #expect(rate.acquire(at: recovery * 0.9) > 0)
        // Past the asymptote, no limit (until the next success turns the bucket off, or a throttling answer).
        #expect(rate.acquire(at: 100) == 0 && rate.acquire(at: 100) == 0 && rate.isLimiting)
    }

    @Test("a further throttling answer decreases the rate multiplicatively from where it was, down to the floor")
    func repeatedThrottles() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        let before = rate.rate(at: 5)
        rate.record(throttled: true, at: 5)
        let restart = before * p.beta
        #expect(abs(rate.rate(at: 5) - restart) < 1e-9)
        // Restarted: the curve now doubles in half of recoveryCalls/restart.
        #expect(abs(rate.rate(at: 5 + p.recoveryCalls / restart / 2) - 2 * restart) < 1e-9)
        for i in 1...60 { rate.record(throttled: true, at: 5 + Double(i) * 0.0001) }
        #expect(abs(rate.rate(at: 5.006) - p.floor) < 1e-4)
    }

    @Test("a success once the curve passes maxRate turns the limit off; before, it does not")
    func recovery() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        rate.record(throttled: false, at: 1)
        #expect(rate.isLimiting)
        // The curve reaches maxRate where 1 − x = firstRate/maxRate.
        let t = (1 - p.firstRate / p.maxRate) * p.recoveryCalls / p.firstRate
        rate.record(throttled: false, at: t - 0.01)
        #expect(rate.isLimiting)
        rate.record(throttled: false, at: t + 0.01)
        #expect(!rate.isLimiting)
        #expect(rate.acquire(at: t + 0.01) == 0 && rate.acquire(at: t + 0.01) == 0)
    }

    @Test("a throttling answer after the curve has passed maxRate (no call since) starts again from firstRate")
    func throttleAfterRecovery() {
        var rate = AdaptiveRate()
        rate.record(throttled: true, at: 0)
        rate.record(throttled: true, at: 300)
        #expect(abs(rate.rate(at: 300) - p.firstRate) < 1e-9)
        #expect(rate.acquire(at: 300, need: 1) > 3)
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

    @Test("aws.retry_mode and vault.retry_mode: adaptive by default, standard when set, anything else refused")
    func retryModeConfig() throws {
        let base = "templates:\n  - contents: x\n    destination: /dev/shm/x\n"
        let plain = try AgentConfig.parse(yaml: "aws:\n  region: us-east-1\nvault:\n  address: http://v:8200\n" + base, file: "/x/agent.yaml", environment: [:])
        #expect(plain.aws.retryMode == nil && plain.vault?.retryMode == .adaptive)  // AWS: left to AWS_RETRY_MODE, the profile, then adaptive
        let set = try AgentConfig.parse(yaml: "aws:\n  retry_mode: standard\nvault:\n  address: http://v:8200\n  retry_mode: Standard\n" + base,
                                        file: "/x/agent.yaml", environment: [:])
        #expect(set.aws.retryMode == .standard && set.vault?.retryMode == .standard)
        #expect(throws: AgentError.self) {
            _ = try AgentConfig.parse(yaml: "aws:\n  retry_mode: legacy\n" + base, file: "/x/agent.yaml", environment: [:])
        }
    }
}
