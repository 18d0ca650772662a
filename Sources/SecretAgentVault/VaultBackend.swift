import AsyncHTTPClient
import Logging
import SecretAgentCore
import SecretTemplate

/// The Vault / OpenBao backend: one client, one token kept alive, leases renewed or replaced.
///
/// ```swift
/// let vault = try VaultBackend(settings: config.vault, environment: env, httpClient: http, logger: logger)
/// try await vault.start()
/// let outcomes = try await vault.provider.fetch([.vault(path: "secret/app", version: nil, parameters: [:])])
/// ```
public final class VaultBackend: Sendable {
    private let vaultProvider: VaultProvider
    private let tokens: TokenManager
    private let leases: LeaseManager
    private let revokeOnShutdown: Bool

    /// Locators whose dynamic secret was replaced by a new fetch because its lease could not be
    /// renewed further, or whose write-style answer without a lease (a certificate) was issued
    /// again before it expires: the agent treats each as a rotation and fetches it again (it gets
    /// the new secret without another request to Vault).
    public let replacements: AsyncStream<Locator>

    /// Prepares the client; nothing is sent until `start()` or the first fetch.
    ///
    /// - Parameters:
    ///   - environment: the agent's environment (`VAULT_ADDR`, `BAO_ADDR`, `VAULT_NAMESPACE`,
    ///     `VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_TLS_SERVER_NAME`, `VAULT_CLIENT_CERT`,
    ///     `VAULT_CLIENT_KEY`, `VAULT_SKIP_VERIFY` — each also as `BAO_…` —, `VAULT_TOKEN`,
    ///     `BAO_TOKEN`, `HOME` …), which wins over `settings`. With `VAULT_TLS_SERVER_NAME` the
    ///     client must carry `dnsOverride(settings:environment:)`. `VAULT_SKIP_VERIFY` is logged
    ///     as a warning each time a backend is made (every start and reload).
    ///   - httpClient: the shared client; TLS settings are applied per request. It must follow no
    ///     redirects (`redirectConfiguration = .disallow`): the Vault client follows one itself,
    ///     to the same origin only, so the token never leaves for another server.
    ///   - awsSigner: signs `sts:GetCallerIdentity` for `vault.auth.method: aws`.
    /// - Throws: `VaultError` (exit 78) when the configuration cannot work (no address, bad CA file).
    public convenience init(settings: VaultSettings, environment: [String: String], httpClient: HTTPClient, logger: Logger,
                            awsSigner: (any VaultAWSLoginSigner)? = nil) throws {
        try self.init(settings: settings, environment: environment, httpClient: httpClient, logger: logger, awsSigner: awsSigner,
                      clock: ContinuousClock(), jitter: .random)
    }

    /// The same, with the clock the token and lease tasks sleep on and the schedules' jitter (tests).
    init(settings: VaultSettings, environment: [String: String], httpClient: HTTPClient, logger: Logger,
         awsSigner: (any VaultAWSLoginSigner)?, clock: any VaultClock, jitter: Jitter) throws {
        let options = try VaultOptions(settings: settings, environment: environment)
        let client = try VaultClient(options: options, http: httpClient, logger: logger)
        if options.skipVerify {
            logger.warning("TLS verification of the Vault server is OFF (VAULT_SKIP_VERIFY or vault.tls_skip_verify): anyone on the network path can read the token and the secrets; set a CA (vault.ca_cert / VAULT_CACERT) instead",
                           metadata: ["address": "\(options.address)"])
        }
        if let tls = options.clientCert {
            logger.debug("Vault client certificate for mutual TLS", metadata: ["client_cert": "\(tls)"])
        }
        let auth = Authenticator(settings: settings.auth, environment: environment, client: client, awsSigner: awsSigner)
        // New tokens, from the token manager to the lease manager (leases die with their token).
        let (tokenChanges, tokenContinuation) = AsyncStream.makeStream(of: TokenChange.self)
        tokens = TokenManager(auth: auth, logger: logger, changes: tokenContinuation, clock: clock, jitter: jitter)
        let fetcher = Fetcher(reader: SecretReader(client: client, mounts: MountCache()), tokens: tokens)
        let (stream, continuation) = AsyncStream.makeStream(of: Locator.self)
        replacements = stream
        leases = LeaseManager(fetcher: fetcher, tokenChanges: tokenChanges, continuation: continuation, logger: logger,
                              clock: clock, jitter: jitter)
        revokeOnShutdown = settings.revokeOnShutdown
        vaultProvider = VaultProvider(fetcher: fetcher, leases: leases, shutdownAction: { [tokens, leases, revokeOnShutdown] in
            await leases.shutdown(revoke: revokeOnShutdown)
            await tokens.shutdown()
        })
    }

    /// The mapping the shared HTTP client needs in its `dnsOverride` for `vault.tls_server_name`
    /// / `VAULT_TLS_SERVER_NAME` (or `BAO_TLS_SERVER_NAME`): requests go to that name, so it is
    /// sent as SNI and verified, and the client connects to the address's host instead. Empty
    /// when there is no such name (or the configuration does not work: `init` says why).
    public static func dnsOverride(settings: VaultSettings, environment: [String: String]) -> [String: String] {
        guard let override = (try? VaultOptions(settings: settings, environment: environment))?.serverNameOverride else { return [:] }
        return [override.name: override.host]
    }

    /// The provider serving `vault:` locators (name "vault").
    public var provider: any SecretProvider { vaultProvider }

    /// Logs in (if needed) and starts renewing the token; leases are looked after as they are
    /// fetched. Throws `VaultError`: 77 when the credentials are refused, 69 when the server
    /// cannot be reached or is sealed (transient), 78 for configuration problems.
    public func start() async throws {
        try await tokens.start()
    }

    /// Time left on the token and on each held lease, for the metrics gauges.
    public func timeLeft() async -> (token: Duration?, leases: [(reference: String, left: Duration)]) {
        (await tokens.timeLeft(), await leases.timeLeft())
    }

    /// Stops the background renewals; revokes the leases first when `revoke_on_shutdown` is set.
    public func shutdown() async {
        await leases.shutdown(revoke: revokeOnShutdown)
        await tokens.shutdown()
    }
}

/// The `SecretProvider` face of the backend.
final class VaultProvider: SecretProvider {
    let schemes: Set<Scheme> = [.vault]
    let name = "vault"
    private let fetcher: Fetcher
    private let leases: LeaseManager
    private let inflight = Inflight()
    private let shutdownAction: @Sendable () async -> Void

    init(fetcher: Fetcher, leases: LeaseManager, shutdownAction: @escaping @Sendable () async -> Void) {
        self.fetcher = fetcher
        self.leases = leases
        self.shutdownAction = shutdownAction
    }

    /// At most this many requests at once for one `fetch`.
    static let concurrency = 16

    /// Fetches every distinct locator concurrently (up to `concurrency` at a time); a locator
    /// with a live lease is answered from the lease manager, so every use of one dynamic secret
    /// shares one fetch and one lease.
    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        var pending = Array(Set(locators))[...]
        return try await withThrowingTaskGroup(of: (Locator, FetchOutcome).self) { group in
            var out: [Locator: FetchOutcome] = [:]
            var running = 0
            while let locator = pending.popFirst() {
                if running == Self.concurrency, let (done, outcome) = try await group.next() {
                    out[done] = outcome
                    running -= 1
                }
                group.addTask { (locator, try await self.fetchOne(locator)) }
                running += 1
            }
            for try await (locator, outcome) in group { out[locator] = outcome }
            return out
        }
    }

    /// The poll: pinned KV versions and write-style references (`pki/issue/web?common_name=…`,
    /// which would issue a new secret at every poll) are never polled; leased secrets answer from
    /// the lease manager (their rotations, and new certificates, arrive on `replacements`); KV v2
    /// compares `version` and value, KV v1 and other paths the value.
    func changes(since known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome] {
        let fresh = try await fetch(known.keys.filter { !$0.isPinned && !$0.isWrite })
        return fresh.filter { locator, outcome in
            guard let old = known[locator] else { return true }
            return !outcome.sameContent(as: old)
        }
    }

    func fetchOne(_ locator: Locator) async throws(VaultError) -> FetchOutcome {
        guard case .vault = locator else {
            throw VaultError(.data, "the Vault backend cannot fetch \(locator.text)")
        }
        let fetcher = self.fetcher, leases = self.leases
        return try await inflight.run(locator) {
            if let held = await leases.cached(locator) { return .found(held) }
            let (outcome, generation) = try await fetcher.read(locator)
            if case .found(let secret) = outcome {
                await leases.track(locator, secret: secret, generation: generation)
            }
            return outcome
        }
    }

    func shutdown() async { await shutdownAction() }
}

/// Concurrent fetches of one locator share one request.
actor Inflight {
    private var running: [Locator: Task<FetchOutcome, any Error>] = [:]

    func run(_ locator: Locator, _ operation: @escaping @Sendable () async throws -> FetchOutcome) async throws(VaultError) -> FetchOutcome {
        let task: Task<FetchOutcome, any Error>
        if let existing = running[locator] {
            task = existing
        } else {
            task = Task { try await operation() }
            running[locator] = task
        }
        do {
            let outcome = try await task.value
            if running[locator] == task { running[locator] = nil }
            return outcome
        } catch {
            if running[locator] == task { running[locator] = nil }
            if let vault = error as? VaultError { throw vault }
            throw VaultError(.unavailable, "fetching \(locator.text) from Vault was interrupted")
        }
    }
}
