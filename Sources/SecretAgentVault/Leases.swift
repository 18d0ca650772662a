import Logging
import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// Keeps the leases of dynamic secrets alive: a renewable lease is renewed (`sys/leases/renew`) at
/// about 2/3 of its duration; one that is not renewable, or no longer extends (max TTL), or was
/// issued to a token that is going away, is replaced by a new fetch at about 85 % of its life, and
/// its locator is yielded on `replacements` (a rotation for the agent).
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

        var end: ContinuousClock.Instant {
            let leaseEnd = lease.obtained + lease.duration
            return tokenDeadline.map { min($0, leaseEnd) } ?? leaseEnd
        }
    }

    private var entries: [Locator: Entry] = [:]

    /// Time left on each lease held, by reference (for the lease gauge; never a value or lease id).
    func timeLeft(now: ContinuousClock.Instant = .now) -> [(reference: String, left: Duration)] {
        entries.map { ($0.key.text, max(.zero, $0.value.end - now)) }.sorted { $0.reference < $1.reference }
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

    /// The held secret of a leased locator, while its lease lasts.
    func cached(_ locator: Locator) -> Secret? {
        guard let entry = entries[locator], ContinuousClock.now < entry.end else { return nil }
        return entry.secret
    }

    /// Starts looking after the lease of a freshly fetched secret.
    func track(_ locator: Locator, secret: Secret, generation: Int) {
        guard let lease = secret.lease, !stopped else { return }
        epoch += 1
        entries[locator] = Entry(secret: secret, lease: lease, increment: lease.duration, generation: generation, epoch: epoch)
        logger.debug("tracking the lease of \(locator.text): ttl \(DurationParser.format(lease.duration))\(lease.renewable ? ", renewable" : ", not renewable")")
        let mine = epoch
        tasks[locator] = Task { await self.run(locator, epoch: mine) }
    }

    /// The agent moved to a new token: leases issued under older ones end when that token does.
    func tokenRotated(oldGeneration: Int, oldExpiry: ContinuousClock.Instant) {
        for (locator, entry) in entries where entry.generation <= oldGeneration && entry.tokenDeadline == nil {
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
            let at = entry.retryAt ?? (renewing ? entry.lease.obtained + entry.lease.duration * (2.0 / 3.0) : replaceAt)
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
            case .found(let secret) where secret.lease != nil:
                epoch += 1
                entries[locator] = Entry(secret: secret, lease: secret.lease!, increment: secret.lease!.duration,
                                         generation: generation, epoch: epoch)
                tasks[locator] = Task { [epoch] in await self.run(locator, epoch: epoch) }
                logger.info("replaced the lease of \(locator.text) before it expired (new ttl \(DurationParser.format(secret.lease!.duration)))")
            case .found:
                entries[locator] = nil
                logger.info("\(locator.text) was fetched again and no longer has a lease")
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
            for (locator, entry) in entries where ContinuousClock.now < entry.end {
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

/// A fresh read with the current token, logging in again once when a 403 turns out to be an
/// expired token. Shared by the provider and the lease manager.
struct Fetcher: Sendable {
    let reader: SecretReader
    let tokens: TokenManager

    func read(_ locator: Locator) async throws(VaultError) -> (FetchOutcome, generation: Int) {
        var handle = try await tokens.token()
        var retried = false
        while true {
            switch try await reader.read(locator, token: handle.token) {
            case .found(let secret): return (.found(secret), handle.generation)
            case .notFound: return (.notFound, handle.generation)
            case .denied(let path):
                if !retried, await tokens.rejected(generation: handle.generation) {
                    retried = true
                    handle = try await tokens.token()
                    continue
                }
                let who = await tokens.describe
                let capability = locator.isWrite ? "update" : "read"
                throw VaultError(.permissionDenied, "permission denied for \(locator.text) (\(path)) with the token from \(who); add \"\(capability)\" on \(path) to one of its policies")
            }
        }
    }
}

extension Locator {
    var isWrite: Bool {
        if case .vault(_, _, let parameters) = self { return !parameters.isEmpty }
        return false
    }
}
