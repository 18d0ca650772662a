/// The `aws:` block of the configuration.
///
/// Environment variables (`AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL…`)
/// win over these; the AWS module applies that precedence.
public struct AWSSettings: Sendable, Equatable {
    public var region: String?
    public var profile: String?
    /// `endpoint_url`: one endpoint for every AWS service (like AWS_ENDPOINT_URL).
    public var endpointURL: String?
    /// `request_timeout`: how long one AWS API call may take (default 10s).
    public var requestTimeout: Duration?
    /// `max_attempts`: tries per AWS API call on throttling, 5xx and connection errors; nil when
    /// not set (then `AWS_MAX_ATTEMPTS`, the profile's `max_attempts`, else 4).
    public var maxAttempts: Int?
    /// `proxy`: the forward proxy for AWS requests (`http://[user:password@]host:port`), or
    /// `none` for no proxy; wins over `HTTPS_PROXY` / `HTTP_PROXY` (`NO_PROXY` still applies).
    public var proxy: String?
    /// `ca_bundle`: a PEM file of the CAs AWS endpoints are verified against (instead of the
    /// system's); wins over `AWS_CA_BUNDLE` and the profile's `ca_bundle`. Relative to the
    /// configuration file's directory.
    public var caBundle: String?
    /// `retry_mode`: `adaptive` (a client-side rate per service and region that drops on
    /// throttling and grows back) or `standard` (backoff per call only); nil when not set, which
    /// leaves it to `AWS_RETRY_MODE`, then the profile's `retry_mode`, then `adaptive`.
    public var retryMode: RetryMode?

    public init(region: String? = nil, profile: String? = nil, endpointURL: String? = nil,
                requestTimeout: Duration? = nil, maxAttempts: Int? = nil) {
        self.region = region
        self.profile = profile
        self.endpointURL = endpointURL
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
    }

    static let keys: Set<String> = ["region", "profile", "endpoint_url", "request_timeout", "max_attempts",
                                    "proxy", "ca_bundle", "retry_mode"]

    /// Reads the block, rejecting unknown keys; a relative `ca_bundle` resolves against
    /// `baseDirectory` when one is given.
    public init(node: ConfigNode, baseDirectory: String? = nil) throws(AgentError) {
        try node.allowOnly(Self.keys)
        self.region = try node.string("region")
        self.profile = try node.string("profile")
        self.endpointURL = try node.string("endpoint_url")
        self.requestTimeout = try node.duration("request_timeout")
        self.maxAttempts = try node.int("max_attempts")
        self.proxy = try node.string("proxy")
        if let proxy, proxy.trimmingWhitespace.lowercased() != ProxyRules.noneKeyword {
            _ = try ProxyURL.parse(proxy, origin: "\(node.location): aws.proxy")
        }
        self.caBundle = try node.string("ca_bundle").map { path in baseDirectory.map { Paths.resolve(path, against: $0) } ?? path }
        self.retryMode = try RetryMode.parse(node, "retry_mode", block: "aws")
        if let t = requestTimeout, t <= .zero {
            throw AgentError.config("\(node.location): 'aws.request_timeout' must be more than zero")
        }
        if let n = maxAttempts, n < 1 {
            throw AgentError.config("\(node.location): 'aws.max_attempts' must be at least 1")
        }
    }
}
