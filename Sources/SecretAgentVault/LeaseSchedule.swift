import SecretAgentCore

/// When the lease manager acts next on one held answer, as a pure value (the lease manager carries
/// the steps out and tells the schedule what happened):
///
/// - a renewable lease is renewed (`sys/leases/renew`) at about 2/3 of its duration;
/// - one that is not renewable, no longer extends (max TTL), or was issued to a token that is
///   going away, is replaced by a new fetch at 85 % of its life (and at least a second before its
///   end when it has more than 3 seconds);
/// - an answer without a lease that expires (a certificate) is issued again at 60–72 % of its
///   lifetime (jitter), at least a second after it was issued;
/// - after a failure the next try comes after a quarter of the time left (at most 30 seconds), or,
///   with 4 seconds or less left, with exponential backoff from 1 second up to 30 seconds with
///   jitter; never sooner than 200 ms.
struct LeaseSchedule: Sendable {
    typealias Instant = ContinuousClock.Instant

    enum Action: Sendable, Hashable {
        /// `sys/leases/renew`.
        case renew
        /// Fetch (or issue) the secret again.
        case replace
    }

    /// The next thing to do, and when.
    struct Step: Sendable, Hashable {
        let at: Instant
        let action: Action
    }

    /// The lease as last granted (for an answer without a lease: its lifetime, never renewable).
    private(set) var lease: Lease
    /// The duration asked for on renewal (the lease's first duration).
    let increment: Duration
    /// When the token the lease was issued under ends (set once the agent moved to a newer token).
    private(set) var tokenDeadline: Instant?
    /// Renewal no longer extends the lease, or was refused.
    private(set) var capped = false
    /// After a failure: when to try again.
    private(set) var retryAt: Instant?
    /// Failed steps in a row.
    private(set) var failures = 0
    /// For an answer without a lease that expires (a certificate): when to issue it again. Such
    /// an answer is never renewed, revoked or tied to the token.
    let refreshAt: Instant?
    let jitter: Jitter

    /// A lease just granted.
    init(lease: Lease, jitter: Jitter = .random) {
        self.lease = lease
        increment = lease.duration
        refreshAt = nil
        self.jitter = jitter
    }

    /// An answer without a lease, issued at `now`, that expires after `lifetime`.
    init(expiring lifetime: Duration, now: Instant, jitter: Jitter = .random) {
        lease = Lease(id: "", duration: lifetime, renewable: false, obtained: now)
        increment = lifetime
        refreshAt = now + max(.seconds(1), lifetime * jitter(0.6...0.72))
        self.jitter = jitter
    }

    /// A real lease (renewed, revoked, tied to the token), not an expiring answer.
    var isLease: Bool { refreshAt == nil }

    /// When the answer is gone: the lease's end, or its token's if that comes first.
    var end: Instant {
        let leaseEnd = lease.obtained + lease.duration
        return tokenDeadline.map { min($0, leaseEnd) } ?? leaseEnd
    }

    /// The next step.
    var next: Step {
        let renewing = lease.renewable && !capped && tokenDeadline == nil
        let life = end - lease.obtained
        let replaceAt = min(lease.obtained + life * 0.85, life > .seconds(3) ? end - .seconds(1) : end)
        let at = retryAt ?? refreshAt ?? (renewing ? lease.obtained + lease.duration * (2.0 / 3.0) : replaceAt)
        return Step(at: at, action: renewing ? .renew : .replace)
    }

    /// Renewal at `now` granted `duration`: true when that is less than asked (max TTL reached;
    /// the lease is replaced before it ends).
    @discardableResult
    mutating func renewed(duration: Duration, renewable: Bool, at now: Instant) -> Bool {
        lease.duration = duration
        lease.obtained = now
        lease.renewable = renewable
        if duration < increment { capped = true }
        return duration < increment
    }

    /// Renewal was refused: the lease is replaced instead.
    mutating func renewalRefused() {
        capped = true
    }

    /// The agent moved to a new token; the one this lease was issued under ends at `deadline`.
    /// False (nothing changes) for an expiring answer or a lease already tied to an older token.
    mutating func tokenReplaced(deadline: Instant) -> Bool {
        guard isLease, tokenDeadline == nil else { return false }
        tokenDeadline = deadline
        return true
    }

    /// The step carried out at `now` succeeded.
    mutating func succeeded() {
        failures = 0
        retryAt = nil
    }

    /// The step carried out at `now` failed: plan a retry.
    mutating func failed(at now: Instant) {
        failures += 1
        let left = end - now
        let wait = left > .seconds(4) ? min(.seconds(30), left / 4) : backoff(attempt: failures)
        retryAt = now + max(.milliseconds(200), wait)
    }

    /// 1 s · 2^(attempt-1), at most 30 s, less up to half of it (jitter).
    private func backoff(attempt: Int) -> Duration {
        min(.seconds(30), .seconds(1) * (1 << min(attempt - 1, 20))) * jitter(0.5...1.0)
    }
}
