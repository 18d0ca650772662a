import SecretAgentCore
import SecretTemplate

/// The `vault:` settings with the environment applied (SPEC §5: the environment wins over the
/// file): `VAULT_ADDR`, then `BAO_ADDR`, over `address`; `VAULT_NAMESPACE` (or `BAO_NAMESPACE`) over
/// `namespace`; `VAULT_CACERT` (or `BAO_CACERT`) over `ca_cert`; `VAULT_SKIP_VERIFY` or
/// `tls_skip_verify` turn verification off; `VAULT_CLIENT_TIMEOUT` over `timeout`;
/// `VAULT_MAX_RETRIES` (default 2); `VAULT_RATE_LIMIT` (`rate[:burst]`, calls a second: a fixed
/// client-side rate, as the Vault API client applies it).
///
/// TLS as the Vault / OpenBao CLI reads it (each `VAULT_…` name first, then `BAO_…`):
/// `VAULT_CAPATH` / `BAO_CAPATH` over `ca_path` (a directory of PEM files, all trusted; a CA
/// certificate file wins over it); `VAULT_TLS_SERVER_NAME` / `BAO_TLS_SERVER_NAME` over
/// `tls_server_name` (the name sent as SNI and verified); `VAULT_CLIENT_CERT` / `BAO_CLIENT_CERT`
/// and `VAULT_CLIENT_KEY` / `BAO_CLIENT_KEY` over `client_cert` / `client_key` (mutual TLS: both
/// or neither).
struct VaultOptions: Sendable {
    var address: String
    var namespace: String?
    var caCert: String?
    /// A directory of PEM CA certificates (used when `caCert` is not set).
    var caPath: String?
    /// The TLS server name (SNI, and the name the certificate must carry).
    var tlsServerName: String?
    /// The client certificate and key files for mutual TLS (both or neither).
    var clientCert: String?
    var clientKey: String?
    var skipVerify: Bool
    var timeout: Duration
    var maxRetries: Int
    /// `vault.retry_mode`: adaptive lowers a client-side rate on 429 answers.
    var retryMode: RetryMode = .adaptive
    /// `VAULT_RATE_LIMIT` / `BAO_RATE_LIMIT`: at most `rate` calls a second, `burst` at once.
    var fixedRate: (rate: Double, burst: Int)?
    /// The longest `Retry-After` honoured on a 429 or 503 (the start deadline cuts a wait shorter).
    var maxRetryAfter: Duration = .seconds(30)

    init(settings: VaultSettings, environment env: [String: String]) throws(VaultError) {
        func pick(_ names: String...) -> String? {
            for name in names { if let v = env[name], !v.isEmpty { return v } }
            return nil
        }
        guard var address = pick("VAULT_ADDR", "BAO_ADDR") ?? settings.address, !address.isEmpty else {
            throw VaultError(.config, "no Vault address: set vault.address in the configuration, or VAULT_ADDR / BAO_ADDR")
        }
        while address.hasSuffix("/") { address.removeLast() }
        guard address.hasPrefix("http://") || address.hasPrefix("https://") else {
            throw VaultError(.config, "Vault address '\(address)' must start with http:// or https://")
        }
        self.address = address
        self.retryMode = settings.retryMode
        let namespace = pick("VAULT_NAMESPACE", "BAO_NAMESPACE") ?? settings.namespace
        self.namespace = namespace.map { ns in String(ns.drop(while: { $0 == "/" }).reversed().drop(while: { $0 == "/" }).reversed()) }
            .flatMap { $0.isEmpty ? nil : $0 }
        self.caCert = pick("VAULT_CACERT", "BAO_CACERT") ?? settings.caCert
        self.caPath = pick("VAULT_CAPATH", "BAO_CAPATH") ?? settings.caPath
        self.tlsServerName = pick("VAULT_TLS_SERVER_NAME", "BAO_TLS_SERVER_NAME") ?? settings.tlsServerName
        self.clientCert = pick("VAULT_CLIENT_CERT", "BAO_CLIENT_CERT") ?? settings.clientCert
        self.clientKey = pick("VAULT_CLIENT_KEY", "BAO_CLIENT_KEY") ?? settings.clientKey
        switch (clientCert, clientKey) {
        case (_?, nil):
            throw VaultError(.config, "a Vault client certificate is set (vault.client_cert or VAULT_CLIENT_CERT) without its key: set vault.client_key or VAULT_CLIENT_KEY too")
        case (nil, _?):
            throw VaultError(.config, "a Vault client key is set (vault.client_key or VAULT_CLIENT_KEY) without its certificate: set vault.client_cert or VAULT_CLIENT_CERT too")
        default:
            break
        }
        let skipEnv = pick("VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY").map { ["1", "true", "yes", "on"].contains($0.lowercased()) }
        self.skipVerify = skipEnv ?? settings.tlsSkipVerify
        if let text = pick("VAULT_CLIENT_TIMEOUT") {
            guard let d = DurationParser.parse(text) ?? Int(text).map({ Duration.seconds($0) }), d > .zero else {
                throw VaultError(.config, "VAULT_CLIENT_TIMEOUT '\(text)' is not a duration such as 30s")
            }
            self.timeout = d
        } else {
            self.timeout = settings.timeout
        }
        if let text = pick("VAULT_MAX_RETRIES") {
            guard let n = Int(text), n >= 0 else { throw VaultError(.config, "VAULT_MAX_RETRIES '\(text)' is not a number") }
            self.maxRetries = n
        } else {
            self.maxRetries = 2
        }
        if let text = pick("VAULT_RATE_LIMIT", "BAO_RATE_LIMIT") {
            guard let limit = FixedRate.parse(text) else {
                throw VaultError(.config, "VAULT_RATE_LIMIT '\(text)' is not a rate: calls a second, optionally with a burst, such as 10 or 10:20")
            }
            self.fixedRate = limit
        }
    }
}

extension VaultOptions {
    /// With a TLS server name other than the address's host: the base URL requests go to (that
    /// name, the address's port and path) and the host the name stands for. Nil otherwise.
    var serverNameOverride: (requestBase: String, name: String, host: String)? {
        guard let name = tlsServerName?.lowercased(), address.hasPrefix("https://"),
              let url = RedirectURL.parse(address), url.host != name else { return nil }
        var host = Substring(url.host)
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        let path = url.path == "/" ? "" : url.path
        return ("https://\(name):\(url.port)\(path)", name, String(host))
    }
}

extension Value {
    subscript(key: String) -> Value? {
        guard case .map(let map) = self else { return nil }
        return map[key]
    }

    var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    var intValue: Int? {
        switch self {
        case .number(let n): return Int(n) ?? Double(n).map { Int($0) }
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
