/// The `aws:` block of the configuration.
///
/// Environment variables (`AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL…`)
/// win over these; the AWS module applies that precedence.
public struct AWSSettings: Sendable, Equatable {
    public var region: String?
    public var profile: String?
    /// `endpoint_url`: one endpoint for every AWS service (like AWS_ENDPOINT_URL).
    public var endpointURL: String?

    public init(region: String? = nil, profile: String? = nil, endpointURL: String? = nil) {
        self.region = region
        self.profile = profile
        self.endpointURL = endpointURL
    }

    static let keys: Set<String> = ["region", "profile", "endpoint_url"]

    /// Reads the block, rejecting unknown keys.
    public init(node: ConfigNode) throws(AgentError) {
        try node.allowOnly(Self.keys)
        self.region = try node.string("region")
        self.profile = try node.string("profile")
        self.endpointURL = try node.string("endpoint_url")
    }
}
