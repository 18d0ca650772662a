import Logging
import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// Keeps the leases of dynamic secrets alive, each when its `LeaseSchedule` says: a renewable
/// lease is renewed (`sys/leases/renew`) at about 2/3 of its duration; one that is not renewable,
/// or no longer extends (max TTL), or was issued to a token that is going away (learnt from the
/// token manager's `TokenChange` stream), is replaced by a new fetch at about 85 % of its life,
/// and its locator is yielded on `replacements` (a rotation for the agent).
///
/// A write-style reference (`pki/issue/web?common_name=…`) answered without a lease is not polled;
/// when its answer expires (`data.expiration`, or the NotAfter of `data.certificate`) it is issued
/// again at about 2/3 of its lifetime, with jitter, and yielded on `replacements` the same way.
///
/// Every use of one locator shares the one entry here, so it shares one lease.
actor LeaseManager {
    private struct Entry {
        var secret: Secret
        var schedule: LeaseSchedule
        /// The token generation the lease was issued under.
        let generation: Int
        var epoch: Int

        var isLease: Bool { schedule.isLease }
        var end: ContinuousClock.Instant { schedule.end }
    }

    private var entries: [Locator: Entry] = [:]
    private var tasks: [Locator: Task<Void, Never>] = [:]
    private var epoch = 0
    private var stopped = false
    private let fetcher: Fetcher
    private let continuation: AsyncStream<Locator>.Continuation
    private let logger: Logger
    private let clock: any VaultClock
    private let jitter: Jitter

    /// - Parameters:
    ///   - tokenChanges: the token manager's announcements of new tokens.
    ///   - continuation: where replaced locators are yielded; finished by `shutdown(revoke:)`.
    init(fetcher: Fetcher, tokenChanges: AsyncStream<TokenChange>, continuation: AsyncStream<Locator>.Continuation,
         logger: Logger, clock: any VaultClock = ContinuousClock(), jitter: Jitter = .random) {
        self.fetcher = fetcher
        self.continuation = continuation
        self.logger = logger
        self.clock = clock
        self.jitter = jitter
        Task { [weak self] in
            for await change in tokenChanges { await self?.tokenChanged(change) }
        }
    }

    /// Time left on each lease held, by reference (for the lease gauge; never a value or lease id).
    func timeLeft() -> [(reference: String, left: Duration)] {
        let now = clock.now
        return entries.filter(\.value.isLease).map { ($0.key.text, max(.zero, $0.value.end - now)) }.sorted { $0.reference < $1.reference }
    }

    /// The held secret of a leased (or expiring) locator, while it lasts.
    func cached(_ locator: Locator) -> Secret? {
        guard let entry = entries[locator], clock.now < entry.end else { return nil }
        return entry.secret
    }

    /// Starts looking after a freshly fetched secret: its lease, or when a write-style answer
    /// without one expires. Anything else is not held.
    func track(_ locator: Locator, secret: Secret, generation: Int) {
        guard !stopped, let entry = makeEntry(locator, secret, generation: generation) else { return }
        entries[locator] = entry
        if let lease = secret.lease {
            logger.debug("tracking a lease", metadata: [
                "reference": "\(locator.text)", "ttl": "\(DurationParser.format(lease.duration))", "renewable": "\(lease.renewable)",
            ])
        } else {
            logger.debug("tracking an answer without a lease until it expires", metadata: [
                "reference": "\(locator.text)", "expires_in": "\(DurationParser.format(entry.schedule.lease.duration))",
                "reissue_in": "\(DurationParser.format(entry.schedule.next.at - clock.now))",
            ])
        }
        start(locator, entry)
    }

    /// A new entry (with a new epoch) for a fresh answer, or nil when there is nothing to look after.
    private func makeEntry(_ locator: Locator, _ secret: Secret, generation: Int) -> Entry? {
        if let lease = secret.lease {
            epoch += 1
            return Entry(secret: secret, schedule: LeaseSchedule(lease: lease, jitter: jitter), generation: generation, epoch: epoch)
        }
        guard locator.isWrite, var left = Expiry.timeLeft(of: secret.value) else { return nil }
        if left <= .zero {
            logger.warning("an answer was issued already expired by this machine's clock; check the clocks of this machine and of Vault (it is issued again in a minute)",
                           metadata: ["reference": "\(locator.text)"])
            left = .seconds(60)
        }
        epoch += 1
        return Entry(secret: secret, schedule: LeaseSchedule(expiring: left, now: clock.now, jitter: jitter), generation: generation, epoch: epoch)
    }

    /// (Re)starts the task looking after `entry`; an older task of the locator ends at its next turn.
    private func start(_ locator: Locator, _ entry: Entry) {
        let mine = entry.epoch
        tasks[locator] = Task { await self.run(locator, epoch: mine) }
    }

    /// The agent moved to a new token: leases issued under older ones end when that token does.
    private func tokenChanged(_ change: TokenChange) {
        guard !stopped else { return }
        switch change {
        case .replaced(let oldGeneration, let ends):
            for (locator, entry) in entries where entry.generation <= oldGeneration {
                guard entries[locator]?.schedule.tokenReplaced(deadline: ends) == true else { continue }
                epoch += 1
                entries[locator]?.epoch = epoch
                start(locator, entries[locator]!)
            }
        }
    }

    private func run(_ locator: Locator, epoch mine: Int) async {
        while !Task.isCancelled && !stopped {
            guard let entry = entries[locator], entry.epoch == mine else { return }
            let step = entry.schedule.next
            if step.at > clock.now {
                do { try await clock.sleep(until: step.at, tolerance: nil) } catch { return }
                continue  // plan again: the entry may have changed meanwhile
            }
            let ok = switch step.action {
            case .renew: await renew(locator, entry)
            case .replace: await replace(locator, entry)
            }
            guard entries[locator]?.epoch == mine else { continue }
            if ok {
                entries[locator]?.schedule.succeeded()
            } else {
                entries[locator]?.schedule.failed(at: clock.now)
            }
        }
    }

    private func renew(_ locator: Locator, _ entry: Entry) async -> Bool {
        let seconds = max(1, Int(entry.schedule.increment.seconds.rounded()))
        let response: VaultResponse
        do {
            let token = try await fetcher.tokens.token()
            response = try await fetcher.reader.client.send(.PUT, "sys/leases/renew", body: .map(["lease_id": .string(entry.schedule.lease.id), "increment": .number(String(seconds))]), token: token.token)
        } catch {
            logger.warning("renewing a lease failed; retrying", metadata: ["reference": "\(locator.text)", "error": "\(error.message)"])
            return false
        }
        guard response.isSuccess, let duration = response.body?["lease_duration"]?.intValue else {
            if let failure = VaultErrors.common(response, client: fetcher.reader.client) {
                logger.warning("renewing a lease failed; retrying", metadata: ["reference": "\(locator.text)", "error": "\(failure.message)"])
                return false
            }
            logger.info("a lease cannot be renewed; replacing it", metadata: [
                "reference": "\(locator.text)", "status": "\(response.status)", "error": "\(Redactor().clean(response.errors))",
            ])
            entries[locator]?.schedule.renewalRefused()
            return true
        }
        let ttl = Duration.seconds(duration)
        guard entries[locator]?.schedule.lease.id == entry.schedule.lease.id else { return true }  // replaced meanwhile
        let capped = entries[locator]?.schedule.renewed(duration: ttl, renewable: response.body?["renewable"]?.boolValue ?? true, at: clock.now) == true
        let lease = entries[locator]?.schedule.lease
        entries[locator]?.secret.lease = lease
        let metadata: Logger.Metadata = ["reference": "\(locator.text)", "ttl": "\(DurationParser.format(ttl))"]
        if capped {
            logger.debug("lease renewed; max TTL reached, it will be replaced before it expires", metadata: metadata)
        } else {
            logger.debug("lease renewed", metadata: metadata)
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
                    start(locator, fresh)
                    let lifetime = DurationParser.format(fresh.schedule.lease.duration)
                    if entry.isLease {
                        logger.info("replaced a lease before it expired", metadata: ["reference": "\(locator.text)", fresh.isLease ? "ttl" : "lifetime": "\(lifetime)"])
                    } else {
                        logger.info("issued again before it expired", metadata: ["reference": "\(locator.text)", fresh.isLease ? "ttl" : "lifetime": "\(lifetime)"])
                    }
                } else {
                    entries[locator] = nil
                    logger.info("fetched again; no longer has a lease or an expiry", metadata: ["reference": "\(locator.text)"])
                }
            case .notFound:
                entries[locator] = nil
                logger.warning("a leased secret no longer exists in Vault; its lease could not be replaced", metadata: ["reference": "\(locator.text)"])
            }
            continuation.yield(locator)
            return true
        } catch {
            logger.warning("replacing a lease failed; retrying", metadata: ["reference": "\(locator.text)", "error": "\(error.message)"])
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
            for (locator, entry) in entries where entry.isLease && clock.now < entry.end {
                let response = try? await fetcher.reader.client.send(.PUT, "sys/leases/revoke", body: .map(["lease_id": .string(entry.schedule.lease.id)]), token: token.token)
                if response?.isSuccess == true {
                    logger.debug("revoked a lease", metadata: ["reference": "\(locator.text)"])
                } else {
                    logger.warning("could not revoke a lease; grant \"update\" on sys/leases/revoke, or let it expire",
                                   metadata: ["reference": "\(locator.text)", "status": "\(response?.status ?? 0)"])
                }
            }
        }
        entries = [:]
        continuation.finish()
    }
}
