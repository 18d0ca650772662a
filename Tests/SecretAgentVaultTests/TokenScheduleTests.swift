import SecretAgentCore
import Testing
@testable import SecretAgentVault

/// Two instants are the same to within a millisecond (the schedules multiply durations by
/// fractions, which rounds below that).
func near(_ a: ContinuousClock.Instant?, _ b: ContinuousClock.Instant) -> Bool {
    guard let a else { return false }
    return a - b < .milliseconds(1) && b - a < .milliseconds(1)
}

/// The token schedule transition by transition: pure values, no clock, no server.
@Suite("token schedule")
struct TokenScheduleTests {
    typealias Step = TokenSchedule.Step
    let t0 = ContinuousClock.now

    /// A token obtained (or renewed) `at` after t0.
    func token(ttl: Duration, renewable: Bool = true, at: Duration = .zero) -> TokenSchedule.Lifetime {
        TokenSchedule.Lifetime(obtained: t0 + at, ttl: ttl, renewable: renewable)
    }

    @Test func aRenewableTokenIsRenewedAtTwoThirdsOfItsTTL() {
        let schedule = TokenSchedule(method: .approle, jitter: .fixed(0))
        let step = schedule.next(token(ttl: .seconds(30)), now: t0)
        #expect(step?.action == .renew)
        #expect(near(step?.at, t0 + .seconds(20)))
        // Planned from when the token was obtained, whenever it is planned.
        #expect(near(schedule.next(token(ttl: .seconds(30)), now: t0 + .seconds(7))?.at, t0 + .seconds(20)))
        // Renewed at 20 s for an hour: the next renewal at 2/3 of the hour from then.
        let renewed = schedule.next(token(ttl: .seconds(3600), at: .seconds(20)), now: t0 + .seconds(20))
        #expect(renewed?.action == .renew)
        #expect(near(renewed?.at, t0 + .seconds(20 + 2400)))
    }

    @Test func aTokenWithoutATTLIsLeftAlone() {
        let schedule = TokenSchedule(method: .token, jitter: .fixed(0))
        #expect(schedule.next(token(ttl: .zero), now: t0) == nil)
        #expect(schedule.next(token(ttl: .zero, renewable: false), now: t0) == nil)
    }

    @Test func aTokenThatCannotBeRenewedIsReplacedByALoginAtTwoThirds() {
        for method in VaultAuthSettings.Method.allCases {
            let step = TokenSchedule(method: method, jitter: .fixed(0)).next(token(ttl: .seconds(30), renewable: false), now: t0)
            #expect(step?.action == .login, "\(method)")  // token auth: read the token's sources again
            #expect(near(step?.at, t0 + .seconds(20)))
        }
    }

    @Test func reachingMaxTTLSwitchesToALoginUntilTheNextLogin() {
        var schedule = TokenSchedule(method: .approle, jitter: .fixed(0))
        let full = schedule.renewed(ttl: .seconds(30), increment: .seconds(30))  // extended in full
        #expect(!full)
        #expect(schedule.next(token(ttl: .seconds(30), at: .seconds(20)), now: t0 + .seconds(20))?.action == .renew)
        // Renewal at 40 s only got 9 of the 30 seconds asked: max TTL is near.
        let capped = schedule.renewed(ttl: .seconds(9), increment: .seconds(30))
        #expect(capped)
        #expect(schedule.capped)
        let step = schedule.next(token(ttl: .seconds(9), at: .seconds(40)), now: t0 + .seconds(40))
        #expect(step?.action == .login)
        #expect(near(step?.at, t0 + .seconds(46)))
        schedule.finished(ok: true)
        // The login brought a new token: renewed again.
        schedule.loggedIn()
        #expect(!schedule.capped)
        #expect(schedule.next(token(ttl: .seconds(30), at: .seconds(46)), now: t0 + .seconds(46))?.action == .renew)
    }

    @Test func tokenAuthKeepsRenewingACappedToken() {
        var schedule = TokenSchedule(method: .token, jitter: .fixed(0))
        let capped = schedule.renewed(ttl: .seconds(9), increment: .seconds(30))
        #expect(capped)
        let step = schedule.next(token(ttl: .seconds(9), at: .seconds(20)), now: t0 + .seconds(20))
        #expect(step?.action == .renew)
        #expect(near(step?.at, t0 + .seconds(26)))
    }

    @Test func aRefusedRenewalMeansLoginsUntilOneSucceeds() {
        var schedule = TokenSchedule(method: .kubernetes, jitter: .fixed(1))
        schedule.refused()
        #expect(schedule.capped)
        // The login right after the refusal failed: the next try is a login, sooner than 2/3.
        schedule.finished(ok: false)
        let retry = schedule.next(token(ttl: .seconds(30)), now: t0 + .seconds(20))
        #expect(retry?.action == .login)
        #expect(near(retry?.at, t0 + .seconds(22.5)))  // a quarter of the 10 s left
        // It succeeded: a fresh token, renewed at 2/3 of its TTL.
        schedule.loggedIn()
        schedule.finished(ok: true)
        let fresh = schedule.next(token(ttl: .seconds(30), at: .seconds(23)), now: t0 + .seconds(23))
        #expect(fresh?.action == .renew)
        #expect(near(fresh?.at, t0 + .seconds(43)))
    }

    @Test func afterAFailureTheRetryComesAfterAQuarterOfTheTimeLeftBetweenOneAndThirtySeconds() {
        var schedule = TokenSchedule(method: .approle, jitter: .fixed(1))
        schedule.finished(ok: false)
        #expect(schedule.failures == 1)
        let hour = token(ttl: .seconds(3600))
        func retry(at now: Duration) -> ContinuousClock.Instant? { schedule.next(hour, now: t0 + now)?.at }
        #expect(near(retry(at: .seconds(2400)), t0 + .seconds(2430)))     // 1200 s left: capped at 30 s
        #expect(near(retry(at: .seconds(3560)), t0 + .seconds(3570)))     // 40 s left: 10 s
        #expect(near(retry(at: .seconds(3598)), t0 + .seconds(3599)))     // 2 s left: at least 1 s
        #expect(near(retry(at: .seconds(3700)), t0 + .seconds(3730)))     // expired: every 30 s
        #expect(schedule.next(hour, now: t0 + .seconds(2400))?.action == .renew)
        // Up to 20 % sooner with jitter.
        var jittered = TokenSchedule(method: .approle, jitter: .fixed(0))
        jittered.finished(ok: false)
        #expect(near(jittered.next(hour, now: t0 + .seconds(2400))?.at, t0 + .seconds(2424)))
        // A success returns to the plan.
        schedule.finished(ok: true)
        #expect(schedule.failures == 0)
        #expect(near(retry(at: .seconds(2401)), t0 + .seconds(2400)))
    }

    @Test func neverSoonerThanHalfASecondAfterTheTokenWasObtained() {
        let schedule = TokenSchedule(method: .approle, jitter: .fixed(0))
        #expect(near(schedule.next(token(ttl: .milliseconds(600)), now: t0)?.at, t0 + .milliseconds(500)))
        #expect(near(schedule.next(token(ttl: .milliseconds(300)), now: t0)?.at, t0 + .milliseconds(500)))
        #expect(near(schedule.next(token(ttl: .milliseconds(900)), now: t0)?.at, t0 + .milliseconds(600)))
    }
}
