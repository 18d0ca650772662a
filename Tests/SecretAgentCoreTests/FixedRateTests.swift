import SecretAgentCore
import Synchronization
import Testing

/// `VAULT_RATE_LIMIT`'s bucket, on an injected clock.
@Suite("fixed rate")
struct FixedRateTests {
    @Test("rate[:burst] as the Vault API client reads it; the burst defaults to the rate, at least 1")
    func parse() {
        #expect(FixedRate.parse("10")! == (10, 10))
        #expect(FixedRate.parse(" 2.5:7 ")! == (2.5, 7))
        #expect(FixedRate.parse("0.5")! == (0.5, 1))
        for bad in ["", "0", "-1", "ten", "5:", "5:0", "5:x", "1:2:3", "inf", "nan"] {
            #expect(FixedRate.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("a burst goes at once, then calls are spaced at the rate; a quiet spell refills up to the burst")
    func spacing() {
        let start = ContinuousClock.now
        let now = Mutex(start)
        let bucket = FixedRate(rate: 4, burst: 2, clock: { now.withLock { $0 } })
        #expect(bucket.reserve() == .zero)
        #expect(bucket.reserve() == .zero)
        #expect(bucket.reserve() == .milliseconds(250))
        #expect(bucket.reserve() == .milliseconds(500))
        now.withLock { $0 = start + .seconds(10) }
        #expect(bucket.reserve() == .zero && bucket.reserve() == .zero)
        #expect(bucket.reserve() == .milliseconds(250))
        // A rate so low that the wait would overflow: capped at a day, no trap.
        let slow = FixedRate(rate: 1e-20, burst: 1, clock: { now.withLock { $0 } })
        #expect(slow.reserve() == .zero && slow.reserve() == .seconds(86_400))
    }
}
