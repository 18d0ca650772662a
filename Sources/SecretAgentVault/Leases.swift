import Logging
import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// Keeps the leases of dynamic secrets alive: a renewable lease is renewed (`sys/leases/renew`) at
/// about 2/3 of its duration; one that is not renewable, or no longer extends (max TTL), or was
/// issued to a token that is going away, is replaced by a new fetch at about 85 % of its life, and
/// its locator is yielded on `replacements` (a rotation for the agent).
///
/// A write-style reference (`pki/issue/web?common_name=…`) answered without a lease is not polled;
/// when its answer expires (`data.expiration`, or the NotAfter of `data.certificate`) it is issued
/// again at about 2/3 of its lifetime, with jitter, and yielded on `replacements` the same way.
///
/// Every use of one locator shares the one entry here, so it shares one lease.
actor LeaseManager {
    private struct Entry {
        var secret: Secret
        var lease: Lease
        /// The duration asked for on renewal (the lease's first duration).
        let increment: Duration
        /// The token generation the lease was issued under.
        let generation: Int
        /// When that token expires for good (set once the agent has moved to a newer token).
        var tokenDeadline: ContinuousClock.Instant?
        /// Renewal no longer extends the lease.
        var capped = false
        var retryAt: ContinuousClock.Instant?
        var failures = 0
        var epoch: Int
        /// Set for an answer without a lease that expires (a certificate): when to issue it again.
        /// Such an entry is never renewed, revoked or tied to the token.
        var refreshAt: ContinuousClock.Instant?

        var isLease: Bool { refreshAt == nil }

        var end: ContinuousClock.Instant {
            let leaseEnd = lease.obtained + lease.duration
            return tokenDeadline.map { min($0, leaseEnd) } ?? leaseEnd
        }
    }

    private var entries: [Locator: Entry] = [:]

    /// Time left on each lease held, by reference (for the lease gauge; never a value or lease id).
    func timeLeft(now: ContinuousClock.Instant = .now) -> [(reference: String, left: Duration)] {
        entries.filter(\.value.isLease).map { ($0.key.text, max(.zero, $0.value.end - now)) }.sorted { $0.reference < $1.reference }
    }
    private var tasks: [Locator: Task<Void, Never>] = [:]
    private var epoch = 0
    private var stopped = false
    private let fetcher: Fetcher
    private let continuation: AsyncStream<Locator>.Continuation
    private let logger: Logger

    init(fetcher: Fetcher, continuation: AsyncStream<Locator>.Continuation, logger: Logger) {
        self.fetcher = fetcher
        self.continuation = continuation
        self.logger = logger
    }

    /// The held secret of a leased (or expiring) locator, while it lasts.
    func cached(_ locator: Locator) -> Secret? {
        guard let entry = entries[locator], ContinuousClock.now < entry.end else { return nil }
        return entry.secret
    }

    /// Starts looking after a freshly fetched secret: its lease, or when a write-style answer
    /// without one expires. Anything else is not held.
    func track(_ locator: Locator, secret: Secret, generation: Int) {
        guard !stopped, let entry = makeEntry(locator, secret, generation: generation) else { return }
        entries[locator] = entry
        if let lease = secret.lease {
            logger.debug("tracking the lease of \(locator.text): ttl \(DurationParser.format(lease.duration))\(lease.renewable ? ", renewable" : ", not renewable")")
        } else {
            logger.debug("\(locator.text) has no lease; it expires in \(DurationParser.format(entry.lease.duration)) and will be issued again in \(DurationParser.format(entry.refreshAt! - .now))")
        }
        let mine = entry.epoch
        tasks[locator] = Task { await self.run(locator, epoch: mine) }
    }

    /// A new entry (with a new epoch) for a fresh answer, or nil when there is nothing to look after.
    private func makeEntry(_ locator: Locator, _ secret: Secret, generation: Int) -> Entry? {
        let now = ContinuousClock.now
        if let lease = secret.lease {
            epoch += 1
            return Entry(secret: secret, lease: lease, increment: lease.duration, generation: generation, epoch: epoch)
        }
        guard locator.isWrite, var left = Expiry.timeLeft(of: secret.value) else { return nil }
        if left <= .zero {
            logger.warning("\(locator.text) was issued already expired by this machine's clock; check the clocks of this machine and of Vault (it is issued again in a minute)")
            left = .seconds(60)
        }
        epoch += 1
        let refreshAt = now + max(.seconds(1), left * Double.random(in: 0.6...0.72))
        return Entry(secret: secret, lease: Lease(id: "", duration: left, renewable: false, obtained: now), increment: left,
                     generation: generation, epoch: epoch, refreshAt: refreshAt)
    }

    /// The agent moved to a new token: leases issued under older ones end when that token does.
    func tokenRotated(oldGeneration: Int, oldExpiry: ContinuousClock.Instant) {
        for (locator, entry) in entries where entry.isLease && entry.generation <= oldGeneration && entry.tokenDeadline == nil {
            entries[locator]?.tokenDeadline = oldExpiry
            epoch += 1
            entries[locator]?.epoch = epoch
            let mine = epoch
            tasks[locator] = Task { await self.run(locator, epoch: mine) }
        }
    }

    private func run(_ locator: Locator, epoch mine: Int) async {
        while !Task.isCancelled && !stopped {
            guard let entry = entries[locator], entry.epoch == mine else { return }
            let renewing = entry.lease.renewable && !entry.capped && entry.tokenDeadline == nil
            let life = entry.end - entry.lease.obtained
            // Replace at 85 % of the life left, and at least a second before the end when there is time.
            let replaceAt = min(entry.lease.obtained + life * 0.85, life > .seconds(3) ? entry.end - .seconds(1) : entry.end)
            let at = entry.retryAt ?? entry.refreshAt ?? (renewing ? entry.lease.obtained + entry.lease.duration * (2.0 / 3.0) : replaceAt)
            if at > .now {
                do { try await Task.sleep(until: at, clock: .continuous) } catch { return }
                continue  // plan again: the entry may have changed meanwhile
            }
            let ok = renewing ? await renew(locator, entry) : await replace(locator, entry)
            guard entries[locator]?.epoch == mine else { continue }
            if ok {
                entries[locator]?.failures = 0
                entries[locator]?.retryAt = nil
            } else {
                let failures = entry.failures + 1
                let left = entry.end - .now
                let wait = left > .seconds(4) ? min(.seconds(30), left / 4) : min(.seconds(30), Backoff.delay(attempt: failures, base: .seconds(1), cap: .seconds(30)))
                entries[locator]?.failures = failures
                entries[locator]?.retryAt = .now + max(.milliseconds(200), wait)
            }
        }
    }

    private func renew(_ locator: Locator, _ entry: Entry) async -> Bool {
        let seconds = max(1, Int(entry.increment.seconds.rounded()))
        let response: VaultResponse
        do {
            let token = try await fetcher.tokens.token()
            response = try await fetcher.reader.client.send(.PUT, "sys/leases/renew", body: .map(["lease_id": .string(entry.lease.id), "increment": .number(String(seconds))]), token: token.token)
        } catch {
            logger.warning("renewing the lease of \(locator.text) failed: \(error.message); retrying")
            return false
        }
        guard response.isSuccess, let duration = response.body?["lease_duration"]?.intValue else {
            if let failure = VaultErrors.common(response, client: fetcher.reader.client) {
                logger.warning("renewing the lease of \(locator.text) failed: \(failure.message); retrying")
                return false
            }
            logger.info("the lease of \(locator.text) cannot be renewed (HTTP \(response.status): \(Redactor().clean(response.errors))); replacing it")
            entries[locator]?.capped = true
            return true
        }
        let ttl = Duration.seconds(duration)
        var lease = entry.lease
        lease.duration = ttl
        lease.obtained = .now
        lease.renewable = response.body?["renewable"]?.boolValue ?? true
        entries[locator]?.lease = lease
        entries[locator]?.secret.lease = lease
        if ttl < entry.increment {
            entries[locator]?.capped = true
            logger.debug("lease of \(locator.text) renewed, ttl \(DurationParser.format(ttl)) (max TTL reached; it will be replaced before it expires)")
        } else {
            logger.debug("lease of \(locator.text) renewed, ttl \(DurationParser.format(ttl))")
        }
        return true
    }

    private func replace(_ locator: Locator, _ entry: Entry) async -> Bool {
        do {
            let (outcome, generation) = try await fetcher.read(locator)
            guard !stopped else { return true }
            switch outcome {
            case .found(let secret):
                if let fresh = makeEntry(locator, secret, generation: generation) {
                    entries[locator] = fresh
                    let mine = fresh.epoch
                    tasks[locator] = Task { await self.run(locator, epoch: mine) }
                    let what = entry.isLease ? "replaced the lease of" : "issued again"
                    logger.info("\(what) \(locator.text) before it expired (new \(fresh.isLease ? "ttl" : "lifetime") \(DurationParser.format(fresh.lease.duration)))")
                } else {
                    entries[locator] = nil
                    logger.info("\(locator.text) was fetched again and no longer has a lease or an expiry")
                }
            case .notFound:
                entries[locator] = nil
                logger.warning("\(locator.text) no longer exists in Vault; its lease could not be replaced")
            }
            continuation.yield(locator)
            return true
        } catch {
            logger.warning("replacing the lease of \(locator.text) failed: \(error.message); retrying")
            return false
        }
    }

    /// Stops every renewal; with `revoke`, revokes the leases first (`sys/leases/revoke`).
    func shutdown(revoke: Bool) async {
        guard !stopped else { return }
        stopped = true
        for task in tasks.values { task.cancel() }
        tasks = [:]
        if revoke, !entries.isEmpty, let token = try? await fetcher.tokens.token() {
            for (locator, entry) in entries where entry.isLease && ContinuousClock.now < entry.end {
                let response = try? await fetcher.reader.client.send(.PUT, "sys/leases/revoke", body: .map(["lease_id": .string(entry.lease.id)]), token: token.token)
                if response?.isSuccess == true {
                    logger.debug("revoked the lease of \(locator.text)")
                } else {
                    logger.warning("could not revoke the lease of \(locator.text) (HTTP \(response?.status ?? 0)); grant \"update\" on sys/leases/revoke, or let it expire")
                }
            }
        }
        entries = [:]
        continuation.finish()
    }
}
