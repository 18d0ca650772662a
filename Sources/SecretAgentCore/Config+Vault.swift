/// The `vault:` block of the configuration.
///
/// `VAULT_ADDR`, then `BAO_ADDR`, win over `address`; `VAULT_NAMESPACE` over `namespace`;
/// `VAULT_CACERT` over `ca_cert`; `VAULT_CAPATH` over `ca_path`; `VAULT_TLS_SERVER_NAME` over
/// `tls_server_name`; `VAULT_CLIENT_CERT` / `VAULT_CLIENT_KEY` over `client_cert` / `client_key`
/// (each also as `BAO_…`). The Vault module applies that precedence.
public struct VaultSettings: Sendable, Equatable {
    public var address: String?
    public var namespace: String?
    public var caCert: String?
    /// `ca_path`: a directory of PEM files, all trusted (like `VAULT_CAPATH`); `ca_cert` wins.
    public var caPath: String?
    /// `tls_server_name`: the name sent as SNI and verified in the server's certificate.
    public var tlsServerName: String?
    /// `client_cert`: a PEM certificate (chain) for mutual TLS; needs `client_key`.
    public var clientCert: String?
    /// `client_key`: the PEM private key of `client_cert`. Never logged.
    public var clientKey: String?
    /// Turns TLS verification off; only for development.
    public var tlsSkipVerify: Bool
    public var auth: VaultAuthSettings
    /// Revoke leases when the agent stops.
    public var revokeOnShutdown: Bool
    /// How long one request may take (`timeout`, default 30s; `VAULT_CLIENT_TIMEOUT` wins).
    public var timeout: Duration
    /// `proxy`: the forward proxy for Vault requests (`http://[user:password@]host:port`), or
    /// `none` for no proxy; wins over `VAULT_PROXY_ADDR`, `HTTPS_PROXY` and `HTTP_PROXY`
    /// (`NO_PROXY` still applies).
    public var proxy: String?
    /// `retry_mode`: `adaptive` (default: 429 answers lower a client-side rate that grows back)
    /// or `standard`. `Retry-After` is honoured in both.
    public var retryMode: RetryMode = .adaptive

    public init(address: String? = nil, namespace: String? = nil, caCert: String? = nil, tlsSkipVerify: Bool = false,
                auth: VaultAuthSettings = VaultAuthSettings(), revokeOnShutdown: Bool = false,
                timeout: Duration = .seconds(30), caPath: String? = nil, tlsServerName: String? = nil,
                clientCert: String? = nil, clientKey: String? = nil) {
        self.address = address
        self.caPath = caPath
        self.tlsServerName = tlsServerName
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.namespace = namespace
        self.caCert = caCert
        self.tlsSkipVerify = tlsSkipVerify
        self.auth = auth
        self.revokeOnShutdown = revokeOnShutdown
        self.timeout = timeout
    }

    static let keys: Set<String> = ["address", "namespace", "ca_cert", "tls_skip_verify", "auth", "revoke_on_shutdown", "timeout",
                                    "proxy", "ca_path", "tls_server_name", "client_cert", "client_key", "retry_mode"]

    /// Reads the block, rejecting unknown keys; relative file paths resolve against `baseDirectory`.
    public init(node: ConfigNode, baseDirectory: String) throws(AgentError) {
        try node.allowOnly(Self.keys)
        self.address = try node.string("address")
        self.namespace = try node.string("namespace")
        self.caCert = try node.string("ca_cert").map { Paths.resolve($0, against: baseDirectory) }
        self.tlsSkipVerify = try node.bool("tls_skip_verify") ?? false
        self.caPath = try node.string("ca_path").map { Paths.resolve($0, against: baseDirectory) }
        self.tlsServerName = try node.string("tls_server_name")
        self.clientCert = try node.string("client_cert").map { Paths.resolve($0, against: baseDirectory) }
        self.clientKey = try node.string("client_key").map { Paths.resolve($0, against: baseDirectory) }
        self.revokeOnShutdown = try node.bool("revoke_on_shutdown") ?? false
        self.timeout = try node.duration("timeout") ?? .seconds(30)
        self.proxy = try node.string("proxy")
        if let proxy, proxy.trimmingWhitespace.lowercased() != ProxyRules.noneKeyword {
            _ = try ProxyURL.parse(proxy, origin: "\(node.location): vault.proxy")
        }
        self.retryMode = try RetryMode.parse(node, "retry_mode", block: "vault") ?? .adaptive
        guard self.timeout > .zero else {
            throw AgentError.config("\(node.location): vault.timeout must be longer than zero")
        }
        if let auth = try node.block("auth") {
            self.auth = try VaultAuthSettings(node: auth, baseDirectory: baseDirectory)
        } else {
            self.auth = VaultAuthSettings()
        }
    }
}

/// `vault.auth`: how the agent logs in to Vault.
public struct VaultAuthSettings: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case token, approle, jwt, kubernetes, aws
        /// TLS client certificate (`vault.client_cert` / `VAULT_CLIENT_CERT`), with `name` the cert role.
        case cert
    }

    public var method: Method
    /// Where the auth method is mounted (default: the method's name).
    public var mount: String?
    /// The role for jwt, kubernetes and aws; for approle (which logs in with role_id) the role's
    /// name, used only to check where a wrapped secret_id was made.
    public var role: String?
    /// `name`: the cert role for the `cert` method (optional: the server tries every role).
    public var name: String?
    /// `token_file` for the `token` method: re-read when it changes (another process refreshes it).
    public var tokenFile: String?
    public var roleIDFile: String?
    public var roleID: String?
    public var secretIDFile: String?
    /// The secret_id file holds a response-wrapping token to unwrap.
    public var secretIDWrapped: Bool
    /// `secret_id_wrapping_path`: the `creation_path` a wrapped secret_id must have (Vault Agent's
    /// `secret_id_response_wrapping_path`), such as `auth/approle/role/web/secret-id`. Setting it
    /// implies `secret_id_wrapped`. Without it the path is `auth/<mount>/role/<role>/secret-id`
    /// when `role` is set, else any `auth/<mount>/role/*/secret-id`.
    public var secretIDWrappingPath: String?
    /// JWT or Kubernetes service-account token file.
    public var jwtFile: String?
    /// `X-Vault-AWS-IAM-Server-ID` for the aws method.
    public var awsServerID: String?

    public init(method: Method = .token) {
        self.method = method
        self.secretIDWrapped = false
    }

    static let keys: Set<String> = ["method", "mount", "role", "token_file", "role_id", "role_id_file", "secret_id_file",
                                    "secret_id_wrapped", "secret_id_wrapping_path", "jwt_file", "token_path", "aws_server_id",
                                    "name"]

    public init(node: ConfigNode, baseDirectory: String) throws(AgentError) {
        try node.allowOnly(Self.keys)
        let methodText = try node.string("method") ?? "token"
        guard let method = Method(rawValue: methodText) else {
            throw AgentError.config("\(node.location): vault.auth.method '\(methodText)' is not one of \(Method.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.method = method
        self.mount = try node.string("mount")
        self.role = try node.string("role")
        self.name = try node.string("name")
        self.tokenFile = try node.string("token_file").map { Paths.resolve($0, against: baseDirectory) }
        self.roleID = try node.string("role_id")
        self.roleIDFile = try node.string("role_id_file").map { Paths.resolve($0, against: baseDirectory) }
        self.secretIDFile = try node.string("secret_id_file").map { Paths.resolve($0, against: baseDirectory) }
        let wrapped = try node.bool("secret_id_wrapped")
        var wrappingPath = try node.string("secret_id_wrapping_path")
        while wrappingPath?.hasPrefix("/") == true { wrappingPath?.removeFirst() }
        while wrappingPath?.hasSuffix("/") == true { wrappingPath?.removeLast() }
        if let path = wrappingPath {
            guard !path.isEmpty else {
                throw AgentError.config("\(node.location): vault.auth.secret_id_wrapping_path is empty; name the path that wraps the secret_id, such as auth/approle/role/web/secret-id")
            }
            guard wrapped != false else {
                throw AgentError.config("\(node.location): vault.auth.secret_id_wrapping_path is set but secret_id_wrapped is false; remove one of them")
            }
        }
        self.secretIDWrappingPath = wrappingPath
        self.secretIDWrapped = wrapped ?? (wrappingPath != nil)
        let jwtFile = try node.string("jwt_file")
        let tokenPath = try node.string("token_path")
        self.jwtFile = (jwtFile ?? tokenPath).map { Paths.resolve($0, against: baseDirectory) }
        self.awsServerID = try node.string("aws_server_id")
    }
}
