import SecretAgentCore
import Testing
@testable import SecretAgentVault

/// The lease schedule transition by transition: pure values, no clock, no server.
@Suite("lease schedule")
struct LeaseScheduleTests {
    let t0 = ContinuousClock.now

    func lease(_ duration: Duration, renewable: Bool = true) -> LeaseSchedule {
        LeaseSchedule(lease: Lease(id: "database/creds/app/l1", duration: duration, renewable: renewable, obtained: t0), jitter: .fixed(1))
    }

    @Test func aRenewableLeaseIsRenewedAtTwoThirdsOfItsDuration() {
        var schedule = lease(.seconds(60))
        #expect(schedule.isLease)
        #expect(schedule.next.action == .renew)
        #expect(near(schedule.next.at, t0 + .seconds(40)))
        // Renewed in full at 40 s: again at 2/3 of the new duration from then.
        let capped = schedule.renewed(duration: .seconds(60), renewable: true, at: t0 + .seconds(40))
        #expect(!capped)
        schedule.succeeded()
        #expect(schedule.next.action == .renew)
        #expect(near(schedule.next.at, t0 + .seconds(80)))
        #expect(schedule.end == t0 + .seconds(100))
    }

    @Test func aLeaseThatIsNotRenewableIsReplacedAtEightyFivePercent() {
        let schedule = lease(.seconds(100), renewable: false)
        #expect(schedule.next.action == .replace)
        #expect(near(schedule.next.at, t0 + .seconds(85)))
    }

    @Test func aShortLeaseIsReplacedAtLeastASecondBeforeItsEnd() {
        // 5 s: 85 % is 4.25 s, later than a second before the end.
        #expect(near(lease(.seconds(5), renewable: false).next.at, t0 + .seconds(4)))
        // 3 s or less: no second to spare, 85 % it is.
        #expect(near(lease(.seconds(2), renewable: false).next.at, t0 + .seconds(1.7)))
    }

    @Test func aLeaseAtItsMaxTTLIsReplacedInsteadOfRenewed() {
        var schedule = lease(.seconds(60))
        // Renewal at 40 s granted 20 of the 60 seconds asked.
        let capped = schedule.renewed(duration: .seconds(20), renewable: true, at: t0 + .seconds(40))
        #expect(capped)
        schedule.succeeded()
        #expect(schedule.capped)
        #expect(schedule.next.action == .replace)
        #expect(near(schedule.next.at, t0 + .seconds(57)))  // 85 % of the 20 s left
        #expect(schedule.end == t0 + .seconds(60))
    }

    @Test func aRefusedRenewalMeansAReplacement() {
        var schedule = lease(.seconds(60))
        schedule.renewalRefused()
        schedule.succeeded()
        #expect(schedule.next.action == .replace)
        #expect(near(schedule.next.at, t0 + .seconds(51)))
    }

    @Test func aRenewalThatComesBackNotRenewableMeansAReplacement() {
        var schedule = lease(.seconds(60))
        let capped = schedule.renewed(duration: .seconds(60), renewable: false, at: t0 + .seconds(40))
        #expect(!capped)
        #expect(schedule.next.action == .replace)
        #expect(near(schedule.next.at, t0 + .seconds(91)))
    }

    @Test func aLeaseOfAReplacedTokenEndsWithThatToken() {
        var schedule = lease(.seconds(3600))
        let tied = schedule.tokenReplaced(deadline: t0 + .seconds(9))
        #expect(tied)
        #expect(schedule.end == t0 + .seconds(9))
        #expect(schedule.next.action == .replace)  // renewing under the old token is pointless
        #expect(near(schedule.next.at, t0 + .seconds(7.65)))
        // A later token change does not move it: it is tied to the first token that went away.
        let again = schedule.tokenReplaced(deadline: t0 + .seconds(30))
        #expect(!again)
        #expect(schedule.end == t0 + .seconds(9))
        // A token that outlives the lease does not shorten it.
        var short = lease(.seconds(10), renewable: false)
        let shortTied = short.tokenReplaced(deadline: t0 + .seconds(60))
        #expect(shortTied)
        #expect(short.end == t0 + .seconds(10))
        #expect(near(short.next.at, t0 + .seconds(8.5)))
    }

    @Test func aCertificateIsIssuedAgainAtSixtyToSeventyTwoPercentOfItsLifetime() {
        let early = LeaseSchedule(expiring: .seconds(100), now: t0, jitter: .fixed(0))
        #expect(!early.isLease)
        #expect(early.next.action == .replace)
        #expect(near(early.next.at, t0 + .seconds(60)))
        #expect(early.end == t0 + .seconds(100))
        let late = LeaseSchedule(expiring: .seconds(100), now: t0, jitter: .fixed(1))
        #expect(near(late.next.at, t0 + .seconds(72)))
        // Never sooner than a second after it was issued.
        #expect(near(LeaseSchedule(expiring: .seconds(1), now: t0, jitter: .fixed(0)).next.at, t0 + .seconds(1)))
        // Not a lease: never tied to the token.
        var certificate = early
        let tied = certificate.tokenReplaced(deadline: t0 + .seconds(5))
        #expect(!tied)
        #expect(certificate.end == t0 + .seconds(100))
    }

    @Test func afterAFailureTheRetryComesAfterAQuarterOfTheTimeLeftAtMostThirtySeconds() {
        var schedule = lease(.seconds(1000), renewable: false)
        schedule.failed(at: t0 + .seconds(850))  // 150 s left
        #expect(schedule.failures == 1)
        #expect(schedule.next.action == .replace)
        #expect(near(schedule.next.at, t0 + .seconds(880)))
        schedule.failed(at: t0 + .seconds(990))  // 10 s left
        #expect(near(schedule.next.at, t0 + .seconds(992.5)))
        // It worked: back to the plan.
        schedule.succeeded()
        #expect(schedule.failures == 0)
        #expect(near(schedule.next.at, t0 + .seconds(850)))
        // A failed renewal is retried as a renewal.
        var renewable = lease(.seconds(1000))
        renewable.failed(at: t0 + .seconds(667))
        #expect(renewable.next.action == .renew)
        #expect(near(renewable.next.at, t0 + .seconds(697)))
    }

    @Test func closeToTheEndRetriesBackOffExponentiallyUpToThirtySeconds() {
        var schedule = LeaseSchedule(lease: Lease(id: "l", duration: .seconds(10), renewable: false, obtained: t0), jitter: .fixed(1))
        let now = t0 + .seconds(7)  // 3 s left
        var waits: [Duration] = []
        for _ in 1...7 {
            schedule.failed(at: now)
            waits.append(schedule.next.at - now)
        }
        let expected: [Duration] = [1, 2, 4, 8, 16, 30, 30].map { .seconds($0) }
        #expect(zip(waits, expected).allSatisfy { near(now + $0, now + $1) } && waits.count == expected.count, "\(waits)")
        // With jitter, up to half of it sooner.
        var jittered = LeaseSchedule(lease: Lease(id: "l", duration: .seconds(10), renewable: false, obtained: t0), jitter: .fixed(0))
        jittered.failed(at: now)
        #expect(near(jittered.next.at, now + .milliseconds(500)))
        for _ in 2...9 { jittered.failed(at: now) }
        #expect(near(jittered.next.at, now + .seconds(15)))
    }
}
