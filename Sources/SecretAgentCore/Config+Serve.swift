/// The `serve:` block: the local secrets API (the AWS Secrets Manager Agent and Parameters and
/// Secrets Lambda extension protocol, plus `/v1/ref` for every backend).
///
/// Present (even empty) or `--serve HOST:PORT` on the command line turns the API on.
public struct ServeSettings: Sendable, Equatable {
    /// `address`: `HOST:PORT`, `127.0.0.1:2773` (the AWS agents' port) by default. Loopback
    /// unless another address is written here.
    public var address: String
    /// `token_env`: the environment variables the token is read from, the first one set wins
    /// (a value `file://PATH` reads the token from that file).
    public var tokenEnv: [String]
    /// `token_file`: a file holding the token; wins over `token_env`.
    public var tokenFile: String?
    /// `allow.secretsmanager`, `allow.ssm`, `allow.vault`: names (or prefixes ending in `*`) the
    /// API serves. Nil: only what the templates reference.
    public var allow: ServeAllowSettings?
    /// `cache_size`: how many answers are kept; the least recently used goes first.
    public var cacheSize: Int
    /// `refresh_now_interval`: the shortest time between two `refreshNow=true` fetches of one name.
    public var refreshNowInterval: Duration
    /// `max_connections`: connections served at once.
    public var maxConnections: Int

    /// The default address: loopback, the port of the AWS Secrets Manager Agent.
    public static let defaultAddress = "127.0.0.1:2773"
    /// The variables the AWS agents read their token from, in their order.
    public static let defaultTokenEnv = ["AWS_TOKEN", "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"]

    public init(address: String = ServeSettings.defaultAddress, tokenEnv: [String] = ServeSettings.defaultTokenEnv,
                tokenFile: String? = nil, allow: ServeAllowSettings? = nil, cacheSize: Int = 1000,
                refreshNowInterval: Duration = .seconds(10), maxConnections: Int = 800) {
        self.address = address
        self.tokenEnv = tokenEnv
        self.tokenFile = tokenFile
        self.allow = allow
        self.cacheSize = cacheSize
        self.refreshNowInterval = refreshNowInterval
        self.maxConnections = maxConnections
    }

    static let keys: Set<String> = ["address", "token_env", "token_file", "allow", "cache_size", "refresh_now_interval",
                                    "max_connections"]

    /// Reads the block, rejecting unknown keys; a relative `token_file` resolves against `baseDirectory`.
    public init(node: ConfigNode, baseDirectory: String) throws(AgentError) {
        try node.allowOnly(Self.keys)
        self.init()
        if let address = try node.string("address") {
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                  (0...65535).contains(port) else {
                throw AgentError.config("\(node.location): 'serve.address' must be HOST:PORT such as 127.0.0.1:2773 (got '\(address)')")
            }
            self.address = address
        }
        if let names = try node.stringList("token_env", allowSingle: true) {
            guard !names.isEmpty else { throw AgentError.config("\(node.location): 'serve.token_env' needs at least one variable name") }
            tokenEnv = names
        }
        tokenFile = try node.string("token_file").map { Paths.resolve($0, against: baseDirectory) }
        if let block = try node.block("allow") { allow = try ServeAllowSettings(node: block) }
        if let size = try node.int("cache_size") {
            guard size >= 1 else { throw AgentError.config("\(node.location): 'serve.cache_size' must be at least 1") }
            cacheSize = size
        }
        if let interval = try node.duration("refresh_now_interval") { refreshNowInterval = interval }
        if let max = try node.int("max_connections") {
            guard max >= 1 else { throw AgentError.config("\(node.location): 'serve.max_connections' must be at least 1") }
            maxConnections = max
        }
    }
}

/// `serve.allow`: per backend, the names the local API may serve. An entry ending in `*` is a
/// prefix (`prod/*`); `*` alone allows every name of that backend.
public struct ServeAllowSettings: Sendable, Equatable {
    /// Secrets Manager secret ids (names or ARNs, as requested).
    public var secretsManager: [String]
    /// SSM parameter names (an `ssm-path:` reference needs its path allowed).
    public var ssm: [String]
    /// Vault paths, as `vault:` references write them.
    public var vault: [String]

    public init(secretsManager: [String] = [], ssm: [String] = [], vault: [String] = []) {
        self.secretsManager = secretsManager
        self.ssm = ssm
        self.vault = vault
    }

    static let keys: Set<String> = ["secretsmanager", "ssm", "vault"]

    init(node: ConfigNode) throws(AgentError) {
        try node.allowOnly(Self.keys)
        secretsManager = try node.stringList("secretsmanager", allowSingle: true) ?? []
        ssm = try node.stringList("ssm", allowSingle: true) ?? []
        vault = try node.stringList("vault", allowSingle: true) ?? []
    }
}
