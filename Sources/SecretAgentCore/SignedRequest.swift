/// A signed HTTP request, for a server that verifies an identity by replaying it: the AWS module
/// signs `sts:GetCallerIdentity`, and Vault's aws auth method sends it to Vault, which replays it
/// to AWS. It carries a signature (and possibly a session token): never log it.
public struct SignedRequest: Sendable {
    /// Normally "POST".
    public var method: String
    /// The full URL, such as `https://sts.us-east-1.amazonaws.com/`.
    public var url: String
    /// Every header that was signed, `authorization` included (`x-amz-date`,
    /// `x-amz-security-token`, `content-type`, `host`, and `x-vault-aws-iam-server-id` when a
    /// server id is set).
    public var headers: [(String, String)]
    /// The body, normally `Action=GetCallerIdentity&Version=2011-06-15`.
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}
