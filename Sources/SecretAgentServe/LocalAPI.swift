import Logging
import NIOHTTP1
import SecretAgentAWS
import SecretAgentCore
import SecretAgentOps
import SecretTemplate
import Synchronization

/// The backends the local API reads: AWS raw reads (`/secretsmanager/get`, `/v1/ID`,
/// `/systemsmanager/parameters/get`) and every provider (`/v1/ref`).
public protocol RawAWSSource: Sendable {
    /// `GetSecretValue` / `GetParameter`, AWS's answer unchanged.
    func fetchRaw(_ request: AWSRawRequest) async throws -> AWSRawAnswer
    /// The reads whose version moved since the one given.
    func changedRaw(_ known: [AWSRawRequest: String?]) async throws -> [AWSRawRequest]
}

extension AWSBackend: RawAWSSource {}

/// The local secrets API: the AWS Secrets Manager Agent and Parameters and Secrets Lambda
/// extension protocol on a loopback port, plus `/v1/ref` for any reference.
///
/// Every request must be a GET with the token (`X-Aws-Parameters-Secrets-Token`), without
/// `X-Forwarded-For`, for a name on the allow-list; refused requests never reach a backend.
/// Answers come from a bounded cache (see ``ServeCache``); the first request for a name fetches
/// it (concurrent first requests share one fetch), and the poll keeps every cached name within
/// one poll interval of its backend. `refreshNow=true` fetches at once (once per
/// `refresh_now_interval` and name).
public final class LocalAPI: Sendable {
    /// What the API reads from; replaced on a configuration reload.
    public struct Sources: Sendable {
        public var aws: (any RawAWSSource)?
        public var providers: ProviderSet
        public var allow: AllowList
        /// What the agent's loop already polls: the API's poll leaves these out and refetches
        /// them when the loop reports a change (``agentChanged(_:)``).
        public var agentPolled: Set<Locator>

        public init(aws: (any RawAWSSource)?, providers: ProviderSet, allow: AllowList, agentPolled: Set<Locator> = []) {
            self.aws = aws
            self.providers = providers
            self.allow = allow
            self.agentPolled = agentPolled
        }
    }

    /// Where the API listens (the real port when 0 was asked for).
    public var address: ListenAddress { listener.address }
    let listener: HTTPListener
    let token: AccessToken
    let cache: ServeCache
    /// Nil until the agent's first fetch is done (requests get 503 until then).
    let sources: Mutex<Sources?>
    let poll: Duration
    let metrics = ServeMetrics()
    let logger: Logger

    private init(listener: HTTPListener, token: AccessToken, cache: ServeCache, sources: Sources?, poll: Duration, logger: Logger) {
        self.listener = listener
        self.token = token
        self.cache = cache
        self.sources = Mutex(sources)
        self.poll = poll
        self.logger = logger
    }

    /// Binds the listener (nothing is served until `run()`). A port in use throws `OpsError`
    /// (exit 69).
    ///
    /// - Parameters:
    ///   - address: `serve.address` or `--serve`.
    ///   - poll: how often cached names are checked for a new version (the agent's `poll`).
    ///   - sources: what to read from; nil answers 503 until ``replace(_:)`` gives them.
    public static func bind(_ address: ListenAddress, settings: ServeSettings, token: AccessToken, sources: Sources?,
                            poll: Duration, logger: Logger) async throws -> LocalAPI {
        // The fast path needs the API, which needs the listener: a slot filled once both exist
        // (no connection is served before `run()`).
        let api = WeakSlot()
        let listener = try await HTTPListener.bind(address, limits: HTTPListener.Limits(maxConnections: settings.maxConnections),
                                                   name: "local API", purpose: "the local secrets API (serve)", logger: logger,
                                                   fastPath: { request in api.value?.respondAtOnce(request) })
        logger.info("serving the local secrets API", metadata: ["listen": "\(listener.address)"])
        let made = LocalAPI(listener: listener, token: token,
                            cache: ServeCache(capacity: settings.cacheSize, refreshInterval: settings.refreshNowInterval),
                            sources: sources, poll: poll, logger: logger)
        api.set(made)
        return made
    }

    /// Serves and polls until the calling task is cancelled, then closes the listener.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pollLoop() }
            group.addTask { await self.listener.run { [self] request in await self.respond(request) } }
        }
    }

    /// The backends and allow-list to serve from (the agent's first fetch is done, or a
    /// configuration reload brought new ones); everything cached is dropped.
    public func replace(_ fresh: Sources) {
        sources.withLock { $0 = fresh }
        cache.removeAll()
    }

    /// Hits, misses, refreshes and refusals so far.
    public var statistics: LocalAPIStatistics {
        LocalAPIStatistics(hits: metrics.hits.load(ordering: .relaxed), misses: metrics.misses.load(ordering: .relaxed),
                           refreshes: metrics.refreshes.load(ordering: .relaxed), refusals: metrics.refusals.load(ordering: .relaxed))
    }

    /// How many answers are cached now.
    public var cachedCount: Int { cache.count }
}

/// Holds the API weakly for the listener's fast path (the API owns the listener).
final class WeakSlot: Sendable {
    private let slot = Mutex<WeakBox>(WeakBox())

    struct WeakBox: @unchecked Sendable {
        weak var api: LocalAPI?
    }

    var value: LocalAPI? { slot.withLock { $0.api } }

    func set(_ api: LocalAPI) {
        slot.withLock { $0.api = api }
    }
}
