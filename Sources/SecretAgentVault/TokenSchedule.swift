import SecretAgentCore

/// When the token manager acts next, as a pure value (the token manager carries the steps out and
/// tells the schedule what happened):
///
/// - a renewable token is renewed (`renew-self`) at about 2/3 of its TTL;
/// - one that is not renewable, or whose renewal stopped extending it (max TTL reached), is
///   replaced by a new login at that instant instead (with `token` auth, whose "login" only reads
///   the same sources again, a capped token is still renewed while it lasts);
/// - a refused renewal is followed by a login at once;
/// - after a failed step the next try comes after a quarter of the time left, between 1 and 30
///   seconds, less up to 20 % of jitter (30 seconds once the token has expired);
/// - never sooner than half a second after the token was obtained;
/// - a token without a TTL is left alone.
struct TokenSchedule: Sendable {
    typealias Instant = ContinuousClock.Instant

    /// What the schedule knows of a token.
    struct Lifetime: Sendable, Hashable {
        /// When it was obtained or last renewed.
        var obtained: Instant
        /// Its TTL from `obtained`; zero when it does not expire.
        var ttl: Duration
        var renewable: Bool

        var expiry: Instant? { ttl > .zero ? obtained + ttl : nil }
    }

    enum Action: Sendable, Hashable {
        /// `auth/token/renew-self`.
        case renew
        /// Log in again (`token` auth: read the token's sources again).
        case login
    }

    /// The next thing to do, and when.
    struct Step: Sendable, Hashable {
        let at: Instant
        let action: Action
    }

    /// A capped token is still renewed rather than replaced (`token` auth).
    let renewsWhenCapped: Bool
    let jitter: Jitter
    /// Renewal no longer extends the TTL (max TTL reached), or was refused.
    private(set) var capped = false
    /// Failed steps in a row.
    private(set) var failures = 0

    init(method: VaultAuthSettings.Method, jitter: Jitter = .random) {
        renewsWhenCapped = method == .token
        self.jitter = jitter
    }

    /// The next step for `token`, planned at `now`; nil when the token does not expire.
    func next(_ token: Lifetime, now: Instant) -> Step? {
        guard let expiry = token.expiry else { return nil }
        let action: Action = token.renewable && (!capped || renewsWhenCapped) ? .renew : .login
        var at = token.obtained + token.ttl * (2.0 / 3.0)
        if failures > 0 {
            let left = expiry - now
            at = now + max(.seconds(1), min(.seconds(30), left > .zero ? left / 4 : .seconds(30))) * jitter(0.8...1.0)
        }
        return Step(at: max(at, token.obtained + .milliseconds(500)), action: action)
    }

    /// A login brought a token (a new one, or the same one read again): renewal may extend it.
    mutating func loggedIn() {
        capped = false
    }

    /// Renewal asked for `increment` and got `ttl`: less means max TTL is reached (true).
    @discardableResult
    mutating func renewed(ttl: Duration, increment: Duration) -> Bool {
        if ttl < increment { capped = true }
        return ttl < increment
    }

    /// Renewal was refused (not a transient failure): the token manager logs in again at once,
    /// and while that fails the token is treated as capped.
    mutating func refused() {
        capped = true
    }

    /// The step just carried out left a token good for a while longer, or did not.
    mutating func finished(ok: Bool) {
        failures = ok ? 0 : failures + 1
    }
}
